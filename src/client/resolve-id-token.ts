import { IdentityError } from '../common/errors.js';
import { obtainIdToken } from './id-token.js';

export interface ResolveIdTokenOptions {
  /** `--id-token-file`. */
  readonly file?: string;
  /** The environment (the CLI passes `process.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Audience to ask the CI for (`--audience`, env `JITGATE_AUDIENCE`, default `jitgate`). */
  readonly audience: string;
  /** Test seam for the GitHub Actions token request. */
  readonly fetch?: typeof fetch;
}

export type ResolvedIdToken = { readonly token: string } | { readonly token: undefined; readonly hint: string };

const GITLAB_VARIABLE = 'JITGATE_ID_TOKEN';

/**
 * The one place the CLI finds the CI identity token: `--id-token-file`, the GitHub Actions
 * token-request endpoint, or the GitLab `id_tokens` variable. When none is available that is not
 * an error yet (a development daemon in local trust mode needs none); the hint says how to
 * enable one, for when the daemon asks for a token.
 */
export async function resolveIdToken(options: ResolveIdTokenOptions): Promise<ResolvedIdToken> {
  const { env } = options;
  const available =
    options.file !== undefined ||
    Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) ||
    Boolean(env[GITLAB_VARIABLE]?.trim());
  try {
    const token = await obtainIdToken({
      env,
      audience: options.audience,
      gitlabVariable: GITLAB_VARIABLE,
      ...(options.file !== undefined ? { file: options.file } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    return { token };
  } catch (err) {
    if (available || !(err instanceof IdentityError)) throw err;
    return { token: undefined, hint: err.message };
  }
}
