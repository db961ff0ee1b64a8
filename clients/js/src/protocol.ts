/** The wire format of docs/protocol.md, as far as this client reads and writes it. */

/** A place in a channel: the offset of a publication within the channel's history `epoch`. */
export interface Position {
  offset: number;
  epoch: string;
}

/** A client message. `id` is an integer, echoed in the answer. */
export interface ClientFrame {
  type: 'subscribe' | 'unsubscribe' | 'publish' | 'history' | 'presence' | 'ping' | 'auth';
  id?: number;
  channel?: string;
  since?: Position;
  data?: unknown;
  idempotencyKey?: string;
  limit?: number;
  token?: string;
  /** Between tabs only, never on the wire: see Hub's subscribe. */
  held?: boolean;
}

/** A server message: one interface with every field any type may carry (see the protocol table). */
export interface ServerFrame {
  type: string;
  /** Echoed request id; older gateways echo integers as strings, hence the union. */
  id?: number | string;
  channel?: string;
  offset?: number;
  epoch?: string;
  data?: unknown;
  recovered?: boolean;
  code?: string | number;
  message?: string;
  reason?: string;
  retryAfterMs?: number;
  idempotencyKey?: string;
  deadlineMs?: number;
  connection?: string;
  user?: string;
  expiresAt?: number;
  complete?: boolean;
  publications?: { offset: number; data: unknown }[];
  /** `presence`: the channel's members. */
  members?: Member[];
}

/** A member of a channel that keeps presence; `since` is when it subscribed (epoch ms). */
export interface Member {
  user: string;
  connection: string;
  since: number;
}

/** 128 random bits as hex: idempotency keys and tab ids. Works in insecure contexts too (no randomUUID). */
export function randomKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => (b | 256).toString(16).slice(1)).join('');
}
