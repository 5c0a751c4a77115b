/**
 * `jitgated --log-format`: human-readable lines for a person at a terminal, JSON for journald; the
 * flag is checked (a typo is refused naming it) and so is `log.format` in the config.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { oneGrant } from '../../scripts/one-grant.js';
import { ROOT } from '../support/daemon-process.js';

const run = promisify(execFile);
const JITGATED = [process.execPath, join(ROOT, 'bin/jitgated.js')];
const JITGATE = [process.execPath, join(ROOT, 'bin/jitgate.js')];
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

async function refused(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [file = process.execPath, ...rest] = [...JITGATED, ...args];
  return run(file, rest, { env }).then(
    (ok) => assert.fail(`jitgated ${args.join(' ')} was accepted: ${ok.stdout}${ok.stderr}`),
    (err: unknown) => err as { code: number; stdout: string; stderr: string },
  );
}

describe('jitgated --log-format', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jitgate-logfmt-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('pretty: a grant logs human-readable lines, none of them JSON, and no secret', async () => {
    const grantDir = await mkdtemp(join(dir, 'grant-'));
    const result = await oneGrant({ dir: grantDir, jitgated: JITGATED, daemonArgs: ['--log-format', 'pretty'], jitgate: JITGATE, node: process.execPath, env });
    assert.equal(result.daemonExit, 0, result.daemonOutput);
    const lines = result.daemonOutput.trim().split('\n');
    assert.ok(lines.length >= 4, result.daemonOutput);
    for (const line of lines) assert.match(line, /^\d\d:\d\d:\d\d\.\d{3}Z (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S/, line);
    assert.ok(lines.some((l) => /INFO {2}daemon: jitgated serving socket=\//.test(l)), result.daemonOutput);
    assert.ok(lines.some((l) => /INFO {2}gate: granted requestId=req_\w+ resource=demo-token/.test(l)), result.daemonOutput);
    assert.doesNotMatch(result.daemonOutput, /"level"|\{"/);
    for (const secret of [result.token, result.rootToken]) {
      assert.ok(secret.length > 10);
      assert.equal(result.daemonOutput.includes(secret), false, 'a token shows in the logs');
      assert.equal(result.runOutput.includes(secret), false, 'a token shows in jitgate run output');
    }
  });

  it('refuses an unknown --log-format naming the flag, before starting anything', async () => {
    const config = join(dir, 'unused.yaml');
    await writeFile(config, 'not: read\n');
    const err = await refused(['--config', config, '--log-format', 'bogus']);
    assert.equal(err.code, 64);
    assert.match(err.stderr, /^jitgated: --log-format must be one of auto, json, pretty \(got "bogus"\)\n$/);
  });

  it('check-config refuses an unknown log.format naming the key', async () => {
    const config = join(dir, 'bad-format.yaml');
    await writeFile(config, `vault: { address: http://127.0.0.1:1, auth: { token_file: ${join(dir, 'tok')} } }\nresources: {}\nlog: { format: bogus }\n`);
    await writeFile(join(dir, 'tok'), 'x', { mode: 0o600 });
    const err = await refused(['check-config', config]);
    assert.equal(err.code, 78);
    assert.match(err.stderr, /log\.format/);
  });
});
