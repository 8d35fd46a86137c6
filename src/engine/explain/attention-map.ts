// Layer4 self-attention → one value per key position: how much, on average
// over all query positions, each position is attended to.
// follows: METHOD.md §7 (the self-attention matrix averaged over the query axis)
import { gridToVolumeOrder } from '../networks/image-input';

export type Grid3 = [number, number, number];

/** Throws unless `dims` is three positive integers; `what` names the caller and the argument. */
export function checkGrid(dims: readonly number[], what: string): void {
  if (!Array.isArray(dims) || dims.length !== 3 || !dims.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(`${what} must be three positive integers, got ${JSON.stringify(dims)}`);
  }
}

/**
 * `attention` is one case's [P, P] matrix, row-major, rows = queries and
 * columns = keys (each row a softmax over keys), with P = X4·Y4·Z4 positions
 * in the encoder's order p = (x·Y4 + y)·Z4 + z. Returns the column means on
 * the [X4, Y4, Z4] grid in Volume order (x fastest). Since every row sums
 * to 1, the map sums to 1 too.
 */
export function attentionMap(attention: Float32Array | readonly number[], grid: Grid3): Float32Array {
  checkGrid(grid, 'attentionMap: grid');
  const p = grid[0] * grid[1] * grid[2];
  if (attention.length !== p * p) {
    throw new Error(`attentionMap: attention has ${attention.length} values, a ${grid.join('×')} grid needs ${p}×${p} = ${p * p}`);
  }
  const sums = new Float64Array(p);
  for (let q = 0; q < p; q++) {
    const row = q * p;
    for (let k = 0; k < p; k++) {
      const v = attention[row + k]!;
      if (!Number.isFinite(v)) throw new Error(`attentionMap: attention[${q}, ${k}] is ${v}; only finite values are allowed`);
      sums[k] += v;
    }
  }
  const mean = new Float32Array(p);
  for (let k = 0; k < p; k++) mean[k] = sums[k]! / p;
  return gridToVolumeOrder(mean, grid);
}
