import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PickleTruncatedError, PyCallable, PyDict, PySet, PyTuple, unpickle, type PyValue } from '../../../src/engine/io/pickle';

const FIX = join(__dirname, '../../fixtures/torch');
const cases = JSON.parse(readFileSync(join(FIX, 'pickles.json'), 'utf8')) as {
  values: Record<string, unknown>;
  pickles: { name: string; protocol: number; hex: string }[];
};

/** Allows only collections.OrderedDict (what torch state dicts need). */
function findClass(module: string, name: string): PyValue {
  if (module === 'collections' && name === 'OrderedDict') {
    return new PyCallable('collections.OrderedDict', (args) => {
      const d = new PyDict('collections.OrderedDict');
      const pairs = args[0];
      if (Array.isArray(pairs)) for (const p of pairs) if (p instanceof PyTuple) d.set(p.items[0], p.items[1]);
      return d;
    });
  }
  throw new Error(`refusing global "${module}.${name}"`);
}

/** Same tagged encoding as make_fixtures.py's tag(). */
function tag(v: PyValue): unknown {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number' && !Number.isInteger(v)) return { float: Number.isNaN(v) ? 'nan' : Number.isFinite(v) ? v : v > 0 ? 'inf' : '-inf' };
  if (typeof v === 'number' && Object.is(v, -0)) return { float: -0 };
  if (typeof v === 'number' || typeof v === 'bigint') return { int: String(v) };
  if (typeof v === 'string') return { str: v };
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') };
  if (Array.isArray(v)) return { list: v.map(tag) };
  if (v instanceof PyTuple) return { tuple: v.items.map(tag) };
  if (v instanceof PySet) {
    const ints = v.items.map((x) => String(x)).sort();
    return v.frozen ? { frozenset: ints } : { set: ints };
  }
  if (v instanceof PyDict) {
    const kind = v.className === 'collections.OrderedDict' ? 'OrderedDict' : 'dict';
    return { [kind]: [...v.entries()].map(([k, x]) => [tag(k), tag(x)]) };
  }
  throw new Error(`unexpected ${v.describe()}`);
}

/** Python floats that are integral (1e300, 1.5 keys aside) come back as JS numbers: re-tag by the expected type. */
function normalise(expected: unknown, actual: unknown): unknown {
  if (Array.isArray(expected) && Array.isArray(actual)) return actual.map((a, i) => normalise(expected[i], a));
  if (expected && typeof expected === 'object' && actual && typeof actual === 'object') {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    if ('float' in e && 'int' in a) return { float: Number(a.int) };
    return Object.fromEntries(Object.entries(a).map(([k, x]) => [k, normalise(e[k], x)]));
  }
  return actual;
}

for (const c of cases.pickles) {
  test(`decodes ${c.name} pickled with protocol ${c.protocol}`, () => {
    const bytes = Buffer.from(c.hex, 'hex');
    const { value, end } = unpickle(bytes, { file: 'case', findClass });
    assert.equal(end, bytes.length);
    const expected = cases.values[c.name];
    assert.deepEqual(normalise(expected, tag(value)), expected);
  });
}

test('memo references share one object (protocol 2)', () => {
  const c = cases.pickles.find((p) => p.name === 'shared' && p.protocol === 2)!;
  const v = unpickle(Buffer.from(c.hex, 'hex'), { file: 'case', findClass }).value as PyValue[];
  assert.equal(v[0], v[1]);
  assert.equal((v[2] as PyTuple).items[0], v[0]);
});

test('Python equality for dict keys: 1, 1.0 and True are one key; tuple keys do not collide', () => {
  const d = new PyDict();
  d.set(1, 'a');
  d.set(1.0, 'b');
  d.set(true, 'c');
  assert.equal(d.size, 1);
  assert.equal(d.get(1), 'c');
  d.set(10n ** 21n, 'big');
  assert.equal(d.get(1e21), 'big');
  d.set(new PyTuple(['a', 'b']), 'pair');
  d.set(new PyTuple(['a,sb']), 'single');
  d.set(new PyTuple(['a', new PyTuple(['b'])]), 'nested');
  assert.equal(d.size, 5);
  assert.equal(d.get(new PyTuple(['a', 'b'])), 'pair');
  assert.throws(() => d.set([], 1), /unhashable/);
  let deep = new PyTuple([]);
  for (let i = 0; i < 40; i++) deep = new PyTuple([deep]);
  assert.throws(() => d.set(deep, 1), /nested more than 32 deep/);
  assert.throws(() => d.set('x'.repeat(70000), 1), /dict key larger/);
});

const P2 = [0x80, 0x02];
const STOP = 0x2e;

function refuses(bytes: number[] | Uint8Array, re: RegExp, opts: Partial<Parameters<typeof unpickle>[1]> = {}): void {
  assert.throws(
    () => unpickle(Uint8Array.from(bytes), { file: 'bad.pkl', findClass, ...opts }),
    (e: unknown) => e instanceof Error && e.message.startsWith('bad.pkl') && re.test(e.message),
  );
}

