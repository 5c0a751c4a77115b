/**
 * One grant through whatever `jitgated` and `jitgate` commands it is given (a checkout's sources,
 * an installed npm package, another Node version): the Vault-compatible server in this process, a
 * development config on a temp socket, `jitgate run` with a step that proves its token works, then
 * a check that the token is revoked once the step ends. Shared by the install test and the Node
 * version smoke (`npm run smoke:node`), so both prove the same thing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startVaultServer, type VaultTestServer } from '../tools/vault-compat/src/server.js';
import { vaultApi } from '../tools/vault-compat/src/start.js';

export interface OneGrantOptions {
  /** A temp dir owned by the caller: config, socket, state, audit and the step's token file go here. */
  readonly dir: string;
  /** The daemon command, e.g. `[node, '<prefix>/bin/jitgated']`; `--config FILE` is appended. */
  readonly jitgated: readonly string[];
  /** Flags after `--config FILE`, e.g. `['--log-format', 'pretty']`. */
  readonly daemonArgs?: readonly string[];
  /** The CLI command, e.g. `['<prefix>/bin/jitgate']`. */
  readonly jitgate: readonly string[];
  /** Runs the step (`jitgate run -- <node> -e …`). */
  readonly node: string;
  /** Environment of both processes (PATH at least). */
  readonly env: Readonly<Record<string, string>>;
}

export interface OneGrantResult {
  /** Everything the daemon printed (stdout + stderr). */
  readonly daemonOutput: string;
  /** What `jitgate run` printed; its exit code was 0. */
  readonly runOutput: string;
  /** The granted token (to prove it is in no output); revoked by now. */
  readonly token: string;
  /** The root token jitgated logged in with (likewise). */
  readonly rootToken: string;
  /** The daemon process's executable (`/proc/PID/exe`): which Node ran it. */
  readonly daemonExecutable: string;
  /** The daemon's exit code after SIGTERM. */
  readonly daemonExit: number | null;
}

const STEP = `
const token = process.env.VAULT_TOKEN;
if (!token) { console.error('step: no VAULT_TOKEN'); process.exit(3); }
const res = await fetch(process.env.STEP_VAULT_ADDR + '/v1/auth/token/lookup-self', { headers: { 'X-Vault-Token': token } });
if (res.status !== 200) { console.error('step: token refused: ' + res.status); process.exit(4); }
(await import('node:fs')).writeFileSync(process.env.STEP_TOKEN_FILE, token, { mode: 0o600 });
console.log('step: granted token works');
`;

function config(dir: string, vault: VaultTestServer): string {
  return `# Development config: identity.local is for tests only.
listen: { socket: ${join(dir, 'jitgated.sock')} }
state: { sqlite: ${join(dir, 'state.db')} }
audit: { file: ${join(dir, 'audit.jsonl')} }
vault: { address: ${vault.address}, auth: { token_file: ${join(dir, 'vault-token')} }, timeout: 5s }
identity: { local: { context: true, approvers: true } }
resources:
  demo-token:
    vault: { policies: [jit-lookup] }
    env: { VAULT_TOKEN: token }
    ttl: 60s
policies:
  - name: token-auto
    match: { resource: demo-token, repository: acme/api }
    decision: auto-approve
  - name: everything-else
    decision: deny
`;
}

interface Collected {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function collect(command: readonly string[], env: Readonly<Record<string, string>>): Collected {
  const [file, ...args] = command;
  if (file === undefined) throw new Error('one-grant: empty command');
  const child = spawn(file, args, { env: { ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('close', (code) => { res(code); }));
  return { child, output: () => text, exited };
}

async function waitFor(proc: Collected, pattern: RegExp, ms: number): Promise<void> {
  const state = { ended: false };
  void proc.exited.then(() => (state.ended = true));
  const deadline = Date.now() + ms;
  while (!pattern.test(proc.output())) {
    if (state.ended) throw new Error(`one-grant: jitgated exited before serving:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`one-grant: jitgated not serving after ${ms} ms:\n${proc.output()}`);
    await sleep(50);
  }
}

/** Starts the server and the daemon, runs one grant, stops both; throws with the output on any failure. */
export async function oneGrant(options: OneGrantOptions): Promise<OneGrantResult> {
  const { dir } = options;
  const vault = await startVaultServer();
  let daemon: Collected | undefined;
  try {
    const policy = await vaultApi(vault, 'POST', 'sys/policies/acl/jit-lookup', { policy: 'path "auth/token/lookup-self" {\n  capabilities = ["read"]\n}\n' });
    if (policy.status >= 300) throw new Error(`one-grant: writing the policy answered ${policy.status}`);
    await writeFile(join(dir, 'vault-token'), vault.rootToken, { mode: 0o600 });
    const configFile = join(dir, 'jitgated.yaml');
    await writeFile(configFile, config(dir, vault), { mode: 0o600 });

    daemon = collect([...options.jitgated, '--config', configFile, ...(options.daemonArgs ?? [])], options.env);
    await waitFor(daemon, /jitgated serving/, 60_000);
    const daemonExecutable = await readlink(`/proc/${String(daemon.child.pid)}/exe`);

    const tokenFile = join(dir, 'step-token');
    const context = ['--repository', 'acme/api', '--ref', 'refs/heads/main', '--sha', 'a'.repeat(40), '--actor', 'alice', '--environment', 'production'];
    const run = collect([...options.jitgate, 'run', '--resource', 'demo-token', '--reason', 'smoke', ...context, '--', options.node, '--input-type=module', '-e', STEP], {
      ...options.env,
      JITGATE_SOCKET: join(dir, 'jitgated.sock'),
      STEP_VAULT_ADDR: vault.address,
      STEP_TOKEN_FILE: tokenFile,
    });
    const runCode = await run.exited;
    if (runCode !== 0) throw new Error(`one-grant: jitgate run exited ${String(runCode)}:\n${run.output()}\n--- jitgated:\n${daemon.output()}`);
    const token = await readFile(tokenFile, 'utf8');
    const after = await vaultApi(vault, 'GET', 'auth/token/lookup-self', undefined, token);
    if (after.status !== 403) throw new Error(`one-grant: the granted token still works after the step (lookup-self ${after.status})`);

    daemon.child.kill('SIGTERM');
    const daemonExit = await daemon.exited;
    return { daemonOutput: daemon.output(), runOutput: run.output(), token, rootToken: vault.rootToken, daemonExecutable, daemonExit };
  } finally {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    await vault.close();
  }
}
