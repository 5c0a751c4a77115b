import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { systemClock, type Clock } from './clock.js';
import { badRequest, noRoute, notFound, permissionDenied, unsupportedOperation, VaultApiError } from './api-error.js';
import type { Capability } from './acl.js';
import { AppRoleEngine } from './approle.js';
import { DatabaseEngine } from './database.js';
import { childKeys, envelope, listReply, noContent, ok, type Core, type Engine, type Method, type Reply } from './engine.js';
import { FaultInjector, type VaultFaults } from './faults.js';
import { newTokenId, randomBase62 } from './ids.js';
import { durationSeconds, bool, optionalString, rfc3339, type Body } from './input.js';
import { JwtAuthEngine } from './jwt-auth.js';
import { KvV1Engine, KvV2Engine } from './kv.js';
import { LeaseManager } from './leases.js';
import { attachWithListVerb, LIST_HEADER } from './list-verb.js';
import { PolicyStore } from './policies.js';
import { StateFile } from './storage.js';
import { TokenEngine } from './token-engine.js';
import { TokenStore, type TokenEntry } from './tokens.js';

export type { VaultFaults } from './faults.js';

export interface VaultServerOptions {
  /** Drives every TTL timer; default systemClock. */
  clock?: Clock;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Default: a random `hvs.` token. */
  rootToken?: string;
  /**
   * Keep tokens, leases, policies and database settings in this JSON file (storage.ts), written
   * before each reply, and load it at start: a restart on the same file forgets no credential.
   * Default: memory only.
   */
  storageFile?: string;
}

export interface VaultTestServer {
  /** "http://127.0.0.1:PORT" */
  readonly address: string;
  readonly rootToken: string;
  readonly faults: VaultFaults;
  /** Every endpoint then answers 503 {"errors":["Vault is sealed"]}; sys/health 503 with sealed:true. */
  seal(): void;
  unseal(): void;
  /**
   * Resolves when every revocation started so far (token expiry, lease expiry, cascades) has
   * finished, so a test can check PostgreSQL right after advancing a ManualClock.
   */
  settled(): Promise<void>;
  /** Also stops the server from accepting, ends hung requests, clears timers and closes DB pools. */
  close(): Promise<void>;
}

