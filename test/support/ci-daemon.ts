import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCiIssuer, type CiIssuer } from './ci-issuer.js';
import { postgresState } from './postgres-state.js';
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

export interface CiDaemonOptions {
  readonly policies: string;
  readonly kind: 'github' | 'gitlab';
  readonly tmpPrefix: string;
  /** Approvers name themselves (`jitgate approve ID --as bob`), as in local mode; CI identity stays verified. */
  readonly localApprovers?: boolean;
  /** The daemon's own state in the Vault server's PostgreSQL (a fresh database) instead of SQLite. */
  readonly postgresState?: boolean;
  readonly extraConfig?: string;
}

export async function startCiDaemon(options: CiDaemonOptions): Promise<CiDaemon> {
  const env = await startVaultWithDatabase();
  const issuer = await startCiIssuer();
  const state = options.postgresState ? await postgresStateIn(env) : undefined;
  const daemon = await DaemonProcess.start({
    vaultEnv: env,
    policies: options.policies,
    ...(state ? { state: `state: ${state.line}` } : {}),
    ...(options.extraConfig !== undefined ? { extraConfig: options.extraConfig } : {}),
    identity: `identity:${options.localApprovers ? '\n  local: { approvers: true }' : ''}
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
      if (state) await rm(state.dir, { recursive: true, force: true });
    },
  };
}

/** A fresh state database (test/support/postgres-state.ts), its password file in a temp dir of its own. */
async function postgresStateIn(env: VaultWithDatabase): Promise<{ line: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'jitgate-pgstate-'));
  return { line: (await postgresState(env, dir)).value, dir };
}
