import type { Position } from './protocol.js';

/** A publication as the cursor sees it. */
export interface Publication {
  offset: number;
  epoch?: string;
  data?: unknown;
}

/** Where a cursor's decisions go, in delivery order. */
export interface CursorSink {
  /** Publications up to `at` may be lost: the application should reload the channel's state. */
  gap(at: { offset: number; epoch?: string }): void;
  /** The next publication, in order; `recovered` when it was replayed from history after a resume. */
  deliver(publication: Publication, recovered: boolean): void;
}

/** Messages held while a subscription awaits its ack; past this the oldest go (the ack reports the gap). */
const MAX_HELD = 10_000;

/**
 * Where one subscription stands in its channel, and the filter that makes delivery exactly-once and
 * in order on top of a gateway that replays after a resubscribe with `since` (a port of the Java
 * client's ChannelCursor). Rules:
 *
 * - A message at or below the last delivered offset of the same epoch is a duplicate: dropped.
 * - While a (re)subscribe awaits its ack, messages are held. The ack fixes the position (kept when
 *   the gateway `recovered`, replaced by the ack's position when not), then the held messages pass
 *   the same filter. Live messages of automatic channels (`user:<sub>`) can overtake the ack.
 * - After a recovered ack, a held message that does not continue the offsets waits for the replay
 *   that fills the hole before it (offsets grow by exactly one per publication). If the replay never
 *   comes, the next larger message releases it: late, never lost.
 * - A message of another epoch, a skipped offset, the gateway's `gap` notice, or a resume acked with
 *   `recovered: false` are reported as a gap, never left silent.
 */
export class Cursor {
  /** The last delivered offset; -1 before any. */
  offset: number;
  epoch: string | undefined;
  #holding: boolean;
  #early: Publication[] = [];
  /** Held messages that jumped ahead of a replay, by offset. */
  #waiting = new Map<number, Publication>();
  /** After a recovered resume: offsets up to here are replays (delivered with `recovered`). */
  #replayTo = -1;
  /**
   * Holding since a lost link ({@link lost}) and not acked since: every publication that reached
   * the tab after the link went down is in this cursor's hands. A new cursor never is: it did not
   * see what was broadcast before it existed.
   */
  held = false;

  /** A cursor at `since` (none: from the ack on). `holding`: wait for an ack before delivering. */
  constructor(since?: Position, holding = true) {
    this.offset = since ? since.offset : -1;
    this.epoch = since?.epoch;
    this.#holding = holding;
  }

  /** The last delivered position; only a position with an epoch can be resumed from. */
  get position(): Position | undefined {
    return this.offset >= 0 && this.epoch ? { offset: this.offset, epoch: this.epoch } : undefined;
  }

  /** A (re)subscribe is about to be sent: hold messages until its ack. */
  awaitAck(): void {
    this.#holding = true;
  }

  /** The connection is gone. What was held was not delivered, so the resubscribe replays it (or reports the gap). */
  lost(): void {
    this.held = this.#holding = true;
    this.#early = [];
    this.#waiting.clear();
  }

  /**
   * The gateway acknowledged the subscription with the channel's latest position.
   * @param sinceSent whether the subscribe carried `since` (this cursor's position)
   * @returns whether the subscription resumed without a gap
   */
  ack(offset: number | undefined, epoch: string | undefined, recovered: boolean | undefined, sinceSent: boolean, sink: CursorSink): boolean {
    this.held = this.#holding = false;
    const resumed = sinceSent && recovered === true && (!epoch || !this.epoch || epoch === this.epoch);
    if (resumed) {
      this.epoch = epoch ?? this.epoch;
      this.#replayTo = offset ?? -1;
    } else {
      this.offset = offset ?? -1;
      this.epoch = epoch;
      this.#waiting.clear();
      this.#replayTo = -1;
      if (sinceSent) sink.gap({ offset: this.offset, epoch });
    }
    const held = this.#early;
    this.#early = [];
    for (const p of held) {
      if (resumed && this.offset >= 0 && p.epoch === this.epoch && p.offset > this.offset + 1) {
        this.#waiting.set(p.offset, p); // the replay of what comes before it follows the ack
      } else {
        this.#accept(p, sink);
      }
    }
    return resumed;
  }

  /** A publication of this channel from the gateway. */
  message(p: Publication, sink: CursorSink): void {
    if (this.#holding) {
      if (this.#early.push(p) > MAX_HELD) this.#early.shift();
    } else {
      this.#accept(p, sink);
    }
  }

  /**
   * The gateway's `gap` notice: publications up to (offset, epoch) are lost; live ones continue
   * after it. While a subscribe awaits its ack the notice is ignored: the ack decides.
   */
  gapNotice(offset: number, epoch: string | undefined, sink: CursorSink): void {
    if (this.#holding) return;
    this.#waiting.clear();
    this.offset = offset;
    this.epoch = epoch;
    sink.gap({ offset, epoch });
  }

  #accept(p: Publication, sink: CursorSink): void {
    if (p.epoch && this.epoch && p.epoch !== this.epoch) {
      // The gateway lost the channel's history: continue from this message, and say so.
      this.#waiting.clear();
      this.epoch = p.epoch;
      this.offset = p.offset - 1;
      sink.gap({ offset: this.offset, epoch: this.epoch });
    } else {
      this.epoch ??= p.epoch;
    }
    // older messages that waited for the replay to reach them go first
    for (const key of [...this.#waiting.keys()].sort((a, b) => a - b)) {
      if (key >= p.offset) break;
      this.#deliver(this.#waiting.get(key)!, sink);
      this.#waiting.delete(key);
    }
    this.#waiting.delete(p.offset);
    this.#deliver(p, sink);
    // then those the replay has now reached
    for (let next; (next = this.#waiting.get(this.offset + 1)); ) {
      this.#waiting.delete(next.offset);
      this.#deliver(next, sink);
    }
  }

  #deliver(p: Publication, sink: CursorSink): void {
    if (p.offset <= this.offset && p.epoch === this.epoch) return; // already delivered
    if (this.offset >= 0 && p.epoch === this.epoch && p.offset > this.offset + 1) {
      // Offsets skipped within one epoch: publications were lost on the way.
      sink.gap({ offset: p.offset - 1, epoch: this.epoch });
    }
    this.offset = p.offset;
    this.epoch ??= p.epoch;
    sink.deliver(p, p.epoch === this.epoch && p.offset <= this.#replayTo);
  }
}
