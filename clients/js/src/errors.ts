/**
 * The one error type this library rejects with. `code` is machine-readable: the gateway's error
 * codes (`forbidden`, `rate_limited`, ...) pass through unchanged, and the client adds its own
 * (`closed`, `timeout`, `queue_full`, `already_subscribed`). See the README's "Error codes".
 */
export class PortcullisError extends Error {
  override name = 'PortcullisError';

  constructor(
    /** Machine-readable reason, e.g. `forbidden` or `timeout`. */
    readonly code: string,
    message: string = code,
    /** For `rate_limited` (and refusals with `Retry-After`): when trying again may succeed. */
    readonly retryAfterMs?: number,
    /**
     * For `outcome_unknown`: the publish's key. Publishing the same data with this key again
     * (within the gateway's idempotency window) publishes it at most once.
     */
    readonly idempotencyKey?: string,
  ) {
    super(message);
  }
}
