import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, errorMessage } from '../../common/errors.js';
import { formatPath } from './config-path.js';
import { crossCheck } from './cross-checks.js';
import { rejectInlineSecrets } from './inline-secrets.js';
import { configSchema, type RawConfig, type RawMatch, type RawPolicy } from './schema.js';
import type { CiIssuerConfig, Config, PolicyMatch, PolicyRule } from './types.js';

export interface ParseOptions {
  /** Names the file in messages (a path, or e.g. `test.yaml`). */
  readonly source: string;
  /** Relative paths in the file resolve against this directory. */
  readonly baseDir: string;
}

const DEFAULT_ALGORITHMS = ['RS256', 'ES256'] as const;

const ISSUER_KINDS: Readonly<Record<string, CiIssuerConfig['kind']>> = {
  'https://token.actions.githubusercontent.com': 'github',
  'https://gitlab.com': 'gitlab',
};

function firstIssue(error: z.ZodError): ConfigError {
  const issue = error.issues[0];
  if (!issue) return new ConfigError('', 'invalid configuration', { cause: error });
  const path: PropertyKey[] = [...issue.path];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    path.push(issue.keys[0] ?? '');
  } else if (issue.code === 'invalid_type' && message.endsWith('received undefined')) {
    message = 'is required';
  } else if (issue.code === 'invalid_type') {
    message = message.replace(/^Invalid input: /, '');
  }
  return new ConfigError(formatPath(path), message, { cause: error });
}

function parseYaml(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, strict: true });
  const problem = doc.errors[0];
  if (problem) {
    const at = problem.linePos?.[0];
    const where = at ? `line ${at.line}, column ${at.col}` : 'an unknown position';
    // Only the first line: the rest is an excerpt of the file, which may hold more than it should.
    const what = (problem.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError('', `${source}: YAML syntax error at ${where}: ${what}`, { cause: problem });
  }
  try {
    // A low alias budget: a config never needs many, and "billion laughs" documents need a lot.
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError('', `${source}: ${errorMessage(err)}`, { cause: err });
  }
}

function mapMatch(match: RawMatch | undefined): PolicyMatch {
  if (!match) return {};
  const out: { -readonly [K in keyof PolicyMatch]: PolicyMatch[K] } = {};
  if (match.resource) out.resource = match.resource;
  if (match.repository) out.repository = match.repository;
  if (match.repository_id) out.repositoryId = match.repository_id;
  if (match.ref) out.ref = match.ref;
  if (match.ref_type) out.refType = match.ref_type;
  if (match.environment) out.environment = match.environment;
  if (match.actor) out.actor = match.actor;
  if (match.workflow) out.workflow = match.workflow;
  if (match.event) out.event = match.event;
  if (match.runner_environment) out.runnerEnvironment = match.runner_environment;
  if (match.fork !== undefined) out.fork = match.fork;
  return out;
}

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
      },
    };
  }
  return { name: policy.name, match, decision: policy.decision ?? 'deny' };
}

const SNAKE_TO_CAMEL = (key: string): string => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Resolves every `*_file` string inside raw notifier entries, which this module does not interpret. */
function resolveFileKeys(value: unknown, at: (path: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveFileKeys(item, at));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      key,
      key.endsWith('_file') && typeof child === 'string' ? at(child) : resolveFileKeys(child, at),
    ]),
  );
}

