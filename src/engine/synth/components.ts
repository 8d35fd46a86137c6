// Connected components of a binary 3D mask (6-connectivity: voxels that
// share a face), used to guarantee one tumour region per case.

/** Sizes of the 6-connected components of `mask` (non-zero = foreground), largest first. */
export function componentSizes(mask: ArrayLike<number>, dims: readonly [number, number, number]): number[] {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  if (mask.length !== n) throw new Error(`componentSizes: mask has ${mask.length} voxels, dims ${dims.join('×')} need ${n}`);
  const seen = new Uint8Array(n);
  const stack = new Int32Array(n);
  const sizes: number[] = [];
  const sxy = nx * ny;
  for (let start = 0; start < n; start++) {
    if (!mask[start] || seen[start]) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    let size = 0;
    while (top > 0) {
      const v = stack[--top];
      size++;
      const i = v % nx;
      const j = Math.floor(v / nx) % ny;
      const k = Math.floor(v / sxy);
      const push = (w: number) => {
        if (mask[w] && !seen[w]) {
          seen[w] = 1;
          stack[top++] = w;
        }
      };
      if (i > 0) push(v - 1);
      if (i < nx - 1) push(v + 1);
      if (j > 0) push(v - nx);
      if (j < ny - 1) push(v + nx);
      if (k > 0) push(v - sxy);
      if (k < nz - 1) push(v + sxy);
    }
    sizes.push(size);
  }
  return sizes.sort((a, b) => b - a);
}
