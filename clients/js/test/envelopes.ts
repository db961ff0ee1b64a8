/**
 * Envelopes made and opened with Node's own AES-GCM (node:crypto, OpenSSL), not the client's Web
 * Crypto code: what the client must interoperate with, from an independent implementation. Also
 * the shared vectors of docs/encryption-vectors.json (tests run from clients/js).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface Vector {
  channel: string;
  plaintext: string;
  envelope: { v: 1; kid: string; iv: string; ct: string };
}

export const VECTORS: { key: string; vectors: Vector[] } = JSON.parse(readFileSync('../../docs/encryption-vectors.json', 'utf8'));

/** The vectors' key, bytes 0x00..0x1f. */
export const KEY = new Uint8Array(Buffer.from(VECTORS.key, 'base64url'));

/** Another 32-byte key. */
export const OTHER_KEY = new Uint8Array(randomBytes(32));

/** The envelope of `data` on `channel` (the UTF-8 JSON text, the channel as AAD, ct = ciphertext + tag). */
export function nodeSeal(key: Uint8Array, channel: string, kid: string, data: unknown, iv: Uint8Array = randomBytes(12)) {
  return nodeSealText(key, channel, kid, Buffer.from(JSON.stringify(data), 'utf8'), iv);
}

/** An envelope around any plaintext bytes (for plaintexts that are not UTF-8 JSON). */
export function nodeSealText(key: Uint8Array, channel: string, kid: string, plaintext: Uint8Array, iv: Uint8Array = randomBytes(12)) {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(channel, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { v: 1 as const, kid, iv: Buffer.from(iv).toString('base64url'), ct: ct.toString('base64url') };
}

/** The data inside an envelope; throws when it does not authenticate. */
export function nodeOpen(key: Uint8Array, channel: string, envelope: { iv: string; ct: string }): unknown {
  const ct = Buffer.from(envelope.ct, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64url'));
  decipher.setAAD(Buffer.from(channel, 'utf8'));
  decipher.setAuthTag(ct.subarray(ct.length - 16));
  return JSON.parse(Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()]).toString('utf8'));
}

/** base64url text with the character at `at` (default: the middle) changed: other bytes, still well-formed. */
export function tamper(text: string, at = text.length >> 1): string {
  return text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
}
