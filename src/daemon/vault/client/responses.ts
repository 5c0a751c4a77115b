import { malformed } from './http-errors.js';

/** Vault answers are untrusted JSON: these read them field by field, never by cast. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

export interface AuthBlock {
  token: string;
  accessor: string;
  leaseDurationS: number;
  renewable: boolean;
}

/** The `auth` block of a login or token-create answer; a missing client token is malformed. */
export function parseAuth(path: string, body: unknown): AuthBlock {
  const auth = asRecord(asRecord(body)?.auth);
  const token = auth?.client_token;
  if (!auth || typeof token !== 'string' || token === '') throw malformed(path, 'a client token');
  return {
    token,
    accessor: typeof auth.accessor === 'string' ? auth.accessor : '',
    leaseDurationS: num(auth.lease_duration),
    renewable: auth.renewable === true,
  };
}

/** The `data` block of an answer; missing is malformed. */
export function dataOf(path: string, body: unknown): Record<string, unknown> {
  const data = asRecord(asRecord(body)?.data);
  if (!data) throw malformed(path, 'data');
  return data;
}
