/**
 * Reconnect delays: exponential growth with full jitter, as the Java client's Backoff. Attempt `n`
 * (counting from 0 since the last {@link reset}) waits a uniformly random time in
 * `[base, min(cap, base * 2^(n+1))]`, so even the first retry of thousands of clients dropped at
 * once (a gateway redeploy) is spread over `[base, 2 base]` instead of arriving as one wave.
 */
export class Backoff {
  #attempts = 0;

  constructor(
    readonly base: number,
    readonly cap: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(base > 0 && cap >= base)) throw new RangeError('backoff needs 0 < base <= cap');
  }

  /** The delay before the next attempt, in ms; counts the attempt. */
  next(): number {
    const upper = this.upper(this.#attempts++);
    return Math.round(this.base + this.random() * (upper - this.base));
  }

  /** The largest delay attempt `n` can get. */
  upper(n: number): number {
    return Math.min(this.cap, this.base * 2 ** (n + 1));
  }

  /** A random share of `base`, added to waits the server asked for so that clients do not return together. */
  jitter(): number {
    return Math.round(this.random() * this.base);
  }

  /** After a connection that lived long enough: start again from `base`. */
  reset(): void {
    this.#attempts = 0;
  }
}
