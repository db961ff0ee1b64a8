import type { ConnectionState, DisconnectedEvent, RefusedEvent, WebSocketConstructor } from './connection.js';
import { Cursor, type CursorSink } from './cursor.js';
import { Emitter } from './emitter.js';
import { decrypting, Encryption, InOrder, type DecryptFailure, type EncryptionOptions } from './encryption.js';
import { PortcullisError } from './errors.js';
import type { ToHub, ToTabs } from './hub.js';
import { Outbox } from './outbox.js';
import { randomKey, type ClientFrame, type Member, type Position, type ServerFrame } from './protocol.js';
import { Subscription, type MessageCallback } from './subscription.js';
import { TabLink } from './tab-link.js';
import { resolveSharing, type TabSharing } from './tabs.js';

export interface ClientOptions {
  /** The gateway's WebSocket URL, `ws://` or `wss://`. */
  url: string;
  /** A fresh token for every connection attempt and every `reauth`; may be async. */
  getToken: () => string | Promise<string>;
  /** A WebSocket class (e.g. `ws` in Node 20). Default: the global `WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** Used by the refusal probe. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Connect right after construction (in a microtask, after your listeners are on). Default true. */
  autoConnect?: boolean;
  /** One socket for the tabs of this origin and user: see the README. Default: on in browsers that can, keyed by the token's `sub`. */
  sharedAcrossTabs?: boolean | string | TabSharing;
  /** Reconnect backoff: attempt n waits uniformly in [base, min(cap, base * 2^(n+1))]. Default 500. */
  backoffBaseMs?: number;
  /** Default 20 000. */
  backoffCapMs?: number;
  /** A connection that lived this long resets the backoff. Default 10 000. */
  backoffResetMs?: number;
  /** Send a `ping` after this long without any message from the gateway. Default 20 000. */
  pingAfterMs?: number;
  /** Reconnect when nothing arrives this long after a ping. Default 10 000. */
  pongTimeoutMs?: number;
  /** Give up an attempt not greeted (`connected`) within this. Default 15 000. */
  connectTimeoutMs?: number;
  /** Every request (publish, history, subscribe's `ready`) gives up this long after the call. Default 30 000. */
  requestTimeoutMs?: number;
  /** Publishes that may wait at once (offline or awaiting their ack); more reject with `queue_full`. Default 100. */
  maxQueue?: number;
  /** A new leader tab waits this long for the other tabs' positions before it connects. Default 250. */
  handoverMs?: number;
  /** End-to-end encrypted channels and the application's keys: see the README's "Encrypted channels". */
  encryption?: EncryptionOptions;
}

const DEFAULTS = {
  autoConnect: true,
  backoffBaseMs: 500,
  backoffCapMs: 20_000,
  backoffResetMs: 10_000,
  pingAfterMs: 20_000,
  pongTimeoutMs: 10_000,
  connectTimeoutMs: 15_000,
  requestTimeoutMs: 30_000,
  maxQueue: 100,
  handoverMs: 250,
};

type ToHubFrame = ClientFrame & { id: number };
type Resolved = Required<Omit<ClientOptions, 'fetch' | 'sharedAcrossTabs' | 'encryption'>> & ClientOptions;

/** A publication on a channel this client did not subscribe (automatic channels such as `user:<sub>`). */
export interface PublicationEvent {
  channel: string;
  data: any;
  offset: number;
  epoch?: string;
  recovered: boolean;
}

export interface ClientEvents {
  state: { state: ConnectionState };
  /** The gateway greeted a connection (from the tab that holds it, when shared). */
  connected: { user?: string; connection?: string; expiresAt?: number };
  refused: RefusedEvent;
  disconnected: DisconnectedEvent;
  publication: PublicationEvent;
  /** An automatic channel's history did not cover a reconnect. */
  gap: { channel: string; offset: number; epoch?: string };
  /** A publication of an encrypted automatic channel did not decrypt (subscriptions have their own event). */
  decrypt_failed: DecryptFailure;
  /** Someone else subscribed to a subscribed channel of `channels.join-leave`. */
  join: PresenceEvent;
  /** Someone else left a subscribed channel of `channels.join-leave` (unsubscribed, disconnected, their instance died). */
  leave: PresenceEvent;
}

/** A `join` or `leave`: not a publication (no offset, not recovered after a reconnect: ask {@link PortcullisClient.presence} again). */
export interface PresenceEvent {
  channel: string;
  user: string;
  connection: string;
}

/** The members of a channel that keeps presence (`channels.presence`), longest present first. */
export interface PresenceList {
  channel: string;
  members: Member[];
  /** False when the gateway cut the list (over its maximum, 1,000) or could only list some instances. */
  complete: boolean;
}

