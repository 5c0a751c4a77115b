import { readFileSync } from 'node:fs';
import { errorMessage } from '../common/errors.js';
import { UsageError } from './exit-codes.js';

/** Env var naming the file that holds the approver's IdP ID token. */
export const APPROVER_TOKEN_FILE_ENV = 'JITGATE_APPROVER_TOKEN_FILE';

const MAX_TOKEN_BYTES = 16 * 1024;
const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Reads the approver's IdP ID token from `file` (surrounding whitespace ignored). Synchronous
 * because the CLI reads it once before it connects. Messages name the file, never its content.
 */
export function readApproverToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      `--approver-token-file: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? errorMessage(err))}`,
    );
  }
  if (Buffer.byteLength(text) > MAX_TOKEN_BYTES) throw new UsageError(`--approver-token-file: ${file} is too large for an ID token`);
  const token = text.trim();
  if (token === '') throw new UsageError(`--approver-token-file: ${file} is empty`);
  if (!JWT_RE.test(token)) throw new UsageError(`--approver-token-file: ${file} does not hold a JWT (header.payload.signature)`);
  return token;
}
