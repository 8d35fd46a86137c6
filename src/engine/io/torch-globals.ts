// The only Python globals a PyTorch checkpoint may name, and the inert
// values that stand for them: tensors are recorded as references (storage,
// offset, shape, strides) and materialised later, only if selected.
import { PyCallable, PyDict, PyOpaque, PyTuple, typeName, type PyValue } from './pickle';
import type { RawDtype } from './raw-tensor';

/** torch.<Name>Storage → element dtype. */
const STORAGE_DTYPES: Readonly<Record<string, RawDtype>> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

export class StorageType extends PyOpaque {
  constructor(
    readonly name: string,
    readonly dtype: RawDtype,
  ) {
    super();
  }
  describe(): string {
    return `torch.${this.name}`;
  }
}

/** A storage as named by a persistent id; `view` is a legacy storage slice (in elements). */
export class StorageRef extends PyOpaque {
  constructor(
    readonly key: string,
    readonly dtype: RawDtype,
    readonly numel: number,
    readonly view: { offset: number; numel: number } | null = null,
  ) {
    super();
  }
  describe(): string {
    return `storage "${this.key}"`;
  }
}

export class TensorRef extends PyOpaque {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {
    super();
  }
  describe(): string {
    return `tensor [${this.shape.join(', ')}]`;
  }
}

export function asIndex(v: PyValue | undefined, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if ((typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint') throw new Error(`${what} ${v} is out of range`);
  throw new Error(`${what} must be a non-negative integer, not ${v === undefined ? 'missing' : typeName(v)}`);
}

function asIndexList(v: PyValue | undefined, what: string): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
  if (!items) throw new Error(`${what} must be a tuple of integers`);
  if (items.length > 64) throw new Error(`${what} has ${items.length} dimensions`);
  return items.map((x, i) => asIndex(x, `${what}[${i}]`));
}

function rebuildTensor(args: PyValue[]): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) throw new Error(`expected a storage, got ${storage === undefined ? 'nothing' : typeName(storage)}`);
  const shape = asIndexList(size, 'size');
  const strides = asIndexList(stride, 'stride');
  if (shape.length !== strides.length) throw new Error(`size has ${shape.length} dimensions but stride has ${strides.length}`);
  return new TensorRef(storage, asIndex(offset, 'storage offset'), shape, strides);
}

function rebuildParameter(args: PyValue[]): TensorRef {
  if (!(args[0] instanceof TensorRef)) throw new Error('expected a tensor');
  return args[0];
}

function orderedDict(args: PyValue[]): PyDict {
  const d = new PyDict('collections.OrderedDict');
  if (args.length === 0) return d;
  // OrderedDict([(k, v), ...]) as older picklers wrote it
  const pairs = args[0];
  if (args.length > 1 || !Array.isArray(pairs)) throw new Error('expects no arguments or a list of pairs');
  for (const p of pairs) {
    if (!(p instanceof PyTuple) || p.items.length !== 2) throw new Error('expects (key, value) pairs');
    d.set(p.items[0], p.items[1]);
  }
  return d;
}

const CALLABLES: Readonly<Record<string, (args: PyValue[]) => PyValue>> = {
  'collections.OrderedDict': orderedDict,
  'torch._utils._rebuild_tensor': rebuildTensor,
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  'torch._utils._rebuild_parameter': rebuildParameter,
  'torch._utils._rebuild_parameter_with_state': rebuildParameter,
};

/** The allow-list handed to the unpickler; anything else is refused by name. */
export function findTorchGlobal(module: string, name: string): PyValue {
  const q = `${module}.${name}`;
  const fn = Object.hasOwn(CALLABLES, q) ? CALLABLES[q] : undefined;
  if (fn) return new PyCallable(q, fn);
  if (module === 'torch' && Object.hasOwn(STORAGE_DTYPES, name)) return new StorageType(name, STORAGE_DTYPES[name]);
  throw new Error(
    `refusing global "${q}": only tensors, storages and OrderedDicts are loaded ` +
      '(a checkpoint that pickles a whole model or other objects cannot be read safely; save model.state_dict() instead)',
  );
}
