import { badRequest } from './api-error.js';

/** Vault's system-wide default and maximum lease TTL (768h), in seconds. */
export const SYSTEM_MAX_TTL_S = 768 * 3600;

export type Body = Readonly<Record<string, unknown>>;

const UNIT_S: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 };

/** Parses a Vault duration field: seconds as a number or numeric string, or Go-style "90s", "1h30m". */
export function durationSeconds(value: unknown, field: string): number {
  if (value === undefined || value === null || value === '') return 0;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw badRequest(`invalid value for ${field}`);
    return Math.floor(value);
  }
  if (typeof value !== 'string') throw badRequest(`invalid value for ${field}`);
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^(?:\d+(?:\.\d+)?(?:ns|us|ms|s|m|h|d))+$/.test(text)) throw badRequest(`invalid duration for ${field}: ${JSON.stringify(text)}`);
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h|d)/g)) {
    total += Number(amount) * (UNIT_S[unit ?? ''] ?? Number.NaN);
  }
  return Math.floor(total);
}

/** A list field: a JSON array or a comma-separated string, as Vault accepts both. */
export function stringList(value: unknown, field: string): string[] {
  if (value === undefined || value === null || value === '') return [];
  if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (Array.isArray(value)) {
    return value.map((v: unknown) => {
      if (typeof v !== 'string') throw badRequest(`invalid value for ${field}: expected strings`);
      return v.trim();
    }).filter((s) => s !== '');
  }
  throw badRequest(`invalid value for ${field}`);
}

export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') throw badRequest(`invalid value for ${field}: expected a string`);
  return value;
}

export function bool(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1' || value === 1) return true;
  if (value === 'false' || value === '0' || value === 0) return false;
  throw badRequest(`invalid value for ${field}: expected a boolean`);
}

export function integer(value: unknown, field: string, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw badRequest(`invalid value for ${field}: expected an integer`);
  return n;
}

export function stringMap(value: unknown, field: string): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest(`invalid value for ${field}: expected an object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw badRequest(`invalid value for ${field}.${k}: expected a string`);
    out[k] = v;
  }
  return out;
}

/** RFC 3339 as Vault prints it. */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString();
