import { Agent, request } from 'node:http';

/**
 * Raw loopback HTTP to the Vault under test for the bench's own checks (is this token dead yet?),
 * kept off node-vault so the checks cost as little as possible and stay out of the timed paths.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

export function vaultStatus(address: string, method: 'GET' | 'POST', path: string, token: string, body?: unknown): Promise<number> {
  const url = new URL(`/v1/${path}`, address);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<number>((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers: { 'X-Vault-Token': token, ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }) },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** 403 from lookup-self: the token is revoked (or expired). */
export async function tokenRevoked(address: string, token: string): Promise<boolean> {
  const status = await vaultStatus(address, 'GET', 'auth/token/lookup-self', token);
  if (status === 403) return true;
  if (status === 200) return false;
  throw new Error(`lookup-self answered ${status}`);
}

export function closeVaultProbe(): void {
  agent.destroy();
}
