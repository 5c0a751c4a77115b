import { randomUUID } from 'node:crypto';
import { badRequest, noRoute, notFound, unsupportedOperation } from './api-error.js';
import { childKeys, listReply, loginReply, noContent, ok, type Core, type Engine, type EngineRequest, type Reply } from './engine.js';
import { bool, durationSeconds, integer, optionalString, stringList } from './input.js';

interface Role {
  roleId: string;
  policies: string[];
  ttlS: number;
  maxTtlS: number;
  tokenNumUses: number;
  secretIdTtlS: number;
  secretIdNumUses: number;
  bindSecretId: boolean;
}

interface SecretId {
  readonly role: string;
  readonly accessor: string;
  readonly expireMono: number | null;
  usesLeft: number;
}

/** The AppRole auth method: roles, role ids, secret ids, login. */
export class AppRoleEngine implements Engine {
  readonly type = 'approle';
  readonly #core: Core;
  readonly #roles = new Map<string, Role>();
  readonly #secretIds = new Map<string, SecretId>();

  constructor(core: Core) {
    this.#core = core;
  }

  unauthenticated(path: string): boolean {
    return path === 'login';
  }

  creates(path: string): boolean {
    const m = /^role\/([^/]+)$/.exec(path);
    return m?.[1] !== undefined && !this.#roles.has(m[1]);
  }

  handle(req: EngineRequest): Promise<Reply> {
    return Promise.resolve(this.#handle(req));
  }

  #handle(req: EngineRequest): Reply {
    const { body } = req;
    if (req.path === 'login') {
      if (req.method !== 'POST') throw unsupportedOperation();
      return this.#login(body);
    }
    if (req.path === 'role' || req.path === 'role/') {
      if (req.method !== 'LIST') throw unsupportedOperation();
      return listReply(childKeys(this.#roles.keys(), ''));
    }
    const m = /^role\/([^/]+)(?:\/(role-id|secret-id))?$/.exec(req.path);
    const name = m?.[1]?.toLowerCase();
    if (!m || name === undefined) throw noRoute(`${req.mount}${req.path}`);
    const role = this.#roles.get(name);
    switch (m[2]) {
      case undefined:
        if (req.method === 'POST') return this.#writeRole(name, role, body);
        if (req.method === 'DELETE') {
          this.#roles.delete(name);
          return noContent();
        }
        if (req.method !== 'GET') throw unsupportedOperation();
        if (!role) throw notFound();
        return ok({
          bind_secret_id: role.bindSecretId,
          secret_id_num_uses: role.secretIdNumUses,
          secret_id_ttl: role.secretIdTtlS,
          token_policies: [...role.policies],
          policies: [...role.policies],
          token_ttl: role.ttlS,
          token_max_ttl: role.maxTtlS,
          token_num_uses: role.tokenNumUses,
          token_type: 'default',
        });
      case 'role-id':
        if (!role) throw badRequest(`role ${name} does not exist`);
        if (req.method === 'GET') return ok({ role_id: role.roleId });
        if (req.method !== 'POST') throw unsupportedOperation();
        role.roleId = optionalString(body.role_id, 'role_id') ?? '';
        if (role.roleId === '') throw badRequest('missing role_id');
        return noContent();
      default: {
        if (req.method !== 'POST') throw unsupportedOperation();
        if (!role) throw badRequest(`role ${name} does not exist`);
        const secretId = randomUUID();
        const accessor = randomUUID();
        const ttl = role.secretIdTtlS;
        this.#secretIds.set(secretId, {
          role: name,
          accessor,
          expireMono: ttl > 0 ? this.#core.clock.monotonic() + ttl * 1000 : null,
          usesLeft: role.secretIdNumUses,
        });
        return ok({ secret_id: secretId, secret_id_accessor: accessor, secret_id_ttl: ttl, secret_id_num_uses: role.secretIdNumUses });
      }
    }
  }

  #writeRole(name: string, previous: Role | undefined, body: Readonly<Record<string, unknown>>): Reply {
    const pick = <T>(key: string, parse: (v: unknown) => T, fallback: T): T => (body[key] === undefined ? fallback : parse(body[key]));
    const role: Role = {
      roleId: previous?.roleId ?? randomUUID(),
      policies: pick('token_policies', (v) => stringList(v, 'token_policies'), pick('policies', (v) => stringList(v, 'policies'), previous?.policies ?? [])),
      ttlS: pick('token_ttl', (v) => durationSeconds(v, 'token_ttl'), previous?.ttlS ?? 0),
      maxTtlS: pick('token_max_ttl', (v) => durationSeconds(v, 'token_max_ttl'), previous?.maxTtlS ?? 0),
      tokenNumUses: pick('token_num_uses', (v) => integer(v, 'token_num_uses', 0), previous?.tokenNumUses ?? 0),
      secretIdTtlS: pick('secret_id_ttl', (v) => durationSeconds(v, 'secret_id_ttl'), previous?.secretIdTtlS ?? 0),
      secretIdNumUses: pick('secret_id_num_uses', (v) => integer(v, 'secret_id_num_uses', 0), previous?.secretIdNumUses ?? 0),
      bindSecretId: pick('bind_secret_id', (v) => bool(v, 'bind_secret_id', true), previous?.bindSecretId ?? true),
    };
    if (role.maxTtlS > 0 && role.ttlS > role.maxTtlS) throw badRequest('token_ttl should not be greater than token_max_ttl');
    this.#roles.set(name, role);
    return noContent();
  }

  #login(body: Readonly<Record<string, unknown>>): Reply {
    const roleId = optionalString(body.role_id, 'role_id') ?? '';
    if (roleId === '') throw badRequest('missing role_id');
    const entry = [...this.#roles.entries()].find(([, r]) => r.roleId === roleId);
    if (!entry) throw badRequest('invalid role ID');
    const [name, role] = entry;
    if (role.bindSecretId) {
      const secretId = optionalString(body.secret_id, 'secret_id') ?? '';
      const secret = secretId ? this.#secretIds.get(secretId) : undefined;
      const expired = secret?.expireMono != null && secret.expireMono <= this.#core.clock.monotonic();
      if (!secret || secret.role !== name || expired) {
        if (secret && expired) this.#secretIds.delete(secretId);
        throw badRequest('invalid role or secret ID');
      }
      if (secret.usesLeft > 0) {
        secret.usesLeft -= 1;
        if (secret.usesLeft === 0) this.#secretIds.delete(secretId);
      }
    }
    return loginReply(this.#core, {
      policies: role.policies,
      ttlS: role.ttlS,
      maxTtlS: role.maxTtlS,
      numUses: role.tokenNumUses,
      meta: { role_name: name },
      displayName: 'approle',
      path: 'auth/approle/login',
    });
  }
}
