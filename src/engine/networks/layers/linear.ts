// The engine has one Linear (PyTorch layout, weight [out, in]), shared by
// the text encoder, the projection heads and the classifier.
export { Linear, linearApply } from '../torch-layers';
export type { InitKind, InitOptions } from '../torch-layers';