test('globals outside the allow-list are refused by name, never resolved', () => {
  const g = Buffer.from('cposix\nsystem\n', 'latin1');
  refuses([...P2, ...g, STOP], /refusing global "posix\.system"/);
  // STACK_GLOBAL form (protocol 4)
  const s = (t: string) => [0x8c, t.length, ...Buffer.from(t)];
  refuses([0x80, 0x04, ...s('builtins'), ...s('eval'), 0x93, STOP], /refusing global "builtins\.eval"/);
});

test('REDUCE on a non-callable, BUILD on a list, persistent ids without a hook', () => {
  refuses([...P2, 0x4b, 1, 0x29, 0x52, STOP], /int is not callable/);
  refuses([...P2, 0x5d, 0x7d, 0x62, STOP], /BUILD on list/);
  refuses([...P2, 0x4b, 1, 0x51, STOP], /persistent id/);
});

test('truncated data raises PickleTruncatedError naming the file', () => {
  for (const bytes of [[...P2, 0x4b], [...P2, 0x58, 10, 0, 0, 0, 0x61], [...P2, 0x5d], [...P2, 0x63, 0x61]]) {
    assert.throws(
      () => unpickle(Uint8Array.from(bytes), { file: 'bad.pkl', findClass }),
      (e: unknown) => e instanceof PickleTruncatedError && e.message.startsWith('bad.pkl'),
    );
  }
});

test('absurd lengths are refused before any allocation', () => {
  // BINBYTES8 / BINUNICODE8 claiming 2^62 bytes
  refuses([0x80, 0x04, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40, STOP], /ends early|absurd/);
  refuses([0x80, 0x04, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, STOP], /absurd/);
  // LONG4 of 2^31 bytes
  refuses([...P2, 0x8b, 0, 0, 0, 0x80, STOP], /ends early/);
  // a 5000-digit text integer
  refuses([0x49, ...Buffer.from('9'.repeat(5000)), 0x0a, STOP], /bad integer literal/);
});

test('nesting bombs: too many MARKs are refused, deep APPEND chains parse without recursion', () => {
  refuses([...P2, ...new Array(20000).fill(0x28), STOP], /nested MARKs/);
  // 200000 empty lists each appended into the previous one: depth 200000
  const n = 200000;
  const bytes = new Uint8Array(2 + 2 * n + 1);
  bytes.set(P2);
  bytes.fill(0x5d, 2, 2 + n);
  bytes.fill(0x61, 2 + n, 2 + 2 * n - 1);
  bytes[2 + 2 * n - 1] = STOP;
  // n lists and n-1 appends leave one list on the stack
  const { value } = unpickle(bytes.subarray(0, 2 + 2 * n), { file: 'deep', findClass });
  assert.ok(Array.isArray(value));
});

test('a MARK gathering 300000 items appends without exhausting the call stack', () => {
  const n = 300000;
  const bytes = new Uint8Array(2 + 2 + n + 2);
  bytes.set([...P2, 0x5d, 0x28]);
  bytes.fill(0x4e, 4, 4 + n); // None × n
  bytes.set([0x65, STOP], 4 + n); // APPENDS
  const { value } = unpickle(bytes, { file: 'wide', findClass });
  assert.equal((value as PyValue[]).length, n);
});

test('reusing a big memoised list in many calls is stopped as a pickle bomb', () => {
  const n = 100000;
  const k = 100000;
  const any = () => new PyCallable('x.y', () => null);
  const head = [...P2, 0x5d, 0x71, 0, 0x28]; // [] memo 0, MARK
  const mid = [0x65, 0x63, ...Buffer.from('x\ny\n'), 0x71, 1, 0x30]; // APPENDS, GLOBAL memo 1, POP
  const step = [0x68, 1, 0x68, 0, 0x85, 0x52, 0x30]; // x((list,)) then POP
  const bytes = new Uint8Array(head.length + n + mid.length + k * step.length + 2);
  bytes.set(head);
  bytes.fill(0x4e, head.length, head.length + n);
  bytes.set(mid, head.length + n);
  for (let i = 0; i < k; i++) bytes.set(step, head.length + n + mid.length + i * step.length);
  bytes.set([0x4e, STOP], bytes.length - 2);
  refuses(bytes, /too much work for its size/, { findClass: any });
  // the same shape with few calls is fine
  const small = Uint8Array.from([...bytes.subarray(0, head.length + n + mid.length + 3 * step.length), 0x4e, STOP]);
  assert.equal(unpickle(small, { file: 'ok', findClass: any }).value, null);
});

test('malformed structure: stack underflow, missing memo, odd SETITEMS, unknown opcode, bad UTF-8', () => {
  refuses([...P2, 0x30, STOP], /stack underflow/);
  refuses([...P2, 0x68, 5, STOP], /memo entry 5/);
  refuses([...P2, 0x7d, 0x28, 0x4b, 1, 0x75, STOP], /odd number/);
  refuses([...P2, 0xff, STOP], /unsupported opcode 0xff/);
  refuses([...P2, 0x8c, 2, 0xc3, 0x28, STOP], /not valid UTF-8/);
  refuses([...P2, 0x7d, 0x5d, 0x4b, 1, 0x73, STOP], /unhashable/);
  refuses([0x80, 0x09, STOP], /protocol 9/);
});
