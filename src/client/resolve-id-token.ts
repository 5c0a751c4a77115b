import { readFile } from 'node:fs/promises';
import { IdentityError } from '../common/errors.js';

export interface ResolveIdTokenOptions {
  /** `--id-token-file`. */
  readonly file?: string;
  /** The environment (the CLI passes `process.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * The one place the CLI finds the CI identity token: `--id-token-file`, else `JITGATE_ID_TOKEN`.
 * Undefined means none (fine in local trust mode). GitHub/GitLab acquisition (src/client/id-token.ts)
 * plugs in here.
 */
export async function resolveIdToken(options: ResolveIdTokenOptions): Promise<string | undefined> {
  if (options.file !== undefined) {
    let text: string;
    try {
      text = await readFile(options.file, 'utf8');
    } catch (err) {
      throw new IdentityError(`cannot read the identity token file ${options.file}`, { cause: err });
    }
    const token = text.trim();
    if (token === '') throw new IdentityError(`the identity token file ${options.file} is empty`);
    return token;
  }
  const fromEnv = options.env.JITGATE_ID_TOKEN?.trim();
  return fromEnv === '' ? undefined : fromEnv;
}
