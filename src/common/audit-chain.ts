import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { InvalidArgumentError, NotFoundError, UnavailableError, errorMessage } from './errors.js';

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

const HEX64 = /^[0-9a-f]{64}$/;

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

function withoutHash(record: Readonly<Record<string, unknown>>): Record<string, unknown> {
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

function appendHash(canonicalBody: string, hash: string): string {
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

export type VerifyResult =
  | { ok: true; records: number; checkpoints: number; keySource: 'argument' | 'log'; lastSeq: number }
  | { ok: false; line: number; seq: number | null; reason: string; records: number };

export interface VerifyOptions {
  /**
   * The trusted Ed25519 public key (SPKI PEM; a PKCS#8 private key PEM works too). Without it the
   * keys announced inside the log are used, which proves consistency but not authorship.
   */
  readonly publicKeyPem?: string;
}

interface RawLine {
  readonly text: string;
  /** False for a final line that has no `\n`: the writer always ends a record with one. */
  readonly terminated: boolean;
  readonly tooLong?: boolean;
}

/** Checks a whole audit file, streaming it: memory stays bounded by the longest line. */
export async function verifyAuditFile(path: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  try {
    return await verifyRawLines(fileLines(path), options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`audit log ${path} does not exist`, { cause: err });
    }
    if (err instanceof InvalidArgumentError) throw err;
    throw new UnavailableError(`cannot read audit log ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * Checks records given as lines without their terminators (e.g. from readline). Such input cannot
 * show a missing final newline; `verifyAuditFile` also catches that.
 */
export async function verifyAuditLines(
  lines: AsyncIterable<string> | Iterable<string>,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  async function* raw(): AsyncGenerator<RawLine> {
    for await (const text of lines) yield { text, terminated: true };
  }
  return verifyRawLines(raw(), options);
}

async function* fileLines(path: string): AsyncGenerator<RawLine> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      const bytes = pendingBytes + piece.length;
      if (bytes > MAX_RECORD_BYTES) {
        yield { text: '', terminated: true, tooLong: true };
        return;
      }
      const text = pendingBytes ? Buffer.concat([...pending, piece]).toString('utf8') : piece.toString('utf8');
      pending = [];
      pendingBytes = 0;
      yield { text, terminated: true };
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      pending.push(rest);
      pendingBytes += rest.length;
      if (pendingBytes > MAX_RECORD_BYTES) {
        yield { text: '', terminated: true, tooLong: true };
        return;
      }
    }
  }
  if (pendingBytes) yield { text: Buffer.concat(pending).toString('utf8'), terminated: false };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseEd25519(pemOrDer: string | Buffer, field: string): KeyObject {
  const key =
    typeof pemOrDer === 'string'
      ? createPublicKey(pemOrDer)
      : createPublicKey({ key: pemOrDer, format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new InvalidArgumentError(field, 'not an Ed25519 key');
  return key;
}

async function verifyRawLines(lines: AsyncIterable<RawLine>, options: VerifyOptions): Promise<VerifyResult> {
  let given: { id: string; key: KeyObject } | undefined;
  if (options.publicKeyPem !== undefined) {
    let key: KeyObject;
    try {
      key = parseEd25519(options.publicKeyPem, 'publicKeyPem');
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw err;
      throw new InvalidArgumentError('publicKeyPem', 'not a readable PEM public key', { cause: err });
    }
    given = { id: auditKeyId(key), key };
  }
  const logKeys = new Map<string, KeyObject>();
  let line = 0;
  let records = 0;
  let checkpoints = 0;
  let expectedSeq = 1;
  let prevHash = GENESIS_PREV;

  const fail = (seq: number | null, why: string): VerifyResult => ({
    ok: false,
    line,
    seq,
    reason: `line ${line}${seq === null ? '' : ` (seq ${seq})`}: ${why}`,
    records,
  });

  for await (const raw of lines) {
    line++;
    if (raw.tooLong) return fail(null, `line longer than ${MAX_RECORD_BYTES} bytes — not a record jitgate writes`);
    if (!raw.terminated) return fail(null, 'truncated tail — the last line has no newline');
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.text);
    } catch {
      return fail(null, 'not valid JSON — record was altered or truncated');
    }
    if (!isPlainObject(parsed)) return fail(null, 'not a JSON object — record was altered');
    const { seq, hash, prev, ts, type } = parsed;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) return fail(null, 'missing or invalid seq — record was altered');
    if (typeof hash !== 'string' || !HEX64.test(hash)) return fail(seq, 'missing or invalid hash — record was altered');
    if (typeof prev !== 'string' || !HEX64.test(prev)) return fail(seq, 'missing or invalid prev — record was altered');
    if (typeof ts !== 'string' || typeof type !== 'string') return fail(seq, 'missing ts or type — record was altered');

    let canonical: string;
    try {
      canonical = canonicalJson(withoutHash(parsed));
    } catch {
      return fail(seq, 'record has no canonical form — record was altered');
    }
    if (sha256Hex(canonical) !== hash) return fail(seq, 'hash mismatch — record was altered');
    // Same hash but different bytes (escapes, spacing, duplicate keys): still not what was written.
    if (raw.text !== appendHash(canonical, hash)) return fail(seq, 'record is not in canonical form — record was altered');
    if (seq > expectedSeq) {
      return fail(seq, `seq gap: expected seq ${expectedSeq} — ${seq - expectedSeq} record(s) deleted before this line`);
    }
    if (seq < expectedSeq) return fail(seq, `seq out of order: expected seq ${expectedSeq} — a record was duplicated or moved`);
    if (prev !== prevHash) {
      return fail(seq, 'prev does not match the previous record’s hash — a record was deleted, inserted or replaced');
    }

    if (seq === 1 && type !== LOG_OPENED_TYPE) return fail(seq, `first record is not ${LOG_OPENED_TYPE} — the head of the log is missing`);
    if (type === LOG_OPENED_TYPE || type === LOG_REOPENED_TYPE) {
      if (type === LOG_OPENED_TYPE && seq !== 1) return fail(seq, `${LOG_OPENED_TYPE} after the first record — logs were spliced`);
      const { public_key: publicKey } = parsed;
      if (typeof publicKey !== 'string') return fail(seq, `${type} has no public_key`);
      try {
        const key = parseEd25519(Buffer.from(publicKey, 'base64'), 'public_key');
        logKeys.set(auditKeyId(key), key);
      } catch {
        return fail(seq, `${type} carries an unusable public_key`);
      }
    } else if (type === CHECKPOINT_TYPE) {
      const { upto, key_id: keyId, sig } = parsed;
      if (upto !== seq - 1) return fail(seq, 'checkpoint upto does not name the record before it');
      if (typeof keyId !== 'string' || typeof sig !== 'string') return fail(seq, 'checkpoint lacks key_id or sig');
      const key = given ? (given.id === keyId ? given.key : undefined) : logKeys.get(keyId);
      if (!key) {
        return fail(
          seq,
          given ? 'checkpoint was not signed by the given public key' : 'checkpoint names a key the log never announced',
        );
      }
      if (!verifyCheckpointSignature(key, prev, sig)) {
        return fail(seq, `checkpoint signature invalid — records up to seq ${upto} cannot be trusted`);
      }
      checkpoints++;
    }
    records++;
    expectedSeq = seq + 1;
    prevHash = hash;
  }
  if (line === 0) {
    line = 1;
    return fail(null, 'log is empty — it should start with log.opened');
  }
  return { ok: true, records, checkpoints, keySource: given ? 'argument' : 'log', lastSeq: expectedSeq - 1 };
}

/** One line for humans (the CLI prints this). */
export function describeVerifyResult(result: VerifyResult): string {
  if (!result.ok) return `FAILED ${result.reason} (${result.records} record(s) before it verified)`;
  const source =
    result.keySource === 'argument'
      ? 'checkpoints signed by the given key'
      : 'WARNING: checkpoint key taken from the log itself — pass the public key to prove who wrote it';
  return `OK ${result.records} records, ${result.checkpoints} checkpoints, last seq ${result.lastSeq}; ${source}`;
}
