/**
 * Security 6: the TCP listener is for remote approvers. Anyone who reaches its port must not be
 * able to ask for credentials: AccessService is served on the Unix socket only, unless
 * `listen.tcp.access: true` says otherwise. Tested against the real jitgated process.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { loadJitgateProto } from '../../src/common/load-proto.js';
import type { AccessServiceClient } from '../../src/generated/jitgate/v1/AccessService.js';
import type { AccessUpdate__Output } from '../../src/generated/jitgate/v1/AccessUpdate.js';
import type { ApprovalServiceClient } from '../../src/generated/jitgate/v1/ApprovalService.js';
import type { Request__Output } from '../../src/generated/jitgate/v1/Request.js';
import { startVaultServer, type VaultTestServer } from '../../tools/vault-compat/src/server.js';
import { Proc, ROOT } from '../support/daemon-process.js';
import { freePort } from '../support/free-port.js';

const { proto } = loadJitgateProto();
const DAEMON = join(ROOT, 'src/daemon/main.ts');
const CONTEXT = { repository: 'acme/api', ref: 'refs/heads/main', sha: 'a'.repeat(40), actor: 'alice', environment: 'production' };

let dir: string;
let vault: VaultTestServer;
let ca: Buffer;

interface Running {
  readonly proc: Proc;
  readonly socket: string;
  readonly tcp: string;
  readonly auditFile: string;
  close(): Promise<void>;
}

/** A real jitgated with a TCP+TLS listener; `access` is written as `listen.tcp.access` when given. */
async function startJitgated(name: string, access?: boolean): Promise<Running> {
  const home = join(dir, name);
  await import('node:fs/promises').then((fs) => fs.mkdir(home));
  const socket = join(home, 'jitgated.sock');
  const tcp = `127.0.0.1:${await freePort()}`;
  const auditFile = join(home, 'audit.jsonl');
  const config = join(home, 'jitgated.yaml');
  const accessLine = access === undefined ? '' : `, access: ${access}`;
  await writeFile(
    config,
    `listen:
  socket: ${socket}
  tcp: { address: "${tcp}", tls: { cert_file: ${join(dir, 'tls.crt')}, key_file: ${join(dir, 'tls.key')} }${accessLine} }
state: { sqlite: ${join(home, 'state.db')} }
audit: { file: ${auditFile} }
vault: { address: ${vault.address}, auth: { token_file: ${join(dir, 'vault-token')} }, timeout: 2s }
identity: { local: { context: true, approvers: true } }
groups:
  sre: [bob]
resources:
  demo-token:
    vault: { policies: [default] }
    env: { VAULT_TOKEN: token }
    ttl: 60s
stop_timeout: 4s
policies:
  - name: token-needs-sre
    match: { resource: demo-token, repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 5m }
`,
  );
  const proc = new Proc(
    spawn(process.execPath, ['--import', 'tsx', DAEMON, '--config', config], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  await proc.waitFor(/jitgated serving/);
  return {
    proc,
    socket,
    tcp,
    auditFile,
    async close() {
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
      const result = await proc.exited;
      assert.equal(result.code, 0, result.stderr);
    },
  };
}

interface Clients {
  readonly access: AccessServiceClient;
  readonly approval: ApprovalServiceClient;
  close(): void;
}

function clientsFor(target: string, credentials: grpc.ChannelCredentials): Clients {
  const access = new proto.jitgate.v1.AccessService(target, credentials);
  const approval = new proto.jitgate.v1.ApprovalService(target, credentials);
  return {
    access,
    approval,
    close() {
      access.close();
      approval.close();
    },
  };
}

const overUnix = (d: Running): Clients => clientsFor(`unix:${d.socket}`, grpc.credentials.createInsecure());
// The certificate names 127.0.0.1, so the TLS check is real (no override of the target name).
const overTcp = (d: Running): Clients => clientsFor(d.tcp, grpc.credentials.createSsl(ca));

function asBob(): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('x-jitgate-approver', 'bob');
  return md;
}

/** The first update of a RequestAccess stream, or the error that ended it; the stream is then cancelled. */
function firstUpdate(access: AccessServiceClient): Promise<{ update?: AccessUpdate__Output; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const call = access.RequestAccess({ resource: 'demo-token', reason: 'deploy', ttl: '', idToken: '', context: CONTEXT });
    call.on('data', (update: AccessUpdate__Output) => {
      resolve({ update });
      call.cancel();
    });
    call.on('error', (error: grpc.ServiceError) => {
      resolve({ error });
    });
    call.on('end', () => {
      resolve({});
    });
  });
}

function listRequests(approval: ApprovalServiceClient): Promise<Request__Output[]> {
  return new Promise((resolve, reject) => {
    approval.ListRequests({ statuses: [] }, asBob(), (err, value) => {
      if (err) reject(err);
      else resolve(value?.requests ?? []);
    });
  });
}

function release(access: AccessServiceClient): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    access.Release({ grantId: 'grant_x', releaseToken: 'rt_x' }, (err) => {
      resolve(err);
    });
  });
}

type HealthClient = grpc.Client & {
  check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
};

