import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCiIssuer, type CiIssuer } from './ci-issuer.js';
import { DaemonProcess } from './daemon-process.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

/** A real jitgated that trusts one jose-built CI issuer (JWKS over HTTP), on the Vault-compatible server. */
export interface CiDaemon {
  readonly env: VaultWithDatabase;
  readonly issuer: CiIssuer;
  readonly daemon: DaemonProcess;
  /** A scratch directory, removed by `close`. */
  readonly out: string;
  close(): Promise<void>;
}

export async function startCiDaemon(options: { readonly policies: string; readonly kind: 'github' | 'gitlab'; readonly tmpPrefix: string }): Promise<CiDaemon> {
  const env = await startVaultWithDatabase();
  const issuer = await startCiIssuer();
  const daemon = await DaemonProcess.start({
    vaultEnv: env,
    policies: options.policies,
    identity: `identity:
  ci:
    - issuer: ${issuer.issuer}
      audience: jitgate
      kind: ${options.kind}`,
  });
  const out = await mkdtemp(join(tmpdir(), options.tmpPrefix));
  return {
    env,
    issuer,
    daemon,
    out,
    async close() {
      await daemon.close();
      await issuer.close();
      await env.stop();
      await rm(out, { recursive: true, force: true });
    },
  };
}
