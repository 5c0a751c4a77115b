/**
 * The shape of the YAML file, snake_case as users write it. Structure and per-field rules live
 * here; rules that need two parts of the file at once (a policy naming a resource, ...) live in
 * cross-checks.ts. Every object is strict: a misspelt key is an error, never silently ignored.
 */
import { z } from 'zod';
import { parseDuration } from '../../common/duration.js';
import { errorMessage } from '../../common/errors.js';
import { hasControlChar } from '../../common/glob.js';

function obj<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key (expected one of: ${known})` : undefined),
  });
}

const text = z
  .string()
  .min(1, 'must not be empty')
  .refine((s) => !hasControlChar(s), 'must not contain control characters');

/** A duration such as "60s"; a bare number is refused because its unit would be a guess. */
const duration = z.unknown().transform((value, ctx) => {
  if (typeof value !== 'string') {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as "60s" or "15m", got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  try {
    return parseDuration(value);
  } catch (err) {
    // parseDuration prefixes its own field name; the config path replaces it.
    ctx.addIssue({ code: 'custom', message: errorMessage(err).replace(/^duration: /, '') });
    return z.NEVER;
  }
});

/** The longest duration that may become a timer; Node's setTimeout overflows just past 24.8 days. */
export const MAX_TIMER_DURATION_MS = 24 * 86_400_000;

/**
 * A duration the daemon arms a timer with (an escalation, an expiry, a TTL, a deadline). The
 * timers step past Node's 2^31-1 ms limit anyway; refusing here says so at check time, naming the
 * key, instead of leaving an operator to find out that a 30-day escalation is really meant.
 */
const timerDuration = duration.refine((ms) => ms <= MAX_TIMER_DURATION_MS, 'must be at most 24d (it becomes a timer)');

const filePath = text;
const count = z.number().int('must be a whole number').positive('must be at least 1');

function url(schemes: readonly string[], loopbackHttp = false) {
  return text.refine(
    (s) => {
      if (!URL.canParse(s)) return false;
      const u = new URL(s);
      if (schemes.includes(u.protocol)) return true;
      return loopbackHttp && u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
    },
    {
      message: `must be a ${schemes.map((s) => s.replace(':', '')).join(' or ')} URL${loopbackHttp ? ' (http only on loopback)' : ''}`,
    },
  );
}

const hostPort = text.refine((s) => {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
  const port = Number(m?.[2]);
  return m !== null && port >= 1 && port <= 65535;
}, 'must be "host:port" (e.g. 0.0.0.0:8443 or [::1]:8443)');

/** A socket mode like "0660"; a YAML number would be read as decimal 660, so only strings are taken. */
const fileMode = z.unknown().transform((value, ctx) => {
  if (typeof value !== 'string' || !/^0?[0-7]{3}$/.test(value)) {
    ctx.addIssue({ code: 'custom', message: `expected an octal mode as a quoted string such as "0660", got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return Number.parseInt(value, 8);
});

/**
 * A Unix group for the socket: a name as groupadd accepts it, or a numeric gid (a YAML number or a
 * string of digits). Resolved to a gid, and checked to exist, by the config phase.
 */
const unixGroup = z.unknown().transform((value, ctx) => {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && /^(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}|\d{1,10})$/.test(value)) return value;
  ctx.addIssue({ code: 'custom', message: `expected a Unix group name such as "jitgate" or a numeric gid, got ${JSON.stringify(value)}` });
  return z.NEVER;
});

export const NAME_RE = /^[a-z0-9][a-z0-9\-_.]*$/;
export const ENV_NAME_RE = /^[A-Z_][A-Z0-9_]*$/;
export const GROUP_RE = /^[A-Za-z0-9][A-Za-z0-9\-_.]*$/;

export const listenSchema = obj({
  socket: filePath.optional(),
  socket_mode: fileMode.optional(),
  /** The group the socket (and the traversal of its directory) is given: the runners' group. */
  socket_group: unixGroup.optional(),
  tcp: obj({
    address: hostPort,
    tls: obj({ cert_file: filePath, key_file: filePath, client_ca_file: filePath.optional() }),
    /** Also serve AccessService (credential requests) on TCP: dangerous, hence off unless set. */
    access: z.boolean().optional(),
  }).optional(),
});