function healthOverTcp(d: Running): HealthClient {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (t: string, c: grpc.ChannelCredentials) => HealthClient } } };
  };
  return new pkg.grpc.health.v1.Health(d.tcp, grpc.credentials.createSsl(ca));
}

function check(client: HealthClient, service: string): Promise<{ status?: string; code?: grpc.status }> {
  return new Promise((resolve) => {
    client.check({ service }, (err, res) => {
      resolve(err ? { code: err.code } : { ...(res && { status: res.status }) });
    });
  });
}

async function auditTypes(d: Running): Promise<string[]> {
  const text = await readFile(d.auditFile, 'utf8');
  return text
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { type: string }).type);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jitgate-sec06-'));
  const tls = spawnSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(tls.status, 0, tls.stderr);
  await chmod(join(dir, 'tls.key'), 0o600);
  ca = await readFile(join(dir, 'tls.crt'));
  vault = await startVaultServer();
  await writeFile(join(dir, 'vault-token'), vault.rootToken, { mode: 0o600 });
});

after(async () => {
  await vault.close();
  await rm(dir, { recursive: true, force: true });
});

describe('security 6: AccessService is served on the Unix socket only, unless listen.tcp.access', () => {
  it('by default TCP answers UNIMPLEMENTED to RequestAccess and Release, and no request is created or audited', async (t) => {
    const daemon = await startJitgated('default');
    const tcp = overTcp(daemon);
    const unix = overUnix(daemon);
    const health = healthOverTcp(daemon);
    t.after(async () => {
      tcp.close();
      unix.close();
      health.close();
      await daemon.close();
    });

    const auditBefore = await auditTypes(daemon);
    const refused = await firstUpdate(tcp.access);
    assert.equal(refused.update, undefined, 'no update over TCP');
    assert.equal(refused.error?.code, grpc.status.UNIMPLEMENTED, refused.error?.message);
    assert.equal((await release(tcp.access))?.code, grpc.status.UNIMPLEMENTED);
    // ApprovalService answers over TCP, and shows that nothing was created.
    assert.deepEqual(await listRequests(tcp.approval), []);
    assert.deepEqual(await auditTypes(daemon), auditBefore, 'nothing audited for the TCP attempt');
    assert.ok(!auditBefore.some((type) => type.startsWith('request.')), auditBefore.join());

    // Health on TCP does not advertise AccessService; ApprovalService is SERVING.
    assert.deepEqual(await check(health, 'jitgate.v1.ApprovalService'), { status: 'SERVING' });
    assert.deepEqual(await check(health, ''), { status: 'SERVING' });
    assert.deepEqual(await check(health, 'jitgate.v1.AccessService'), { code: grpc.status.NOT_FOUND });
  });

  it('by default the Unix socket serves AccessService, and a remote approver approves it over TCP', async (t) => {
    const daemon = await startJitgated('unix');
    const tcp = overTcp(daemon);
    const unix = overUnix(daemon);
    t.after(async () => {
      tcp.close();
      unix.close();
      await daemon.close();
    });

    const updates: AccessUpdate__Output[] = [];
    const call = unix.access.RequestAccess({ resource: 'demo-token', reason: 'deploy', ttl: '', idToken: '', context: CONTEXT });
    const granted = new Promise<AccessUpdate__Output>((resolve, reject) => {
      call.on('data', (update: AccessUpdate__Output) => {
        updates.push(update);
        if (update.grant) resolve(update);
      });
      call.on('error', reject);
    });
    t.after(() => {
      call.cancel();
    });
    const pendingId = await (async () => {
      for (;;) {
        const [request] = await listRequests(tcp.approval);
        if (request) return request.id;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await new Promise<void>((resolve, reject) => {
      tcp.approval.Approve({ id: pendingId, comment: 'ok' }, asBob(), (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
    const update = await granted;
    assert.equal(update.request?.id, pendingId);
    assert.ok(update.grant?.credentials.VAULT_TOKEN, 'a token was minted for the Unix-socket request');
    assert.ok((await auditTypes(daemon)).includes('grant.minted'));
  });

  it('with listen.tcp.access: true, TCP serves AccessService too (and the daemon warns)', async (t) => {
    const daemon = await startJitgated('opt-in', true);
    const tcp = overTcp(daemon);
    t.after(async () => {
      tcp.close();
      await daemon.close();
    });

    const { update, error } = await firstUpdate(tcp.access);
    assert.equal(error, undefined, error?.message);
    assert.equal(update?.request?.status, 'PENDING');
    assert.match(daemon.proc.stdout + daemon.proc.stderr, /listen\.tcp\.access is on/);
    assert.ok((await auditTypes(daemon)).includes('request.created'));
  });

  it('listen.tcp.access: false is the same as leaving it out', async (t) => {
    const daemon = await startJitgated('opt-out', false);
    const tcp = overTcp(daemon);
    t.after(async () => {
      tcp.close();
      await daemon.close();
    });
    const { error } = await firstUpdate(tcp.access);
    assert.equal(error?.code, grpc.status.UNIMPLEMENTED);
    assert.deepEqual(await listRequests(tcp.approval), []);
  });
});
