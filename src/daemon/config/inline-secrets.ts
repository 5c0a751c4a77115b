import type { ProblemList } from './config-problem.js';

/**
 * Keys that would put a secret into the config file itself. Config files get copied, committed and
 * printed; secrets belong in files readable only by the daemon, named by a `*_file` key.
 */
const SECRET_KEYS: ReadonlySet<string> = new Set([
  'token',
  'password',
  'passphrase',
  'secret',
  'secret_id',
  'role_id',
  'client_secret',
  'signing_secret',
  'signing_key',
  'hmac_key',
  'private_key',
  'key',
  'api_key',
  'bot_token',
  'auth_token',
  'webhook_secret',
]);

/** Places whose keys are user-chosen names (a resource called `token` is not a secret). */
function keysAreNames(path: readonly PropertyKey[]): boolean {
  const [a, b, c, d] = path;
  if (path.length === 1) return a === 'resources' || a === 'groups';
  if (path.length === 3) return a === 'resources' && c === 'env';
  if (path.length === 4) return a === 'identity' && b === 'ci' && typeof c === 'number' && d === 'claims';
  return false;
}

/** Reports every inline secret, naming the `*_file` key to use instead. */
export function findInlineSecrets(value: unknown, problems: ProblemList, path: PropertyKey[] = []): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      findInlineSecrets(item, problems, [...path, i]);
    });
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const names = keysAreNames(path);
  for (const [key, child] of Object.entries(value)) {
    if (!names && SECRET_KEYS.has(key)) {
      problems.add(
        [...path, key],
        `inline secrets are not allowed: put the value in a file readable only by jitgated and set "${key}_file" instead`,
      );
      continue;
    }
    findInlineSecrets(child, problems, [...path, key]);
  }
}

/** A connection URL that carries a password is an inline secret too. */
export function urlHasPassword(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  return parsed.password !== '' || parsed.searchParams.has('password');
}
