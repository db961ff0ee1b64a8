import type { Backoff } from './backoff.js';
import { reconnectAfterClose, reconnectAfterRefusal } from './close-policy.js';
import { probe, type Refusal } from './probe.js';
import type { ClientFrame, Position, ServerFrame } from './protocol.js';

/** `connecting` (first attempt) -> `connected` -> `reconnecting` (lost, waiting or trying) -> ... -> `closed`. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** A handshake the gateway refused (see {@link probe}). */
export type RefusedEvent = Refusal;

/** A connection (or an attempt) ended. */
export interface DisconnectedEvent {
  /** The WebSocket close code (1006 for a failed attempt or a dead connection). */
  code: number;
  reason: string;
  willReconnect: boolean;
  /** When it will: the wait before the next attempt. */
  delayMs?: number;
}

/** Any WebSocket class with the WHATWG constructor: browsers', Node 22's, the `ws` package's. */
export type WebSocketConstructor = new (url: string, protocols: string[]) => object;

/** The part of a WebSocket this client uses. */
interface Socket {
  send(data: string): void;
  close(code?: number): void;
  onopen: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: (() => void) | null;
}

export interface ConnectionOptions {
  url: string;
  getToken: () => string | Promise<string>;
  WebSocket: WebSocketConstructor;
  fetch?: typeof fetch;
  backoff: Backoff;
  backoffResetMs: number;
  pingAfterMs: number;
  pongTimeoutMs: number;
  connectTimeoutMs: number;
}

/** What a {@link Connection} reports; the hub implements it. */
export interface ConnectionHandlers {
  /** The gateway greeted (`connected`): requests may go. */
  up(connected: ServerFrame): void;
  /** The greeted connection is gone. */
  down(): void;
  /** Every other server message (message, gap, ack, error, history). */
  frame(frame: ServerFrame): void;
  event(name: 'state', payload: { state: ConnectionState }): void;
  event(name: 'refused', payload: RefusedEvent): void;
  event(name: 'disconnected', payload: DisconnectedEvent): void;
  /** Positions of automatic channels, for the `recover` query parameter of the next attempt. */
  recover(): Record<string, Position>;
}

const g = globalThis as { navigator?: { onLine?: boolean }; addEventListener?: (type: string, fn: () => void) => void; removeEventListener?: (type: string, fn: () => void) => void };

/**
 * One WebSocket at a time to the gateway, and the rules for getting a new one: a fresh token per
 * attempt (in the subprotocol list, never in the URL), backoff with full jitter, the close-code
 * table, the refusal probe, application-level pings (browsers hide WebSocket pings), re-auth, and
 * no attempts while the browser says it is offline.
 *
 * Late callbacks of an abandoned socket or attempt are recognised by identity (`#socket`) or number
 * (`#attempt`) and ignored, so nothing of an old connection leaks into a new one.
 */
