/**
 * Tab sharing: the tabs of one origin elect a leader with a lock, only the leader holds the
 * WebSocket, and the others talk to it over a broadcast channel (see hub.ts for the protocol).
 * Both are small interfaces so that the hand-over can be tested in Node with an in-memory lock.
 */

/** The shape of `navigator.locks` this client needs (the Web Locks API). */
export interface TabLock {
  /**
   * Calls `held` once this tab holds the lock `name`, and keeps it until the promise `held`
   * returned settles, or the tab goes away. Aborting `signal` gives up waiting (the returned
   * promise then rejects).
   */
  request(name: string, options: { signal: AbortSignal }, held: () => Promise<unknown>): Promise<unknown>;
}

/** The shape of a `BroadcastChannel` this client needs: every other tab's channel of the same name receives. */
export interface TabBus {
  postMessage(message: unknown): void;
  onmessage: ((event: any) => void) | null;
  close(): void;
}

/** `sharedAcrossTabs` as an object: the key, and (for tests or other runtimes) the lock and channel to use. */
export interface TabSharing {
  /**
   * Tabs with the same key share one socket, and so one user: with a key of your own, tabs of
   * different users must use different keys. Default: the url and the subject (`sub`) of the token
   * `getToken()` returns; a token that is not a JWT with a string `sub` shares with no tab.
   */
  key?: string;
  locks?: TabLock;
  channel?: (name: string) => TabBus;
}

export interface ResolvedSharing {
  /** The key the application gave; none: the client keys by the token's subject. */
  key?: string;
  locks: TabLock;
  channel: (name: string) => TabBus;
}

/**
 * What `sharedAcrossTabs` means here. Unset: on in browser pages that have Web Locks and
 * BroadcastChannel (not in Node, where one process is not several tabs). `false`: off. `true` or a
 * key: on where the APIs exist. An object: on, with what it brings.
 */
export function resolveSharing(option: boolean | string | TabSharing | undefined): ResolvedSharing | undefined {
  const g = globalThis as { navigator?: { locks?: TabLock }; document?: unknown };
  const given = typeof option === 'object' ? option : {};
  const locks = given.locks ?? g.navigator?.locks;
  const channel = given.channel ?? (typeof BroadcastChannel === 'function' ? (name: string) => new BroadcastChannel(name) : undefined);
  if (option === false || (option === undefined && typeof g.document !== 'object') || !locks || !channel) return undefined;
  return { key: typeof option === 'string' ? option : given.key, locks, channel };
}

/** The `sub` of a JWT (read, not verified: it is the application's own token), or undefined. */
export function subject(token: string): string | undefined {
  try {
    const payload = atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'));
    const { sub } = JSON.parse(new TextDecoder().decode(Uint8Array.from(payload, (c) => c.charCodeAt(0))));
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}
