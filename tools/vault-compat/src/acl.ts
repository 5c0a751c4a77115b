import { badRequest } from './api-error.js';
import { parseHcl, type HclObject, type HclValue } from './hcl.js';

export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny';
const CAPABILITIES: ReadonlySet<string> = new Set(['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo', 'deny']);

export interface PolicyRule {
  readonly path: string;
  readonly capabilities: ReadonlySet<Capability>;
}

/** Parses a policy document (HCL or its JSON form) into path rules. */
export function parsePolicy(text: string): PolicyRule[] {
  let doc: HclObject;
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      doc = JSON.parse(trimmed) as HclObject;
    } catch (err) {
      throw badRequest('failed to parse policy: invalid JSON', { cause: err });
    }
  } else {
    doc = parseHcl(text);
  }
  const paths = doc.path;
  if (paths === undefined) return [];
  const blocks: [string, HclValue][] = [];
  // JSON policies may give `path` as an object or a list of objects.
  for (const item of Array.isArray(paths) ? paths : [paths]) {
    if (typeof item !== 'object' || Array.isArray(item)) throw badRequest('failed to parse policy: invalid path block');
    blocks.push(...Object.entries(item));
  }
  return blocks.map(([path, block]) => {
    const body = Array.isArray(block) ? block[block.length - 1] : block;
    if (body === undefined || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`failed to parse policy: invalid block for path "${path}"`);
    const caps = body.capabilities ?? [];
    if (!Array.isArray(caps)) throw badRequest(`failed to parse policy: capabilities for "${path}" must be a list`);
    const set = new Set<Capability>();
    for (const cap of caps) {
      if (typeof cap !== 'string' || !CAPABILITIES.has(cap)) throw badRequest(`failed to parse policy: invalid capability ${JSON.stringify(cap)}`);
      set.add(cap as Capability);
    }
    return { path: path.replace(/^\//, ''), capabilities: set };
  });
}

function matches(pattern: string, path: string): boolean {
  const glob = pattern.endsWith('*');
  const body = glob ? pattern.slice(0, -1) : pattern;
  if (!body.includes('+')) return glob ? path.startsWith(body) : path === body;
  const pSegs = body.split('/');
  const segs = path.split('/');
  for (let i = 0; i < pSegs.length; i += 1) {
    const p = pSegs[i] ?? '';
    const s = segs[i];
    if (s === undefined) return false;
    const last = i === pSegs.length - 1;
    if (p === '+') continue;
    if (last && glob) return s.startsWith(p);
    if (p !== s) return false;
  }
  return glob ? true : segs.length === pSegs.length;
}

/**
 * Vault's priority between two matching patterns (true when `a` beats `b`): a wildcard or glob
 * appearing later wins, then no trailing `*`, then fewer `+`, then longer, then lexically larger.
 */
function beats(a: string, b: string): boolean {
  const firstWild = (p: string): number => {
    const idx = [p.indexOf('+'), p.indexOf('*')].filter((i) => i >= 0);
    return idx.length ? Math.min(...idx) : Number.MAX_SAFE_INTEGER;
  };
  if (firstWild(a) !== firstWild(b)) return firstWild(a) > firstWild(b);
  const aGlob = a.endsWith('*');
  if (aGlob !== b.endsWith('*')) return !aGlob;
  const plus = (p: string): number => p.split('+').length - 1;
  if (plus(a) !== plus(b)) return plus(a) < plus(b);
  if (a.length !== b.length) return a.length > b.length;
  return a > b;
}

/** The merged rules of a token's policies. */
export class Acl {
  readonly #root: boolean;
  readonly #rules = new Map<string, Set<Capability>>();

  constructor(policies: readonly PolicyRule[][], root: boolean) {
    this.#root = root;
    for (const rules of policies) {
      for (const rule of rules) {
        const merged = this.#rules.get(rule.path) ?? new Set<Capability>();
        for (const cap of rule.capabilities) merged.add(cap);
        this.#rules.set(rule.path, merged);
      }
    }
  }

  /** Capabilities on `path`; an explicit `deny` on the winning rule yields ['deny']. */
  capabilities(path: string): Capability[] {
    if (this.#root) return ['root' as Capability];
    const exact = this.#rules.get(path);
    let best: string | null = exact ? path : null;
    if (!best) {
      for (const pattern of this.#rules.keys()) {
        if ((pattern.includes('*') || pattern.includes('+')) && matches(pattern, path) && (best === null || beats(pattern, best))) best = pattern;
      }
    }
    if (best === null) return [];
    const caps = this.#rules.get(best) ?? new Set();
    if (caps.has('deny')) return ['deny'];
    return [...caps].sort();
  }

  allows(path: string, cap: Capability): boolean {
    if (this.#root) return true;
    const caps = this.capabilities(path);
    return caps.includes(cap);
  }
}

/** Vault's built-in `default` policy (the parts that matter outside Enterprise). */
export const DEFAULT_POLICY = `
# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}
path "auth/token/renew-self" {
    capabilities = ["update"]
}
path "auth/token/revoke-self" {
    capabilities = ["update"]
}
path "sys/capabilities-self" {
    capabilities = ["update"]
}
path "sys/internal/ui/resultant-acl" {
    capabilities = ["read"]
}
path "sys/renew" {
    capabilities = ["update"]
}
path "sys/leases/renew" {
    capabilities = ["update"]
}
path "sys/leases/lookup" {
    capabilities = ["update"]
}
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}
path "cubbyhole" {
    capabilities = ["list"]
}
path "sys/wrapping/wrap" {
    capabilities = ["update"]
}
path "sys/wrapping/lookup" {
    capabilities = ["update"]
}
path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}
path "sys/tools/hash" {
    capabilities = ["update"]
}
path "sys/tools/hash/*" {
    capabilities = ["update"]
}
path "sys/control-group/request" {
    capabilities = ["update"]
}
path "sys/mfa/challenge" {
    capabilities = ["update"]
}
`;

/** What a response-wrapping token may do. */
export const RESPONSE_WRAPPING_POLICY = `
path "sys/wrapping/unwrap" { capabilities = ["update"] }
path "sys/wrapping/lookup" { capabilities = ["update"] }
`;
