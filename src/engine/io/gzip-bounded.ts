// Bounded gzip inflation. zlib's maxOutputLength makes the synchronous
// inflater stop as soon as the output passes the limit, so a gzip bomb is
// refused without ever being inflated whole. The limit is what the caller's
// format implies (a NIfTI header's size + voxel bytes), not a global cap.
import { constants, gunzipSync } from 'node:zlib';

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function codeOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/**
 * Inflates all of `compressed`; throws a message naming `file` once the
 * output passes `maxBytes` (`why` says where the limit comes from) or on a
 * damaged stream. Peak memory is about maxBytes + the input, whatever the
 * stream claims.
 */
export function gunzipBounded(compressed: Uint8Array, maxBytes: number, file: string, why = 'maxInflatedBytes'): Uint8Array {
  try {
    // One output chunk of maxBytes + 1 (up to 1 GiB): zlib stops when it is
    // full (then the limit check refuses the stream), and an honest stream
    // comes back as that one chunk, without the copy that joining chunks costs.
    // Its untouched pages cost no memory.
    return gunzipSync(compressed, { maxOutputLength: maxBytes, chunkSize: Math.max(64, Math.min(maxBytes + 1, 2 ** 30)) });
  } catch (e) {
    if (codeOf(e) === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new Error(`${file}: gzip data inflates to more than ${maxBytes} bytes (${why}); refusing it`);
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
