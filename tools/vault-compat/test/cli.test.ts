import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
let child: ChildProcess | null = null;

after(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
});

it('npm run dev:vault prints an address and root token that work with curl', async () => {
  child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../src/cli.ts', import.meta.url)), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = child;
  let out = '';
  let err = '';
  proc.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const announced = new Promise<void>((resolve, reject) => {
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (/export VAULT_TOKEN='[^']+'/.test(out)) resolve();
    });
    proc.once('exit', (code) => {
      reject(new Error(`cli exited early (${String(code)}): ${err}`));
    });
  });
  await announced;
  const address = /export VAULT_ADDR='([^']+)'/.exec(out)?.[1];
  const token = /export VAULT_TOKEN='([^']+)'/.exec(out)?.[1];
  assert.ok(address && /^http:\/\/127\.0\.0\.1:\d+$/.test(address), out);
  assert.ok(token?.startsWith('hvs.'), out);

  const health = await run('curl', ['-sS', `${address}/v1/sys/health`]);
  assert.equal((JSON.parse(health.stdout) as { sealed: boolean }).sealed, false);
  const lookup = await run('curl', ['-sS', '-H', `X-Vault-Token: ${token}`, `${address}/v1/auth/token/lookup-self`]);
  assert.deepEqual((JSON.parse(lookup.stdout) as { data: { policies: string[] } }).data.policies, ['root']);
  const denied = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'X-Vault-Token: hvs.wrong', `${address}/v1/auth/token/lookup-self`]);
  assert.equal(denied.stdout, '403');
  const listed = await run('curl', ['-sS', '-X', 'LIST', '-H', `X-Vault-Token: ${token}`, `${address}/v1/sys/policies/acl`]);
  assert.ok((JSON.parse(listed.stdout) as { data: { keys: string[] } }).data.keys.includes('default'));

  const exited = once(proc, 'exit');
  proc.kill('SIGINT');
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0);
});
