// Typed messaging with one webview: posts wait until the webview says
// `ready` (and are queued until then; a reload resets it), messages are
// dispatched by name to handlers, requests are answered by id with a result
// or an error. No `any`: payloads are checked against the panel's maps.
import type * as vscode from 'vscode';
import type { HostInbound, MessageOf, PanelProtocol, RequestMap } from '../../shared/webview-protocol';

type Proto = PanelProtocol<object, object, RequestMap>;
type Handlers<P extends Proto> = { [K in keyof P['toHost']]?: (payload: P['toHost'][K]) => void };
type RequestHandlers<P extends Proto> = { [K in keyof P['requests']]: (params: P['requests'][K]['params']) => Promise<P['requests'][K]['result']> };

export class Messenger<P extends Proto> implements vscode.Disposable {
  private ready = false;
  private queue: MessageOf<P['toWebview']>[] = [];
  private readonly subscription: vscode.Disposable;
  private readyListeners: (() => void)[] = [];

  constructor(
    private readonly webview: vscode.Webview,
    private readonly handlers: Handlers<P>,
    private readonly requests: RequestHandlers<P>,
    private readonly onError: (message: string) => void,
  ) {
    this.subscription = webview.onDidReceiveMessage((m: unknown) => void this.receive(m));
  }

  /** Posts now if the webview is ready, else when it is. */
  post<K extends keyof P['toWebview']>(type: K, payload: P['toWebview'][K]): void {
    const message = { type, payload } as MessageOf<P['toWebview']>;
    if (this.ready) void this.webview.postMessage(message);
    else this.queue.push(message);
  }

  /** Runs `f` on every `ready` (the first load and each reload of the page). */
  onReady(f: () => void): void {
    this.readyListeners.push(f);
    if (this.ready) f();
  }

  /** The page is being replaced (new html): wait for its `ready` again. */
  reset(): void {
    this.ready = false;
  }

  private async receive(raw: unknown): Promise<void> {
    if (typeof raw !== 'object' || raw === null || typeof (raw as { type?: unknown }).type !== 'string') return;
    const m = raw as HostInbound<P>;
    if (m.type === 'request') {
      const req = m as { id: number; method: keyof P['requests']; params: unknown };
      const handler = this.requests[req.method] as ((p: unknown) => Promise<unknown>) | undefined;
      try {
        if (!handler) throw new Error(`unknown request ${String(req.method)}`);
        const result = await handler(req.params);
        void this.webview.postMessage({ type: 'response', id: req.id, method: req.method, ok: true, result });
      } catch (e) {
        void this.webview.postMessage({ type: 'response', id: req.id, method: req.method, ok: false, error: e instanceof Error ? e.message : String(e) });
      }
      return;
    }
    const { type, payload } = m as { type: string; payload: unknown };
    if (type === 'ready') {
      this.ready = true;
      for (const q of this.queue.splice(0)) void this.webview.postMessage(q);
      for (const f of this.readyListeners) f();
      return;
    }
    if (type === 'error') {
      this.onError((payload as { message?: unknown })?.message?.toString() ?? 'unknown error');
      return;
    }
    const handler = (this.handlers as Record<string, ((p: unknown) => void) | undefined>)[type];
    try {
      handler?.(payload);
    } catch (e) {
      this.onError(e instanceof Error ? e.message : String(e));
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.queue = [];
    this.readyListeners = [];
  }
}
