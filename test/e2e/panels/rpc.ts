// How the browser side (driver.ts) asks the extension-host side (suite.ts)
// to act: numbered request files in a shared folder, each answered by a
// response file. The suite serves them in order and skips answered ones, so
// after a page reload (a new extension host runs the suite again) it picks
// up where the last one stopped.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type SuiteRequest =
  | { kind: 'activate' }
  | { kind: 'command'; command: string; args?: unknown[] }
  /** `value` absent: back to the default */
  | { kind: 'setting'; key: string; value?: string | number | boolean }
  | { kind: 'open'; path: string }
  /** open a file with a custom editor (vscode.openWith takes a Uri, which JSON cannot carry) */
  | { kind: 'openWith'; path: string; viewType: string };

export interface SuiteResponse {
  ok: boolean;
  /** a command's result when it is a string, number or boolean, else null */
  result?: string | number | boolean | null;
  error?: string;
}

export const requestFile = (dir: string, n: number): string => join(dir, `${n}.request.json`);
export const responseFile = (dir: string, n: number): string => join(dir, `${n}.response.json`);

/** Writes `value` as JSON so that a reader never sees half of it. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(value));
  renameSync(`${path}.tmp`, path);
}

/** The browser side: numbers requests and waits for their answers. */
export class SuiteClient {
  private n = 0;

  constructor(private readonly dir: string) {}

  async ask(request: SuiteRequest, timeoutMs = 60_000): Promise<SuiteResponse['result']> {
    const n = ++this.n;
    writeJsonAtomic(requestFile(this.dir, n), request);
    const end = Date.now() + timeoutMs;
    while (!existsSync(responseFile(this.dir, n))) {
      if (Date.now() > end) throw new Error(`the extension host did not answer ${JSON.stringify(request)} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const res = JSON.parse(readFileSync(responseFile(this.dir, n), 'utf8')) as SuiteResponse;
    if (!res.ok) throw new Error(`${JSON.stringify(request)} failed in the extension host: ${res.error}`);
    return res.result;
  }
}
