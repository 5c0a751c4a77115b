import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import createNodeVault from 'node-vault';
import { requestPromiseFor } from '../src/daemon/vault/client/http-request.js';
import { elapsedMs } from './stats.js';
import type { BenchVault } from './vault-process.js';

export interface DirectSample {
  /** Child token create (+ the dynamic read under it), ms. */
  readonly grantMs: number;
  /** Revoke of that token (which revokes its lease), ms. */
  readonly revokeMs: number;
}

export interface DirectGrant {
  readonly grantMs: number;
  /** Of the child token, for the revoke. */
  readonly accessor: string;
}

export interface DirectVault {
  /** Child token create (+ the read under it), timed; the token stays alive until `revoke`. */
  grant(read: string | undefined): Promise<DirectGrant>;
  /** Revokes the token (and so its lease) by accessor; ms. */
  revoke(accessor: string): Promise<number>;
  /** `grant` then `revoke`. */
  once(read: string | undefined): Promise<DirectSample>;
  close(): void;
}

/**
 * The alternative to the gate: a CI step holding a Vault token that calls Vault itself with
 * node-vault, as the daemon's broker does (child token via `write('auth/token/create')`, never
 * tokenCreate*, then the read with the child token), over keep-alive HTTP and the same HTTP layer
 * (node:http under node-vault, src/daemon/vault/client/http-request.ts), so the baseline is as
 * fast a direct call as the daemon's own.
 */
export function createDirectVault(vault: BenchVault): DirectVault {
  const httpAgent = new Agent({ keepAlive: true });
  const httpsAgent = new HttpsAgent({ keepAlive: true });
  const transport = { 'request-promise': requestPromiseFor({ http: httpAgent, https: httpsAgent }, 10_000) };
  const root = createNodeVault({ endpoint: vault.address, apiVersion: 'v1', token: vault.rootToken, ...transport });
  // One client whose token is swapped per grant, as a step would hold exactly one child token.
  const child = createNodeVault({ endpoint: vault.address, apiVersion: 'v1', ...transport });
  const grant = async (read: string | undefined): Promise<DirectGrant> => {
    const start = process.hrtime.bigint();
    const created = (await root.write('auth/token/create', {
      policies: [...vault.policies],
      ttl: '60s',
      explicit_max_ttl: '60s',
      renewable: false,
      meta: { bench: 'direct' },
      display_name: 'bench-direct',
    })) as { auth?: { client_token?: unknown; accessor?: unknown } };
    const token = created.auth?.client_token;
    const accessor = created.auth?.accessor;
    if (typeof token !== 'string' || typeof accessor !== 'string') throw new Error('direct: auth/token/create gave no token');
    if (read !== undefined) {
      child.token = token;
      const secret = (await child.read(read)) as { data?: Record<string, unknown> };
      if (typeof secret.data?.password !== 'string') throw new Error(`direct: ${read} gave no password`);
    }
    return { grantMs: elapsedMs(start), accessor };
  };
  const revoke = async (accessor: string): Promise<number> => {
    const revokeStart = process.hrtime.bigint();
    await root.write('auth/token/revoke-accessor', { accessor });
    return elapsedMs(revokeStart);
  };
  return {
    grant,
    revoke,
    async once(read) {
      const { grantMs, accessor } = await grant(read);
      return { grantMs, revokeMs: await revoke(accessor) };
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
