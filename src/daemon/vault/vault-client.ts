import { secretApi } from './client/secret-api.js';
import { tokenApi } from './client/token-api.js';
import { createTransport } from './client/transport.js';
import { wrappingApi } from './client/wrapping-api.js';
import type { VaultClient, VaultClientOptions } from './client/api.js';

export type { ChildTokenRequest, VaultClient, VaultClientOptions, WrapInfo } from './client/api.js';
export { VaultHttpError } from './client/http-errors.js';

/** A Vault client: the transport (node-vault, loaded lazily) with the token and secret endpoints on top. */
export function createVaultClient(options: VaultClientOptions): VaultClient {
  const transport = createTransport(options);
  return {
    ...secretApi(transport.call),
    ...tokenApi(transport.call),
    ...wrappingApi(transport.call),
    setToken: (next) => {
      transport.setToken(next);
    },
    close: () => {
      transport.close();
    },
  };
}