export interface PublishResult {
  offset: number;
  epoch: string;
  idempotencyKey: string;
}

export interface HistoryPage {
  channel: string;
  /** The channel's latest position. */
  offset: number;
  epoch: string;
  /** False when older publications than asked for are gone. */
  complete: boolean;
  publications: { offset: number; data: any }[];
  /** Encrypted channels only: the publications that did not decrypt (left out of `publications`). */
  failed?: DecryptFailure[];
}

/**
 * The Portcullis client. Subscriptions resume exactly once and in order across reconnects,
 * publishes wait in a bounded queue while offline and are retried safely with idempotency keys,
 * and (in browsers) the tabs of one origin share one WebSocket.
 *
 * Inside, a tab's client never touches the socket: it speaks to a hub (`Hub`, hub.ts: its own when it
 * leads, another tab's over a BroadcastChannel when it follows: see {@link TabLink}), and the hub
 * owns the connection. Without tab sharing the client simply always leads.
 */
export class PortcullisClient extends Emitter<ClientEvents> {
  readonly #o: Resolved;
  readonly #tab = randomKey();
  readonly #link: TabLink;
  readonly #outbox: Outbox;
  readonly #crypto?: Encryption;
  /** With encryption: publishes reach the outbox through this chain, in the order they were made. */
  #publishing: Promise<unknown> = Promise.resolve();
  /** Encrypted automatic channels: their `publication` events in order (one queue for all: there are few). */
  #autoOrder = new InOrder();
  #state: ConnectionState = 'closed';
  /** The link generation this tab is up in; undefined while down. */
  #gen?: string;
  #subs = new Map<string, Subscription>();
  #autos = new Map<string, Cursor>();
  #started = false;
  #ended = false;
  #lastDisconnect?: DisconnectedEvent;
  /** Connected at least once since `connect()`. */
  #wasUp = false;
  /** Counts `close()`s: what a closed run decrypted is not shown. */
  #run = 0;

