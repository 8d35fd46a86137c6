// Bounded gzip inflation. zlib's maxOutputLength makes the synchronous
// inflater stop as soon as the output passes the limit (chunk by chunk), so a
// gzip bomb is refused without ever being inflated whole.
import { constants, gunzipSync } from 'node:zlib';

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function codeOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/** Inflates all of `compressed`; throws a message naming `file` past `maxBytes` or on a damaged stream. */
export function gunzipBounded(compressed: Uint8Array, maxBytes: number, file: string): Uint8Array {
  try {
    return gunzipSync(compressed, { maxOutputLength: maxBytes });
  } catch (e) {
    if (codeOf(e) === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new Error(`${file}: gzip inflates to more than ${maxBytes} bytes (maxInflatedBytes); refusing it`);
    }
    throw new Error(`${file}: truncated or corrupt gzip data (${(e as Error).message})`);
  }
}

/**
 * Inflates just enough of the start of `compressed` to return at least
 * `wanted` bytes (or fewer when the whole stream is shorter). Feeds growing
 * prefixes with Z_SYNC_FLUSH, which returns what a truncated stream holds
 * instead of failing; each prefix is small, so its output stays bounded.
 */
export function gunzipPrefix(compressed: Uint8Array, wanted: number, file: string): Uint8Array {
  let take = Math.min(1024, compressed.length);
  const maxPrefix = 64 * 1024;
  for (;;) {
    let out: Uint8Array;
    try {
      out = gunzipSync(compressed.subarray(0, take), {
        finishFlush: constants.Z_SYNC_FLUSH,
        // deflate expands at most ~1032:1, so this never trips for take ≤ 64 KiB
        maxOutputLength: 128 * 1024 * 1024,
      });
    } catch (e) {
      throw new Error(`${file}: corrupt gzip data (${(e as Error).message})`);
    }
    if (out.length >= wanted || take >= compressed.length || take >= maxPrefix) return out;
    take = Math.min(take * 4, compressed.length);
  }
}
