import { ConfigError, UnavailableError } from '../../../common/errors.js';
import { readSecretFile } from '../../../common/secret-file.js';

function fsCode(err: unknown): string | undefined {
  const code = err instanceof Error ? (err.cause as { code?: unknown } | undefined)?.code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * One of the daemon's Vault credentials (`token_file`, `role_id_file`, `secret_id_file`), read
 * through the shared secret-file reader and trimmed. A failure here is Vault being unusable,
 * not a configuration error (the config was checked at start-up), so it is an UnavailableError.
 * Messages name the file and key only; the fs error is reduced to its code so nothing else can leak.
 */
export async function readAuthSecret(file: string, key: string): Promise<string> {
  let text: string;
  try {
    text = await readSecretFile(file, `vault.auth.${key}`);
  } catch (err) {
    const code = fsCode(err);
    if (code !== undefined) {
      throw new UnavailableError(`vault auth: cannot read ${key} ${file} (${code})`, { cause: new Error(code) });
    }
    if (err instanceof ConfigError && err.message.endsWith(' is empty')) throw emptyFile(key, file);
    const reason = err instanceof ConfigError && err.path !== '' ? err.message.slice(err.path.length + 2) : 'read failed';
    throw new UnavailableError(`vault auth: ${key} ${file}: ${reason}`, { cause: new Error('read failed') });
  }
  const value = text.trim();
  if (value === '') throw emptyFile(key, file);
  return value;
}

function emptyFile(key: string, file: string): UnavailableError {
  return new UnavailableError(`vault auth: ${key} ${file} is empty`);
}
