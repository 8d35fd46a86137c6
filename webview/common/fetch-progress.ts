// Fetches a volume from its webview URL with byte progress (the page shows
// "Loading image.nii.gz 42% of 27.1 MB"), and turns failures into messages
// that name the file. No DOM: runs under node's fetch in the unit tests.

export interface LoadProgress {
  name: string;
  loaded: number;
  /** from Content-Length; undefined when the server does not say */
  total?: number;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

export function progressText(p: LoadProgress): string {
  if (p.total && p.total > 0) return `Loading ${p.name}: ${Math.min(100, Math.floor((100 * p.loaded) / p.total))}% of ${formatBytes(p.total)}`;
  return `Loading ${p.name}: ${formatBytes(p.loaded)}`;
}

/** The whole body of `url` as one ArrayBuffer, reporting progress as chunks arrive. */
export async function fetchWithProgress(url: string, name: string, onProgress: (p: LoadProgress) => void, fetchImpl: typeof fetch = fetch): Promise<ArrayBuffer> {
  let res: Response;
  try {
    res = await fetchImpl(url);
  } catch (e) {
    throw new Error(`${name}: could not be read (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!res.ok) throw new Error(`${name}: could not be read (${res.status === 404 ? 'file not found' : `HTTP ${res.status}`})`);
  const header = Number(res.headers.get('content-length'));
  const total = Number.isFinite(header) && header > 0 ? header : undefined;
  if (!res.body) {
    const buf = await res.arrayBuffer();
    onProgress({ name, loaded: buf.byteLength, total: buf.byteLength });
    return buf;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress({ name, loaded, ...(total !== undefined ? { total } : {}) });
  }
  if (loaded === 0) throw new Error(`${name}: the file is empty`);
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out.buffer;
}
