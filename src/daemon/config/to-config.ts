/**
 * Maps a file that passed every document check onto the Config type: camelCase, durations in
 * milliseconds, defaults filled in, paths resolved against the file's directory, deep-frozen.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { hostname } from 'node:os';
import { ownRecord } from '../../common/own-keys.js';
import type { RawConfig, RawMatch, RawPolicy } from './schema.js';
import type { CiIssuerConfig, Config, FleetConfig, PolicyMatch, PolicyRule } from './types.js';

const DEFAULT_ALGORITHMS = ['RS256', 'ES256'] as const;
/** `require.scope_ttl`: how long one approval covers the rest of its run. */
const DEFAULT_SCOPE_TTL_MS = 30 * 60_000;

const ISSUER_KINDS: Readonly<Record<string, CiIssuerConfig['kind']>> = {
  'https://token.actions.githubusercontent.com': 'github',
  'https://gitlab.com': 'gitlab',
};

function mapMatch(match: RawMatch | undefined): PolicyMatch {
  if (!match) return {};
  const out: { -readonly [K in keyof PolicyMatch]: PolicyMatch[K] } = {};
  if (match.resource) out.resource = match.resource;
  if (match.issuer) out.issuer = match.issuer;
  if (match.repository) out.repository = match.repository;
  if (match.repository_id) out.repositoryId = match.repository_id;
  if (match.repository_owner_id) out.repositoryOwnerId = match.repository_owner_id;
  if (match.namespace_id) out.namespaceId = match.namespace_id;
  if (match.ref) out.ref = match.ref;
  if (match.ref_type) out.refType = match.ref_type;
  if (match.environment) out.environment = match.environment;
  if (match.actor) out.actor = match.actor;
  if (match.workflow) out.workflow = match.workflow;
  if (match.job_workflow_ref) out.jobWorkflowRef = match.job_workflow_ref;
  if (match.event) out.event = match.event;
  if (match.runner_environment) out.runnerEnvironment = match.runner_environment;
  if (match.fork !== undefined) out.fork = match.fork;
  return out;
}

/** How old an approver's IdP sign-in may be for a `step_up` resource, when `max_age` is not given. */
export const DEFAULT_STEP_UP_MAX_AGE_MS = 5 * 60_000;

function mapPolicy(policy: RawPolicy): PolicyRule {
  const match = mapMatch(policy.match);
  if (policy.require) {
    const spec = policy.require;
    return {
      name: policy.name,
      match,
      decision: 'require',
      require: {
        approvals: spec.approvals,
        from: spec.from,
        everyGroup: spec.every_group ?? false,
        expiresAfterMs: spec.expires_after ?? 15 * 60_000,
        escalate: (spec.escalate ?? []).map((step) => ({ afterMs: step.after, to: step.to })),
        ...(policy.break_glass && {
          breakGlass: {
            groups: policy.break_glass.groups,
            maxTtlMs: policy.break_glass.max_ttl ?? 15 * 60_000,
            allowSelf: policy.break_glass.allow_self ?? false,
          },
        }),
        // Set only when written, so a rule without them stores the same `require` as before.
        ...(spec.supersede !== undefined ? { supersede: spec.supersede } : {}),
        ...(spec.approval_scope === 'run' ? { approvalScope: { ttlMs: spec.scope_ttl ?? DEFAULT_SCOPE_TTL_MS } } : {}),
      },
    };
  }
  return { name: policy.name, match, decision: policy.decision ?? 'deny' };
}

const SNAKE_TO_CAMEL = (key: string): string => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Resolves every `*_file` string inside raw notifier entries, which this module does not interpret. */
export function resolveFileKeys(value: unknown, at: (path: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveFileKeys(item, at));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      key,
      key.endsWith('_file') && typeof child === 'string' ? at(child) : resolveFileKeys(child, at),
    ]),
  );
}

export type At = (path: string) => string;

