import { PortcullisError } from './errors.js';
import type { ClientFrame, ServerFrame } from './protocol.js';

/** A publish answered `outcome_unknown` is sent again (same key) this often, this far apart. */
export const UNKNOWN_OUTCOME_RETRIES = 3;
export const UNKNOWN_OUTCOME_RETRY_MS = 500;

/** One request awaiting its answer. */
interface Entry {
  frame: ClientFrame & { id: number };
  /** The gateway's answer (`ack` or `history`). */
  done(answer: ServerFrame): void;
  fail(error: PortcullisError): void;
  /** Re-sent after a reconnect (publish, history) rather than re-issued by its owner (subscribe). */
  keep: boolean;
  /** Sent on the current link (and not answered). */
  sent?: boolean;
  /** Ever sent: a publish that was may have been published, whatever happens next. */
  everSent?: boolean;
  unknownOutcomes: number;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * The request layer: ids, answers, timeouts, and the bounded queue of publishes that wait for a
 * connection. Every request gets an integer id; the answer with that id settles it. Publishes and
 * history requests survive a lost connection and go out again on the next one, publishes with the
 * same idempotency key, so the gateway publishes each at most once. Subscribes do not: the client
 * re-issues them from its subscription list with fresh positions.
 */
export class Outbox {
  #pending = new Map<number, Entry>();
  #nextId = 0;
  #publishes = 0;
  #up = false;

  constructor(
    /** Hands a frame to the link; only called while it is up. */
    private readonly send: (frame: ClientFrame) => void,
    /** Publishes that may wait at once (queued or awaiting their ack). */
    private readonly maxQueue: number,
    /** Time from the call until a request gives up. */
    private readonly timeoutMs: number,
  ) {}

  /**
   * Sends `frame` (now if the link is up, else when it comes up) and resolves with the answer.
   * Publishes over the bound are rejected at once with `queue_full`: never dropped silently. A
   * request that is not answered within the timeout (counted from this call) is rejected.
   */
  request(frame: ClientFrame): Promise<ServerFrame> {
    if (frame.type === 'publish' && this.#publishes >= this.maxQueue) {
      return Promise.reject(new PortcullisError('queue_full', `${this.maxQueue} publishes are already waiting`));
    }
    return new Promise((done, fail) => this.add(frame, true, done, fail));
  }

  /**
   * The callback form, for subscribes: `done` runs synchronously with the answer, before the next
   * server frame is looked at, so that the subscription's cursor sees the ack before the replay.
   * Not kept: forgotten when the link goes down (the owner sends a fresh one), and no timeout.
   */
  add(frame: ClientFrame, keep: boolean, done: (answer: ServerFrame) => void, fail: (error: PortcullisError) => void): void {
    const publish = frame.type === 'publish';
    const entry: Entry = {
      frame: { ...frame, id: ++this.#nextId },
      done,
      fail: (error) => {
        clearTimeout(entry.timer);
        if (this.#pending.delete(entry.frame.id) && publish) this.#publishes--;
        fail(error);
      },
      keep,
      unknownOutcomes: 0,
    };
    if (publish) this.#publishes++;
    this.#pending.set(entry.frame.id, entry);
    if (keep) {
      entry.timer = setTimeout(() => {
        // Still queued: it never left, so it did not happen. Sent: nobody knows.
        entry.fail(
          publish && entry.everSent
            ? new PortcullisError('outcome_unknown', 'no answer in time; retry with the same idempotencyKey', undefined, frame.idempotencyKey)
            : new PortcullisError('timeout', `no answer within ${this.timeoutMs} ms`),
        );
      }, this.timeoutMs);
    }
    this.#transmit(entry);
  }

  /**
   * The link is up: `first` may send what must precede the queue (the subscriptions, so that a
   * client sees its own queued publications), then everything waiting goes in the order asked.
   */
  up(first?: () => void): void {
    this.#up = true;
    first?.();
    for (const entry of this.#pending.values()) this.#transmit(entry);
  }

  /** The link is down: kept requests wait for the next one, the others are forgotten. */
  down(): void {
    this.#up = false;
    for (const entry of this.#pending.values()) {
      entry.sent = false;
      if (!entry.keep) this.#pending.delete(entry.frame.id);
    }
  }

  /** An `ack`, `error` or `history` from the gateway; false if it answers nothing pending. */
  answer(frame: ServerFrame): boolean {
    const entry = this.#pending.get(Number(frame.id));
    if (!entry) return false;
    if (frame.type !== 'error') {
      clearTimeout(entry.timer);
      this.#pending.delete(entry.frame.id);
      if (entry.frame.type === 'publish') this.#publishes--;
      entry.done(frame);
    } else if (frame.code === 'outcome_unknown' && entry.frame.type === 'publish' && entry.unknownOutcomes++ < UNKNOWN_OUTCOME_RETRIES) {
      // The gateway's broker did not answer in time. The same key again publishes at most once.
      entry.sent = false;
      setTimeout(() => this.#transmit(entry), UNKNOWN_OUTCOME_RETRY_MS);
    } else {
      entry.fail(new PortcullisError(String(frame.code), frame.message, frame.retryAfterMs, frame.idempotencyKey ?? entry.frame.idempotencyKey));
    }
    return true;
  }

  /** The client stops: everything pending fails with `error`. */
  failAll(error: PortcullisError): void {
    for (const entry of [...this.#pending.values()]) entry.fail(error);
  }

  #transmit(entry: Entry): void {
    if (this.#up && !entry.sent && this.#pending.get(entry.frame.id) === entry) {
      entry.sent = entry.everSent = true;
      this.send(entry.frame);
    }
  }
}
