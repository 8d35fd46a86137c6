// Python values as the restricted unpickler builds them: plain JS values for
// None/bool/int/float/str/bytes/list, small classes for tuples, sets and
// dicts (dict keys compare as Python's do), and PyOpaque for whatever the
// caller's allow-list hooks produce.

/** A value the caller's hooks produce (a callable, a storage type, a tensor reference...). */
export abstract class PyOpaque {
  abstract describe(): string;
  /** BUILD opcode on this value; refused unless overridden. */
  setState(_state: PyValue): void {
    throw new Error(`cannot set state on ${this.describe()}`);
  }
}

/** An allowed global that REDUCE/NEWOBJ may call; `call` must only build values. */
export class PyCallable extends PyOpaque {
  constructor(
    readonly qualname: string,
    readonly call: (args: PyValue[]) => PyValue,
  ) {
    super();
  }
  describe(): string {
    return `global "${this.qualname}"`;
  }
}

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

export class PySet {
  constructor(
    readonly items: PyValue[],
    readonly frozen: boolean,
  ) {}
}

/** dict / OrderedDict: insertion-ordered, keys compared as Python would (1 == 1.0 == True). */
export class PyDict {
  private readonly map = new Map<string, [PyValue, PyValue]>();
  /** instance __dict__ set by BUILD (e.g. a state dict's `_metadata`) */
  attrs: PyValue = null;
  constructor(readonly className = 'dict') {}

  set(key: PyValue, value: PyValue): void {
    this.map.set(hashKey(key), [key, value]);
  }
  get(key: PyValue): PyValue | undefined {
    return this.map.get(hashKey(key))?.[1];
  }
  has(key: PyValue): boolean {
    return this.map.has(hashKey(key));
  }
  get size(): number {
    return this.map.size;
  }
  entries(): IterableIterator<[PyValue, PyValue]> {
    return this.map.values();
  }
}

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PySet
  | PyDict
  | PyOpaque;

/** Largest dict key (characters, bytes and tuple items together) and deepest tuple nesting accepted. */
export const MAX_KEY_SIZE = 1 << 16;
const MAX_KEY_DEPTH = 32;

/** Size of a dict key, counted iteratively; throws past MAX_KEY_SIZE or MAX_KEY_DEPTH. */
export function keySize(k: PyValue): number {
  let size = 0;
  const todo: [PyValue, number][] = [[k, 0]];
  while (todo.length) {
    const [v, depth] = todo.pop()!;
    size += typeof v === 'string' || v instanceof Uint8Array ? v.length + 1 : 1;
    if (size > MAX_KEY_SIZE) throw new Error(`dict key larger than ${MAX_KEY_SIZE}`);
    if (v instanceof PyTuple) {
      if (depth >= MAX_KEY_DEPTH) throw new Error(`dict key tuples nested more than ${MAX_KEY_DEPTH} deep`);
      for (const x of v.items) todo.push([x, depth + 1]);
    }
  }
  return size;
}

/** Canonical text of a hashable value; length-prefixed strings keep tuple keys unambiguous. */
function hashKey(k: PyValue): string {
  keySize(k);
  return hashOf(k);
}

function hashOf(k: PyValue): string {
  if (typeof k === 'string') return `s${k.length}:${k}`;
  // Python: 1 == 1.0 == True, and 10**21 == 1e21
  if (typeof k === 'number') return Number.isInteger(k) ? `n${BigInt(k)}` : `n${k}`;
  if (typeof k === 'bigint') return `n${k}`;
  if (typeof k === 'boolean') return k ? 'n1' : 'n0';
  if (k === null) return 'N';
  if (k instanceof Uint8Array) return `b${Buffer.from(k).toString('hex')}`;
  if (k instanceof PyTuple) return `t(${k.items.map(hashOf).join(',')})`;
  throw new Error(`unhashable dict key (${typeName(k)})`);
}

export function typeName(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PySet) return v.frozen ? 'frozenset' : 'set';
  if (v instanceof PyDict) return v.className;
  return v.describe();
}