function toConfig(raw: RawConfig, baseDir: string): Config {
  const at = (path: string): string => (isAbsolute(path) ? path : resolve(baseDir, path));
  const auditFile = at(raw.audit?.file ?? '/var/lib/jitgated/audit.jsonl');
  const tcp = raw.listen?.tcp;
  const state = raw.state;
  const auth = raw.vault.auth;
  return {
    listen: {
      socket: at(raw.listen?.socket ?? '/run/jitgated/jitgated.sock'),
      socketMode: raw.listen?.socket_mode ?? 0o660,
      ...(tcp && {
        tcp: {
          address: tcp.address,
          tls: {
            certFile: at(tcp.tls.cert_file),
            keyFile: at(tcp.tls.key_file),
            ...(tcp.tls.client_ca_file !== undefined && { clientCaFile: at(tcp.tls.client_ca_file) }),
          },
        },
      }),
    },
    state:
      state?.postgres !== undefined
        ? {
            kind: 'postgres',
            url: state.postgres,
            ...(state.password_file !== undefined && { passwordFile: at(state.password_file) }),
          }
        : { kind: 'sqlite', path: state?.sqlite === ':memory:' ? ':memory:' : at(state?.sqlite ?? '/var/lib/jitgated/state.db') },
    audit: {
      file: auditFile,
      signingKeyFile: at(raw.audit?.signing_key_file ?? resolve(dirname(auditFile), 'audit-signing.key')),
      hmacKeyFile: at(raw.audit?.hmac_key_file ?? resolve(dirname(auditFile), 'audit-hmac.key')),
      checkpointEvery: raw.audit?.checkpoint_every ?? 100,
      fsync: raw.audit?.fsync ?? true,
    },
    vault: {
      address: raw.vault.address,
      auth: auth.approle
        ? {
            kind: 'approle',
            roleIdFile: at(auth.approle.role_id_file),
            secretIdFile: at(auth.approle.secret_id_file),
            mount: auth.approle.mount ?? 'approle',
          }
        : { kind: 'token', tokenFile: at(auth.token_file ?? '') },
      timeoutMs: raw.vault.timeout ?? 5000,
      mintAttempts: raw.vault.mint_attempts ?? 3,
      revokeAttempts: raw.vault.revoke_attempts ?? 5,
      ...(raw.vault.ca_file !== undefined && { caFile: at(raw.vault.ca_file) }),
    },
    identity: {
      localContext: raw.identity?.local?.context ?? false,
      localApprovers: raw.identity?.local?.approvers ?? false,
      ci: (raw.identity?.ci ?? []).map(
        (ci): CiIssuerConfig => ({
          issuer: ci.issuer,
          audience: ci.audience,
          kind: ci.kind ?? ISSUER_KINDS[ci.issuer.replace(/\/+$/, '')] ?? 'generic',
          ...(ci.jwks_uri !== undefined && { jwksUri: ci.jwks_uri }),
          algorithms: ci.algorithms ?? DEFAULT_ALGORITHMS,
          leewayMs: ci.leeway ?? 30_000,
          maxTokenAgeMs: ci.max_token_age ?? 15 * 60_000,
          claims: Object.fromEntries(Object.entries(ci.claims ?? {}).map(([field, claim]) => [SNAKE_TO_CAMEL(field), claim])),
          ...(ci.web_url !== undefined && { webUrl: ci.web_url }),
        }),
      ),
      ...(raw.identity?.approvers && {
        approvers: {
          issuer: raw.identity.approvers.issuer,
          audience: raw.identity.approvers.audience,
          groupsClaim: raw.identity.approvers.groups_claim ?? 'groups',
          ...(raw.identity.approvers.jwks_uri !== undefined && { jwksUri: raw.identity.approvers.jwks_uri }),
          ...(raw.identity.approvers.web && {
            web: {
              clientId: raw.identity.approvers.web.client_id,
              clientSecretFile: at(raw.identity.approvers.web.client_secret_file),
              scopes: raw.identity.approvers.web.scopes ?? ['openid', 'profile', 'email', 'groups'],
              ...(raw.identity.approvers.web.redirect_uri !== undefined && { redirectUri: raw.identity.approvers.web.redirect_uri }),
            },
          }),
        },
      }),
    },
    groups: raw.groups ?? {},
    resources: Object.fromEntries(
      Object.entries(raw.resources).map(([name, r]) => [
        name,
        {
          name,
          vault: { policies: r.vault.policies, ...(r.vault.read !== undefined && { read: r.vault.read }) },
          env: r.env,
          ttlMs: r.ttl,
          maxTtlMs: r.max_ttl ?? r.ttl,
          excessTtl: r.excess_ttl ?? 'clamp',
        },
      ]),
    ),
    policies: (raw.policies ?? []).map(mapPolicy),
    notifiers: (raw.notifiers ?? []).map((entry) => resolveFileKeys(entry, at)),
    ...(raw.http && { http: { listen: raw.http.listen, ...(raw.http.public_url !== undefined && { publicUrl: raw.http.public_url }) } }),
    limits: {
      maxPendingRequests: raw.limits?.max_pending_requests ?? 10_000,
      maxMessageBytes: raw.limits?.max_message_bytes ?? 65_536,
      maxMetadataBytes: raw.limits?.max_metadata_bytes ?? 8192,
      defaultRpcDeadlineMs: raw.limits?.default_rpc_deadline ?? 30_000,
    },
    log: { level: raw.log?.level ?? 'info' },
    stopTimeoutMs: raw.stop_timeout ?? 10_000,
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Parses and validates a config file's text. Throws ConfigError naming the first problem by its
 * key path. The result is deep-frozen: nothing downstream can loosen a policy at run time.
 */
export function parseConfig(text: string, options: ParseOptions): Config {
  const doc = parseYaml(text, options.source);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ConfigError('', `${options.source}: the configuration must be a YAML mapping of keys to values`);
  }
  rejectInlineSecrets(doc);
  const parsed = configSchema.safeParse(doc);
  if (!parsed.success) throw firstIssue(parsed.error);
  crossCheck(parsed.data, doc);
  return deepFreeze(toConfig(parsed.data, resolve(options.baseDir)));
}

/** Reads and parses a config file; relative paths in it resolve against the file's directory. */
export async function loadConfig(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError('', `cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
  return parseConfig(text, { source: path, baseDir: dirname(resolve(path)) });
}
