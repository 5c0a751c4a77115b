import http from 'node:http';
import https from 'node:https';
import type NodeVault from 'node-vault';
import type { VaultClientOptions } from './api.js';
import { toVaultError } from './http-errors.js';
import { requestPromiseFor } from './http-request.js';


/** One Vault call: run it on node-vault, map any failure to a `VaultHttpError`, parse the body. */
export type VaultCall = <T>(path: string, run: (vault: NodeVault.client) => Promise<unknown>, parse: (body: unknown) => T) => Promise<T>;

/** The node-vault instance behind every call, with the daemon's token and pooled connections. */
export interface Transport {
  readonly call: VaultCall;
  setToken(token: string): void;
  close(): void;
}

/** A call that POSTs `data` to `path` (node-vault's `write`). */
export function write(path: string, data: Record<string, unknown>): (vault: NodeVault.client) => Promise<unknown> {
  return (vault) => vault.write(path, data);
}

export function createTransport(options: VaultClientOptions): Transport {
  const address = options.address.replace(/\/+$/, '');
  const httpAgent = new http.Agent({ keepAlive: true });
  const httpsAgent = new https.Agent({ keepAlive: true, ...(options.caPem !== undefined ? { ca: options.caPem } : {}) });
  let token = options.token ?? '';
  let vault: NodeVault.client | undefined;
  const requestPromise = requestPromiseFor({ http: httpAgent, https: httpsAgent }, options.timeoutMs);
  // node-vault (with axios and tv4) is loaded on the first call, not at import: it is a tenth of
  // the daemon's cold start and nothing before the first Vault call needs it.
  let loading: Promise<NodeVault.client> | undefined;
  const client = (): Promise<NodeVault.client> =>
    (loading ??= import('node-vault').then(({ default: createNodeVault }) => {
      const created = createNodeVault({
        endpoint: address,
        apiVersion: 'v1',
        token,
        // node-vault's `debug` prints request bodies (secret_id, token create) when DEBUG is set.
        debug: () => undefined,
        // node-vault's commands and response handling over node:http (http-request.ts), not axios.
        'request-promise': requestPromise,
      });
      // node-vault falls back to VAULT_TOKEN / VAULT_PREFIX / VAULT_NAMESPACE from the environment;
      // the daemon's configuration is the only source of truth.
      created.token = token;
      Object.assign(created, { pathPrefix: '', namespace: undefined });
      vault = created;
      return created;
    }));

  return {
    async call(path, run, parse) {
      let body: unknown;
      try {
        body = await run(vault ?? (await client()));
      } catch (err) {
        throw toVaultError(path, err);
      }
      return parse(body);
    },
    setToken(next) {
      token = next;
      if (vault) vault.token = next;
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