function mapListen(listen: RawConfig['listen'], at: At): Config['listen'] {
  const tcp = listen?.tcp;
  return {
    socket: at(listen?.socket ?? '/run/jitgated/jitgated.sock'),
    socketMode: listen?.socket_mode ?? 0o660,
    ...(listen?.socket_group !== undefined && { socketGroup: listen.socket_group }),
    ...(tcp && {
      tcp: {
        address: tcp.address,
        tls: {
          certFile: at(tcp.tls.cert_file),
          keyFile: at(tcp.tls.key_file),
          ...(tcp.tls.client_ca_file !== undefined && { clientCaFile: at(tcp.tls.client_ca_file) }),
        },
        access: tcp.access ?? false,
      },
    }),
  };
}

function mapState(state: RawConfig['state'], at: At): Config['state'] {
  return state?.postgres !== undefined
    ? {
        kind: 'postgres',
        url: state.postgres,
        ...(state.password_file !== undefined && { passwordFile: at(state.password_file) }),
      }
    : { kind: 'sqlite', path: state?.sqlite === ':memory:' ? ':memory:' : at(state?.sqlite ?? '/var/lib/jitgated/state.db') };
}

function mapFleet(fleet: NonNullable<RawConfig['fleet']>): FleetConfig {
  return {
    node: fleet.node ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63),
    heartbeatIntervalMs: fleet.heartbeat_interval ?? 5000,
    heartbeatTimeoutMs: fleet.heartbeat_timeout ?? 30_000,
    reconcileIntervalMs: fleet.reconcile_interval ?? 1000,
    mint: fleet.mint ?? 'owner',
    role: fleet.role ?? 'both',
  };
}

export function mapAudit(audit: RawConfig['audit'], at: At): Config['audit'] {
  const auditFile = at(audit?.file ?? '/var/lib/jitgated/audit.jsonl');
  return {
    file: auditFile,
    signingKeyFile: at(audit?.signing_key_file ?? resolve(dirname(auditFile), 'audit-signing.key')),
    hmacKeyFile: at(audit?.hmac_key_file ?? resolve(dirname(auditFile), 'audit-hmac.key')),
    checkpointEvery: audit?.checkpoint_every ?? 100,
    fsync: audit?.fsync ?? true,
  };
}

function mapVault(vault: RawConfig['vault'], at: At): Config['vault'] {
  const auth = vault.auth;
  return {
    address: vault.address,
    auth: !auth
      ? { kind: 'none' }
      : auth.approle
      ? {
          kind: 'approle',
          roleIdFile: at(auth.approle.role_id_file),
          secretIdFile: at(auth.approle.secret_id_file),
          mount: auth.approle.mount ?? 'approle',
        }
      : { kind: 'token', tokenFile: at(auth.token_file ?? '') },
    timeoutMs: vault.timeout ?? 5000,
    mintAttempts: vault.mint_attempts ?? 3,
    revokeAttempts: vault.revoke_attempts ?? 5,
    ...(vault.ca_file !== undefined && { caFile: at(vault.ca_file) }),
    ...(vault.token_role !== undefined && { tokenRole: vault.token_role }),
  };
}

function mapIssuer(ci: NonNullable<NonNullable<RawConfig['identity']>['ci']>[number]): CiIssuerConfig {
  return {
    issuer: ci.issuer,
    audience: ci.audience,
    kind: ci.kind ?? ISSUER_KINDS[ci.issuer.replace(/\/+$/, '')] ?? 'generic',
    ...(ci.jwks_uri !== undefined && { jwksUri: ci.jwks_uri }),
    algorithms: ci.algorithms ?? DEFAULT_ALGORITHMS,
    leewayMs: ci.leeway ?? 30_000,
    maxTokenAgeMs: ci.max_token_age ?? 15 * 60_000,
    claims: ownRecord(Object.entries(ci.claims ?? {}).map(([field, claim]) => [SNAKE_TO_CAMEL(field), claim])),
    ...(ci.web_url !== undefined && { webUrl: ci.web_url }),
  };
}

