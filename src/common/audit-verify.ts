import { createPublicKey, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  CHECKPOINT_TYPE,
  GENESIS_PREV,
  AUDIT_NODE_ID,
  HEX64,
  LOG_OPENED_TYPE,
  LOG_REOPENED_TYPE,
  MAX_RECORD_BYTES,
  appendHash,
  auditKeyId,
  canonicalJson,
  sha256Hex,
  verifyCheckpointSignature,
  withoutHash,
} from './audit-chain.js';
import { InvalidArgumentError, NotFoundError, UnavailableError, errorMessage } from './errors.js';

/**
 * Verifies an audit log written in the chain format of audit-chain.ts: every record's hash, the
 * chain of `prev` hashes, sequence numbers, and the Ed25519 checkpoints. Names the first bad line.
 */

/**
 * `nodes`: the fleet node ids the records name (`node`), in order of first appearance; absent when
 * no record carries one (a single-host log). On a failure, the nodes of the records verified so far.
 */
export type VerifyResult =
  | { ok: true; records: number; checkpoints: number; keySource: 'argument' | 'log'; lastSeq: number; nodes?: readonly string[] }
  | { ok: false; line: number; seq: number | null; reason: string; records: number; nodes?: readonly string[] };

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

/** What verification carries from one line to the next. */
interface ChainState {
  readonly given: { readonly id: string; readonly key: KeyObject } | undefined;
  readonly logKeys: Map<string, KeyObject>;
  expectedSeq: number;
  prevHash: string;
  checkpoints: number;
  /** The `node` of the record before (undefined: none). */
  node: string | undefined;
  readonly nodes: string[];
}

/** Why a line fails: the seq when the record got far enough to have one. */
interface LineFailure {
  readonly seq: number | null;
  readonly why: string;
}

function givenKey(publicKeyPem: string | undefined): ChainState['given'] {
  if (publicKeyPem === undefined) return undefined;
  let key: KeyObject;
  try {
    key = parseEd25519(publicKeyPem, 'publicKeyPem');
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError('publicKeyPem', 'not a readable PEM public key', { cause: err });
  }
  return { id: auditKeyId(key), key };
}

/** Checks one line against the chain so far; on success advances the chain. */
function checkLine(raw: RawLine, state: ChainState): LineFailure | null {
  const fail = (seq: number | null, why: string): LineFailure => ({ seq, why });
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
  const { expectedSeq } = state;
  if (seq > expectedSeq) {
    return fail(seq, `seq gap: expected seq ${expectedSeq} — ${seq - expectedSeq} record(s) deleted before this line`);
  }
  if (seq < expectedSeq) return fail(seq, `seq out of order: expected seq ${expectedSeq} — a record was duplicated or moved`);
  if (prev !== state.prevHash) {
    return fail(seq, 'prev does not match the previous record’s hash — a record was deleted, inserted or replaced');
  }
  const why = checkKeyRecord(parsed, seq, type, prev, state) ?? checkNode(parsed.node, seq, type, state);
  if (why !== null) return fail(seq, why);
  state.expectedSeq = seq + 1;
  state.prevHash = hash;
  return null;
}

/** The records that announce keys (log opened/reopened) and the checkpoints signed with them. */
function checkKeyRecord(parsed: Record<string, unknown>, seq: number, type: string, prev: string, state: ChainState): string | null {
  if (seq === 1 && type !== LOG_OPENED_TYPE) return `first record is not ${LOG_OPENED_TYPE} — the head of the log is missing`;
  if (type === LOG_OPENED_TYPE || type === LOG_REOPENED_TYPE) {
    if (type === LOG_OPENED_TYPE && seq !== 1) return `${LOG_OPENED_TYPE} after the first record — logs were spliced`;
    const { public_key: publicKey } = parsed;
    if (typeof publicKey !== 'string') return `${type} has no public_key`;
    try {
      const key = parseEd25519(Buffer.from(publicKey, 'base64'), 'public_key');
      state.logKeys.set(auditKeyId(key), key);
    } catch {
      return `${type} carries an unusable public_key`;
    }
  } else if (type === CHECKPOINT_TYPE) {
    const { upto, key_id: keyId, sig } = parsed;
    if (upto !== seq - 1) return 'checkpoint upto does not name the record before it';
    if (typeof keyId !== 'string' || typeof sig !== 'string') return 'checkpoint lacks key_id or sig';
    const { given } = state;
    const key = given ? (given.id === keyId ? given.key : undefined) : state.logKeys.get(keyId);
    if (!key) return given ? 'checkpoint was not signed by the given public key' : 'checkpoint names a key the log never announced';
    if (!verifyCheckpointSignature(key, prev, sig)) return `checkpoint signature invalid — records up to seq ${upto} cannot be trusted`;
    state.checkpoints++;
  }
  return null;
}

/**
 * One writer names one node for its whole run, so `node` may change only where a run starts
 * (log.opened, log.reopened: e.g. a host that joined a fleet, or was renamed, between runs).
 */
function checkNode(node: unknown, seq: number, type: string, state: ChainState): string | null {
  if (node !== undefined && (typeof node !== 'string' || !AUDIT_NODE_ID.test(node))) return 'node is not a fleet node id — record was altered';
  const startsRun = seq === 1 || type === LOG_REOPENED_TYPE;
  if (!startsRun && node !== state.node) {
    return `node ${node ?? '(none)'} differs from the previous record's ${state.node ?? '(none)'} — logs were spliced`;
  }
  state.node = node;
  if (node !== undefined && !state.nodes.includes(node)) state.nodes.push(node);
  return null;
}

async function verifyRawLines(lines: AsyncIterable<RawLine>, options: VerifyOptions): Promise<VerifyResult> {
  const state: ChainState = {
    given: givenKey(options.publicKeyPem),
    logKeys: new Map(),
    expectedSeq: 1,
    prevHash: GENESIS_PREV,
    checkpoints: 0,
    node: undefined,
    nodes: [],
  };
  const nodes = (): { nodes?: readonly string[] } => (state.nodes.length ? { nodes: [...state.nodes] } : {});
  let line = 0;
  let records = 0;
  const failed = ({ seq, why }: LineFailure): VerifyResult => ({
    ok: false,
    line,
    seq,
    reason: `line ${line}${seq === null ? '' : ` (seq ${seq})`}: ${why}`,
    records,
    ...nodes(),
  });
  for await (const raw of lines) {
    line++;
    const failure = checkLine(raw, state);
    if (failure) return failed(failure);
    records++;
  }
  if (line === 0) {
    line = 1;
    return failed({ seq: null, why: 'log is empty — it should start with log.opened' });
  }
  return {
    ok: true,
    records,
    checkpoints: state.checkpoints,
    keySource: state.given ? 'argument' : 'log',
    lastSeq: state.expectedSeq - 1,
    ...nodes(),
  };
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
