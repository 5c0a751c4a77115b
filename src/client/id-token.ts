import { readFile } from 'node:fs/promises';
import { IdentityError, errorMessage } from '../common/errors.js';

export interface ObtainIdTokenOptions {
  /** The environment to look in (usually `process.env`, passed in by the CLI). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The audience the daemon's issuer config expects. */
  readonly audience: string;
  /** `--id-token-file`: wins over everything else. */
  readonly file?: string;
  /** GitLab `id_tokens` variable name. Default `JITGATE_ID_TOKEN`. */
  readonly gitlabVariable?: string;
  /** Test seam; default global fetch. */
  readonly fetch?: typeof fetch;
}

const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const REQUEST_TIMEOUT_MS = 15_000;

/** Only the shape is checked here; the daemon verifies. The token never goes into a message. */
function checkToken(token: string, source: string): string {
  const trimmed = token.trim();
  if (trimmed === '') throw new IdentityError(`the CI identity token from ${source} is empty`);
  if (!JWT_RE.test(trimmed)) throw new IdentityError(`the CI identity token from ${source} is not a JWT`);
  return trimmed;
}

async function fromGithub(url: string, requestToken: string, options: ObtainIdTokenOptions): Promise<string> {
  let target: URL;
  try {
    target = new URL(url);
  } catch (cause) {
    throw new IdentityError('ACTIONS_ID_TOKEN_REQUEST_URL is not a valid URL', { cause });
  }
  target.searchParams.set('audience', options.audience);
  const doFetch = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(target, {
      headers: { authorization: `bearer ${requestToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (cause) {
    throw new IdentityError(`cannot request a GitHub Actions identity token: ${errorMessage(cause)}`, { cause });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new IdentityError(
      `GitHub Actions refused the identity token request (HTTP ${response.status}); does the job have \`permissions: id-token: write\`?`,
    );
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (cause) {
    throw new IdentityError('the GitHub Actions identity token response is not JSON', { cause });
  }
  const value = typeof body === 'object' && body !== null ? (body as { value?: unknown }).value : undefined;
  if (typeof value !== 'string') throw new IdentityError('the GitHub Actions identity token response has no value');
  return checkToken(value, 'GitHub Actions');
}

/**
 * Finds the CI's OIDC identity token, in this order: an explicit file (`--id-token-file`), the
 * GitHub Actions token-request endpoint (asked for `audience`), the GitLab `id_tokens` variable.
 * When none is available the error says what is missing and how to enable each.
 */
export async function obtainIdToken(options: ObtainIdTokenOptions): Promise<string> {
  const { env, audience } = options;
  if (options.file !== undefined) {
    let text: string;
    try {
      text = await readFile(options.file, 'utf8');
    } catch (cause) {
      throw new IdentityError(`cannot read the identity token file ${options.file}: ${errorMessage(cause)}`, { cause });
    }
    return checkToken(text, options.file);
  }

  const url = env['ACTIONS_ID_TOKEN_REQUEST_URL'];
  const requestToken = env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
  if (url && requestToken) return fromGithub(url, requestToken, options);

  const variable = options.gitlabVariable ?? 'JITGATE_ID_TOKEN';
  const fromEnv = env[variable];
  if (fromEnv) return checkToken(fromEnv, `$${variable}`);

  const github =
    url || requestToken
      ? `on GitHub Actions only ${url ? 'ACTIONS_ID_TOKEN_REQUEST_URL' : 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'} is set`
      : 'on GitHub Actions ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set';
  throw new IdentityError(
    `no CI identity token found: ${github} (give the job \`permissions: id-token: write\`); ` +
      `on GitLab CI $${variable} is not set (add \`id_tokens: ${variable}: aud: ${audience}\` to the job); ` +
      'or pass --id-token-file FILE',
  );
}
