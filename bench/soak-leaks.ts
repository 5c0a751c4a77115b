import { setTimeout as sleep } from 'node:timers/promises';

export interface VaultLeftovers {
  /** Live token accessors other than the root token's. */
  readonly tokens: readonly string[];
  /** Live leases under `database/creds/<role>/`. */
  readonly leases: readonly string[];
}

async function vaultCall(address: string, token: string, method: 'GET' | 'LIST', path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${address}/v1/${path}`, { method, headers: { 'X-Vault-Token': token } });
  const text = await res.text();
  if (res.status >= 300 && res.status !== 404) throw new Error(`${method} ${path}: HTTP ${res.status}`);
  return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
}

function keys(res: { status: number; body: unknown }): string[] {
  if (res.status === 404) return [];
  const list = (res.body as { data?: { keys?: unknown } } | null)?.data?.keys;
  if (!Array.isArray(list) || !list.every((k) => typeof k === 'string')) throw new Error('LIST answered without data.keys');
  return list;
}

/**
 * Asks the Vault server what is still alive: every token accessor but the root's (LIST
 * auth/token/accessors), and, when `dbRole` is given, every lease of its creds. Once every grant
 * is released, anything here is a leak.
 */
export async function vaultLeftovers(address: string, rootToken: string, dbRole?: string): Promise<VaultLeftovers> {
  const self = await vaultCall(address, rootToken, 'GET', 'auth/token/lookup-self');
  const rootAccessor = (self.body as { data?: { accessor?: unknown } } | null)?.data?.accessor;
  if (typeof rootAccessor !== 'string') throw new Error('lookup-self gave no accessor for the root token');
  const tokens = keys(await vaultCall(address, rootToken, 'LIST', 'auth/token/accessors')).filter((a) => a !== rootAccessor);
  const leases = dbRole === undefined ? [] : keys(await vaultCall(address, rootToken, 'LIST', `sys/leases/lookup/database/creds/${dbRole}/`));
  return { tokens, leases };
}

/** Polls until nothing is left or `waitMs` has passed (a revocation may still be on its way), then answers. */
export async function settledLeftovers(address: string, rootToken: string, dbRole: string | undefined, waitMs: number): Promise<VaultLeftovers> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const left = await vaultLeftovers(address, rootToken, dbRole);
    if ((left.tokens.length === 0 && left.leases.length === 0) || Date.now() >= deadline) return left;
    await sleep(250);
  }
}
