import type { Clock } from './clock.js';
import { newRequestId } from './ids.js';
import type { Body } from './input.js';
import type { LeaseManager } from './leases.js';
import type { TokenEntry, TokenStore } from './tokens.js';

export type Method = 'GET' | 'LIST' | 'POST' | 'DELETE';

export interface EngineRequest {
  readonly method: Method;
  /** Path relative to the mount, without a leading slash. */
  readonly path: string;
  /** Mount path with trailing slash, e.g. `secret/` or `auth/approle/`. */
  readonly mount: string;
  readonly query: URLSearchParams;
  readonly body: Body;
  /** The calling token; null only on unauthenticated paths. */
  readonly token: TokenEntry | null;
}

export interface Reply {
  readonly status: number;
  readonly body?: Record<string, unknown>;
}

/** A secrets engine or auth method mounted at one path. */
export interface Engine {
  readonly type: string;
  /** Vault's existence check: true when a write to `path` would create (needs `create`, not `update`). */
  creates?(path: string): boolean;
  /** Paths under the mount that need no token (logins). */
  unauthenticated?(path: string): boolean;
  handle(req: EngineRequest): Promise<Reply>;
  close?(): Promise<void>;
}

/** What engines share: time, tokens, leases. */
export interface Core {
  readonly clock: Clock;
  readonly tokens: TokenStore;
  readonly leases: LeaseManager;
}

/** Vault's response envelope with every top-level field present. */
export function envelope(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    request_id: newRequestId(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: null,
    wrap_info: null,
    warnings: null,
    auth: null,
    mount_type: '',
    ...fields,
  };
}

export const ok = (data: Record<string, unknown>, extra: Record<string, unknown> = {}): Reply => ({
  status: 200,
  body: envelope({ data, ...extra }),
});
export const noContent = (): Reply => ({ status: 204 });

/** A LIST answer; Vault answers an empty list with 404. */
export function listReply(keys: readonly string[]): Reply {
  if (keys.length === 0) return { status: 404, body: { errors: [] } };
  return ok({ keys: [...keys].sort() });
}

/** Immediate children of `prefix` among `paths`, sub-folders with a trailing slash. */
export function childKeys(paths: Iterable<string>, prefix: string): string[] {
  const keys = new Set<string>();
  const base = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  for (const p of paths) {
    if (!p.startsWith(base)) continue;
    const rest = p.slice(base.length);
    const slash = rest.indexOf('/');
    keys.add(slash < 0 ? rest : rest.slice(0, slash + 1));
  }
  keys.delete('');
  return [...keys];
}

/** Issues an orphan service token for an auth method's login, with the `default` policy added. */
export function loginReply(
  core: Core,
  spec: { policies: readonly string[]; ttlS: number; maxTtlS: number; numUses: number; meta: Record<string, string>; displayName: string; path: string },
): Reply {
  const policies = [...new Set([...spec.policies, 'default'])].sort();
  const token = core.tokens.create({
    policies,
    parent: null,
    ttlS: spec.ttlS,
    explicitMaxTtlS: 0,
    maxTtlS: spec.maxTtlS,
    numUses: spec.numUses,
    renewable: true,
    meta: spec.meta,
    displayName: spec.displayName,
    path: spec.path,
  });
  return { status: 200, body: envelope({ auth: core.tokens.authBlock(token) }) };
}
