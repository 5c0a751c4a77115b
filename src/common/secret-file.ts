import { open, type FileHandle } from 'node:fs/promises';
import { ConfigError } from './errors.js';

/** A secret file holds one token, password or key: anything larger is the wrong file. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/** The error's code (ENOENT, EACCES, ...) only: an fs message could carry more than it should. */
function fsCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? ` (${code})` : '';
}

/**
 * Refuses a file others could read or replace: group/other bits set, or an owner that is neither
 * this process's user nor root (whoever owns it can chmod it at will). Checked on the open handle,
 * so the checked file is the read file even when the path is a symlink (as mounted secrets are).
 */
async function checkHandle(handle: FileHandle, path: string, keyPath: string): Promise<void> {
  const stat = await handle.stat();
  if (!stat.isFile()) throw new ConfigError(keyPath, `${path} is not a regular file`);
  if (process.platform === 'win32') return;
  if ((stat.mode & 0o077) !== 0) throw new ConfigError(keyPath, `${path} is mode ${octal(stat.mode)}; chmod 600 it`);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid && stat.uid !== 0) {
    throw new ConfigError(keyPath, `${path} is owned by uid ${stat.uid}, neither jitgated's user (uid ${uid}) nor root; chown it`);
  }
  if (stat.size > MAX_SECRET_FILE_BYTES) {
    throw new ConfigError(keyPath, `${path} is larger than ${MAX_SECRET_FILE_BYTES / 1024} KiB; a secret file holds one secret`);
  }
}

async function readBounded(handle: FileHandle, path: string, keyPath: string): Promise<string> {
  // One byte over the bound tells a file that grew after the stat from one that fits.
  const buffer = Buffer.alloc(MAX_SECRET_FILE_BYTES + 1);
  let length = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
    if (bytesRead === 0) break;
    length += bytesRead;
    if (length > MAX_SECRET_FILE_BYTES) {
      throw new ConfigError(keyPath, `${path} is larger than ${MAX_SECRET_FILE_BYTES / 1024} KiB; a secret file holds one secret`);
    }
  }
  return buffer.subarray(0, length).toString('utf8');
}

/**
 * Reads a secret from a file: the one reader every `*_file` key goes through (notifiers, the web
 * page's client secret, Vault auth, `state.password_file`). The file must be a regular file of at
 * most 64 KiB, mode 0600 or stricter, owned by this user or root. One trailing newline (as editors
 * and `echo` add) is not part of the secret; an empty or all-blank secret is refused. Errors are
 * ConfigError at `keyPath`, naming the file, never its content.
 */
export async function readSecretFile(path: string, keyPath: string): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new ConfigError(keyPath, `cannot read the secret file ${JSON.stringify(path)}${fsCode(err)}`, { cause: err });
  }
  let value: string;
  try {
    await checkHandle(handle, path, keyPath);
    value = await readBounded(handle, path, keyPath);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(keyPath, `cannot read the secret file ${JSON.stringify(path)}${fsCode(err)}`, { cause: err });
  } finally {
    await handle.close();
  }
  value = value.replace(/\r?\n$/, '');
  if (value.trim() === '') throw new ConfigError(keyPath, `the secret file ${JSON.stringify(path)} is empty`);
  return value;
}