function mapIdentity(identity: RawConfig['identity'], at: At): Config['identity'] {
  const approvers = identity?.approvers;
  return {
    localContext: identity?.local?.context ?? false,
    localApprovers: identity?.local?.approvers ?? false,
    ci: (identity?.ci ?? []).map(mapIssuer),
    ...(approvers && {
      approvers: {
        issuer: approvers.issuer,
        audience: approvers.audience,
        groupsClaim: approvers.groups_claim ?? 'groups',
        ...(approvers.username_claim !== undefined && { usernameClaim: approvers.username_claim }),
        ...(approvers.actor_claims !== undefined && { actorClaims: approvers.actor_claims }),
        ...(approvers.jwks_uri !== undefined && { jwksUri: approvers.jwks_uri }),
        ...(approvers.web && {
          web: {
            clientId: approvers.web.client_id,
            clientSecretFile: at(approvers.web.client_secret_file),
            scopes: approvers.web.scopes ?? ['openid', 'profile', 'email', 'groups'],
            recheckGroups: approvers.web.recheck_groups ?? true,
            ...(approvers.web.redirect_uri !== undefined && { redirectUri: approvers.web.redirect_uri }),
          },
        }),
      },
    }),
  };
}

// Name-keyed tables have no prototype: a lookup of `constructor` or `__proto__` must find nothing.
function mapResources(resources: RawConfig['resources']): Config['resources'] {
  return ownRecord(
    Object.entries(resources).map(([name, r]) => [
      name,
      {
        name,
        vault: { policies: r.vault.policies, ...(r.vault.read !== undefined && { read: r.vault.read }) },
        env: ownRecord(Object.entries(r.env)),
        ttlMs: r.ttl,
        maxTtlMs: r.max_ttl ?? r.ttl,
        excessTtl: r.excess_ttl ?? 'clamp',
        ...(r.step_up !== undefined && r.step_up !== false && { stepUp: { maxAgeMs: r.step_up === true ? DEFAULT_STEP_UP_MAX_AGE_MS : r.step_up.max_age } }),
      },
    ]),
  );
}

/** The Config of a valid file; not yet frozen. */
export function toConfig(raw: RawConfig, baseDir: string): Config {
  const at = (path: string): string => (isAbsolute(path) ? path : resolve(baseDir, path));
  return {
    listen: mapListen(raw.listen, at),
    state: mapState(raw.state, at),
    ...(raw.fleet && { fleet: mapFleet(raw.fleet) }),
    audit: mapAudit(raw.audit, at),
    vault: mapVault(raw.vault, at),
    identity: mapIdentity(raw.identity, at),
    groups: ownRecord(Object.entries(raw.groups ?? {})),
    resources: mapResources(raw.resources),
    policies: (raw.policies ?? []).map(mapPolicy),
    notifiers: (raw.notifiers ?? []).map((entry) => resolveFileKeys(entry, at)),
    ...(raw.http && { http: { listen: raw.http.listen, ...(raw.http.public_url !== undefined && { publicUrl: raw.http.public_url }) } }),
    limits: {
      maxPendingRequests: raw.limits?.max_pending_requests ?? 10_000,
      pendingPerRepository: raw.limits?.pending_per_repository ?? 20,
      pendingPerActor: raw.limits?.pending_per_actor ?? 10,
      maxMessageBytes: raw.limits?.max_message_bytes ?? 65_536,
      maxMetadataBytes: raw.limits?.max_metadata_bytes ?? 8192,
      defaultRpcDeadlineMs: raw.limits?.default_rpc_deadline ?? 30_000,
    },
    log: { level: raw.log?.level ?? 'info', format: raw.log?.format ?? 'auto' },
    stopTimeoutMs: raw.stop_timeout ?? 10_000,
  };
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

