import { UnavailableError } from '../../../common/errors.js';
import type { VaultAuthConfig } from '../../config/types.js';
import type { VaultClient } from '../client/api.js';
import { readAuthSecret } from './secret-files.js';

export interface LoginResult {
  /** Seconds the daemon's token lives; 0 means it never expires (e.g. a root token in development). */
  readonly ttlS: number;
  readonly renewable: boolean;
}

/** Logs the daemon in: a token from `token_file` (checked by looking itself up), or an AppRole login. */
export async function login(client: VaultClient, auth: VaultAuthConfig): Promise<LoginResult> {
  if (auth.kind === 'none') throw new UnavailableError('vault: this daemon holds no Vault credentials (a fleet runner under fleet.mint: plane)');
  if (auth.kind === 'token') {
    client.setToken(await readAuthSecret(auth.tokenFile, 'token_file'));
    return client.lookupSelf();
  }
  const roleId = await readAuthSecret(auth.roleIdFile, 'role_id_file');
  const secretId = await readAuthSecret(auth.secretIdFile, 'secret_id_file');
  const result = await client.loginAppRole(auth.mount, roleId, secretId);
  client.setToken(result.token);
  return { ttlS: result.leaseDurationS, renewable: result.renewable };
}
