// The encoder's feature grids as arithmetic (no TF.js): the config checks
// in the editor use them as well as the engine.
// follows: METHOD.md §2 (output stride)

export type OutputStride = 32 | 16 | 8;
export const OUTPUT_STRIDES: readonly OutputStride[] = [32, 16, 8];

/**
 * Stride and dilation of layer3 and layer4 for an output stride (MedicalNet's
 * dilated form for 16 and 8; with `dilate` false the unstrided layers keep
 * dilation 1).
 */
export function dilatedLayout(outputStride: OutputStride, dilate = true): { layer3: { stride: number; dilation: number }; layer4: { stride: number; dilation: number } } {
  const r = (dilation: number) => (dilate ? dilation : 1);
  switch (outputStride) {
    case 32:
      return { layer3: { stride: 2, dilation: 1 }, layer4: { stride: 2, dilation: 1 } };
    case 16:
      return { layer3: { stride: 2, dilation: 1 }, layer4: { stride: 1, dilation: r(2) } };
    case 8:
      return { layer3: { stride: 1, dilation: r(2) }, layer4: { stride: 1, dilation: r(4) } };
    default:
      throw new Error(`ResNet3d: outputStride must be 32, 16 or 8, got ${String(outputStride)}`);
  }
}

/**
 * The layer3 (patch) and layer4 (attention) grids an input of spatial shape
 * `dhw` gives: each strided stage maps n → ⌈n/2⌉ (conv1, maxpool, layer2,
 * then layer3/layer4 where strided).
 */
export function encoderGrids(dhw: readonly number[], outputStride: OutputStride = 32): { layer3: [number, number, number]; layer4: [number, number, number] } {
  const layout = dilatedLayout(outputStride);
  const half = (n: number) => Math.floor((n - 1) / 2) + 1;
  const after = (n: number, stride: number) => (stride === 1 ? n : half(n));
  const l2 = dhw.map((n) => half(half(half(n))));
  const l3 = l2.map((n) => after(n, layout.layer3.stride));
  const l4 = l3.map((n) => after(n, layout.layer4.stride));
  return { layer3: [l3[0], l3[1], l3[2]], layer4: [l4[0], l4[1], l4[2]] };
}

