import { CHECKPOINT_TYPE, LOG_OPENED_TYPE, LOG_REOPENED_TYPE } from '../../common/audit-chain.js';
import { InvalidArgumentError } from '../../common/errors.js';
import type { AuditEvent } from './types.js';

/** Longest string field kept whole, in UTF-8 bytes; longer ones are cut and marked. */
export const MAX_FIELD_BYTES = 4096;
const MAX_DEPTH = 16;
const MAX_ITEMS = 1000;

/**
 * Keys that name secrets. The writer cannot know which values are secret, so a key like these is
 * treated as a programming error and refused loudly instead of being written to a permanent log.
 */
const FORBIDDEN_KEYS = new Set(['token', 'password', 'secret', 'credentials', 'client_token', 'clienttoken']);
/**
 * Fields the writer owns. `node` is the writing daemon's fleet id; an event about another node
 * names it under its own key (e.g. `lost_node`), so `node` always means "who wrote this line".
 */
const RESERVED_KEYS = new Set(['seq', 'ts', 'prev', 'hash', 'node']);
const RESERVED_TYPES = new Set([CHECKPOINT_TYPE, LOG_OPENED_TYPE, LOG_REOPENED_TYPE]);

/**
 * Turns an event into plain, bounded JSON data: long strings truncated, Dates as ISO strings,
 * Errors as {name, message, code}, `undefined` dropped. Throws InvalidArgumentError for a secret-named
 * key, a writer-owned field, binary data, or anything with no JSON form.
 */
export function boundEvent(event: AuditEvent): Record<string, unknown> {
  if (typeof event.type !== 'string' || event.type === '' || event.type.length > 128) {
    throw new InvalidArgumentError('event.type', 'must be a non-empty string of at most 128 characters');
  }
  if (RESERVED_TYPES.has(event.type)) throw new InvalidArgumentError('event.type', `${event.type} is written by the log itself`);
  for (const key of Object.keys(event)) {
    if (RESERVED_KEYS.has(key)) throw new InvalidArgumentError(`event.${key}`, 'is set by the audit writer');
  }
  return bound(event, 'event', 0) as Record<string, unknown>;
}

/** Cuts a string to at most MAX_FIELD_BYTES of UTF-8 plus a marker saying how long it was. */
export function truncateField(value: string): string {
  if (value.length * 3 <= MAX_FIELD_BYTES) return value;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes <= MAX_FIELD_BYTES) return value;
  // Cutting mid-character leaves U+FFFD at the end; drop it rather than keep a broken character.
  const head = Buffer.from(value.slice(0, MAX_FIELD_BYTES), 'utf8')
    .subarray(0, MAX_FIELD_BYTES)
    .toString('utf8')
    .replace(/\uFFFD+$/u, '');
  return `${head}…[truncated: ${bytes} bytes]`;
}

function where(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

function bound(value: unknown, path: string, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new InvalidArgumentError(where(path), `nested deeper than ${MAX_DEPTH} levels`);
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
      return truncateField(value);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
    case 'undefined':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      throw new InvalidArgumentError(where(path), `a ${typeof value} cannot be audited`);
  }
  if (Array.isArray(value)) {
    if (value.length > MAX_ITEMS) throw new InvalidArgumentError(where(path), `more than ${MAX_ITEMS} items`);
    return value.map((item, i) => bound(item, `${path}[${i}]`, depth + 1) ?? null);
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: truncateField(value.name),
      message: truncateField(value.message),
      ...(typeof code === 'string' ? { code: truncateField(code) } : {}),
    };
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    throw new InvalidArgumentError(where(path), 'binary data is not audited (it may be a secret); audit hmac(value) instead');
  }
  if (value instanceof Map || value instanceof Set) {
    throw new InvalidArgumentError(where(path), 'Map and Set have no JSON form; convert to an object or array');
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_ITEMS) throw new InvalidArgumentError(where(path), `more than ${MAX_ITEMS} keys`);
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    const childPath = `${path}.${key}`;
    if (FORBIDDEN_KEYS.has(key.toLowerCase())) {
      throw new InvalidArgumentError(where(childPath), 'audit events must never carry secrets; audit hmac(identifier) instead');
    }
    const bounded = bound(item, childPath, depth + 1);
    if (bounded !== undefined) out[truncateField(key)] = bounded;
  }
  return out;
}
