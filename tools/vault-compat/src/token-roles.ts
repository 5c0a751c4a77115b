import { badRequest } from './api-error.js';
import { bool, durationSeconds, optionalString, stringList, type Body } from './input.js';

/**
 * A token role (`auth/token/roles/:name`), per Vault's token auth API docs: it lets a caller that
 * may write `auth/token/create/:name` mint tokens with any subset of `allowed_policies`, whatever
 * the caller's own policies are, which is what lets a broker hold none of the policies it hands out.
 */
export interface TokenRole {
  readonly name: string;
  readonly allowedPolicies: readonly string[];
  readonly disallowedPolicies: readonly string[];
  readonly orphan: boolean;
  readonly renewable: boolean;
  readonly pathSuffix: string;
  /** 0 = none. Caps every token of the role; the lower of this and a requested one wins. */
  readonly explicitMaxTtlS: number;
}

/** Lower-cased, trimmed, deduplicated (Vault's policy name handling), `default` added when asked. */
function sanitize(names: readonly string[], addDefault: boolean): string[] {
  const set = new Set(names.map((n) => n.trim().toLowerCase()).filter((n) => n !== ''));
  if (set.has('root')) return ['root'];
  if (addDefault) set.add('default');
  return [...set].sort();
}

/** A role write: fields not given keep their previous value (Vault updates roles in place). */
export function writeRole(name: string, previous: TokenRole | undefined, body: Body): TokenRole {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw badRequest('role name contains invalid characters');
  const pick = <T>(key: string, parse: (v: unknown) => T, fallback: T): T => (body[key] === undefined ? fallback : parse(body[key]));
  const explicitMax = body.token_explicit_max_ttl ?? body.explicit_max_ttl;
  return {
    name,
    allowedPolicies: pick('allowed_policies', (v) => sanitize(stringList(v, 'allowed_policies'), false), previous?.allowedPolicies ?? []),
    disallowedPolicies: pick('disallowed_policies', (v) => sanitize(stringList(v, 'disallowed_policies'), false), previous?.disallowedPolicies ?? []),
    orphan: pick('orphan', (v) => bool(v, 'orphan', false), previous?.orphan ?? false),
    renewable: pick('renewable', (v) => bool(v, 'renewable', true), previous?.renewable ?? true),
    pathSuffix: pick('path_suffix', (v) => optionalString(v, 'path_suffix') ?? '', previous?.pathSuffix ?? ''),
    explicitMaxTtlS: explicitMax === undefined ? (previous?.explicitMaxTtlS ?? 0) : durationSeconds(explicitMax, 'token_explicit_max_ttl'),
  };
}

/** The role's read `data`, with the field names Vault answers. */
export function roleData(role: TokenRole): Record<string, unknown> {
  return {
    name: role.name,
    allowed_policies: [...role.allowedPolicies],
    disallowed_policies: [...role.disallowedPolicies],
    allowed_entity_aliases: [],
    orphan: role.orphan,
    renewable: role.renewable,
    path_suffix: role.pathSuffix,
    explicit_max_ttl: role.explicitMaxTtlS,
    token_explicit_max_ttl: role.explicitMaxTtlS,
    period: 0,
    token_period: 0,
    token_type: 'default-service',
    token_no_default_policy: false,
  };
}

/**
 * The policies of a token created against `role`. With `allowed_policies` the request must be a
 * subset of them and the caller's own policies do not matter; without, the request must be a
 * subset of the parent's. `default` is added unless `no_default_policy` or disallowed. Any policy
 * in `disallowed_policies` fails the create. Failures are 400, as in Vault.
 */
export function rolePolicies(role: TokenRole, requested: readonly string[], parentPolicies: readonly string[], noDefault: boolean, sudo: boolean): string[] {
  const addDefault = !noDefault && !role.disallowedPolicies.includes('default');
  let policies = requested.length > 0 ? sanitize(requested, addDefault) : [];
  if (role.allowedPolicies.length > 0) {
    const allowed = sanitize(role.allowedPolicies, addDefault);
    if (policies.length === 0) policies = allowed;
    else if (!policies.every((p) => allowed.includes(p))) {
      throw badRequest(`token policies (${JSON.stringify(policies)}) must be subset of the role's allowed policies (${JSON.stringify(allowed)})`);
    }
  } else {
    const parent = sanitize(parentPolicies, addDefault);
    if (policies.length === 0) policies = parent;
    else if (!sudo && !parent.includes('root') && !policies.every((p) => parent.includes(p))) {
      throw badRequest('child policies must be subset of parent when role contains no allowed_policies');
    }
  }
  for (const p of policies) {
    if (role.disallowedPolicies.includes(p)) throw badRequest(`token policy ${JSON.stringify(p)} is disallowed by this role`);
  }
  return policies;
}
