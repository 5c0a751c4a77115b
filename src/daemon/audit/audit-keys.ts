import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { auditKeyId, publicKeyToSpkiBase64 } from '../../common/audit-chain.js';
import { ConfigError, UnavailableError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';

export interface AuditKeys {
  /** Signs checkpoints. */
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Base64 SPKI DER, as written into `log.opened`. */
  readonly publicKeySpki: string;
  /** First 16 hex of sha256(raw public key). */
  readonly keyId: string;
  /** Keys `hmac()`: identifiers are audited as HMACs so the log never holds a usable secret. */
  readonly hmacKey: Buffer;
}

export interface LoadOrCreateKeysOptions {
  /** Ed25519 private key, PKCS#8 PEM. */
  readonly signingKeyFile: string;
  /** At least 32 bytes; trailing whitespace is ignored so `echo`-written files work. */
  readonly hmacKeyFile: string;
  readonly logger: Logger;
}

const MIN_HMAC_KEY_BYTES = 32;

/**
 * Reads the audit keys, creating each missing file (mode 0600, directories 0700). An existing but
 * unreadable or wrong-type key stops start-up: silently replacing it would orphan the old checkpoints.
 */
export async function loadOrCreateKeys(options: LoadOrCreateKeysOptions): Promise<AuditKeys> {
  const signingPem = await readOrCreate(options.signingKeyFile, options.logger, () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  });
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(signingPem);
  } catch (err) {
    throw new ConfigError('audit.signingKeyFile', `${options.signingKeyFile} is not a PEM private key`, { cause: err });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError('audit.signingKeyFile', `${options.signingKeyFile} is not an Ed25519 key`);
  }
  const publicKey = createPublicKey(privateKey);

  const hmacRaw = await readOrCreate(options.hmacKeyFile, options.logger, () => `${randomBytes(32).toString('hex')}\n`);
  let end = hmacRaw.length;
  while (end > 0 && [0x0a, 0x0d, 0x20, 0x09].includes(hmacRaw[end - 1] ?? 0)) end--;
  const hmacKey = Buffer.from(hmacRaw.subarray(0, end));
  if (hmacKey.length < MIN_HMAC_KEY_BYTES) {
    throw new ConfigError('audit.hmacKeyFile', `${options.hmacKeyFile} holds fewer than ${MIN_HMAC_KEY_BYTES} bytes`);
  }
  return { privateKey, publicKey, publicKeySpki: publicKeyToSpkiBase64(publicKey), keyId: auditKeyId(publicKey), hmacKey };
}

export function hmacHex(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex');
}

async function readOrCreate(path: string, logger: Logger, make: () => string): Promise<Buffer> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    try {
      // 'wx' never overwrites: two daemons starting together cannot replace each other's key.
      await writeFile(path, make(), { mode: 0o600, flag: 'wx' });
      logger.info({ file: path }, 'created audit key file');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const { mode } = await stat(path);
    if (mode & 0o077) logger.warn({ file: path, mode: (mode & 0o777).toString(8) }, 'audit key file is readable by others; chmod 600 it');
    return await readFile(path);
  } catch (err) {
    throw new UnavailableError(`cannot read or create audit key file ${path}: ${errorMessage(err)}`, { cause: err });
  }
}