export const stateSchema = obj({
  sqlite: filePath.optional(),
  postgres: url(['postgres:', 'postgresql:']).optional(),
  password_file: filePath.optional(),
});

export const auditSchema = obj({
  file: filePath.optional(),
  signing_key_file: filePath.optional(),
  hmac_key_file: filePath.optional(),
  checkpoint_every: count.optional(),
  fsync: z.boolean().optional(),
});

export const vaultSchema = obj({
  address: url(['https:', 'http:']),
  /** Absent only on a fleet runner under `fleet.mint: plane`, which holds no Vault credentials. */
  auth: obj({
    token_file: filePath.optional(),
    approle: obj({ role_id_file: filePath, secret_id_file: filePath, mount: text.optional() }).optional(),
  }).optional(),
  timeout: timerDuration.optional(),
  mint_attempts: count.optional(),
  revoke_attempts: count.optional(),
  ca_file: filePath.optional(),
  // A path segment of auth/token/create/<role>: nothing that could reach another endpoint.
  token_role: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a Vault token role name (letters, digits, _ . -)').optional(),
});

/** Asymmetric algorithms only: `none` forges trivially and HS* lets anyone holding the JWKS sign. */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

const algorithm = z.string().refine((s) => (ALLOWED_ALGORITHMS as readonly string[]).includes(s), {
  error: (issue) => {
    const alg = String(issue.input);
    const why = /^none$/i.test(alg)
      ? 'unsigned tokens are never accepted'
      : /^HS/i.test(alg)
        ? 'symmetric algorithms would let anyone who has the public key sign tokens'
        : 'not a supported algorithm';
    return `algorithm ${JSON.stringify(alg)} refused: ${why} (allowed: ${ALLOWED_ALGORITHMS.join(', ')})`;
  },
});

const ciIssuerSchema = obj({
  issuer: url(['https:'], true),
  audience: text,
  kind: z.enum(['github', 'gitlab', 'generic']).optional(),
  jwks_uri: url(['https:'], true).optional(),
  algorithms: z.array(algorithm).min(1, 'must list at least one algorithm').optional(),
  leeway: duration.optional(),
  max_token_age: duration.optional(),
  claims: z.record(z.string(), text).optional(),
  web_url: url(['https:', 'http:']).optional(),
});

export const identitySchema = obj({
  local: obj({ context: z.boolean().optional(), approvers: z.boolean().optional() }).optional(),
  ci: z.array(ciIssuerSchema).optional(),
  approvers: obj({
    issuer: url(['https:'], true),
    audience: text,
    groups_claim: text.optional(),
    username_claim: text.optional(),
    actor_claims: z.array(text).optional(),
    jwks_uri: url(['https:'], true).optional(),
    web: obj({
      client_id: text,
      client_secret_file: text,
      scopes: z.array(text).optional(),
      redirect_uri: url(['https:'], true).optional(),
      recheck_groups: z.boolean().optional(),
    }).optional(),
  }).optional(),
});

const vaultPathRe = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.+@=-]+)*$/;

export const resourceSchema = obj({
  vault: obj({
    policies: z.array(text).min(1, 'must list at least one Vault policy'),
    read: text
      .refine((s) => vaultPathRe.test(s) && !s.split('/').includes('..'), 'must be a Vault path such as database/creds/migrator (no leading slash)')
      .optional(),
  }),
  env: z.record(z.string(), text),
  ttl: timerDuration,
  max_ttl: timerDuration.optional(),
  excess_ttl: z.enum(['clamp', 'deny']).optional(),
  step_up: z.union([z.boolean(), obj({ max_age: timerDuration })]).optional(),
});

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}

/** A match value: one pattern or a list of alternatives. Ids may be written as YAML numbers. */
function patterns(options: { numeric?: boolean } = {}) {
  const expected = options.numeric ? 'a string, a number or a list of them' : 'a string or a list of strings';
  return z.unknown().transform((value, ctx): string[] => {
    const items: unknown[] = Array.isArray(value) ? value : [value];
    if (items.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must list at least one pattern' });
      return z.NEVER;
    }
    const out: string[] = [];
    items.forEach((item, i) => {
      const path = Array.isArray(value) ? [i] : [];
      if (options.numeric && typeof item === 'number' && Number.isSafeInteger(item) && item >= 0) {
        out.push(String(item));
      } else if (typeof item !== 'string') {
        ctx.addIssue({ code: 'custom', path, message: `expected ${expected}, got ${describeValue(item)}` });
      } else if (item === '' || hasControlChar(item)) {
        ctx.addIssue({ code: 'custom', path, message: 'a pattern must be non-empty and free of control characters' });
      } else {
        out.push(item);
      }
    });
    return out;
  });
}

