import http from 'node:http';
import https from 'node:https';
import type NodeVault from 'node-vault';
import { UnavailableError } from '../../common/errors.js';

/**
 * The only door to node-vault. Everything above this file sees typed results and one error class,
 * and never node-vault's quirks: its `tokenCreate*` helpers overwrite the client's own token, its
 * generated helpers send the verb LIST, and it reads VAULT_* environment variables as defaults.
 */
export interface VaultClient {
  health(): Promise<{ initialized: boolean; sealed: boolean }>;
  createChildToken(req: ChildTokenRequest): Promise<{ token: string; accessor: string; leaseDurationS: number }>;
  /** Reads `path` WITH `token` (not the daemon's), so any lease belongs to that token. */
  read(path: string, token: string): Promise<{ leaseId: string | null; leaseDurationS: number; data: Record<string, unknown> }>;
  /** Resolves when the accessor is already gone. */
  revokeAccessor(accessor: string): Promise<void>;
  /** Synchronous revoke: resolves once Vault has dropped the secret behind the lease. */
  revokeLease(leaseId: string): Promise<void>;
  /** Null when the token behind the accessor no longer exists. */
  lookupAccessor(accessor: string): Promise<{ ttlS: number } | null>;
  /** The daemon's own token. */
  lookupSelf(): Promise<{ ttlS: number; renewable: boolean }>;
  loginAppRole(mount: string, roleId: string, secretId: string): Promise<{ token: string; leaseDurationS: number; renewable: boolean }>;
  renewSelf(): Promise<{ leaseDurationS: number }>;
  setToken(token: string): void;
  /** Drops pooled connections. */
  close(): void;
}

export interface ChildTokenRequest {
  readonly policies: readonly string[];
  readonly ttl: string;
  readonly explicitMaxTtl: string;
  readonly renewable: false;
  readonly meta: Readonly<Record<string, string>>;
  readonly displayName: string;
  readonly noDefaultPolicy?: boolean;
}

export interface VaultClientOptions {
  readonly address: string;
  readonly timeoutMs: number;
  readonly token?: string;
  readonly caPem?: string;
}

/**
 * A Vault call failed. `status` is the HTTP status, or null when no answer came (refused, reset,
 * timed out). Messages carry the path and status only: Vault's own error text is kept out because
 * some endpoints echo parts of their input.
 */
