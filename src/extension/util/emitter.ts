// A minimal typed event emitter for the vscode-free parts of the extension
// (the run manager is unit-tested under plain node, where vscode.EventEmitter
// does not exist). Listeners return a disposer; a throwing listener does not
// stop the others.

export interface Disposer {
  dispose(): void;
}

export class Emitter<T> {
  private listeners = new Set<(value: T) => void>();

  readonly event = (listener: (value: T) => void): Disposer => {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(value);
      } catch (e) {
        // a broken listener must not break the run manager
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