export const matchSchema = obj({
  resource: patterns().optional(),
  issuer: patterns().optional(),
  repository: patterns().optional(),
  repository_id: patterns({ numeric: true }).optional(),
  repository_owner_id: patterns({ numeric: true }).optional(),
  namespace_id: patterns({ numeric: true }).optional(),
  ref: patterns().optional(),
  ref_type: patterns().optional(),
  environment: patterns().optional(),
  actor: patterns().optional(),
  workflow: patterns().optional(),
  job_workflow_ref: patterns().optional(),
  event: patterns().optional(),
  runner_environment: patterns().optional(),
  fork: z.boolean().optional(),
});

const principal = text.refine((s) => /^(group|user):[^\s:]+$/.test(s), {
  error: (issue) => `${JSON.stringify(issue.input)} is not a principal: write "group:NAME" or "user:NAME"`,
});

export const policySchema = obj({
  name: text,
  match: matchSchema.optional(),
  decision: z.enum(['deny', 'auto-approve']).optional(),
  require: obj({
    approvals: count,
    from: z.array(principal).min(1, 'must list at least one approver principal'),
    every_group: z.boolean().optional(),
    expires_after: timerDuration.optional(),
    escalate: z.array(obj({ after: timerDuration, to: z.array(principal).min(1, 'must list at least one principal') })).optional(),
    supersede: z.boolean().optional(),
    approval_scope: z.enum(['request', 'run']).optional(),
    scope_ttl: timerDuration.optional(),
  }).optional(),
  break_glass: obj({
    groups: z.array(text).min(1, 'must list at least one group'),
    max_ttl: timerDuration.optional(),
    allow_self: z.boolean().optional(),
  }).optional(),
});

const limitsSchema = obj({
  max_pending_requests: count.optional(),
  pending_per_repository: count.optional(),
  pending_per_actor: count.optional(),
  max_message_bytes: count.optional(),
  max_metadata_bytes: count.optional(),
  default_rpc_deadline: timerDuration.optional(),
});

export const groupsSchema = z.record(z.string(), z.array(text));

export const httpSchema = obj({
  listen: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port'),
  public_url: z.url().optional(),
});

/** `fleet:` many daemons on one PostgreSQL state database (issue 13). */
export const fleetSchema = obj({
  /** This daemon's name in the fleet: owner of its requests and grants, named in its audit records. */
  node: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'expected 1-63 letters, digits, ".", "_" or "-"').optional(),
  heartbeat_interval: timerDuration.optional(),
  heartbeat_timeout: timerDuration.optional(),
  reconcile_interval: timerDuration.optional(),
  /** `owner`: the daemon that owns a request mints it; `plane`: an approval-plane daemon mints, wrapped. */
  mint: z.enum(['owner', 'plane']).optional(),
  /** `runner`: steps on this host, no approvers; `plane`: approvers only; `both` (default). */
  role: z.enum(['runner', 'plane', 'both']).optional(),
});

export const configSchema = obj({
  listen: listenSchema.optional(),
  state: stateSchema.optional(),
  fleet: fleetSchema.optional(),
  audit: auditSchema.optional(),
  vault: vaultSchema,
  identity: identitySchema.optional(),
  groups: groupsSchema.optional(),
  resources: z.record(z.string(), resourceSchema),
  notifiers: z.array(z.unknown()).optional(),
  http: httpSchema.optional(),
  policies: z.array(policySchema).optional(),
  limits: limitsSchema.optional(),
  log: obj({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).optional(),
    format: z.enum(['auto', 'json', 'pretty']).optional(),
  }).optional(),
  stop_timeout: timerDuration.optional(),
});

export type RawConfig = z.output<typeof configSchema>;
export type RawPolicy = NonNullable<RawConfig['policies']>[number];
export type RawMatch = z.output<typeof matchSchema>;
export type RawResource = z.output<typeof resourceSchema>;
