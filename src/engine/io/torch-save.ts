// Writes a PyTorch checkpoint in torch.save's legacy format (what
// MedicalNet's released .pth files use, and what torch.load still reads,
// with weights_only=True too): five pickles (magic number, protocol 1001,
// sys info, the object with storages as persistent ids, the sorted storage
// keys), then each storage as int64 element count + little-endian bytes.
// The object is {<scalars>..., <key>: OrderedDict(name → tensor)}, every
// tensor contiguous in its own storage. The file is written atomically.
import { writeFileAtomic } from './atomic';

export interface SaveTensor {
  shape: number[];
  data: Float32Array | BigInt64Array;
}

const MAGIC = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

/** A protocol-2 pickle writer for the few types a state dict needs. */
class Pickler {
  private readonly parts: number[] = [];

  constructor() {
    this.parts.push(0x80, 2); // PROTO 2
  }

  private bytes(b: ArrayLike<number>): void {
    for (let i = 0; i < b.length; i++) this.parts.push(b[i]!);
  }

  int(n: number | bigint): void {
    const v = BigInt(n);
    if (v >= -(2n ** 31n) && v < 2n ** 31n) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(Number(v));
      this.parts.push(0x4a); // BININT
      this.bytes(b);
      return;
    }
    // LONG1: little-endian two's complement, minimal length
    const out: number[] = [];
    let x = v;
    for (;;) {
      out.push(Number(x & 0xffn));
      x >>= 8n;
      const sign = (out[out.length - 1]! & 0x80) !== 0;
      if ((x === 0n && !sign) || (x === -1n && sign)) break;
    }
    this.parts.push(0x8a, out.length);
    this.bytes(out);
  }

  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    this.parts.push(0x58); // BINUNICODE
    this.bytes(len);
    this.bytes(b);
  }

  bool(v: boolean): void {
    this.parts.push(v ? 0x88 : 0x89);
  }

  none(): void {
    this.parts.push(0x4e);
  }

  global(module: string, name: string): void {
    this.parts.push(0x63); // GLOBAL
    this.bytes(Buffer.from(`${module}\n${name}\n`, 'latin1'));
  }

  mark(): void {
    this.parts.push(0x28);
  }

  tuple(): void {
    this.parts.push(0x74); // TUPLE (from the last mark)
  }

  emptyTuple(): void {
    this.parts.push(0x29);
  }

  emptyDict(): void {
    this.parts.push(0x7d);
  }

  emptyList(): void {
    this.parts.push(0x5d);
  }

  setItems(): void {
    this.parts.push(0x75);
  }

  appends(): void {
    this.parts.push(0x65);
  }

  reduce(): void {
    this.parts.push(0x52);
  }

  binPersId(): void {
    this.parts.push(0x51);
  }

  intTuple(xs: readonly number[]): void {
    if (xs.length === 0) return this.emptyTuple();
    this.mark();
    for (const x of xs) this.int(x);
    this.tuple();
  }

  finish(): Uint8Array {
    this.parts.push(0x2e); // STOP
    return Uint8Array.from(this.parts);
  }
}

function pickleOf(write: (p: Pickler) => void): Uint8Array {
  const p = new Pickler();
  write(p);
  return p.finish();
}

function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/**
 * Saves `{...scalars, [stateDictKey]: OrderedDict(tensors)}` (MedicalNet's
 * layout is `{'ecpoch': n, 'state_dict': {...}}`) as a legacy torch.save file.
 */
export function saveTorchCheckpoint(path: string, tensors: ReadonlyMap<string, SaveTensor>, options: { stateDictKey?: string; scalars?: Record<string, number> } = {}): void {
  const key = options.stateDictKey ?? 'state_dict';
  const names = [...tensors.keys()];
  const storageKeys = names.map((_, i) => String(i));
  for (const [name, t] of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`${path}: tensor "${name}" has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  }
  const object = pickleOf((p) => {
    p.emptyDict();
    p.mark();
    for (const [k, v] of Object.entries(options.scalars ?? {})) {
      p.str(k);
      p.int(v);
    }
    p.str(key);
    p.global('collections', 'OrderedDict');
    p.emptyTuple();
    p.reduce();
    p.mark();
    names.forEach((name, i) => {
      const t = tensors.get(name)!;
      p.str(name);
      p.global('torch._utils', '_rebuild_tensor_v2');
      p.mark();
      // the storage: ('storage', type, key, location, numel, view_metadata)
      p.mark();
      p.str('storage');
      p.global('torch', t.data instanceof Float32Array ? 'FloatStorage' : 'LongStorage');
      p.str(storageKeys[i]!);
      p.str('cpu');
      p.int(t.data.length);
      p.none();
      p.tuple();
      p.binPersId();
      p.int(0); // storage offset
      p.intTuple(t.shape);
      p.intTuple(contiguousStrides(t.shape));
      p.bool(false); // requires_grad
      p.global('collections', 'OrderedDict'); // backward hooks
      p.emptyTuple();
      p.reduce();
      p.tuple();
      p.reduce();
    });
    p.setItems();
    p.setItems();
  });
  const sysInfo = pickleOf((p) => {
    p.emptyDict();
    p.mark();
    p.str('protocol_version');
    p.int(PROTOCOL_VERSION);
    p.str('little_endian');
    p.bool(true);
    p.str('type_sizes');
    p.emptyDict();
    p.mark();
    for (const [k, v] of [['short', 2], ['int', 4], ['long', 4]] as const) {
      p.str(k);
      p.int(v);
    }
    p.setItems();
    p.setItems();
  });
  const keys = pickleOf((p) => {
    p.emptyList();
    p.mark();
    // torch sorts the keys as strings
    for (const k of [...storageKeys].sort()) p.str(k);
    p.appends();
  });
  const chunks: Uint8Array[] = [pickleOf((p) => p.int(MAGIC)), pickleOf((p) => p.int(PROTOCOL_VERSION)), sysInfo, object, keys];
  const order = new Map(storageKeys.map((k, i) => [k, i]));
  for (const k of [...storageKeys].sort()) {
    const t = tensors.get(names[order.get(k)!]!)!;
    const count = Buffer.alloc(8);
    count.writeBigInt64LE(BigInt(t.data.length));
    chunks.push(count, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  writeFileAtomic(path, chunks);
}
