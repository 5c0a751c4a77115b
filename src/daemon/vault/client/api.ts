/**
 * The only door to node-vault (src/daemon/vault/client/). Everything above it sees typed results and one error class,
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
  /**
   * `sys/wrapping/wrap` with the client's own token: `data` (secret) goes into a single-use
   * wrapping token that dies after `wrapTtlS` seconds. The returned `token` is a secret too.
   */
  wrap(data: Record<string, unknown>, wrapTtlS: number): Promise<WrapInfo>;
  /**
   * `sys/wrapping/unwrap` with `wrappingToken` as the client token (the caller needs no token of its
   * own): the `data` of the wrapped response. Used up by the first call, whoever makes it.
   */
  unwrap(wrappingToken: string): Promise<Record<string, unknown>>;
  /** `auth/token/revoke-self` as `token`: revokes it, its children and its leases. */
  revokeSelf(token: string): Promise<void>;
  setToken(token: string): void;
  /** Drops pooled connections. */
  close(): void;
}

/** Vault's `wrap_info`. `token` is a secret; `accessor` is not. */
export interface WrapInfo {
  readonly token: string;
  readonly accessor: string;
  readonly ttlS: number;
  readonly creationPath: string;
}

export interface ChildTokenRequest {
  readonly policies: readonly string[];
  readonly ttl: string;
  readonly explicitMaxTtl: string;
  readonly renewable: false;
  readonly meta: Readonly<Record<string, string>>;
  readonly displayName: string;
  readonly noDefaultPolicy?: boolean;
  /** Token role to create through (`auth/token/create/<role>`); plain `auth/token/create` when absent. */
  readonly role?: string;
}

export interface VaultClientOptions {
  readonly address: string;
  readonly timeoutMs: number;
  readonly token?: string;
  readonly caPem?: string;
}
