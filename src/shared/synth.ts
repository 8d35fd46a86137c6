// The synthetic cohort generator's defaults, shared by the engine (which
// applies them) and the extension (which offers sizes relative to them).
export const SYNTH_DEFAULTS = { internal: 60, external: 20, shape: [64, 64, 40] as [number, number, number], seed: 42 };
