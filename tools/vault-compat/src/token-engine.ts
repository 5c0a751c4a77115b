import { badRequest, noRoute, notFound, permissionDenied, unsupportedOperation, VaultApiError } from './api-error.js';
import { childKeys, envelope, listReply, noContent, ok, type Core, type Engine, type EngineRequest, type Reply } from './engine.js';
import { bool, durationSeconds, integer, optionalString, stringList, stringMap } from './input.js';
import { roleData, rolePolicies, writeRole, type TokenRole } from './token-roles.js';
import type { TokenEntry } from './tokens.js';

/** Vault drops every other policy when `root` is present, and sorts and dedups names. */
export function sanitizePolicies(names: readonly string[], addDefault: boolean): string[] {
  const set = new Set(names.map((n) => n.trim().toLowerCase()).filter((n) => n !== ''));
  if (set.has('root')) return ['root'];
  if (addDefault) set.add('default');
  return [...set].sort();
}

/** The token store at `auth/token/`. */
export class TokenEngine implements Engine {
  readonly type = 'token';
  readonly #core: Core;
  readonly #hasSudo: (token: TokenEntry, path: string) => boolean;
  readonly #roles = new Map<string, TokenRole>();

  constructor(core: Core, hasSudo: (token: TokenEntry, path: string) => boolean) {
    this.#core = core;
    this.#hasSudo = hasSudo;
  }

  /** Vault's existence check: writing a role that does not exist yet needs `create`. */
  creates(path: string): boolean {
    const m = /^roles\/([^/]+)$/.exec(path);
    return m?.[1] !== undefined && !this.#roles.has(m[1].toLowerCase());
  }