export class Connection {
  state: ConnectionState = 'closed';
  #socket?: Socket;
  #greeted = false;
  #greetedAt = 0;
  #attempt = 0;
  #ids = 0;
  #retry?: ReturnType<typeof setTimeout>;
  /** Connect timeout, then the liveness check. */
  #watchdog?: ReturnType<typeof setTimeout>;
  #heardAt = 0;
  #pingAt = 0;
  /** The `disconnect` message's `retryAfterMs`: the gateway drains in waves and says when to return. */
  #hint?: number;
  /** A 401 gets one immediate retry with a fresh token before the normal backoff. */
  #retried401 = false;
  #online = () => {
    if (this.state !== 'closed' && !this.#socket) this.#open();
  };
  /**
   * The browser lost its network: the socket is as good as dead, though it may take the OS minutes to
   * say so. Drop it now and wait for `online` (no attempts meanwhile), then resume from the cursors.
   */
  #offline = () => {
    const socket = this.#socket;
    if (!socket) return;
    this.#socket = undefined;
    close(socket);
    this.#ended(1006, 'offline');
  };

  constructor(
    private readonly o: ConnectionOptions,
    private readonly h: ConnectionHandlers,
  ) {}

  start(): void {
    if (this.state !== 'closed') return;
    g.addEventListener?.('online', this.#online);
    g.addEventListener?.('offline', this.#offline);
    this.#set('connecting');
    this.#open();
  }

  /** Stops for good, quietly: whoever stops it knows. */
  stop(): void {
    this.#halt();
    this.state = 'closed';
  }

  /** A fresh request id; the hub numbers its requests from the same counter. */
  nextId(): number {
    return ++this.#ids;
  }

  /** Sends a frame if the gateway greeted the current socket; false if there is none. */
  send(frame: ClientFrame): boolean {
    if (!this.#greeted) return false;
    try {
      this.#socket!.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  async #open(): Promise<void> {
    const attempt = ++this.#attempt;
    clearTimeout(this.#retry);
    if (g.navigator?.onLine === false) return; // the `online` event brings us back
    this.#watch(this.o.connectTimeoutMs); // the connect timeout covers getToken too: it may never settle
    let token: string;
    try {
      token = await this.o.getToken();
      if (!token) throw new Error('no token');
    } catch (error) {
      if (attempt === this.#attempt) this.#ended(1006, 'getToken failed: ' + error);
      return;
    }
    if (attempt !== this.#attempt) return;
    const url = this.#url();
    let socket: Socket;
    try {
      socket = new this.o.WebSocket(url, ['portcullis.v1', 'portcullis.bearer.' + token]) as Socket;
    } catch (error) {
      return this.#ended(1006, 'cannot open a WebSocket: ' + error, undefined, true);
    }
    let opened = false;
    this.#socket = socket;
    socket.onerror = () => {}; // a close event follows
    socket.onopen = () => {
      opened = true;
      this.#heard();
    };
    socket.onmessage = (event) => {
      if (this.#socket === socket) this.#receive(event.data);
    };
    socket.onclose = async ({ code, reason }) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      if (opened) return this.#ended(code, reason);
      // Refused before `open`: the browser hides why, so ask (see probe.ts), within a timeout of its own.
      this.#watch(this.o.connectTimeoutMs);
      const refusal = await probe(url, token, this.o.fetch);
      if (attempt === this.#attempt) this.#ended(code, reason || 'connection failed', refusal);
    };
  }

  #url(): string {
    const recover = this.h.recover();
    if (!Object.keys(recover).length) return this.o.url;
    const url = new URL(this.o.url);
    url.searchParams.set('recover', JSON.stringify(recover));
    return url.href;
  }

  #receive(data: unknown): void {
    this.#heard();
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(data));
    } catch {
      return;
    }
    switch (frame?.type) {
      case 'connected':
        this.#greeted = true;
        this.#greetedAt = Date.now();
        this.#retried401 = false;
        this.#hint = undefined;
        this.#watch(this.o.pingAfterMs);
        this.#set('connected');
        this.h.up(frame);
        break;
      case 'pong':
        break;
      case 'disconnect':
        this.#hint = frame.retryAfterMs;
        break;
      case 'reauth':
        this.#reauth(frame.deadlineMs ?? Date.now() + 10_000);
        break;
      default:
        this.h.frame(frame);
    }
  }

  /** Answers `reauth` with a fresh token before the deadline; a failing getToken is retried a few times. */
  async #reauth(deadline: number): Promise<void> {
    const socket = this.#socket;
    for (let tries = 1; ; tries++) {
      try {
        const token = await this.o.getToken();
        if (this.#socket === socket) this.send({ type: 'auth', id: this.nextId(), token });
        return;
      } catch {
        const wait = Math.min(1000, (deadline - Date.now()) / 4);
        if (tries > 3 || wait < 10) return; // the gateway closes with 4001; the reconnect gets a token again
        await new Promise((resolve) => setTimeout(resolve, wait));
        if (this.#socket !== socket) return;
      }
    }
  }

  #heard(): void {
    this.#heardAt = Date.now();
    this.#pingAt = 0;
  }

  #watch(ms: number): void {
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(() => this.#check(), ms);
  }

  /**
   * Connect timeout (for getToken, the handshake, or the probe); then: quiet for `pingAfterMs` ->
   * ping; nothing at all for `pongTimeoutMs` after it -> dead.
   */
  #check(): void {
    const socket = this.#socket;
    const quiet = Date.now() - this.#heardAt;
    if (!this.#greeted || this.#pingAt) {
      this.#attempt++; // whatever this attempt still awaits (a token, a probe) is ignored when it comes
      this.#socket = undefined;
      close(socket);
      this.#ended(1006, this.#greeted ? 'no pong in time' : 'connect timeout');
    } else if (quiet < this.o.pingAfterMs) {
      this.#watch(this.o.pingAfterMs - quiet);
    } else {
      this.#pingAt = Date.now();
      this.send({ type: 'ping', id: this.nextId() });
      this.#watch(this.o.pongTimeoutMs);
    }
  }

  /** The current socket or attempt ended: the close-code table (or the refusal) decides what next. */
  #ended(code: number, reason: string, refusal?: Refusal, final = false): void {
    clearTimeout(this.#watchdog);
    const wasUp = this.#greeted;
    this.#greeted = false;
    if (wasUp) {
      if (Date.now() - this.#greetedAt >= this.o.backoffResetMs) this.o.backoff.reset();
      this.h.down();
    }
    if (refusal) this.h.event('refused', refusal);
    const again = !final && (refusal ? reconnectAfterRefusal(refusal.status) : reconnectAfterClose(code));
    if (!again) {
      this.#halt();
      this.h.event('disconnected', { code, reason, willReconnect: false });
      this.#set('closed');
      return;
    }
    const { backoff } = this.o;
    let delayMs: number;
    if (refusal?.status === 401 && !this.#retried401) {
      this.#retried401 = true;
      delayMs = 0; // the token was refused: try once more at once, with a fresh one
    } else {
      delayMs = this.#hint! >= 0 ? this.#hint! + backoff.jitter() : backoff.next();
      if (refusal?.retryAfterMs != null) delayMs = Math.max(delayMs, refusal.retryAfterMs + backoff.jitter());
    }
    this.#hint = undefined;
    this.h.event('disconnected', { code, reason, willReconnect: true, delayMs });
    this.#set('reconnecting');
    this.#retry = setTimeout(() => this.#open(), delayMs);
  }

  #halt(): void {
    this.#attempt++;
    this.#greeted = false;
    clearTimeout(this.#retry);
    clearTimeout(this.#watchdog);
    g.removeEventListener?.('online', this.#online);
    g.removeEventListener?.('offline', this.#offline);
    close(this.#socket);
    this.#socket = undefined;
  }

  #set(state: ConnectionState): void {
    if (this.state !== state) {
      this.state = state;
      this.h.event('state', { state });
    }
  }
}

/** Closes a socket we no longer listen to. */
function close(socket?: Socket): void {
  if (!socket) return;
  socket.onopen = socket.onmessage = socket.onclose = null;
  try {
    socket.close(1000);
  } catch {
    // already closing
  }
}
