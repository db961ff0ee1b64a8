/** What the gateway said about a handshake it would refuse. */
export interface Refusal {
  /** The HTTP status an upgrade gets right now (401, 403, 429, 503, ...). */
  status: number;
  /** The gateway's error code, e.g. `expired`, `origin`, `attempt_rate`, `shutting_down`. */
  error?: string;
  message?: string;
  /** From a `Retry-After` header (seconds on the wire). */
  retryAfterMs?: number;
}

/**
 * Asks the gateway why an upgrade failed. Browsers hide the HTTP status of a refused WebSocket
 * handshake (the socket just closes with 1006), so after an attempt that failed before `open` the
 * client sends a plain GET to the same URL (ws -> http, wss -> https) with the same credentials,
 * and the gateway answers the decision an upgrade would get now: 200, or the refusal's status with
 * `{"error","message"}`. Only such an answer is acted on. Returns undefined ("unknown": the client
 * just backs off, whatever the status) when the gateway would accept, the probe itself failed
 * (network, CORS), the answer has no JSON body with a string `error` (a proxy's, CDN's or WAF's
 * page: it says nothing about the gateway's decision), it is a 426 (a gateway that predates the
 * probe), or the probe itself was rate limited (429 `probe_rate`).
 */
export async function probe(url: string, token: string, fetchImpl?: typeof fetch): Promise<Refusal | undefined> {
  try {
    const response = await (fetchImpl ?? fetch)(url.replace(/^ws/i, 'http'), {
      headers: { accept: 'application/json', authorization: 'Bearer ' + token },
      credentials: 'include',
      cache: 'no-store',
      signal: AbortSignal.timeout?.(10_000),
    });
    if (response.ok) return undefined;
    const body = await response.json();
    const { status } = response;
    if (typeof body?.error !== 'string' || status === 426 || body.error === 'probe_rate') return undefined;
    const retryAfter = response.headers.get('retry-after')?.trim();
    return {
      status,
      error: body.error,
      message: body.message,
      retryAfterMs: retryAfter && /^\d+$/.test(retryAfter) ? Math.min(+retryAfter, 3600) * 1000 : undefined,
    };
  } catch {
    return undefined;
  }
}
