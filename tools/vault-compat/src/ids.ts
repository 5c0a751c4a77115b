import { randomBytes, randomUUID } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Uniform base62 string (rejection sampling keeps the distribution unbiased). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62] ?? '';
    }
  }
  return out;
}

/** A service token shaped like Vault's (`hvs.` prefix). */
export const newTokenId = (): string => `hvs.${randomBase62(24)}`;
export const newAccessor = (): string => randomBase62(24);
export const newRequestId = (): string => randomUUID();
