import { Cursor, type CursorSink } from './cursor.js';
import { Emitter, report } from './emitter.js';
import { decrypting, InOrder, type DecryptFailure, type Encryption } from './encryption.js';
import { PortcullisError } from './errors.js';
import type { Position, ServerFrame } from './protocol.js';

/** What comes with each publication. */
export interface PublicationMeta {
  channel: string;
  offset: number;
  epoch?: string;
  /** Replayed from history after a resume (offset <= the resubscribe ack's offset), not live. */
  recovered: boolean;
}

export type MessageCallback = (data: any, meta: PublicationMeta) => void;

/** What `ready` resolves with: the position the subscription starts from. */
export interface Subscribed {
  offset: number;
  epoch?: string;
  /** True when a resume (`since`) was answered with everything missed; false on a fresh start or a gap. */
  recovered: boolean;
}

export interface SubscriptionEvents {
  /** Publications up to this position may be lost (history did not cover a reconnect): reload the channel's state. */
  gap: { offset: number; epoch?: string };
  /** The subscription ended: refused, permission withdrawn by a re-auth, or the client closed. */
  error: PortcullisError;
  /** A publication of an encrypted channel did not decrypt: it is skipped (its offset counts as seen) and the subscription goes on. */
  decrypt_failed: DecryptFailure;
}

/**
 * One channel subscription. It lives until {@link unsubscribe}, a refusal, or the client's end;
 * across reconnects (and tab hand-overs) it resumes from the last publication it delivered.
 */
export class Subscription extends Emitter<SubscriptionEvents> {
  /** Resolves with the gateway's first ack; rejects (`forbidden`, `bad_channel`, `too_many_subscriptions`, `timeout`, `closed`, `unsubscribed`). */
  readonly ready: Promise<Subscribed>;
  /** @internal */
  readonly _cursor: Cursor;
  #settle?: [(s: Subscribed) => void, (e: PortcullisError) => void];
  #active = true;
  #timer: ReturnType<typeof setTimeout>;
  /** Encrypted channels only: deliveries in order, each after its decryption. */
  readonly #order?: InOrder;
  /** While `#order` has steps pending: the position of the last one run (what the application has seen). */
  #shown?: Position;
  readonly #sink: CursorSink;

  /** @internal */
  constructor(
    readonly channel: string,
    private readonly onMessage: MessageCallback,
    since: Position | undefined,
    private readonly leave: (sub: Subscription) => void,
    timeoutMs: number,
    /** Set when the channel is encrypted. */
    encryption?: Encryption,
  ) {
    super();
    const sink: CursorSink = {
      gap: (at) => this.#show(at) && this.emit('gap', at),
      deliver: ({ offset, epoch, data }, recovered) => {
        if (!this.#show({ offset, epoch })) return;
        try {
          this.onMessage(data, { channel, offset, epoch, recovered });
        } catch (error) {
          report(error);
        }
      },
    };
    this.#sink = encryption
      ? decrypting(encryption, channel, (this.#order = new InOrder()), sink, (failure, p) => this.#show(p) && this.emit('decrypt_failed', failure))
      : sink;
    this._cursor = new Cursor(since);
    this.ready = new Promise((resolve, reject) => (this.#settle = [resolve, reject]));
    this.ready.catch(() => {}); // not awaiting `ready` is fine: no unhandled rejection
    this.#timer = setTimeout(() => this.#reject(new PortcullisError('timeout', 'not subscribed in time; still trying')), timeoutMs);
  }

  /**
   * The last position delivered: save it to resume later with `subscribe(channel, cb, { since })`.
   * On an encrypted channel publications still being decrypted are not counted yet.
   */
  get position(): Position | undefined {
    return this.#order?.pending ? this.#shown : this._cursor.position;
  }

  get active(): boolean {
    return this.#active;
  }

  /** Ends the subscription: no callback after this returns; the gateway is told `unsubscribe`. */
  unsubscribe(): void {
    if (!this.#active) return;
    this.#active = false;
    this.#reject(new PortcullisError('unsubscribed'));
    this.leave(this);
  }

  /** @internal The gateway acked a (re)subscribe. */
  _acked(ack: ServerFrame, sinceSent: boolean): void {
    this.#mark();
    const recovered = this._cursor.ack(ack.offset, ack.epoch, ack.recovered, sinceSent, this.#sink);
    clearTimeout(this.#timer);
    this.#settle?.[0]({ offset: this._cursor.offset, epoch: this._cursor.epoch, recovered });
    this.#settle = undefined;
  }

  /** @internal A `message` or `gap` of this channel. */
  _feed(f: ServerFrame): void {
    this.#mark();
    if (f.type === 'gap') this._cursor.gapNotice(f.offset!, f.epoch, this.#sink);
    else this._cursor.message(f as { offset: number }, this.#sink);
  }

  /** @internal The subscription is over (refused, forbidden, closed). */
  _end(error: PortcullisError): void {
    if (!this.#active) return;
    this.#active = false;
    this.#reject(error);
    this.emit('error', error);
  }

  /** Before the cursor moves: with nothing pending, what the application has seen is where the cursor stands. */
  #mark(): void {
    if (!this.#order?.pending) this.#shown = this._cursor.position;
  }

  /** Notes what the application is shown now; false once the subscription ended (then nothing is). */
  #show({ offset, epoch }: { offset: number; epoch?: string }): boolean {
    if (epoch) this.#shown = { offset, epoch };
    return this.#active;
  }

  #reject(error: PortcullisError): void {
    clearTimeout(this.#timer);
    this.#settle?.[1](error);
    this.#settle = undefined;
  }
}
