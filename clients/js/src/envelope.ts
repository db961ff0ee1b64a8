/**
 * The envelope of an end-to-end encrypted channel, `{"v":1,"kid":…,"iv":…,"ct":…}`: AES-256-GCM
 * through Web Crypto (browsers, Node 20+), a fresh random 96-bit IV per message, the channel name
 * as additional authenticated data (so a ciphertext replayed into another channel does not
 * authenticate), the UTF-8 JSON text of the data as plaintext, and `ct` = ciphertext followed by
 * the 16-byte tag. iv and ct are base64url without padding. Byte for byte the Java client's format;
 * docs/encryption-vectors.json pins it. Nothing here knows channels' patterns or key providers
 * (encryption.ts does): only bytes, keys and the one format.
 */
import { PortcullisError } from './errors.js';

/** The `data` of a publication on an encrypted channel. */
export interface Envelope {
  v: 1;
  /** The key id: 1-64 printable ASCII characters (0x21-0x7E). */
  kid: string;
  /** base64url, 12 bytes. */
  iv: string;
  /** base64url, the ciphertext and its 16-byte tag. */
  ct: string;
}

/** A key as the application gives it: 32 raw bytes, or an AES-GCM `CryptoKey` of 256 bits. */
export type EnvelopeKey = CryptoKey | Uint8Array;

/** An envelope's parts once its form is checked. */
export interface Sealed {
  kid: string;
  iv: Uint8Array<ArrayBuffer>;
  ct: Uint8Array<ArrayBuffer>;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const GCM = 'AES-GCM';
/**
 * The base64url alphabet as ASCII codes, and each code's value (-1: not in it). Table-driven both
 * ways: atob/btoa and Uint8Array.from(string) cost 5-30 times more on a 5 KB ciphertext.
 */
const DIGITS = utf8.encode('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
const VALUES = new Int8Array(128).fill(-1);
DIGITS.forEach((code, value) => (VALUES[code] = value));

/** base64url without padding (RFC 4648 section 5). */
export function toBase64url(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil((bytes.length * 4) / 3)); // (the last group's spare digits fall past its end: dropped)
  for (let i = 0, j = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2]; // past the end reads undefined, which shifts as 0
    out[j++] = DIGITS[n >> 18];
    out[j++] = DIGITS[(n >> 12) & 63];
    out[j++] = DIGITS[(n >> 6) & 63];
    out[j++] = DIGITS[n & 63];
  }
  return strictUtf8.decode(out); // (ASCII)
}

/** The bytes of unpadded base64url text; undefined for anything else (other characters, padding, a stray last character, non-zero spare bits). */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 4 === 1) return;
  const out = new Uint8Array((text.length * 3) >> 2);
  let n = 0; // bits read and not yet written
  let bits = 0;
  let j = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? VALUES[c] : -1;
    if (v < 0) return;
    n = (n << 6) | v;
    if ((bits += 6) >= 8) {
      out[j++] = n >> (bits -= 8);
      n &= (1 << bits) - 1;
    }
  }
  return n ? undefined : out; // one spelling per byte string: spare bits must be zero
}

/** A well-formed key id. */
export function isKid(kid: unknown): kid is string {
  return typeof kid === 'string' && /^[\x21-\x7e]{1,64}$/.test(kid);
}

/** The parts of `data` when it is exactly an envelope (four members, v 1, a 12-byte iv, a ct with room for the tag); else undefined. */
export function parseEnvelope(data: unknown): Sealed | undefined {
  if (!data || typeof data !== 'object' || Array.isArray(data) || Object.keys(data).length !== 4) return;
  const { v, kid, iv, ct } = data as Record<string, unknown>;
  if (v !== 1 || !isKid(kid) || typeof iv !== 'string' || typeof ct !== 'string') return;
  const ivBytes = fromBase64url(iv);
  const ctBytes = fromBase64url(ct);
  return ivBytes?.length === 12 && ctBytes && ctBytes.length >= 16 ? { kid, iv: ivBytes, ct: ctBytes } : undefined;
}

/** Raw keys imported once each (by identity): non-extractable, for AES-GCM only. */
const imported = new WeakMap<Uint8Array, Promise<CryptoKey>>();

/**
 * The `CryptoKey` for `key`. Raw keys must be 32 bytes (Web Crypto itself would take 16 or 24: this
 * is AES-256 only); a `CryptoKey` is used as it is (Web Crypto refuses one that is not AES-GCM).
 */
export async function cryptoKey(key: EnvelopeKey): Promise<CryptoKey> {
  if (!(key instanceof Uint8Array)) return key;
  if (key.length !== 32) throw new TypeError('an encryption key is 32 bytes');
  let k = imported.get(key);
  if (!k) imported.set(key, (k = crypto.subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, GCM, false, ['encrypt', 'decrypt'])));
  return k;
}

/**
 * @internal Encrypts `data` under `key` for `channel`. `iv` is a seam for the shared test vectors
 * only: an IV must never repeat under one key, so everything else takes a fresh random one.
 */
export async function seal(key: EnvelopeKey, channel: string, kid: string, data: unknown, iv = crypto.getRandomValues(new Uint8Array(12))): Promise<Envelope> {
  const text = JSON.stringify(data);
  if (text === undefined) throw new TypeError('not JSON');
  const k = await cryptoKey(key);
  const ct = await crypto.subtle.encrypt({ name: GCM, iv, additionalData: utf8.encode(channel) }, k, utf8.encode(text));
  return { v: 1, kid, iv: toBase64url(iv), ct: toBase64url(new Uint8Array(ct)) };
}

/**
 * The data inside an envelope of `channel`. Rejects with a {@link PortcullisError} whose code is
 * the reason: `authentication_failed` (tag check failed: tampered iv or ct, wrong key, or an
 * envelope of another channel) or `malformed` (not an envelope; a plaintext that is not UTF-8 JSON).
 */
export async function open(key: EnvelopeKey, channel: string, sealed: Sealed): Promise<unknown> {
  const k = await cryptoKey(key);
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt({ name: GCM, iv: sealed.iv, additionalData: utf8.encode(channel) }, k, sealed.ct);
  } catch {
    throw new PortcullisError('authentication_failed');
  }
  try {
    return JSON.parse(strictUtf8.decode(plain));
  } catch {
    throw new PortcullisError('malformed');
  }
}
