import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';

/**
 * The audit log's chain format, shared by the daemon's writer and the CLI's verifier so that both
 * agree byte for byte on what a record hashes to.
 *
 * A record is one line of canonical JSON with `hash` appended last:
 * `{...fields sorted, "prev": <hash of the record before>, "seq": n, "ts": ISO,"hash": sha256}`.
 * `hash` covers the canonical JSON of every other field, so changing, removing or reordering a
 * record breaks either its own hash or the next record's `prev`.
 */

/** `prev` of the first record. */
export const GENESIS_PREV = '0'.repeat(64);
export const CHECKPOINT_TYPE = 'checkpoint';
export const LOG_OPENED_TYPE = 'log.opened';
export const LOG_REOPENED_TYPE = 'log.reopened';
/** The writer never produces a longer line; the verifier stops at one so memory stays bounded. */
export const MAX_RECORD_BYTES = 64 * 1024;

export const HEX64 = /^[0-9a-f]{64}$/;
/** A fleet node id as records carry it in `node` (the same form `fleet.node` accepts). */
export const AUDIT_NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * RFC 8785-style canonical JSON: object keys sorted by UTF-16 code units, no whitespace, numbers
 * and strings as ECMAScript serializes them. Only plain JSON data is accepted (plain objects,
 * arrays, strings, finite numbers, booleans, null); anything else would not survive a JSON round
 * trip and so could not be re-hashed by a verifier. Object properties that are `undefined` are
 * left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidArgumentError('value', 'a non-finite number has no JSON form');
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new InvalidArgumentError('value', `a ${typeof value} has no JSON form`);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined) throw new InvalidArgumentError(`[${i}]`, 'undefined has no JSON form');
      out += (i ? ',' : '') + canonicalJson(item);
    }
    return `${out}]`;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new InvalidArgumentError('value', 'only plain objects have a canonical JSON form');
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item)}`;
    first = false;
  }
  return `${out}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function withoutHash(record: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (key !== 'hash') body[key] = value;
  }
  return body;
}

/** SHA-256 (hex) of the canonical JSON of `record` without its `hash` field. */
export function recordHash(record: Readonly<Record<string, unknown>>): string {
  return sha256Hex(canonicalJson(withoutHash(record)));
}

/** The exact line (without `\n`) for a record body, and the body's hash. */
export function serializeRecord(body: Readonly<Record<string, unknown>>): { line: string; hash: string } {
  if ('hash' in body) throw new InvalidArgumentError('hash', 'the record body must not carry its own hash');
  const canonical = canonicalJson(body);
  const hash = sha256Hex(canonical);
  return { line: appendHash(canonical, hash), hash };
}

export function appendHash(canonicalBody: string, hash: string): string {
  // Hash last keeps the line readable; the verifier rebuilds this exact form, so the order is fixed.
  return canonicalBody === '{}' ? `{"hash":"${hash}"}` : `${canonicalBody.slice(0, -1)},"hash":"${hash}"}`;
}

/** First 16 hex digits of SHA-256 over the raw 32-byte Ed25519 public key. */
export function auditKeyId(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  if (publicKey.asymmetricKeyType !== 'ed25519' || typeof jwk.x !== 'string') {
    throw new InvalidArgumentError('publicKey', 'audit keys are Ed25519');
  }
  return createHash('sha256').update(Buffer.from(jwk.x, 'base64url')).digest('hex').slice(0, 16);
}

/** Base64 SPKI DER, the form `log.opened` carries. */
export function publicKeyToSpkiBase64(publicKey: KeyObject): string {
  return publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
}

/** The checkpoint signature: Ed25519 over the 32 raw bytes of the hash it covers; base64. */
export function signCheckpoint(privateKey: KeyObject, coveredHash: string): string {
  if (!HEX64.test(coveredHash)) throw new InvalidArgumentError('coveredHash', 'not a SHA-256 hex digest');
  return sign(null, Buffer.from(coveredHash, 'hex'), privateKey).toString('base64');
}

export function verifyCheckpointSignature(publicKey: KeyObject, coveredHash: string, signature: string): boolean {
  if (!HEX64.test(coveredHash)) return false;
  const sig = Buffer.from(signature, 'base64');
  if (sig.length !== 64 || sig.toString('base64') !== signature) return false;
  try {
    return verify(null, Buffer.from(coveredHash, 'hex'), publicKey, sig);
  } catch {
    return false;
  }
}
