// The webview side of src/shared/webview-protocol.ts: typed post, typed
// handlers, requests by id, state through getState/setState, and `ready`
// once the handlers are in place. Also shows status/error lines.
import type { MessageOf, PanelProtocol, RequestMap, WebviewInbound } from '../../src/shared/webview-protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

type Proto = PanelProtocol<object, object, RequestMap>;
type Handlers<P extends Proto> = { [K in keyof P['toWebview']]?: (payload: P['toWebview'][K]) => void };

export class Channel<P extends Proto, S extends object> {
  private readonly api = acquireVsCodeApi();
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly handlers: Handlers<P>) {
    window.addEventListener('message', (ev: MessageEvent<unknown>) => this.receive(ev.data));
  }

  private heard = false;

  /**
   * Says `ready`: the host starts posting. Call after the page is set up.
   * Repeated until the host's first message arrives, so a `ready` sent
   * before the host listened is not lost (the host treats a repeat as a reload).
   */
  start(): void {
    let tries = 0;
    const say = () => {
      if (this.heard || tries++ >= 20) return;
      this.post('ready', {} as P['toHost']['ready' & keyof P['toHost']]);
      setTimeout(say, 1500);
    };
    say();
  }

  post<K extends keyof P['toHost']>(type: K, payload: P['toHost'][K]): void {
    this.api.postMessage({ type, payload } as MessageOf<P['toHost']>);
  }

  request<K extends keyof P['requests']>(method: K, params: P['requests'][K]['params']): Promise<P['requests'][K]['result']> {
    const id = ++this.seq;
    this.api.postMessage({ type: 'request', id, method, params });
    return new Promise((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  }

  get state(): Partial<S> {
    const s = this.api.getState();
    return typeof s === 'object' && s !== null ? (s as Partial<S>) : {};
  }

  setState(patch: Partial<S>): void {
    this.api.setState({ ...this.state, ...patch });
  }

  reportError(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    showStatus({ kind: 'error', message });
    this.post('error', { message } as P['toHost']['error' & keyof P['toHost']]);
  }

  private receive(raw: unknown): void {
    if (typeof raw !== 'object' || raw === null) return;
    this.heard = true;
    const m = raw as WebviewInbound<P>;
    if (m.type === 'response') {
      const r = m as { id: number; ok: boolean; result?: unknown; error?: string };
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.ok) p.resolve(r.result);
      else p.reject(new Error(r.error ?? 'request failed'));
      return;
    }
    const { type, payload } = m as { type: string; payload: unknown };
    if (type === 'status') {
      showStatus(payload as { kind: 'progress' | 'error' | 'info'; message: string } | null);
      return;
    }
    const h = (this.handlers as Record<string, ((p: unknown) => void) | undefined>)[type];
    try {
      h?.(payload);
    } catch (e) {
      this.reportError(e);
    }
  }
}

/** One status line at the top of the page (role=status, or alert for errors); null hides it. */
export function showStatus(s: { kind: 'progress' | 'error' | 'info'; message: string } | null): void {
  let el = document.getElementById('status');
  if (!el) {
    el = document.createElement('div');
    el.id = 'status';
    document.body.prepend(el);
  }
  el.hidden = s === null;
  if (!s) return;
  el.className = `status ${s.kind}`;
  el.setAttribute('role', s.kind === 'error' ? 'alert' : 'status');
  el.textContent = s.message;
}

/** Element helper: h('button', { class: 'x', onclick }, 'text'). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | ((ev: Event) => void)> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (typeof v === 'boolean') {
      if (v) el.setAttribute(k, '');
    } else el.setAttribute(k, String(v));
  }
  el.append(...children);
  return el;
}
