import { badRequest, noRoute, notFound, unsupportedOperation } from './api-error.js';
import { childKeys, envelope, listReply, noContent, ok, type Core, type Engine, type EngineRequest, type Reply } from './engine.js';
import { integer, rfc3339 } from './input.js';

interface Version {
  readonly data: Record<string, unknown>;
  readonly createdWall: number;
  deletedWall: number | null;
  destroyed: boolean;
}

interface Secret {
  readonly versions: Map<number, Version>;
  current: number;
  readonly createdWall: number;
  updatedWall: number;
}

/** KV version 2 (`secret/` on a dev server): versioned data under `data/`, metadata under `metadata/`. */
export class KvV2Engine implements Engine {
  readonly type = 'kv';
  readonly #core: Core;
  readonly #secrets = new Map<string, Secret>();

  constructor(core: Core) {
    this.#core = core;
  }

  creates(path: string): boolean {
    const m = /^data\/(.+)$/.exec(path);
    return !m?.[1] || !this.#secrets.has(m[1]);
  }

  handle(req: EngineRequest): Promise<Reply> {
    return Promise.resolve(this.#handle(req));
  }

  #versionMeta(v: Version, n: number): Record<string, unknown> {
    return {
      created_time: rfc3339(v.createdWall),
      custom_metadata: null,
      deletion_time: v.deletedWall === null ? '' : rfc3339(v.deletedWall),
      destroyed: v.destroyed,
      version: n,
    };
  }

  #handle(req: EngineRequest): Reply {
    const [section, ...rest] = req.path.split('/');
    const key = rest.join('/');
    const extra = { mount_type: 'kv' };
    if (section === 'config' && rest.length === 0 && req.method === 'GET') {
      return ok({ cas_required: false, delete_version_after: '0s', max_versions: 0 }, extra);
    }
    if (section === 'data' && key !== '') {
      const secret = this.#secrets.get(key);
      if (req.method === 'GET') {
        if (!secret) throw notFound();
        const n = integer(req.query.get('version') ?? undefined, 'version', 0) || secret.current;
        const v = secret.versions.get(n);
        if (!v) throw notFound();
        if (v.deletedWall !== null || v.destroyed) {
          return { status: 404, body: envelope({ data: { data: null, metadata: this.#versionMeta(v, n) }, ...extra }) };
        }
        return ok({ data: v.data, metadata: this.#versionMeta(v, n) }, extra);
      }
      if (req.method === 'POST') {
        const data = req.body.data;
        if (typeof data !== 'object' || data === null || Array.isArray(data)) throw badRequest('no data provided');
        const options = req.body.options;
        const cas = typeof options === 'object' && options !== null ? (options as Record<string, unknown>).cas : undefined;
        const current = secret?.current ?? 0;
        if (cas !== undefined && integer(cas, 'cas', 0) !== current) {
          throw badRequest('check-and-set parameter did not match the current version');
        }
        const now = this.#core.clock.now();
        const target = secret ?? { versions: new Map<number, Version>(), current: 0, createdWall: now, updatedWall: now };
        target.current += 1;
        target.updatedWall = now;
        const v: Version = { data: { ...(data as Record<string, unknown>) }, createdWall: now, deletedWall: null, destroyed: false };
        target.versions.set(target.current, v);
        this.#secrets.set(key, target);
        return ok(this.#versionMeta(v, target.current), extra);
      }
      if (req.method === 'DELETE') {
        const v = secret?.versions.get(secret.current);
        if (v && v.deletedWall === null) v.deletedWall = this.#core.clock.now();
        return noContent();
      }
      throw unsupportedOperation();
    }
    if (section === 'metadata') {
      if (req.method === 'LIST') return listReply(childKeys(this.#secrets.keys(), key));
      const secret = this.#secrets.get(key);
      if (req.method === 'GET') {
        if (!secret) throw notFound();
        const versions: Record<string, unknown> = {};
        for (const [n, v] of secret.versions) {
          const meta = this.#versionMeta(v, n);
          versions[String(n)] = { created_time: meta.created_time, deletion_time: meta.deletion_time, destroyed: meta.destroyed };
        }
        return ok({
          cas_required: false,
          created_time: rfc3339(secret.createdWall),
          current_version: secret.current,
          custom_metadata: null,
          delete_version_after: '0s',
          max_versions: 0,
          oldest_version: 0,
          updated_time: rfc3339(secret.updatedWall),
          versions,
        }, extra);
      }
      if (req.method === 'DELETE') {
        this.#secrets.delete(key);
        return noContent();
      }
      throw unsupportedOperation();
    }
    throw noRoute(`${req.mount}${req.path}`);
  }
}

/** KV version 1: plain key/value, for mounts enabled with `type: kv` and no version 2 option. */
export class KvV1Engine implements Engine {
  readonly type = 'kv';
  readonly #data = new Map<string, Record<string, unknown>>();

  creates(path: string): boolean {
    return !this.#data.has(path);
  }

  handle(req: EngineRequest): Promise<Reply> {
    const extra = { mount_type: 'kv' };
    if (req.method === 'LIST') return Promise.resolve(listReply(childKeys(this.#data.keys(), req.path)));
    if (req.path === '') return Promise.reject(noRoute(req.mount));
    if (req.method === 'GET') {
      const value = this.#data.get(req.path);
      if (!value) return Promise.reject(notFound());
      return Promise.resolve(ok(value, { ...extra, lease_duration: 2_764_800 }));
    }
    if (req.method === 'POST') {
      this.#data.set(req.path, { ...req.body });
      return Promise.resolve(noContent());
    }
    this.#data.delete(req.path);
    return Promise.resolve(noContent());
  }
}
