/**
 * Whether a lost connection or a refused handshake is worth another attempt: the close-code table
 * of docs/protocol.md, and the HTTP statuses of a refused upgrade as the Java client's ClosePolicy.
 */

/** May the client reconnect after the server (or the network) ended a connection with `code`? */
export function reconnectAfterClose(code: number): boolean {
  // 4500-4999: the gateway says "do not come back" (replaced, logged out, protocol violations).
  // 1002/1003/1007/1008/1009/1010: this client sent something the gateway refuses; a reconnect
  // would only repeat it. Everything else (1000, 1001, 1005, 1006, 1011, 4000-4499) is transient.
  return !(code >= 4500 && code <= 4999) && ![1002, 1003, 1007, 1008, 1009, 1010].includes(code);
}

/** May the client try again after a handshake refused with HTTP `status`? */
export function reconnectAfterRefusal(status: number): boolean {
  // 401: the token was refused, the next attempt fetches a fresh one. 408/425/429: too slow, too
  // early or too many attempts: wait and retry. 5xx: draining, full, or a proxy in trouble.
  // Other 4xx (403 origin, 404 path, 400, 426) would be refused again the same way.
  return status === 401 || status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}
