// A restricted Python unpickler: it builds plain values (numbers, strings,
// bytes, lists, tuples, dicts) and never imports or runs anything. Every
// global a pickle names goes through the caller's `findClass`, which returns
// a value standing for it (usually a PyCallable) or throws; REDUCE/NEWOBJ
// only call those. The machine is iterative, so deep nesting cannot overflow
// the JS stack, and every length is checked against the bytes left before
// anything is allocated.

import { keySize, PyCallable, PyDict, PyOpaque, PySet, PyTuple, typeName, type PyValue } from './pickle-values';

export { PyCallable, PyDict, PyOpaque, PySet, PyTuple, typeName, type PyValue } from './pickle-values';

export interface UnpickleOptions {
  /** names the source in error messages, e.g. "model.pth (archive/data.pkl)" */
  file: string;
  /** byte offset where the pickle starts (several pickles may follow each other) */
  start?: number;
  /** the allow-list: returns the value standing for module.name, or throws */
  findClass: (module: string, name: string) => PyValue;
  /** resolves BINPERSID ids (torch storages); absent means persistent ids are refused */
  persistentLoad?: (pid: PyValue) => PyValue;
  /** most unclosed MARKs at once (default 10000) */
  maxNesting?: number;
  /** estimated bytes of values the pickle may build (default MAX_VALUE_BYTES) */
  maxValueBytes?: number;
}

/**
 * Most memory, estimated, of the values one pickle may build. A one-byte
 * opcode such as EMPTY_DICT makes a JS object of up to 300 bytes, so without
 * a limit a 64 MiB pickle (a few KiB deflated) could build gigabytes. The
 * estimate is 64 bytes per opcode (a stack slot and a small value), more for
 * the ones that make tuples, lists, sets (128) and dicts (512), plus the
 * length of every string and bytes value: close to what V8 spends on them.
 * A state dict's pickle costs about 2 KiB per tensor by this measure, so
 * 96 MiB admits some 48 000 tensors.
 */
export const MAX_VALUE_BYTES = 96 * 1024 * 1024;
const OP_COST = new Uint16Array(256).fill(64);
for (const op of [0x29, 0x5d, 0x8f, 0x6c, 0x74, 0x85, 0x86, 0x87, 0x91]) OP_COST[op] = 128; // tuples, lists, sets
for (const op of [0x7d, 0x64]) OP_COST[op] = 512; // dicts

/**
 * Work allowed per input byte. Memo references let a small pickle reuse a
 * big list or key many times; counting the items every call and dict insert
 * touches keeps parsing time linear in the input.
 */
const WORK_PER_BYTE = 16;

/** Thrown when the data ends before STOP: the caller may retry with more bytes. */
export class PickleTruncatedError extends Error {}

/** Any other malformed or refused pickle. */
export class PickleError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_INT_BYTES = 256;
const MAX_TEXT_INT_DIGITS = 4300; // CPython's int_max_str_digits

