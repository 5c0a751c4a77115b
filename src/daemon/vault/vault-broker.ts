import { readFile } from 'node:fs/promises';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { UnavailableError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { ResourceConfig, VaultConfig } from '../config/types.js';
import type { Credentials } from '../../model/request.js';
import type { Broker, MintedGrant } from './broker.js';
import { VaultHttpError, type VaultClient } from './vault-client.js';

export interface VaultBrokerOptions {
  readonly client: VaultClient;
  readonly config: VaultConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Base of the exponential retry backoff; 0 retries at once (tests). */
  readonly backoffMs?: number;
}

export type VaultBroker = Broker & {
  /** Logs the daemon in (token file or AppRole) and keeps its token alive until `close`. */
  authenticate(): Promise<void>;
};

const DEFAULT_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 30_000;
/** Env source that means "the child token itself" rather than a field of the read response. */
const TOKEN_SOURCE = 'token';

/** Accessors are not secrets, but a prefix is enough to correlate logs with the audit trail. */
function shortAccessor(accessor: string): string {
  return accessor.slice(0, 6);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** KV v2 nests the secret under `data.data` next to `data.metadata`; env keys name the inner fields. */
function secretFields(data: Record<string, unknown>): Record<string, unknown> {
  return isRecord(data.data) && isRecord(data.metadata) ? data.data : data;
}

async function readSecretFile(file: string, key: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // The message names the file; the fs error is reduced to its code so nothing else can leak.
    throw new UnavailableError(`vault auth: cannot read ${key} ${file}${typeof code === 'string' ? ` (${code})` : ''}`, {
      cause: new Error(typeof code === 'string' ? code : 'read failed'),
    });
  }
  const value = text.trim();
  if (value === '') throw new UnavailableError(`vault auth: ${key} ${file} is empty`);
  return value;
}

export function createVaultBroker(options: VaultBrokerOptions): VaultBroker {
  const { client, config, clock } = options;
  const log = options.logger.child({ component: 'vault-broker' });
  const backoffBase = options.backoffMs ?? DEFAULT_BACKOFF_MS;

  let closed = false;
  let refreshTimer: TimerHandle | null = null;
  /** Lease of the last login: renewals that come back much shorter have hit the token's max TTL. */
  let loginTtlS = 0;
  let reloginFailures = 0;

  function backoff(attempt: number): number {
    return Math.min(MAX_BACKOFF_MS, backoffBase * 2 ** (attempt - 1));
  }

  function sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      clock.setTimeout(resolve, ms);
    });
  }

  async function withRetry<T>(attempts: number, what: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (err) {
        const retryable = err instanceof VaultHttpError && err.retryable;
        if (!retryable || attempt >= attempts) throw err;
        log.warn({ attempt, attempts, err: errorMessage(err) }, `${what} failed; retrying`);
        await sleep(backoff(attempt));
      }
    }
  }

  // ---- the daemon's own token ----

  async function login(): Promise<{ ttlS: number; renewable: boolean }> {
    const auth = config.auth;
    if (auth.kind === 'token') {
      client.setToken(await readSecretFile(auth.tokenFile, 'token_file'));
      return client.lookupSelf();
    }
    const roleId = await readSecretFile(auth.roleIdFile, 'role_id_file');
    const secretId = await readSecretFile(auth.secretIdFile, 'secret_id_file');
    const result = await client.loginAppRole(auth.mount, roleId, secretId);
    client.setToken(result.token);
    return { ttlS: result.leaseDurationS, renewable: result.renewable };
  }

  function schedule(ms: number, task: () => Promise<void>): void {
    if (refreshTimer) clock.clearTimeout(refreshTimer);
    refreshTimer = null;
    if (closed) return;
    refreshTimer = clock.setTimeout(() => {
      refreshTimer = null;
      void task();
    }, ms);
    // Keeping the token alive must not keep the process alive on its own.
    refreshTimer.unref();
  }

  function scheduleRefresh(ttlS: number, renewable: boolean): void {
    // TTL 0 means the token never expires (e.g. a root token in development).
    if (ttlS <= 0) return;
    schedule(Math.max(1, Math.floor((ttlS * 1000 * 2) / 3)), () => refresh(renewable));
  }

  async function authenticate(): Promise<void> {
    const { ttlS, renewable } = await login();
    loginTtlS = ttlS;
    reloginFailures = 0;
    log.info({ auth: config.auth.kind, ttlS, renewable }, 'vault: daemon authenticated');
    scheduleRefresh(ttlS, renewable);
  }

  async function refresh(renewable: boolean): Promise<void> {
    if (closed) return;
    if (renewable) {
      try {
        const { leaseDurationS } = await client.renewSelf();
        // A renewal that no longer extends the token much has hit its max TTL: log in afresh.
        if (leaseDurationS * 3 >= loginTtlS) {
          log.debug({ ttlS: leaseDurationS }, 'vault: daemon token renewed');
          scheduleRefresh(leaseDurationS, true);
          return;
        }
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'vault: renewing the daemon token failed; logging in again');
      }
    }
    try {
      await authenticate();
    } catch (err) {
      reloginFailures++;
      const delay = Math.max(1, backoff(reloginFailures));
      log.error({ err: errorMessage(err), failures: reloginFailures }, 'vault: daemon login failed; retrying');
      schedule(delay, () => refresh(false));
    }
  }

  // ---- grants ----

  function mapCredentials(resource: ResourceConfig, token: string, data: Record<string, unknown>): Credentials {
    const credentials: Record<string, string> = {};
    for (const [envName, source] of Object.entries(resource.env)) {
      if (source === TOKEN_SOURCE) {
        credentials[envName] = token;
        continue;
      }
      const value = data[source];
      if (typeof value !== 'string') {
        const from = resource.vault.read ?? '(no read path)';
        throw new UnavailableError(`vault: ${from} has no string field ${JSON.stringify(source)} for ${envName}`);
      }
      credentials[envName] = value;
    }
    return credentials;
  }

  async function revoke(accessor: string, leaseIds: readonly string[]): Promise<void> {
    const attempts = Math.max(1, config.revokeAttempts);
    const pending = [...leaseIds];
    const short = shortAccessor(accessor);
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        // Leases first and synchronously: the database role is gone before we report success.
        for (let lease = pending[0]; lease !== undefined; lease = pending[0]) {
          await client.revokeLease(lease);
          pending.shift();
        }
        await client.revokeAccessor(accessor);
        return;
      } catch (err) {
        lastError = err;
        if (attempt < attempts) {
          log.warn({ accessor: short, attempt, attempts, err: errorMessage(err) }, 'vault: revoke failed; retrying');
          await sleep(backoff(attempt));
        }
      }
    }
    log.error(
      { accessor: short, attempts, leasesLeft: pending.length, err: errorMessage(lastError) },
      'vault: revoke failed after every attempt; the token TTL is the remaining backstop',
    );
    throw new UnavailableError(`vault: revoking token ${short}… failed after ${attempts} attempts: ${errorMessage(lastError)}`, {
      cause: lastError,
    });
  }

  async function mint(
    resource: ResourceConfig,
    ttlMs: number,
    meta: Readonly<Record<string, string>>,
    onAccessor?: (accessor: string) => Promise<void>,
  ): Promise<MintedGrant> {
    if (closed) throw new UnavailableError('vault: broker is closed');
    const attempts = Math.max(1, config.mintAttempts);
    const ttlS = Math.max(1, Math.ceil(ttlMs / 1000));
    const child = await withRetry(attempts, 'vault: creating the child token', () =>
      client.createChildToken({
        policies: resource.vault.policies,
        ttl: `${ttlS}s`,
        // Equal to ttl and not renewable: nothing, not even the daemon, can stretch the grant.
        explicitMaxTtl: `${ttlS}s`,
        renewable: false,
        meta,
        displayName: `jitgate-${resource.name}`,
        // `default` stays: it lets the step look up and revoke its own token, nothing more.
        noDefaultPolicy: false,
      }),
    );

    const leaseIds: string[] = [];
    try {
      if (onAccessor) {
        try {
          await onAccessor(child.accessor);
        } catch (err) {
          if (err instanceof UnavailableError) throw err;
          throw new UnavailableError(`vault: recording the token accessor failed: ${errorMessage(err)}`, { cause: err });
        }
      }
      let fields: Record<string, unknown> = {};
      const path = resource.vault.read;
      if (path !== undefined) {
        // Read WITH the child token: the lease is the child's, so it dies with the token.
        const result = await withRetry(attempts, `vault: reading ${path}`, () => client.read(path, child.token));
        if (result.leaseId !== null) leaseIds.push(result.leaseId);
        fields = secretFields(result.data);
      }
      const credentials = mapCredentials(resource, child.token, fields);
      return { token: child.token, accessor: child.accessor, leaseIds, credentials, ttlMs: ttlS * 1000 };
    } catch (err) {
      // Nothing half-issued: the token (and with it every lease it made) goes before we answer.
      try {
        await revoke(child.accessor, leaseIds);
      } catch (revokeErr) {
        log.error({ accessor: shortAccessor(child.accessor), err: errorMessage(revokeErr) }, 'vault: cleanup after a failed mint failed');
      }
      if (err instanceof UnavailableError) throw err;
      throw new UnavailableError(`vault: minting ${resource.name} failed: ${errorMessage(err)}`, { cause: err });
    }
  }

  async function check(): Promise<void> {
    const health = await client.health();
    if (!health.initialized) throw new UnavailableError('vault: not initialized');
    if (health.sealed) throw new UnavailableError('vault: sealed');
    await client.lookupSelf();
  }

  function close(): Promise<void> {
    closed = true;
    if (refreshTimer) clock.clearTimeout(refreshTimer);
    refreshTimer = null;
    client.close();
    return Promise.resolve();
  }

  return { authenticate, mint, revoke, check, close };
}
