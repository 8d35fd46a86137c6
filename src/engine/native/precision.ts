// config.precision: which arithmetic the convolutions and matrix products
// use. bf16 runs in the native oneDNN kernels only (inputs reordered to
// bfloat16, fp32 accumulation and outputs, native/src/common.h), so it is
// refused, with the reason, wherever those kernels cannot do it.
import type { Precision } from './addon';

export type { Precision };
export const PRECISIONS: readonly Precision[] = ['fp32', 'bf16'];

export interface PrecisionContext {
  /** the active tf backend ('cpu', 'tensorflow', 'wasm') */
  backend: string;
  /** whether the native kernels serve the cpu backend */
  native: boolean;
  /** why not, when they do not (NativeStatus.detail) */
  nativeDetail: string;
  /** the addon's bf16 support; undefined for a build that predates it */
  bf16?: boolean;
  /** oneDNN's effective ISA, e.g. "avx2" */
  isa?: string;
}

/** Why `precision` cannot run here, or undefined when it can. */
export function precisionProblem(precision: Precision, c: PrecisionContext): string | undefined {
  if (precision === 'fp32') return undefined;
  if (!PRECISIONS.includes(precision)) return `precision "${String(precision)}" is unknown (expected ${PRECISIONS.join(' or ')})`;
  if (c.backend !== 'cpu') {
    return `precision "bf16" runs in this project's native oneDNN kernels on the cpu backend; backend "${c.backend}" computes in fp32. Use backend "cpu" or precision "fp32".`;
  }
  if (!c.native) return `precision "bf16" needs the native oneDNN kernels, which are not in use (${c.nativeDetail}). Build them (npm run build:native) or use precision "fp32".`;
  if (c.bf16 === undefined) return 'precision "bf16": the native addon was built before bf16 support; rebuild it (npm run build:native).';
  if (!c.bf16) {
    return `precision "bf16" needs a CPU with AVX512-BF16 or AMX (oneDNN ISA avx512_core_bf16 or avx512_core_amx); this CPU's is ${c.isa ?? 'unknown'}. Use precision "fp32".`;
  }
  return undefined;
}