  constructor(options: ClientOptions) {
    super();
    const o = { ...DEFAULTS } as Resolved;
    for (const [key, value] of Object.entries(options)) if (value !== undefined) (o as any)[key] = value;
    o.WebSocket ??= (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket!;
    if (!/^wss?:/i.test(o.url)) throw new TypeError('url must be ws:// or wss://');
    if (!o.WebSocket) throw new TypeError('no global WebSocket: pass options.WebSocket (e.g. the ws package)');
    this.#o = o;
    this.#link = new TabLink(o, resolveSharing(o.sharedAcrossTabs), this.#tab, (m) => this.#fromHub(m), () => this.#hi());
    if (o.encryption) this.#crypto = new Encryption(o.encryption, o.requestTimeoutMs);
    this.#outbox = new Outbox(
      ({ held, ...f }) => this.#link.send({ k: 'req', tab: this.#tab, gen: this.#gen!, f: f as ToHubFrame, held }),
      o.maxQueue,
      o.requestTimeoutMs,
    );
    if (o.autoConnect) queueMicrotask(() => this.#started || this.#ended || this.connect());
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Starts connecting (or following the tab that leads). Also after `close()`, for a fresh start. */
  connect(): void {
    if (this.#started) return;
    this.#started = true;
    this.#ended = false;
    this.#wasUp = false;
    this.#setState('connecting');
    this.#link.start();
  }

  /** Stops for good: the socket closes (another tab takes over when shared), every pending promise rejects with `closed`. */
  close(): void {
    this.#shutdown('closed by the application');
  }

  /**
   * Subscribes to `channel`; `onMessage` gets each publication once, in order, across reconnects.
   * Works for automatic channels (`user:<sub>`) too. `since` resumes from a saved position.
   */
  subscribe(channel: string, onMessage: MessageCallback, options: { since?: Position } = {}): Subscription {
    if (this.#subs.get(channel)?.active) throw new PortcullisError('already_subscribed', 'this client already subscribes ' + channel);
    const since = options.since ?? this.#autos.get(channel)?.position;
    this.#autos.delete(channel);
    const crypto = this.#crypto?.covers(channel) ? this.#crypto : undefined;
    const sub = new Subscription(channel, onMessage, since, (s) => this.#leave(s), this.#o.requestTimeoutMs, crypto);
    if (this.#ended) {
      sub._end(new PortcullisError('closed', 'the client is closed'));
    } else {
      this.#subs.set(channel, sub);
      if (this.#gen) this.#resubscribe(sub);
    }
    return sub;
  }

  /**
   * Publishes `data` (any JSON value). Gets an idempotency key now, so that however often it is
   * sent (after a reconnect, after `outcome_unknown`) it is published at most once. On an encrypted
   * channel the envelope is made first (the queue and the other tabs only ever hold ciphertext);
   * publishes still reach the queue in the order they were made.
   */
  async publish(channel: string, data: unknown): Promise<PublishResult> {
    const idempotencyKey = randomKey();
    const frame = { type: 'publish', channel, data, idempotencyKey } as const;
    const crypto = this.#crypto;
    let acked: Promise<ServerFrame>;
    if (crypto) {
      const sealed = crypto.covers(channel) ? crypto.seal(channel, data) : Promise.resolve(data);
      sealed.catch(() => {}); // (a failure is this publish's rejection, through `queued`: not unhandled meanwhile)
      const queued = this.#publishing.then(() => sealed).then((data) => void (acked = this.#request({ ...frame, data })));
      this.#publishing = queued.catch(() => {});
      await queued;
    } else {
      acked = this.#request(frame);
    }
    const ack = await acked!;
    return { offset: ack.offset!, epoch: ack.epoch!, idempotencyKey };
  }

  /** A page of the channel's kept history after `since` (default: from the start), at most `limit` (1-1000, default 100). */
  async history(channel: string, options: { since?: Position; limit?: number } = {}): Promise<HistoryPage> {
    const { since, limit } = options;
    const { offset, epoch, complete, publications = [] } = await this.#request({ type: 'history', channel, since, limit });
    const page: HistoryPage = { channel, offset: offset!, epoch: epoch!, complete: !!complete, publications };
    if (this.#crypto?.covers(channel)) {
      const opened = await Promise.all(publications.map((p) => this.#crypto!.open(channel, p.offset, p.data)));
      page.publications = [];
      page.failed = [];
      opened.forEach((o, i) => ('failure' in o ? page.failed!.push(o.failure) : page.publications.push({ offset: publications[i].offset, data: o.data })));
    }
    return page;
  }

  /** Who is in `channel` now, on every instance: needs read permission and a channel in `channels.presence`. */
  async presence(channel: string): Promise<PresenceList> {
    const { members, complete } = await this.#request({ type: 'presence', channel });
    return { channel, members: members ?? [], complete: !!complete };
  }

  #request(frame: Parameters<Outbox['request']>[0]): Promise<ServerFrame> {
    return this.#ended ? Promise.reject(new PortcullisError('closed', 'the client is closed')) : this.#outbox.request(frame);
  }

  // ------------------------------------------------------------------ what the hub says to this tab

  #hi(): ToHub {
    const subs = [...this.#subs].map(([name, sub]) => [name, sub._cursor.position] as [string, Position | undefined]);
    const auto = [...this.#autos].filter(([, c]) => c.position).map(([name, c]) => [name, c.position!] as [string, Position]);
    return { k: 'hi', tab: this.#tab, subs, auto };
  }

  #fromHub(m: ToTabs): void {
    if (!this.#started || (m.to && m.to !== this.#tab)) return;
    switch (m.k) {
      case 'lead': // a new leader (the old one is gone): announce what this tab needs
        this.#down();
        this.#link.send(this.#hi());
        break;
      case 'up':
        if (this.#gen === m.gen) break;
        if (this.#link.aloneIfForeign(m.f.user)) return; // the leader's connection is another user's: connect on its own
        this.#gen = m.gen;
        this.#setState('connected');
        this.#wasUp = true;
        // Only a cursor that has held since a lost link has everything broadcast since: a subscription
        // made before this tab ever saw a link (a new or reloaded tab) did not, and must be replayed.
        this.#outbox.up(() => this.#subs.forEach((sub) => this.#resubscribe(sub, sub._cursor.held)));
        const { user, connection, expiresAt } = m.f;
        this.emit('connected', { user, connection, expiresAt });
        break;
      case 'ev':
        if (m.name !== 'state') {
          if (m.name === 'disconnected') this.#lastDisconnect = m.p;
          // (a final one is emitted by the shutdown that follows it at once, with `closed`: see #shutdown)
          if (m.name !== 'disconnected' || m.p.willReconnect) this.emit(m.name as 'refused', m.p);
        } else if (m.p.state === 'closed') {
          const d = this.#lastDisconnect;
          this.#shutdown(d ? `connection ended for good: ${d.code} ${d.reason}` : 'connection ended for good', true);
        } else if (m.p.state !== 'connected') {
          // (`connected` comes with `up`, once this tab knows the link is for its user)
          this.#down();
          this.#setState(m.p.state);
        }
        break;
      case 'f':
        if (this.#gen) this.#frame(m.f, m.auto); // nothing before this tab's `up`: it may not be for this tab's user
    }
  }

  #frame(f: ServerFrame, auto?: boolean): void {
    const name = f.channel!;
    const sub = this.#subs.get(name);
    if (f.type === 'join' || f.type === 'leave') {
      if (sub) this.emit(f.type, { channel: name, user: f.user!, connection: f.connection! });
      return;
    }
    if (f.type === 'message' || f.type === 'gap') {
      if (sub) return sub._feed(f);
      if (!auto) return; // another tab's channel
      const cursor = this.#autos.get(name) ?? new Cursor(undefined, false);
      this.#autos.delete(name);
      this.#autos.set(name, cursor); // least recently active first: a new leader's `recover` keeps the latest
      const sink = this.#autoSink(name);
      f.type === 'gap' ? cursor.gapNotice(f.offset!, f.epoch, sink) : cursor.message(f as { offset: number }, sink);
    } else if (f.id != null) {
      this.#outbox.answer(f);
    } else if (f.type === 'ack') {
      const cursor = this.#autos.get(name); // an automatic channel recovered through `recover`
      cursor?.ack(f.offset, f.epoch, f.recovered, !!cursor.position, this.#autoSink(name));
    } else if (f.type === 'error' && sub) {
      this.#subs.delete(name); // read permission withdrawn by a re-auth
      sub._end(new PortcullisError(String(f.code), f.message));
    }
  }

  #autoSink(channel: string): CursorSink {
    const run = this.#run; // what a closed run decrypted is not shown
    const sink: CursorSink = {
      gap: (at) => run === this.#run && this.emit('gap', { channel, ...at }),
      deliver: ({ offset, epoch, data }, recovered) => run === this.#run && this.emit('publication', { channel, data, offset, epoch, recovered }),
    };
    const crypto = this.#crypto;
    return crypto?.covers(channel) ? decrypting(crypto, channel, this.#autoOrder, sink, (f) => run === this.#run && this.emit('decrypt_failed', f)) : sink;
  }

  /** Sends a subscribe for `sub`; `held`: its cursor has been holding since before this link came up. */
  #resubscribe(sub: Subscription, held = false): void {
    const since = sub._cursor.position; // (ahead of `sub.position` by what is being decrypted: that is delivered anyway)
    sub._cursor.awaitAck();
    this.#outbox.add(
      { type: 'subscribe', channel: sub.channel, since, held },
      false,
      (ack) => this.#subs.get(sub.channel) === sub && sub._acked(ack, !!since),
      (error) => {
        if (this.#subs.get(sub.channel) !== sub || error.code === 'closed') return;
        this.#subs.delete(sub.channel); // refused: not retried
        sub._end(error);
      },
    );
  }

  #leave(sub: Subscription): void {
    if (this.#subs.get(sub.channel) !== sub) return;
    this.#subs.delete(sub.channel);
    this.#link.send({ k: 'leave', tab: this.#tab, channel: sub.channel });
  }

  /** The link is gone: requests wait for the next, subscriptions hold until their resubscribe's ack. */
  #down(): void {
    if (!this.#gen) return;
    this.#gen = undefined;
    this.#outbox.down();
    this.#subs.forEach((sub) => sub._cursor.lost());
  }

  /**
   * Ends this run. Everything of it is stopped first (the tab link too) and the events come last, so
   * that a listener may call `connect()` again: the new run starts from a clean slate and nothing of
   * this one undoes it afterwards. `terminal`: the connection ended for good, and its final
   * `disconnected`, held back until now, comes first.
   */
  #shutdown(reason: string, terminal = false): void {
    const error = new PortcullisError('closed', reason);
    const subs = [...this.#subs.values()];
    const last = this.#lastDisconnect;
    this.#lastDisconnect = undefined; // (of this run: never emitted again by a later one)
    this.#started = false;
    this.#ended = true;
    this.#run++;
    this.#gen = undefined;
    this.#subs.clear();
    this.#autos.clear();
    this.#link.stop(terminal);
    this.#outbox.failAll(error);
    this.#outbox.down(); // what a later connect() queues waits for its link
    if (terminal && last && !last.willReconnect) this.emit('disconnected', last);
    if (!this.#started) this.#setState('closed'); // (not after a `disconnected` listener connected again)
    subs.forEach((sub) => sub._end(error));
  }

  #setState(state: ConnectionState): void {
    // A new leader tab's first attempt is, for a tab that was connected, a reconnect.
    if (state === 'connecting' && this.#wasUp) state = 'reconnecting';
    if (this.#state !== state) {
      this.#state = state;
      this.emit('state', { state });
    }
  }
}
