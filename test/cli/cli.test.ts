import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SECRET_PASSWORD, startHarness, type Harness } from '../daemon/grpc/test-gate.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'src/cli/cli.ts');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], options: { env?: NodeJS.ProcessEnv; onStderr?: (text: string, kill: (s: NodeJS.Signals) => void) => void } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      options.onStderr?.(stderr, (s) => child.kill(s));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

// The wrapped command proves it got the credentials by printing a hash of them, never the value,
// and checks they are not in its argv.
const PRINT_HASH = [
  process.execPath,
  '-e',
  "const h=require('crypto').createHash('sha256').update(process.env.PGPASSWORD||'').digest('hex');" +
    "console.log('hash='+h+' argv-clean='+!process.argv.join(' ').includes(process.env.PGPASSWORD||'@@'));process.exit(7)",
];

describe('jitgate CLI', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('run puts the credentials in the child env only, releases, and exits with the child code', async () => {
    const r = await cli(['run', '--socket', h.socket, '--resource', 'auto-db', '--reason', 'migrate', '--', ...PRINT_HASH], {
      env: { GITHUB_REPOSITORY: 'acme/api', GITHUB_REF: 'refs/heads/main' },
    });
    const expected = createHash('sha256').update(SECRET_PASSWORD).digest('hex');
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stdout, new RegExp(`hash=${expected} argv-clean=true`));
    assert.ok(!r.stdout.includes(SECRET_PASSWORD) && !r.stderr.includes(SECRET_PASSWORD));
    assert.match(r.stderr, /granted auto-db/);
    const input = h.gate.inputs.at(-1);
    assert.deepEqual(input?.claimed, { repository: 'acme/api', ref: 'refs/heads/main' });
    const grantId = `grant-${/request (req-\d+)/.exec(r.stderr)?.[1] ?? '?'}`;
    assert.ok(h.gate.released.includes(grantId), `released ${h.gate.released.join()}`);
  });

  it('run shows who must approve and the approve command while pending', async () => {
    const r = await cli(['run', '--socket', h.socket, '--resource', 'deny-db', '--', 'true']);
    assert.match(r.stderr, /waiting for 1 approval\(s\) from group:sre; 0\/1 so far; expires in .*Approve with: jitgate approve req-\d+/);
  });

  it('denied: exit 77, one-line reason, the command never runs', async () => {
    const marker = join(h.dir, 'ran-denied');
    const r = await cli(['run', '--socket', h.socket, '--resource', 'deny-db', '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`]);
    assert.equal(r.code, 77);
    assert.match(r.stderr, /^jitgate: access denied: policy says no \(request req-\d+\)$/m);
    assert.equal(existsSync(marker), false);
  });

  it('expired: exit 75 and the command never runs', async () => {
    const marker = join(h.dir, 'ran-expired');
    const r = await cli(['run', '--socket', h.socket, '--resource', 'expire-db', '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`]);
    assert.equal(r.code, 75);
    assert.match(r.stderr, /access expired/);
    assert.equal(existsSync(marker), false);
  });

  it('daemon unreachable: exit 69', async () => {
    const r = await cli(['run', '--socket', join(h.dir, 'none.sock'), '--resource', 'auto-db', '--', 'true']);
    assert.equal(r.code, 69);
    assert.match(r.stderr, /unavailable/);
  });

  it('SIGTERM while pending cancels the request and exits 143', async () => {
    const aborted = h.gate.nextAbort();
    let sent = false;
    const r = await cli(['run', '--socket', h.socket, '--resource', 'hold-db', '--', 'true'], {
      onStderr: (text, kill) => {
        if (!sent && text.includes('Approve with')) {
          sent = true;
          kill('SIGTERM');
        }
      },
    });
    assert.equal(r.code, 143);
    await aborted;
  });

  const usage: [string, string[], RegExp][] = [
    ['an unknown flag', ['run', '--resource', 'x', '--bogus', '--', 'true'], /Unknown argument: bogus/],
    ['a missing --resource', ['run', '--', 'true'], /Missing required argument: resource/],
    ['a bad --ttl', ['run', '--resource', 'x', '--ttl', '60', '--', 'true'], /--ttl: invalid duration/],
    ['no command after --', ['run', '--resource', 'x'], /missing the command/],
    ['deny without --reason', ['deny', 'req-1'], /Missing required argument: reason/],
  ];
  for (const [what, args, message] of usage) {
    it(`usage error for ${what}: exit 64 naming it, no stack trace`, async () => {
      const r = await cli(['--socket', h.socket, ...args]);
      assert.equal(r.code, 64);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  }

  it('--address with an unreadable --ca-file is a usage error naming the flag (exit 64); an unreachable --address is 69', async () => {
    const badCa = await cli(['--address', 'localhost:1', '--ca-file', join(h.dir, 'no-ca.pem'), '--as', 'bob', 'list']);
    assert.equal(badCa.code, 64);
    assert.match(badCa.stderr, /--ca-file: cannot read .*no-ca\.pem/);
    const down = await cli(['--address', 'localhost:1', '--as', 'bob', 'list'], { env: { ...process.env, JITGATE_ADDRESS: '' } });
    assert.equal(down.code, 69, down.stderr);
  });

  it('approve --as sends the local approver identity', async () => {
    const r = await cli(['--socket', h.socket, '--as', 'bob', 'approve', 'req-42', '--comment', 'lgtm']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /req-42\s+approved/);
    assert.deepEqual(h.gate.approvals.at(-1), { id: 'req-42', approver: 'bob', comment: 'lgtm', channel: 'cli' });
  });

  it('show prints the context and list --json prints JSON', async () => {
    const shown = await cli(['--socket', h.socket, '--as', 'bob', 'show', 'req-3']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /ref\s+refs\/heads\/main/);
    const listed = await cli(['--socket', h.socket, '--as', 'bob', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { id: string }[]).map((r) => r.id),
      ['req-a'],
    );
  });

  it('approver commands without an identity fail with the daemon message', async () => {
    const r = await cli(['--socket', h.socket, 'approve', 'req-1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no approver identity/);
  });
});

describe('jitgate audit verify and policy check', () => {
  it('audit verify names the first bad line and exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jitgate-cli-'));
    try {
      const file = join(dir, 'audit.jsonl');
      await writeFile(file, '{"seq":1,"type":"log.opened"}\nnot json\n');
      const r = await cli(['audit', 'verify', file]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /^FAILED at line 1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('policy check exits 1 with the config error naming the key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jitgate-cli-'));
    try {
      const file = join(dir, 'bad.yaml');
      await writeFile(file, 'listen: { socket: /tmp/x.sock }\n');
      const r = await cli(['policy', 'check', file]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^jitgate: vault: is required$/m);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
