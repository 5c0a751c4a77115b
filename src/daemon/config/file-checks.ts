/**
 * The files a config names, checked the way the daemon will use them: every secret file through
 * the one secret-file reader (mode, owner, size, not empty), every TLS file parsed as PEM.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../../common/errors.js';
import { readSecretFile } from '../../common/secret-file.js';
import type { ProblemList } from './config-problem.js';
import type { ConfigSections } from './config-sections.js';
import { mapAudit } from './to-config.js';
import type { NotifierConfig } from './types.js';

/** CA bundles can be long; anything beyond this is not a certificate file. */
const MAX_PEM_FILE_BYTES = 4 * 1024 * 1024;
/** As the audit writer requires (src/daemon/audit/audit-keys.ts). */
const MIN_HMAC_KEY_BYTES = 32;

/** Audit keys are created at start when absent; an existing one must be usable, or the daemon stops. */
type FileKind = 'secret' | 'certificate' | 'private-key' | 'audit-signing-key' | 'audit-hmac-key';

interface FileRef {
  readonly keyPath: string;
  readonly file: string;
  readonly kind: FileKind;
}

/** Every file a section names, with its key path; relative paths resolve against `baseDir`. */
function fileRefs(sections: ConfigSections, notifiers: readonly (readonly [number, NotifierConfig])[], baseDir: string): FileRef[] {
  const refs: FileRef[] = [];
  const add = (keyPath: string, file: string | undefined, kind: FileKind): void => {
    if (file !== undefined) refs.push({ keyPath, file: isAbsolute(file) ? file : resolve(baseDir, file), kind });
  };
  const tls = sections.listen?.tcp?.tls;
  add('listen.tcp.tls.cert_file', tls?.cert_file, 'certificate');
  add('listen.tcp.tls.key_file', tls?.key_file, 'private-key');
  add('listen.tcp.tls.client_ca_file', tls?.client_ca_file, 'certificate');
  if (sections.state?.postgres !== undefined) add('state.password_file', sections.state.password_file, 'secret');
  const auth = sections.vault?.auth;
  add('vault.auth.token_file', auth?.token_file, 'secret');
  add('vault.auth.approle.role_id_file', auth?.approle?.role_id_file, 'secret');
  add('vault.auth.approle.secret_id_file', auth?.approle?.secret_id_file, 'secret');
  add('vault.ca_file', sections.vault?.ca_file, 'certificate');
  if (!sections.failed.has('audit')) {
    const audit = mapAudit(sections.audit, (path) => (isAbsolute(path) ? path : resolve(baseDir, path)));
    add('audit.signing_key_file', audit.signingKeyFile, 'audit-signing-key');
    add('audit.hmac_key_file', audit.hmacKeyFile, 'audit-hmac-key');
  }
  add('identity.approvers.web.client_secret_file', sections.identity?.approvers?.web?.client_secret_file, 'secret');
  for (const [i, entry] of notifiers) {
    const at = `notifiers[${i}].${entry.kind}`;
    if (entry.kind === 'slack') {
      add(`${at}.token_file`, entry.tokenFile, 'secret');
      add(`${at}.signing_secret_file`, entry.signingSecretFile, 'secret');
    } else if (entry.kind === 'webhook') {
      add(`${at}.secret_file`, entry.secretFile, 'secret');
    } else {
      add(`${at}.smtp.password_file`, entry.smtp.passwordFile, 'secret');
      add(`${at}.smtp.ca_file`, entry.smtp.caFile, 'certificate');
    }
  }
  return refs;
}

function fsCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? ` (${code})` : '';
}

async function readPem(ref: FileRef): Promise<string> {
  try {
    const info = await stat(ref.file);
    if (!info.isFile()) throw new ConfigError(ref.keyPath, `${ref.file} is not a regular file`);
    if (info.size > MAX_PEM_FILE_BYTES) throw new ConfigError(ref.keyPath, `${ref.file} is too large for a certificate file`);
    return await readFile(ref.file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(ref.keyPath, `cannot read ${JSON.stringify(ref.file)}${fsCode(err)}`, { cause: err });
  }
}

/** An existing audit key as the audit writer loads it; a missing one is created at start. */
async function checkAuditKey(ref: FileRef): Promise<void> {
  let raw: Buffer;
  try {
    raw = await readFile(ref.file);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return;
    throw new ConfigError(ref.keyPath, `cannot read ${JSON.stringify(ref.file)}${fsCode(err)}`, { cause: err });
  }
  if (ref.kind === 'audit-hmac-key') {
    if (raw.toString('latin1').replace(/[\n\r \t]+$/, '').length < MIN_HMAC_KEY_BYTES) {
      throw new ConfigError(ref.keyPath, `${ref.file} holds fewer than ${MIN_HMAC_KEY_BYTES} bytes`);
    }
    return;
  }
  let type: string | undefined;
  try {
    type = createPrivateKey(raw.toString('utf8')).asymmetricKeyType;
  } catch (err) {
    throw new ConfigError(ref.keyPath, `${ref.file} is not a PEM private key`, { cause: err });
  }
  if (type !== 'ed25519') throw new ConfigError(ref.keyPath, `${ref.file} is not an Ed25519 key`);
}

/** Parses the file as the daemon will; messages name the file, never its content. */
async function checkFile(ref: FileRef): Promise<void> {
  if (ref.kind === 'audit-signing-key' || ref.kind === 'audit-hmac-key') {
    await checkAuditKey(ref);
  } else if (ref.kind === 'secret') {
    await readSecretFile(ref.file, ref.keyPath);
  } else if (ref.kind === 'private-key') {
    // A private key is a secret: the same mode and owner rules as every other secret file.
    const pem = await readSecretFile(ref.file, ref.keyPath);
    try {
      createPrivateKey({ key: pem, format: 'pem' });
    } catch (err) {
      throw new ConfigError(ref.keyPath, `${ref.file} is not a PEM private key`, { cause: err });
    }
  } else {
    const pem = await readPem(ref);
    let ok = pem.includes('-----BEGIN CERTIFICATE-----');
    try {
      if (ok) new X509Certificate(pem);
    } catch {
      ok = false;
    }
    if (!ok) throw new ConfigError(ref.keyPath, `${ref.file} is not a PEM certificate`);
  }
}

/** Checks every named file; reports each unusable one at its key path. */
export async function checkFiles(
  sections: ConfigSections,
  notifiers: readonly (readonly [number, NotifierConfig])[],
  baseDir: string,
  problems: ProblemList,
): Promise<void> {
  for (const ref of fileRefs(sections, notifiers, baseDir)) {
    try {
      await checkFile(ref);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.addError(err);
    }
  }
}