  async handle(req: EngineRequest): Promise<Reply> {
    const caller = req.token;
    if (!caller) throw permissionDenied();
    const tokens = this.#core.tokens;
    const { path, body } = req;
    const write = req.method === 'POST';
    if (path === 'roles' || path === 'roles/' || path.startsWith('roles/')) return this.#role(req);
    const withRole = /^create\/([^/]+)$/.exec(path);
    if (withRole?.[1] !== undefined) {
      if (!write) throw unsupportedOperation();
      const role = this.#roles.get(withRole[1].toLowerCase());
      if (!role) throw badRequest(`unknown role ${withRole[1]}`);
      return this.#create(req, caller, role);
    }
    switch (path) {
      case 'accessors':
      case 'accessors/':
        // Vault's LIST auth/token/accessors: every live token's accessor; needs sudo.
        if (req.method !== 'LIST') throw unsupportedOperation();
        if (!this.#hasSudo(caller, `${req.mount}accessors`)) throw permissionDenied();
        return listReply(tokens.all().map((t) => t.accessor));
      case 'create':
      case 'create-orphan':
        if (!write) throw unsupportedOperation();
        return this.#create(req, caller);
      case 'lookup-self':
        if (req.method !== 'GET' && !write) throw unsupportedOperation();
        return ok(tokens.lookupData(caller));
      case 'lookup': {
        if (!write && req.method !== 'GET') throw unsupportedOperation();
        const id = optionalString(body.token ?? req.query.get('token'), 'token') ?? '';
        const target = id ? tokens.get(id) : null;
        if (!target) throw new VaultApiError(403, ['bad token']);
        return ok(tokens.lookupData(target));
      }
      case 'lookup-accessor': {
        if (!write) throw unsupportedOperation();
        const target = this.#byAccessor(body);
        // Looking up by accessor never reveals the token itself.
        return ok({ ...tokens.lookupData(target), id: '' });
      }
      case 'renew-self':
      case 'renew':
      case 'renew-accessor': {
        if (!write) throw unsupportedOperation();
        const target = path === 'renew-self' ? caller : path === 'renew' ? this.#byToken(body) : this.#byAccessor(body);
        if (!target.renewable) throw badRequest('lease is not renewable');
        tokens.renew(target, durationSeconds(body.increment, 'increment'));
        const auth = tokens.authBlock(target);
        if (path === 'renew-accessor') auth.client_token = '';
        return { status: 200, body: envelope({ auth }) };
      }
      case 'revoke-self':
        if (!write) throw unsupportedOperation();
        await tokens.revoke(caller);
        return noContent();
      case 'revoke':
      case 'revoke-orphan': {
        if (!write) throw unsupportedOperation();
        if (path === 'revoke-orphan' && !this.#hasSudo(caller, `${req.mount}${path}`)) throw permissionDenied();
        const id = optionalString(body.token, 'token') ?? '';
        if (!id) throw badRequest('missing token');
        const target = tokens.get(id);
        if (target) await tokens.revoke(target, path === 'revoke-orphan');
        return noContent();
      }
      case 'revoke-accessor': {
        if (!write) throw unsupportedOperation();
        await tokens.revoke(this.#byAccessor(body));
        return noContent();
      }
      default:
        throw noRoute(`${req.mount}${path}`);
    }
  }

  #byToken(body: Readonly<Record<string, unknown>>): TokenEntry {
    const id = optionalString(body.token, 'token') ?? '';
    const target = id ? this.#core.tokens.get(id) : null;
    if (!target) throw badRequest('invalid token');
    return target;
  }

  #byAccessor(body: Readonly<Record<string, unknown>>): TokenEntry {
    const accessor = optionalString(body.accessor, 'accessor') ?? '';
    const target = accessor ? this.#core.tokens.byAccessor(accessor) : null;
    if (!target) throw badRequest('invalid accessor');
    return target;
  }

  #role(req: EngineRequest): Reply {
    if (req.path === 'roles' || req.path === 'roles/') {
      if (req.method !== 'LIST') throw unsupportedOperation();
      return listReply(childKeys(this.#roles.keys(), ''));
    }
    const name = req.path.slice('roles/'.length).toLowerCase();
    if (name === '' || name.includes('/')) throw noRoute(`${req.mount}${req.path}`);
    const role = this.#roles.get(name);
    switch (req.method) {
      case 'GET':
        if (!role) throw notFound();
        return ok(roleData(role));
      case 'POST':
        this.#roles.set(name, writeRole(name, role, req.body));
        return noContent();
      case 'DELETE':
        this.#roles.delete(name);
        return noContent();
      default:
        throw unsupportedOperation();
    }
  }

  /** Without a role: a subset of the parent's policies, unless the caller is root or has sudo. */
  #plainPolicies(requested: readonly string[], parent: TokenEntry, noDefault: boolean, sudo: boolean): string[] {
    if (sudo) return sanitizePolicies(requested, !noDefault);
    const input = sanitizePolicies(requested, false);
    const parentSet = new Set(sanitizePolicies(parent.policies, false));
    if (!input.every((p) => parentSet.has(p))) throw badRequest('child policies must be subset of parent');
    return sanitizePolicies(input, !noDefault && parent.policies.includes('default'));
  }

  #create(req: EngineRequest, parent: TokenEntry, role?: TokenRole): Reply {
    const { body } = req;
    const orphanEndpoint = req.path === 'create-orphan';
    const sudo = parent.policies.includes('root') || this.#hasSudo(parent, `${req.mount}${req.path}`);
    // With a role, the role alone decides the parent: `no_parent` is ignored (as in Vault).
    const noParent = role ? role.orphan : orphanEndpoint || bool(body.no_parent, 'no_parent', false);
    if (!role && noParent && !orphanEndpoint && !sudo) throw badRequest('root or sudo privileges required to create orphan token');
    const type = optionalString(body.type, 'type') ?? 'service';
    if (type !== 'service' && type !== 'default') throw badRequest(`unsupported token type ${JSON.stringify(type)}: this server issues service tokens only`);
    if (body.id !== undefined && !sudo) throw badRequest('root or sudo privileges required to specify token id');
    const numUses = integer(body.num_uses, 'num_uses', 0);
    if (numUses < 0) throw badRequest('number of uses cannot be negative');
    const noDefault = bool(body.no_default_policy, 'no_default_policy', false);
    const requested = stringList(body.policies, 'policies');
    const policies = role
      ? rolePolicies(role, requested, parent.policies, noDefault, sudo)
      : this.#plainPolicies(requested.length > 0 ? requested : [...parent.policies], parent, noDefault, sudo);
    let displayName = 'token';
    const dn = optionalString(body.display_name, 'display_name');
    if (dn) displayName = `token-${dn}`.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/-$/, '');
    const customId = optionalString(body.id, 'id');
    let explicitMaxTtlS = durationSeconds(body.explicit_max_ttl, 'explicit_max_ttl');
    // The role's explicit max caps the request's: the lower of the two wins.
    if (role && role.explicitMaxTtlS > 0 && (explicitMaxTtlS === 0 || role.explicitMaxTtlS < explicitMaxTtlS)) explicitMaxTtlS = role.explicitMaxTtlS;
    const token = this.#core.tokens.create({
      policies,
      parent: noParent ? null : parent,
      ttlS: durationSeconds(body.ttl ?? body.lease, 'ttl'),
      explicitMaxTtlS,
      maxTtlS: 0,
      numUses,
      renewable: bool(body.renewable, 'renewable', true) && (role?.renewable ?? true),
      meta: stringMap(body.meta, 'meta'),
      displayName,
      path: role ? `auth/token/create/${role.name}${role.pathSuffix ? `/${role.pathSuffix}` : ''}` : `auth/token/${req.path}`,
      ...(customId ? { id: customId } : {}),
    });
    return { status: 200, body: envelope({ auth: this.#core.tokens.authBlock(token) }) };
  }
}