export const VAULT_VERSION = '1.17.0';
const MAX_BODY = 1024 * 1024;
const SUDO_PATHS = [/^sys\/auth\/./, /^sys\/leases\/revoke-prefix\//, /^sys\/revoke-prefix\//, /^sys\/leases\/lookup\//, /^auth\/token\/revoke-orphan$/];

interface Mount {
  readonly path: string;
  readonly type: string;
  readonly engine: Engine;
  readonly accessor: string;
  readonly options: Readonly<Record<string, string>> | null;
}

/** The server's state and request pipeline. */
class VaultCore {
  readonly clock: Clock;
  readonly tokens: TokenStore;
  readonly leases: LeaseManager;
  readonly policies = new PolicyStore();
  readonly faults = new FaultInjector();
  readonly mounts = new Map<string, Mount>();
  readonly rootToken: TokenEntry;
  readonly clusterName = `vault-cluster-${randomBase62(8).toLowerCase()}`;
  readonly clusterId = randomUUID();
  sealed = false;

  constructor(clock: Clock, rootToken: string) {
    this.clock = clock;
    this.tokens = new TokenStore(clock);
    this.leases = new LeaseManager(clock, this.tokens);
    this.rootToken = this.tokens.create({
      id: rootToken,
      policies: ['root'],
      parent: null,
      ttlS: 0,
      explicitMaxTtlS: 0,
      maxTtlS: 0,
      numUses: 0,
      renewable: false,
      meta: null,
      displayName: 'root',
      path: 'auth/token/root',
    });
    this.#mount('auth/token/', 'token', new TokenEngine(this.#shared(), (t, p) => this.#acl(t).allows(p, 'sudo')), null);
    this.#mount('secret/', 'kv', new KvV2Engine(this.#shared()), { version: '2' });
    this.#mount('database/', 'database', new DatabaseEngine(this.#shared()), null);
    this.#mount('auth/approle/', 'approle', new AppRoleEngine(this.#shared()), null);
    this.#mount('auth/jwt/', 'jwt', new JwtAuthEngine(this.#shared()), null);
  }

  /** The storage file for this core's state (see storage.ts). */
  storage(file: string): StateFile {
    const database = this.mounts.get('database/')?.engine;
    if (!(database instanceof DatabaseEngine)) throw new Error('storage needs the database/ mount');
    return new StateFile(file, { clock: this.clock, tokens: this.tokens, leases: this.leases, policies: this.policies, database }, this.rootToken.id);
  }

  #shared(): Core {
    return { clock: this.clock, tokens: this.tokens, leases: this.leases };
  }

  #mount(path: string, type: string, engine: Engine, options: Record<string, string> | null): void {
    this.mounts.set(path, { path, type, engine, accessor: `${type}_${randomBase62(8).toLowerCase()}`, options });
  }

  #acl(token: TokenEntry) {
    return this.policies.acl(token.policies);
  }

  #findMount(path: string): Mount | null {
    let best: Mount | null = null;
    for (const m of this.mounts.values()) {
      if ((path.startsWith(m.path) || path === m.path.slice(0, -1)) && (!best || m.path.length > best.path.length)) best = m;
    }
    return best;
  }

  /** The whole pipeline for one request, after faults and sealing. */
  async handle(method: Method, path: string, query: URLSearchParams, body: Body, tokenId: string | null, wrapTtlS: number): Promise<Reply> {
    if (path === 'sys/wrapping/unwrap' || path === 'sys/wrapping/lookup') return this.#wrapping(path, method, body, tokenId);
    const mount = this.#findMount(path);
    const rel = mount ? path.slice(mount.path.length) : '';
    const open = mount?.engine.unauthenticated?.(rel) === true;
    let token: TokenEntry | null = null;
    let exhausted = false;
    if (!open) {
      token = tokenId ? this.tokens.get(tokenId) : null;
      if (!token) throw permissionDenied();
      const acl = this.#acl(token);
      const cap: Capability = method === 'GET' ? 'read' : method === 'LIST' ? 'list' : method === 'DELETE' ? 'delete' : this.#creates(path, mount, rel) ? 'create' : 'update';
      if (!acl.allows(path, cap)) throw permissionDenied();
      if (SUDO_PATHS.some((re) => re.test(path)) && !acl.allows(path, 'sudo')) throw permissionDenied();
      if (token.numUses > 0) {
        token.numUses -= 1;
        exhausted = token.numUses === 0;
      }
    }
    try {
      let reply: Reply;
      if (path.startsWith('sys/')) reply = await this.#sys(method, path, query, body, token);
      else if (mount) reply = await mount.engine.handle({ method, path: rel, mount: mount.path, query, body, token });
      else throw noRoute(path);
      if (wrapTtlS > 0 && reply.status === 200 && reply.body && (reply.body.data != null || reply.body.auth != null)) {
        return this.#wrap(reply.body, path, wrapTtlS);
      }
      return reply;
    } finally {
      // Vault revokes a token whose last use this was, with its leases, once the request is done.
      if (exhausted && token) await this.tokens.revoke(token);
    }
  }

  #creates(path: string, mount: Mount | null, rel: string): boolean {
    const policy = /^sys\/(?:policies\/acl|policy)\/(.+)$/.exec(path);
    if (policy?.[1] !== undefined) return this.policies.get(policy[1]) === null;
    return mount?.engine.creates?.(rel) === true;
  }

  #wrap(body: Record<string, unknown>, path: string, ttlS: number): Reply {
    const auth = body.auth as { accessor?: unknown } | null;
    const wrapping = this.tokens.create({
      policies: ['response-wrapping'],
      parent: null,
      ttlS,
      explicitMaxTtlS: ttlS,
      maxTtlS: ttlS,
      numUses: 1,
      renewable: false,
      meta: null,
      displayName: '',
      path,
      wrapped: { body, creationPath: path },
    });
    return {
      status: 200,
      body: envelope({
        wrap_info: {
          token: wrapping.id,
          accessor: wrapping.accessor,
          ttl: ttlS,
          creation_time: rfc3339(wrapping.creationWall),
          creation_path: path,
          ...(typeof auth?.accessor === 'string' ? { wrapped_accessor: auth.accessor } : {}),
        },
      }),
    };
  }

  async #wrapping(path: string, method: Method, body: Body, tokenId: string | null): Promise<Reply> {
    if (method !== 'POST') throw unsupportedOperation();
    const given = optionalString(body.token, 'token');
    if (path === 'sys/wrapping/lookup') {
      const w = given ? this.tokens.get(given) : null;
      if (!w?.wrapped) throw badRequest('wrapping token is not valid or does not exist');
      return ok({ creation_path: w.wrapped.creationPath, creation_time: rfc3339(w.creationWall), creation_ttl: w.creationTtlS });
    }
    let wrapping: TokenEntry | null;
    if (given) {
      // Unwrapping someone else's wrapping token needs a valid token allowed to unwrap.
      const caller = tokenId ? this.tokens.get(tokenId) : null;
      if (!caller || !this.#acl(caller).allows(path, 'update')) throw permissionDenied();
      wrapping = this.tokens.get(given);
    } else {
      wrapping = tokenId ? this.tokens.get(tokenId) : null;
    }
    if (!wrapping?.wrapped) throw badRequest('wrapping token is not valid or does not exist');
    const { body: wrapped } = wrapping.wrapped;
    await this.tokens.revoke(wrapping);
    return { status: 200, body: { ...wrapped, request_id: randomUUID() } };
  }

  health(query: URLSearchParams): Reply {
    const code = (name: string, fallback: number): number => Number(query.get(name) ?? fallback) || fallback;
    return {
      status: this.sealed ? code('sealedcode', 503) : code('activecode', 200),
      body: {
        initialized: true,
        sealed: this.sealed,
        standby: false,
        performance_standby: false,
        replication_performance_mode: 'disabled',
        replication_dr_mode: 'disabled',
        server_time_utc: Math.floor(this.clock.now() / 1000),
        version: VAULT_VERSION,
        enterprise: false,
        cluster_name: this.clusterName,
        cluster_id: this.clusterId,
        echo_duration_ms: 0,
        clock_skew_ms: 0,
      },
    };
  }

  sealStatus(): Reply {
    return {
      status: 200,
      body: {
        type: 'shamir', initialized: true, sealed: this.sealed, t: 1, n: 1, progress: 0, nonce: '',
        version: VAULT_VERSION, migration: false, cluster_name: this.clusterName, cluster_id: this.clusterId,
        recovery_seal: false, storage_type: 'inmem',
      },
    };
  }

  async #sys(method: Method, path: string, query: URLSearchParams, body: Body, token: TokenEntry | null): Promise<Reply> {
    const rest = path.slice('sys/'.length);
    let m: RegExpExecArray | null;
    if (rest === 'policies/acl' || rest === 'policies/acl/') {
      if (method !== 'LIST' && method !== 'GET') throw unsupportedOperation();
      return listReply(this.policies.names());
    }
    if ((m = /^(policies\/acl|policy)\/(.+)$/.exec(rest))) {
      const name = (m[2] ?? '').toLowerCase();
      const legacy = m[1] === 'policy';
      if (method === 'GET') {
        const text = this.policies.get(name);
        if (text === null) throw notFound();
        return legacy ? { status: 200, body: envelope({ data: { name, rules: text }, name, rules: text }) } : ok({ name, policy: text });
      }
      if (method === 'DELETE') {
        this.policies.delete(name);
        return noContent();
      }
      if (method !== 'POST') throw unsupportedOperation();
      const text = optionalString(body.policy ?? body.rules, 'policy');
      if (text === undefined) throw badRequest("'policy' parameter not supplied or empty");
      this.policies.put(name, text);
      return noContent();
    }
    if (rest === 'policy') {
      const names = this.policies.names();
      return { status: 200, body: envelope({ data: { keys: names, policies: names }, keys: names, policies: names }) };
    }
    if (rest === 'mounts' || rest === 'auth') return this.#listMounts(rest === 'auth');
    if ((m = /^(mounts|auth)\/(.+?)\/?$/.exec(rest))) return this.#changeMount(m[1] === 'auth', `${m[1] === 'auth' ? 'auth/' : ''}${m[2] ?? ''}/`, method, body);
    if ((m = /^leases\/lookup\/(.*)$/.exec(rest)) && method === 'LIST') {
      // Vault's LIST sys/leases/lookup/:prefix (sudo, checked above): the ids one level below.
      return listReply(childKeys(this.leases.all().map((l) => l.id), m[1] ?? ''));
    }
    if (rest === 'leases/lookup') {
      if (method !== 'POST') throw unsupportedOperation();
      const lease = this.leases.get(optionalString(body.lease_id, 'lease_id') ?? '');
      if (!lease) throw badRequest('invalid lease');
      return ok(this.leases.lookupData(lease));
    }
    if ((m = /^(?:leases\/renew|renew)(?:\/(.+))?$/.exec(rest))) {
      if (method !== 'POST') throw unsupportedOperation();
      const id = m[1] ?? optionalString(body.lease_id, 'lease_id') ?? '';
      if (id === '') throw badRequest('lease_id must be specified');
      const inc = durationSeconds(body.increment, 'increment');
      const { lease, ttlS, capped } = this.leases.renew(id, inc);
      return {
        status: 200,
        body: envelope({
          lease_id: lease.id,
          renewable: lease.renewable,
          lease_duration: ttlS,
          warnings: capped ? [`TTL of "${inc}s" exceeded the effective max_ttl of "${ttlS}s"; TTL value is capped accordingly`] : null,
        }),
      };
    }
    if ((m = /^(?:leases\/revoke|revoke)(?:\/(.+))?$/.exec(rest))) {
      if (method !== 'POST') throw unsupportedOperation();
      const id = m[1] ?? optionalString(body.lease_id, 'lease_id') ?? '';
      if (id === '') throw badRequest('lease_id must be specified');
      if (!bool(body.sync, 'sync', true)) {
        void this.leases.revoke(id).catch(() => undefined);
        return { status: 202 };
      }
      await this.leases.revoke(id);
      return noContent();
    }
    if ((m = /^(?:leases\/revoke-prefix|revoke-prefix)\/(.+)$/.exec(rest))) {
      if (method !== 'POST') throw unsupportedOperation();
      const work = this.leases.revokePrefix(m[1] ?? '');
      if (!bool(body.sync, 'sync', true)) {
        void work.catch(() => undefined);
        return { status: 202 };
      }
      await work;
      return noContent();
    }
    if (rest === 'capabilities-self') {
      if (method !== 'POST' || !token) throw unsupportedOperation();
      const paths = body.paths !== undefined ? (Array.isArray(body.paths) ? body.paths : [body.paths]) : [body.path];
      const acl = this.#acl(token);
      const data: Record<string, unknown> = {};
      for (const p of paths) {
        if (typeof p !== 'string') throw badRequest('invalid paths');
        data[p] = acl.capabilities(p).length ? acl.capabilities(p) : ['deny'];
      }
      if (paths.length === 1) data.capabilities = data[paths[0] as string];
      return { status: 200, body: envelope({ data, ...data }) };
    }
    if (rest === 'wrapping/wrap') {
      if (method !== 'POST') throw unsupportedOperation();
      return ok({ ...body });
    }
    throw noRoute(path);
  }

  #listMounts(auth: boolean): Reply {
    const data: Record<string, unknown> = {};
    for (const m of this.mounts.values()) {
      if (m.path.startsWith('auth/') !== auth) continue;
      data[auth ? m.path.slice('auth/'.length) : m.path] = {
        type: m.type,
        description: '',
        accessor: m.accessor,
        config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
        options: m.options,
        local: false,
        seal_wrap: false,
        external_entropy_access: false,
      };
    }
    return { status: 200, body: envelope({ data, ...data }) };
  }

  async #changeMount(auth: boolean, path: string, method: Method, body: Body): Promise<Reply> {
    const existing = this.mounts.get(path);
    if (method === 'DELETE') {
      if (existing && path !== 'auth/token/') {
        await this.leases.revokePrefix(path);
        await existing.engine.close?.();
        this.mounts.delete(path);
      }
      return noContent();
    }
    if (method === 'GET' && existing) return ok({ type: existing.type, options: existing.options, accessor: existing.accessor });
    if (method === 'GET') throw badRequest(`No secret engine mount at ${path}`);
    if (method !== 'POST') throw unsupportedOperation();
    if (existing || [...this.mounts.keys()].some((k) => k.startsWith(path) || path.startsWith(k))) {
      throw badRequest(`path is already in use at ${existing?.path ?? path}`);
    }
    const type = optionalString(body.type, 'type') ?? '';
    const options = body.options && typeof body.options === 'object' ? (body.options as Record<string, unknown>) : {};
    const core = this.#shared();
    let engine: Engine;
    let opts: Record<string, string> | null = null;
    if (auth) {
      if (type === 'approle') engine = new AppRoleEngine(core);
      else if (type === 'jwt' || type === 'oidc') engine = new JwtAuthEngine(core);
      else throw badRequest(`plugin not found in the catalog: ${type}`);
    } else if (type === 'kv' || type === 'kv-v2') {
      const version = type === 'kv-v2' ? '2' : (typeof options.version === 'string' || typeof options.version === 'number' ? String(options.version) : '1');
      engine = version === '2' ? new KvV2Engine(core) : new KvV1Engine();
      opts = { version };
    } else if (type === 'database') {
      engine = new DatabaseEngine(core);
    } else {
      throw badRequest(`plugin not found in the catalog: ${type}`);
    }
    this.#mount(path, type === 'kv-v2' ? 'kv' : type, engine, opts);
    return noContent();
  }

  async close(): Promise<void> {
    this.faults.close();
    this.tokens.clearTimers();
    this.leases.clearTimers();
    await this.settled();
    await Promise.all([...this.mounts.values()].map((m) => m.engine.close?.() ?? Promise.resolve()));
  }

  async settled(): Promise<void> {
    for (let i = 0; i < 10; i += 1) {
      await this.tokens.settled();
      await this.leases.settled();
    }
  }
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.writableEnded || res.destroyed) return;
  res.setHeader('Cache-Control', 'no-store');
  if (reply.status === 204 || reply.status === 202 || reply.body === undefined) {
    res.writeHead(reply.status);
    res.end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new VaultApiError(413, ['request body too large']));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function parseBody(text: string): Body {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest('failed to parse JSON input: invalid JSON', { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('failed to parse JSON input: expected an object');
  return value as Body;
}

function tokenOf(req: IncomingMessage): string | null {
  const header = req.headers['x-vault-token'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '');
  return null;
}

/** Starts a Vault-API-compatible server (see README: "Vault test server"). */
export async function startVaultServer(options: VaultServerOptions = {}): Promise<VaultTestServer> {
  const clock = options.clock ?? systemClock;
  const host = options.host ?? '127.0.0.1';
  const stored = options.storageFile === undefined ? null : StateFile.rootToken(options.storageFile);
  if (stored !== null && options.rootToken !== undefined && stored !== options.rootToken) {
    throw new Error(`storage file ${options.storageFile ?? ''} belongs to another root token`);
  }
  const core = new VaultCore(clock, stored ?? options.rootToken ?? newTokenId());
  const storage = options.storageFile === undefined ? null : core.storage(options.storageFile);
  storage?.load();
  // Expiry and background revocations change the state between requests too.
  const saver = storage ? setInterval(() => { storage.save(); }, 200) : null;
  saver?.unref();

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://vault.invalid');
    let method = (req.method ?? 'GET').toUpperCase();
    if (req.headers[LIST_HEADER] === '1' || (method === 'GET' && url.searchParams.get('list') === 'true')) method = 'LIST';
    if (method === 'PUT') method = 'POST';
    const head = method === 'HEAD';
    if (head) method = 'GET';
    if (!url.pathname.startsWith('/v1/')) {
      send(res, { status: 404, body: { errors: [] } });
      return;
    }
    const path = decodeURIComponent(url.pathname.slice('/v1/'.length));
    try {
      const fault = await core.faults.decide(method, path);
      if (fault.kind === 'hang') {
        core.faults.holdUntilCleared(() => res.destroy());
        return;
      }
      if (fault.kind === 'fail') {
        send(res, { status: fault.status, body: { errors: ['injected fault'] } });
        return;
      }
      if (path === 'sys/health') {
        const reply = core.health(url.searchParams);
        send(res, head ? { status: reply.status } : reply);
        return;
      }
      if (path === 'sys/seal-status') {
        send(res, core.sealStatus());
        return;
      }
      if (core.sealed) throw new VaultApiError(503, ['Vault is sealed']);
      if (method !== 'GET' && method !== 'LIST' && method !== 'POST' && method !== 'DELETE') throw unsupportedOperation();
      const body = method === 'POST' || method === 'DELETE' ? parseBody(await readBody(req)) : {};
      const wrapHeader = req.headers['x-vault-wrap-ttl'];
      let wrapTtlS = 0;
      if (typeof wrapHeader === 'string' && wrapHeader !== '') {
        try {
          wrapTtlS = durationSeconds(wrapHeader, 'wrap TTL');
        } catch (err) {
          throw badRequest('error parsing wrap TTL', { cause: err });
        }
      }
      if (path === 'sys/wrapping/wrap' && wrapTtlS === 0) wrapTtlS = 300;
      const reply = await core.handle(method, path, url.searchParams, body, tokenOf(req), wrapTtlS);
      // Durable before the caller hears of it: a credential it was told about survives a SIGKILL.
      storage?.save();
      send(res, reply);
    } catch (err) {
      if (err instanceof VaultApiError) send(res, { status: err.status, body: { errors: [...err.errors] } });
      else send(res, { status: 500, body: { errors: ['1 error occurred:\n\t* internal error\n\n'] } });
    }
  };

  const http = createHttpServer((req, res) => {
    void onRequest(req, res);
  });
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    attachWithListVerb(http, socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  let closing: Promise<void> | null = null;
  return {
    address: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    rootToken: core.rootToken.id,
    faults: core.faults,
    seal: () => {
      core.sealed = true;
    },
    unseal: () => {
      core.sealed = false;
    },
    settled: () => core.settled(),
    close: () => {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => { resolve(); }));
        for (const s of sockets) s.destroy();
        await stopped;
        if (saver) clearInterval(saver);
        await core.close();
        storage?.save();
      })();
      return closing;
    },
  };
}
