import type { CursorSink, Publication } from './cursor.js';
import { report } from './emitter.js';
import { cryptoKey, isKid, open, parseEnvelope, seal, type Envelope, type EnvelopeKey } from './envelope.js';
import { PortcullisError } from './errors.js';

/**
 * The `encryption` client option: which channels are end-to-end encrypted, and the application's
 * keys. The client never sends a key anywhere (not to the gateway, not to other tabs).
 */
export interface EncryptionOptions {
  /** Channel names and `prefix*` patterns, as in the gateway's `channels.encrypted`. */
  channels: string[];
  /** The key id new publications to `channel` are encrypted with (1-64 printable ASCII characters). */
  currentKid(channel: string): string | Promise<string>;
  /**
   * The key `kid` of `channel`: 32 bytes (imported once per Uint8Array, so hand back the same
   * array) or a 256-bit AES-GCM `CryptoKey`; `undefined` when unknown.
   */
  key(channel: string, kid: string): EnvelopeKey | undefined | Promise<EnvelopeKey | undefined>;
}

export type DecryptFailureReason = 'malformed' | 'unknown_kid' | 'authentication_failed';

/** A publication on an encrypted channel that could not be decrypted: never delivered as data. */
export interface DecryptFailure {
  channel: string;
  offset: number;
  /** The envelope's key id, when there is a well-formed one. */
  kid?: string;
  reason: DecryptFailureReason;
}

/** A decrypted publication's data, or why there is none. */
export type Opened = { data: unknown } | { failure: DecryptFailure };

/**
 * The client's side of encrypted channels: which channels, the key provider's answers (bounded
 * in time: a provider that never answers must not stop a subscription or the publish queue for
 * good), and the mapping of every failure onto the three reasons of `decrypt_failed`.
 */
export class Encryption {
  readonly #o: EncryptionOptions;
  readonly #exact = new Set<string>();
  readonly #prefixes: string[] = [];

  constructor(
    options: EncryptionOptions,
    /** How long the key provider may take for one answer. */
    private readonly timeoutMs: number,
  ) {
    const { channels, currentKid, key } = options;
    if (!channels?.every?.((c) => c && typeof c === 'string') || typeof currentKid !== 'function' || typeof key !== 'function') {
      throw new TypeError('encryption needs channels (names and prefix* patterns), currentKid(channel) and key(channel, kid)');
    }
    for (const c of channels) c.endsWith('*') ? this.#prefixes.push(c.slice(0, -1)) : this.#exact.add(c);
    this.#o = options;
  }

  /** Is `channel` encrypted? */
  covers(channel: string): boolean {
    return this.#exact.has(channel) || this.#prefixes.some((p) => channel.startsWith(p));
  }

  /** `data` in an envelope under the channel's current key. Rejects `unknown_kid` when the provider has no key for its current kid. */
  async seal(channel: string, data: unknown): Promise<Envelope> {
    const kid = await this.#ask(() => this.#o.currentKid(channel), 'currentKid');
    if (!isKid(kid)) throw new TypeError('bad kid ' + kid);
    const key = await this.#key(channel, kid);
    if (!key) throw new PortcullisError('unknown_kid', kid);
    return seal(key, channel, kid, data);
  }

  /** The data of a publication at `offset`, or the failure. Never rejects; a key provider's error is reported and counts as `unknown_kid`. */
  async open(channel: string, offset: number, data: unknown): Promise<Opened> {
    const sealed = parseEnvelope(data);
    const kid = (data as { kid?: unknown } | null)?.kid;
    const fail = (reason: DecryptFailureReason): Opened => ({ failure: { channel, offset, kid: isKid(kid) ? kid : undefined, reason } });
    if (!sealed) return fail('malformed');
    let key: CryptoKey | undefined;
    try {
      key = await this.#key(channel, sealed.kid);
    } catch (error) {
      report(error);
    }
    if (!key) return fail('unknown_kid');
    try {
      return { data: await open(key, channel, sealed) };
    } catch (error) {
      return fail((error as PortcullisError).code as DecryptFailureReason);
    }
  }

  async #key(channel: string, kid: string): Promise<CryptoKey | undefined> {
    const key = await this.#ask(() => this.#o.key(channel, kid), 'key');
    return key == null ? undefined : cryptoKey(key);
  }

  /** The provider's answer, or a `timeout` rejection when it takes longer than `timeoutMs`. */
  #ask<T>(call: () => T | Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new PortcullisError('timeout', 'encryption.' + what)), this.timeoutMs);
      new Promise<T>((r) => r(call())).then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }
}

/**
 * Publications one {@link InOrder} queue (a subscription's, or the automatic channels') may hold
 * while they are decrypted; past it they are dropped, and a `gap` in their place says so. A key
 * provider slower than the channel would otherwise let a busy channel queue for up to
 * `requestTimeoutMs` (each message with its data and a provider call of its own). Not 100 like
 * `maxQueue`: a resumed subscription's replay (a channel's whole kept history, 1,000 for the
 * gateway's default `alerts`) is handed over in one go, before any decryption can finish, and must
 * not turn into a gap however fast the keys come. So it is the cursor's bound on the messages it
 * holds for an ack (`MAX_HELD`, cursor.ts): whatever that can release at once fits, only a provider that falls behind a
 * live channel overflows it.
 */
export const MAX_DECRYPTING = 10_000;

/**
 * Steps run in the order they were added, each once the value it waits for is there, so that
 * decryptions (started at once, and running in parallel) never reorder what they deliver: a slow
 * key for one publication holds back the ones after it. A step that throws is reported, and the
 * steps after it still run.
 */
export class InOrder {
  #tail: Promise<unknown> = Promise.resolve();
  /** Steps added and not yet run. */
  pending = 0;
  /**
   * Per channel, while its last step is the gap of publications dropped over {@link MAX_DECRYPTING}:
   * that gap, which the next dropped ones move on (one entry per channel, however they interleave).
   */
  readonly lost = new Map<string, { at: { offset: number; epoch?: string } }>();

  add<T>(value: T | Promise<T>, step: (value: T) => void): void {
    this.pending++;
    this.#tail = this.#tail
      .then(() => value)
      .then(step)
      .catch(report)
      .then(() => this.pending--);
  }
}

/**
 * `sink` behind decryption: each publication is decrypted (at once) and handed on in order, after
 * the steps before it; gaps keep their place between them. One that fails goes to `failed` instead.
 * With {@link MAX_DECRYPTING} waiting, a publication is dropped undecrypted and becomes a gap at its
 * position, in its place (the next dropped ones of the channel move that gap on, rather than queue).
 */
export function decrypting(crypto: Encryption, channel: string, order: InOrder, sink: CursorSink, failed: (failure: DecryptFailure, p: Publication) => void): CursorSink {
  const lost = order.lost;
  const add: InOrder['add'] = (value, step) => (lost.delete(channel), order.add(value, step));
  return {
    gap: (at) => add(0, () => sink.gap(at)),
    deliver: (p, recovered) => {
      const at = { offset: p.offset, epoch: p.epoch };
      const dropped = lost.get(channel);
      if (order.pending < MAX_DECRYPTING) {
        add(crypto.open(channel, p.offset, p.data), (o) => ('failure' in o ? failed(o.failure, p) : sink.deliver({ ...p, data: o.data }, recovered)));
      } else if (dropped) {
        dropped.at = at;
      } else {
        // (once it has run, a dropped one needs a gap of its own: the queue may fill again without this channel)
        const gap = { at };
        order.add(0, () => (lost.get(channel) === gap && lost.delete(channel), sink.gap(gap.at)));
        lost.set(channel, gap);
      }
    },
  };
}
