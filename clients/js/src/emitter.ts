/** A listener of an event whose payload is `T`. */
export type Listener<T> = (payload: T) => void;

/**
 * A minimal typed event emitter (the DOM's EventTarget does not type payloads, Node's
 * EventEmitter is not in browsers). A listener that throws does not disturb the client or the
 * other listeners: the error is reported the way the platform reports uncaught errors.
 */
export class Emitter<Events> {
  #listeners: { [K in keyof Events]?: Set<Listener<Events[K]>> } = {};

  /** Adds a listener; returns the function that removes it again. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    (this.#listeners[event] ??= new Set()).add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners[event]?.delete(listener);
  }

  /** @internal */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const listener of [...(this.#listeners[event] ?? [])]) {
      try {
        listener(payload);
      } catch (error) {
        report(error);
      }
    }
  }
}

/** Shows an application error without letting it unwind into the client's own code. */
export function report(error: unknown): void {
  const g = globalThis as { reportError?: (e: unknown) => void };
  g.reportError ? g.reportError(error) : console.error(error);
}