/** Parses one pickle starting at `options.start`; returns its value and the offset just past STOP. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): { value: PyValue; end: number } {
  const { file } = options;
  const maxNesting = options.maxNesting ?? 10000;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = options.start ?? 0;
  // MARK moves the current stack onto the metastack and starts a fresh one.
  let stack: PyValue[] = [];
  const metastack: PyValue[][] = [];
  const memo = new Map<number, PyValue>();
  let work = 0;
  const maxWork = WORK_PER_BYTE * bytes.length + 1_000_000;
  let valueBytes = 0;
  const maxValueBytes = options.maxValueBytes ?? MAX_VALUE_BYTES;

  const fail = (msg: string): never => {
    throw new PickleError(`${file}: pickle: ${msg} (at byte ${pos})`);
  };
  /** Runs a hook or container operation, reporting its plain errors as pickle errors. */
  const guarded = <T>(f: () => T, prefix = ''): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof PickleError || e instanceof PickleTruncatedError) throw e;
      return fail(prefix + (e as Error).message);
    }
  };
  const charge = (n: number): void => {
    work += n;
    if (work > maxWork) fail('too much work for its size (a pickle bomb?)');
  };
  const need = (n: number): number => {
    if (n > bytes.length - pos) throw new PickleTruncatedError(`${file}: pickle data ends early (truncated file?)`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = (): number => bytes[need(1)];
  const u16 = (): number => dv.getUint16(need(2), true);
  const u32 = (): number => dv.getUint32(need(4), true);
  const u64 = (): number => {
    const v = dv.getBigUint64(need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} is absurd`);
    return Number(v);
  };
  const build = (n: number): void => {
    valueBytes += n;
    if (valueBytes > maxValueBytes) fail(`builds more than ${maxValueBytes} bytes of values (a pickle bomb?)`);
  };
  const take = (n: number): Uint8Array => {
    const at = need(n);
    build(n);
    return bytes.subarray(at, pos);
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) throw new PickleTruncatedError(`${file}: pickle data ends early (truncated file?)`);
    const s = Buffer.from(bytes.subarray(pos, nl)).toString('latin1');
    pos = nl + 1;
    return s;
  };
  const text = (n: number): string => {
    const raw = take(n);
    try {
      return utf8.decode(raw);
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const pop = (): PyValue => {
    if (stack.length === 0) return fail('stack underflow');
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) return fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = metastack.pop();
    if (prev === undefined) return fail('no MARK on the stack');
    stack = prev;
    return items;
  };
  const memoGet = (i: number): PyValue => {
    const v = memo.get(i);
    if (v === undefined) fail(`memo entry ${i} was never stored`);
    return v as PyValue;
  };
  const memoPut = (i: number): void => {
    memo.set(i, top());
  };
  const call = (fn: PyValue, args: PyValue): PyValue => {
    if (!(fn instanceof PyCallable)) return fail(`${typeName(fn)} is not callable`);
    if (!(args instanceof PyTuple)) return fail(`arguments to ${fn.describe()} are not a tuple`);
    charge(1 + args.items.length);
    for (const a of args.items) charge(Array.isArray(a) ? a.length : a instanceof PyTuple ? a.items.length : 0);
    return guarded(() => fn.call([...args.items]), `${fn.describe()}: `);
  };
  const setItems = (d: PyValue, items: PyValue[]): void => {
    if (!(d instanceof PyDict)) fail(`SETITEM on ${typeName(d)}`);
    if (items.length % 2 !== 0) fail('odd number of items for a dict');
    for (let i = 0; i < items.length; i += 2) {
      charge(guarded(() => keySize(items[i])));
      guarded(() => (d as PyDict).set(items[i], items[i + 1]));
    }
  };
  const appendItems = (l: PyValue, items: PyValue[]): void => {
    // a loop, not push(...items): a hostile MARK can gather millions of items
    const target = Array.isArray(l) ? l : l instanceof PySet && !l.frozen ? l.items : fail(`APPEND on ${typeName(l)}`);
    for (const x of items) target.push(x);
  };
  const binInt = (raw: Uint8Array): number | bigint => {
    if (raw.length > MAX_INT_BYTES) fail(`integer of ${raw.length} bytes is too large`);
    let v = 0n;
    for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
    if (raw.length > 0 && raw[raw.length - 1] & 0x80) v -= 1n << BigInt(8 * raw.length);
    return narrow(v);
  };
  const textInt = (s: string): number | bigint => {
    const t = s.endsWith('L') ? s.slice(0, -1) : s;
    if (!/^[+-]?\d+$/.test(t) || t.length > MAX_TEXT_INT_DIGITS) fail(`bad integer literal "${s.slice(0, 40)}"`);
    return narrow(BigInt(t));
  };
  const global = (module: string, name: string): PyValue => guarded(() => options.findClass(module, name));

  for (;;) {
    const op = u8();
    build(OP_COST[op]!);
    switch (op) {
      case 0x80: { // PROTO
        const p = u8();
        if (p > 5) fail(`unsupported pickle protocol ${p}`);
        break;
      }
      case 0x95: // FRAME: the frame length only helps buffering
        u64();
        break;
      case 0x2e: { // STOP
        const value = pop();
        return { value, end: pos };
      }
      case 0x28: // MARK
        if (metastack.length >= maxNesting) fail(`more than ${maxNesting} nested MARKs`);
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK (discards everything above the mark)
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(dv.getInt32(need(4), true)); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(binInt(take(u8()))); break; // LONG1
      case 0x8b: stack.push(binInt(take(dv.getInt32(need(4), true) >>> 0))); break; // LONG4
      case 0x49: { // INT (text; I01/I00 are True/False)
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : textInt(s));
        break;
      }
      case 0x4c: stack.push(textInt(line())); break; // LONG (text)
      case 0x46: { // FLOAT (text)
        const s = line().trim();
        const special = /^([+-]?)(inf|nan)$/i.exec(s); // Python's repr of non-finite floats
        const v = special ? (special[2].toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity) : Number(s);
        if (s === '' || (Number.isNaN(v) && !special)) fail(`bad float literal "${s.slice(0, 40)}"`);
        stack.push(v);
        break;
      }
      case 0x47: stack.push(dv.getFloat64(need(8), false)); break; // BINFLOAT (big-endian)
      case 0x56: { // UNICODE (protocol 0)
        const v = rawUnicodeEscape(line());
        stack.push(v ?? fail('bad \\U escape in a UNICODE string'));
        break;
      }
      case 0x58: stack.push(text(u32())); break; // BINUNICODE
      case 0x8c: stack.push(text(u8())); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(text(u64())); break; // BINUNICODE8
      case 0x54: stack.push(text(dv.getInt32(need(4), true) >>> 0)); break; // BINSTRING (py2 str, read as UTF-8 like torch.load)
      case 0x55: stack.push(text(u8())); break; // SHORT_BINSTRING
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: stack.push(take(u64()).slice()); break; // BINBYTES8
      case 0x96: stack.push(take(u64()).slice()); break; // BYTEARRAY8
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x8f: stack.push(new PySet([], false)); break; // EMPTY_SET
      // popMark() swaps `stack`, so it must run before `stack.push` is looked up
      case 0x6c: { // LIST
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x74: { // TUPLE
        const items = popMark();
        stack.push(new PyTuple(items));
        break;
      }
      case 0x85: stack.push(new PyTuple([pop()])); break; // TUPLE1
      case 0x86: { // TUPLE2
        const b = pop();
        stack.push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x64: { // DICT
        const items = popMark();
        const d = new PyDict();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x91: { // FROZENSET
        const items = popMark();
        stack.push(new PySet(items, true));
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: // APPENDS
      case 0x90: { // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x70: memoPut(Number(textInt(line()))); break; // PUT
      case 0x71: memoPut(u8()); break; // BINPUT
      case 0x72: memoPut(u32()); break; // LONG_BINPUT
      case 0x94: memoPut(memo.size); break; // MEMOIZE
      case 0x67: stack.push(memoGet(Number(textInt(line())))); break; // GET
      case 0x68: stack.push(memoGet(u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(u32())); break; // LONG_BINGET
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        if (!(kwargs instanceof PyDict) || kwargs.size > 0) fail('NEWOBJ_EX with keyword arguments');
        stack.push(call(pop(), args));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) obj.attrs = state;
        else if (obj instanceof PyOpaque) guarded(() => obj.setState(state));
        else fail(`BUILD on ${typeName(obj)}`);
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        const load = options.persistentLoad ?? fail('persistent id in a pickle that allows none');
        const v = guarded(() => load(pid));
        stack.push(v);
        break;
      }
      default:
        fail(`unsupported opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}

/** Python's raw-unicode-escape (pickle protocol 0 escapes "\\" and newlines as \u too). */
function rawUnicodeEscape(latin1: string): string | null {
  let bad = false;
  const out = latin1.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u: string | undefined, w: string | undefined) => {
    const cp = parseInt(u ?? w ?? '', 16);
    if (cp > 0x10ffff) {
      bad = true;
      return '';
    }
    return String.fromCodePoint(cp);
  });
  return bad ? null : out;
}

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
