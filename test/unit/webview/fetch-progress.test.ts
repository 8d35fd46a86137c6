import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchWithProgress, formatBytes, progressText, type LoadProgress } from '../../../webview/common/fetch-progress';

function streamed(chunks: number[], headers: Record<string, string> = {}, status = 200): typeof fetch {
  return (async () => {
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (i < chunks.length) c.enqueue(new Uint8Array(chunks[i]!).fill(i++ + 1));
        else c.close();
      },
    });
    return new Response(body, { status, headers });
  }) as typeof fetch;
}

test('progress per chunk, with the total from Content-Length; bytes joined in order', async () => {
  const seen: LoadProgress[] = [];
  const buf = await fetchWithProgress('u', 'image.nii.gz', (p) => seen.push(p), streamed([3, 2, 4], { 'content-length': '9' }));
  assert.deepEqual([...new Uint8Array(buf)], [1, 1, 1, 2, 2, 3, 3, 3, 3]);
  assert.deepEqual(seen.map((p) => p.loaded), [3, 5, 9]);
  assert.ok(seen.every((p) => p.total === 9 && p.name === 'image.nii.gz'));
  assert.equal(progressText(seen[1]!), 'Loading image.nii.gz: 55% of 9 B');
});

test('without Content-Length progress is in bytes', async () => {
  const seen: LoadProgress[] = [];
  await fetchWithProgress('u', 'm.nii', (p) => seen.push(p), streamed([2048]));
  assert.equal(seen[0]!.total, undefined);
  assert.equal(progressText(seen[0]!), 'Loading m.nii: 2.0 KB');
});

test('failures name the file: missing, server error, network error, empty', async () => {
  await assert.rejects(fetchWithProgress('u', 'mask.nii.gz', () => undefined, streamed([], {}, 404)), /mask\.nii\.gz: could not be read \(file not found\)/);
  await assert.rejects(fetchWithProgress('u', 'mask.nii.gz', () => undefined, streamed([], {}, 500)), /mask\.nii\.gz: could not be read \(HTTP 500\)/);
  const broken = (async () => {
    throw new TypeError('Failed to fetch');
  }) as typeof fetch;
  await assert.rejects(fetchWithProgress('u', 'a.nii', () => undefined, broken), /a\.nii: could not be read \(Failed to fetch\)/);
  await assert.rejects(fetchWithProgress('u', 'a.nii', () => undefined, streamed([])), /a\.nii: the file is empty/);
});

test('formatBytes', () => {
  assert.deepEqual([0, 1023, 1024, 1536, 1048576, 27.1 * 1048576].map(formatBytes), ['0 B', '1023 B', '1.0 KB', '1.5 KB', '1.0 MB', '27.1 MB']);
});
