import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'; // no 0/o/1/l: ids are read aloud and typed

/** A short random id with a type prefix, e.g. `req_7hx2mq9c4tkw`; 60 bits of randomness. */
export function newId(prefix: string): string {
  const bytes = randomBytes(12);
  let out = '';
  for (const byte of bytes) out += ALPHABET.charAt(byte & 31);
  return `${prefix}_${out}`;
}

/** An unguessable token (e.g. a release token): 256 bits, base64url. */
export function newSecretToken(): string {
  return randomBytes(32).toString('base64url');
}