export class VaultHttpError extends UnavailableError {
  constructor(
    readonly path: string,
    readonly status: number | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Worth another attempt: no answer at all, or a server-side failure. 4xx will not change. */
  get retryable(): boolean {
    return this.status === null || this.status >= 500 || this.status === 429;
  }

  /** Vault's `errors[0]`, for recognising "already gone" answers; never put into messages. */
  vaultMessage = '';
}

interface NodeVaultError {
  message?: unknown;
  code?: unknown;
  response?: { statusCode?: unknown; body?: unknown };
}

/**
 * A stand-in for the original error: axios errors carry the request config, headers included (the
 * X-Vault-Token), so they must not travel up as `cause` where a logger could serialise them.
 */
function safeCause(err: unknown): Error {
  const e = (err ?? {}) as NodeVaultError;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const status = typeof e.response?.statusCode === 'number' ? e.response.statusCode : undefined;
  const text = status !== undefined ? `HTTP ${status}` : code ?? 'request failed';
  const cause = new Error(text);
  if (code !== undefined) Object.assign(cause, { code });
  return cause;
}

function describeFailure(err: unknown): string {
  const e = (err ?? {}) as NodeVaultError;
  if (typeof e.code === 'string') {
    if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT') return 'timed out';
    return `unreachable (${e.code})`;
  }
  return 'unreachable';
}

function toVaultError(path: string, err: unknown): VaultHttpError {
  const e = (err ?? {}) as NodeVaultError;
  const status = typeof e.response?.statusCode === 'number' ? e.response.statusCode : null;
  const message = status === null ? `vault: ${path} ${describeFailure(err)}` : `vault: ${path} answered ${status}`;
  const wrapped = new VaultHttpError(path, status, message, { cause: safeCause(err) });
  const body = e.response?.body as { errors?: unknown } | undefined;
  if (body && Array.isArray(body.errors) && typeof body.errors[0] === 'string') {
    wrapped.vaultMessage = body.errors[0];
  }
  return wrapped;
}

function malformed(path: string, what: string): VaultHttpError {
  return new VaultHttpError(path, 200, `vault: ${path} answered without ${what}`);
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

interface AuthBlock {
  token: string;
  accessor: string;
  leaseDurationS: number;
  renewable: boolean;
}

function parseAuth(path: string, body: unknown): AuthBlock {
  const auth = asRecord(asRecord(body)?.auth);
  const token = auth?.client_token;
  if (!auth || typeof token !== 'string' || token === '') throw malformed(path, 'a client token');
  return {
    token,
    accessor: typeof auth.accessor === 'string' ? auth.accessor : '',
    leaseDurationS: num(auth.lease_duration),
    renewable: auth.renewable === true,
  };
}

const GONE_ACCESSOR = /invalid accessor|not found|no such/i;

export function createVaultClient(options: VaultClientOptions): VaultClient {
  const address = options.address.replace(/\/+$/, '');
  const httpAgent = new http.Agent({ keepAlive: true });
  const httpsAgent = new https.Agent({ keepAlive: true, ...(options.caPem !== undefined ? { ca: options.caPem } : {}) });
  let token = options.token ?? '';
  let vault: NodeVault.client | undefined;
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
        requestOptions: { timeout: options.timeoutMs, httpAgent, httpsAgent },
      });
      // node-vault falls back to VAULT_TOKEN / VAULT_PREFIX / VAULT_NAMESPACE from the environment;
      // the daemon's configuration is the only source of truth.
      created.token = token;
      Object.assign(created, { pathPrefix: '', namespace: undefined });
      vault = created;
      return created;
    }));

  async function call<T>(path: string, run: (vault: NodeVault.client) => Promise<unknown>, parse: (body: unknown) => T): Promise<T> {
    let body: unknown;
    try {
      body = await run(vault ?? (await client()));
    } catch (err) {
      throw toVaultError(path, err);
    }
    return parse(body);
  }

  const write =
    (path: string, data: Record<string, unknown>) =>
    (vault: NodeVault.client): Promise<unknown> =>
      vault.write(path, data);

  return {
    health: () =>
      call(
        'sys/health',
        // sys/health answers 429/472/473 for standbys and 503 when sealed; node-vault hands any of
        // those back as a body, so the seal status is read from the body.
        (vault) => vault.request({ path: '/sys/health?standbyok=true&perfstandbyok=true', method: 'GET' }),
        (body) => {
          const b = asRecord(body);
          if (typeof b?.sealed !== 'boolean' || typeof b.initialized !== 'boolean') throw malformed('sys/health', 'a seal status');
          return { initialized: b.initialized, sealed: b.sealed };
        },
      ),

    createChildToken: (req) =>
      call(
        'auth/token/create',
        // Not tokenCreate(): node-vault would replace the daemon's own token with the child's.
        write('auth/token/create', {
            policies: [...req.policies],
            ttl: req.ttl,
            explicit_max_ttl: req.explicitMaxTtl,
            renewable: req.renewable,
            meta: { ...req.meta },
            display_name: req.displayName,
          no_default_policy: req.noDefaultPolicy ?? false,
        }),
        (body) => {
          const auth = parseAuth('auth/token/create', body);
          if (auth.accessor === '') throw malformed('auth/token/create', 'an accessor');
          return { token: auth.token, accessor: auth.accessor, leaseDurationS: auth.leaseDurationS };
        },
      ),

    read: (path, token) =>
      call(
        path,
        (vault) => vault.read(path, { headers: { 'X-Vault-Token': token } }),
        (body) => {
          const b = asRecord(body);
          const data = asRecord(b?.data);
          if (!b || !data) throw malformed(path, 'data');
          const leaseId = typeof b.lease_id === 'string' && b.lease_id !== '' ? b.lease_id : null;
          return { leaseId, leaseDurationS: num(b.lease_duration), data };
        },
      ),

    revokeAccessor: async (accessor) => {
      try {
        await call('auth/token/revoke-accessor', write('auth/token/revoke-accessor', { accessor }), () => undefined);
      } catch (err) {
        if (err instanceof VaultHttpError && err.status === 400 && GONE_ACCESSOR.test(err.vaultMessage)) return;
        throw err;
      }
    },

    revokeLease: async (leaseId) => {
      try {
        await call('sys/leases/revoke', write('sys/leases/revoke', { lease_id: leaseId, sync: true }), () => undefined);
      } catch (err) {
        // Vault answers 204 for unknown leases; some versions say 400 "invalid lease".
        if (err instanceof VaultHttpError && err.status === 400 && /invalid lease|not found/i.test(err.vaultMessage)) return;
        throw err;
      }
    },

    lookupAccessor: async (accessor) => {
      try {
        return await call(
          'auth/token/lookup-accessor',
          write('auth/token/lookup-accessor', { accessor }),
          (body) => {
            const data = asRecord(asRecord(body)?.data);
            if (!data) throw malformed('auth/token/lookup-accessor', 'data');
            return { ttlS: num(data.ttl) };
          },
        );
      } catch (err) {
        if (err instanceof VaultHttpError && err.status === 400 && GONE_ACCESSOR.test(err.vaultMessage)) return null;
        throw err;
      }
    },

    lookupSelf: () =>
      call(
        'auth/token/lookup-self',
        (vault) => vault.read('auth/token/lookup-self'),
        (body) => {
          const data = asRecord(asRecord(body)?.data);
          if (!data) throw malformed('auth/token/lookup-self', 'data');
          return { ttlS: num(data.ttl), renewable: data.renewable === true };
        },
      ),

    loginAppRole: (mount, roleId, secretId) => {
      const path = `auth/${mount.replace(/^\/+|\/+$/g, '')}/login`;
      return call(
        path,
        write(path, { role_id: roleId, secret_id: secretId }),
        (body) => {
          const auth = parseAuth(path, body);
          return { token: auth.token, leaseDurationS: auth.leaseDurationS, renewable: auth.renewable };
        },
      );
    },

    renewSelf: () =>
      call(
        'auth/token/renew-self',
        write('auth/token/renew-self', {}),
        (body) => {
          const auth = asRecord(asRecord(body)?.auth);
          if (!auth) throw malformed('auth/token/renew-self', 'auth');
          return { leaseDurationS: num(auth.lease_duration) };
        },
      ),

    setToken: (next) => {
      token = next;
      if (vault) vault.token = next;
    },

    close: () => {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
