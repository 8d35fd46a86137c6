// How a patch of an attention grid (a cell of the layer3 cross-attention grid
// or a layer4 position) is named to a person: its grid coordinates and where
// it lies in the image, e.g. "(3, 5, 1) right anterior inferior", never a bare
// index. Volumes are reoriented to RAS+ before the encoder sees them, so grid
// axis x runs left → right, y posterior → anterior, z inferior → superior, and
// the engine numbers cell (x, y, z) of an [X, Y, Z] grid p = (x·Y + y)·Z + z
// (src/engine/networks/image-input.ts). Dependency-free: the extension host
// and the webviews share it.

export type GridCell = [number, number, number];

/** The words of each axis: [low end, high end]. */
const AXIS_WORDS: readonly (readonly [string, string])[] = [
  ['left', 'right'],
  ['posterior', 'anterior'],
  ['inferior', 'superior'],
];

/** The grid's axes, as a legend beside a list of named patches. */
export const PATCH_AXES = 'x left→right, y posterior→anterior, z inferior→superior';

function checkGrid(grid: readonly number[], where: string): void {
  if (grid.length !== 3 || !grid.every((g) => Number.isInteger(g) && g >= 1)) throw new Error(`${where}: the grid must be three positive integers, got [${grid.join(', ')}]`);
}

/** Cell (x, y, z) of patch index p = (x·Y + y)·Z + z. */
export function patchCell(index: number, grid: readonly [number, number, number]): GridCell {
  checkGrid(grid, 'patchCell');
  const [, ny, nz] = grid;
  const n = grid[0] * ny * nz;
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new Error(`patchCell: patch ${index} is outside the ${grid.join('×')} grid (0..${n - 1})`);
  return [Math.floor(index / (ny * nz)), Math.floor(index / nz) % ny, index % nz];
}

/**
 * Where cell `cell` lies: per axis, the third of the image its centre
 * (c + ½)/G falls in names it — the lower third "left" / "posterior" /
 * "inferior", the upper third "right" / "anterior" / "superior", the middle
 * third nothing. (c + ½)/G never falls on a third exactly, so there are no
 * ties; an axis of size 1 spans the whole image and says nothing. A cell
 * central on every axis is "central".
 */
export function patchSide(cell: readonly number[], grid: readonly [number, number, number]): string {
  checkGrid(grid, 'patchSide');
  const words: string[] = [];
  for (let a = 0; a < 3; a++) {
    const c = cell[a]!;
    const g = grid[a]!;
    if (!Number.isInteger(c) || c < 0 || c >= g) throw new Error(`patchSide: cell (${cell.join(', ')}) is outside the ${grid.join('×')} grid`);
    // (c + ½)/G < ⅓  ⇔  6c + 3 < 2G;  > ⅔  ⇔  6c + 3 > 4G (odd vs even: never equal)
    const at = 6 * c + 3;
    if (at < 2 * g) words.push(AXIS_WORDS[a]![0]);
    else if (at > 4 * g) words.push(AXIS_WORDS[a]![1]);
  }
  return words.length ? words.join(' ') : 'central';
}

/** "(3, 5, 1) right anterior inferior": a patch by its cell, or by its index on the grid. */
export function patchName(patch: number | readonly number[], grid: readonly [number, number, number]): string {
  const cell = typeof patch === 'number' ? patchCell(patch, grid) : patch;
  return `(${cell.join(', ')}) ${patchSide(cell, grid)}`;
}

/**
 * The image voxel at the centre of cell `cell` under the display convention
 * of the patch maps (align corners: cell c sits at voxel c·(n − 1)/(G − 1),
 * rounded; the middle voxel on a 1-wide grid axis): the inverse of the viewer's
 * patch-under-voxel lookup.
 */
export function patchVoxel(cell: readonly number[], grid: readonly [number, number, number], dims: readonly [number, number, number]): GridCell {
  checkGrid(grid, 'patchVoxel');
  return [0, 1, 2].map((a) => {
    const c = cell[a]!;
    const g = grid[a]!;
    const n = dims[a]!;
    if (!Number.isInteger(c) || c < 0 || c >= g) throw new Error(`patchVoxel: cell (${cell.join(', ')}) is outside the ${grid.join('×')} grid`);
    if (g === 1) return Math.floor((n - 1) / 2);
    return Math.round((c * (n - 1)) / (g - 1));
  }) as GridCell;
}
