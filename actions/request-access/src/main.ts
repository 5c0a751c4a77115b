/**
 * The action's main step: checks the inputs and the id-token permission, starts the holder
 * (hold.js, detached, so it outlives this step), relays its progress, and once granted masks
 * every credential value and exports it to later steps through $GITHUB_ENV.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage, InvalidArgumentError } from '../../../src/common/errors.js';
import { HOLDER_DIR_ENV, isHolderMessage, LOG_FILE, type HolderMessage } from './lib/holder-protocol.js';
import { checkIdTokenPermission, readInputs, type ActionInputs } from './lib/inputs.js';
import { appendFileCommand, errorCommand, maskCommands } from './lib/workflow-commands.js';

type Granted = Extract<HolderMessage, { type: 'granted' }>;
type Outcome = Granted | { readonly type: 'failed'; readonly message: string } | { readonly type: 'exited'; readonly signal?: NodeJS.Signals };

const HERE = dirname(fileURLToPath(import.meta.url));

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function fail(message: string): number {
  out(errorCommand(`jitgate: ${message}`));
  return 1;
}

function startHolder(dir: string): ChildProcess {
  const log = openSync(join(dir, LOG_FILE), 'a', 0o600);
  try {
    // Detached: a new session, so the runner's signals to this step's process group miss it.
    // Its environment carries the token-request secret; nothing goes on its command line.
    return spawn(process.execPath, [join(HERE, 'hold.js')], {
      detached: true,
      stdio: ['ignore', log, log, 'ipc'],
      env: { ...process.env, [HOLDER_DIR_ENV]: dir },
    });
  } finally {
    closeSync(log);
  }
}

/** Relays progress until the holder reports the grant or a failure, or exits. */
function converse(holder: ChildProcess): Promise<Outcome> {
  return new Promise((resolve) => {
    let cancelledBy: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      cancelledBy = signal;
      holder.kill('SIGTERM');
    };
    const done = (outcome: Outcome): void => {
      for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, onSignal);
      resolve(outcome);
    };
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, onSignal);
    holder.on('message', (message: unknown) => {
      if (!isHolderMessage(message)) return;
      if (message.type === 'progress') out(message.line);
      else done(message);
    });
    holder.once('exit', () => {
      done(cancelledBy === undefined ? { type: 'exited' } : { type: 'exited', signal: cancelledBy });
    });
    holder.once('error', (err) => {
      done({ type: 'failed', message: `cannot start the holder: ${errorMessage(err)}` });
    });
  });
}

/** Masks first, then writes: a value reaches $GITHUB_ENV only after the runner knows to hide it. */
function exportGrant(inputs: ActionInputs, granted: Granted): void {
  const env = process.env;
  const values = Object.values(granted.credentials).filter((v) => v !== '');
  for (const value of values) for (const line of maskCommands(value)) out(line);
  appendFileCommand(env, 'GITHUB_ENV', granted.credentials);
  appendFileCommand(env, 'GITHUB_STATE', { grant_id: granted.grantId });
  if (env.GITHUB_OUTPUT) {
    appendFileCommand(env, 'GITHUB_OUTPUT', {
      grant_id: granted.grantId,
      request_id: granted.requestId,
      expires_at: new Date(granted.expiresAtMs).toISOString(),
    });
  }
  const names = Object.keys(granted.credentials).join(', ');
  out(
    `jitgate: granted ${inputs.resource} (grant ${granted.grantId}, valid until ${new Date(granted.expiresAtMs).toISOString()}); ` +
      `exported ${names} (masked) to later steps; released when the job ends`,
  );
}

function acknowledge(holder: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    holder.send({ type: 'accepted' }, (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
}

async function main(): Promise<number> {
  const env = process.env;
  let inputs: ActionInputs;
  try {
    inputs = readInputs(env);
    checkIdTokenPermission(env);
    for (const name of ['GITHUB_ENV', 'GITHUB_STATE'] as const) {
      if (!env[name]) throw new InvalidArgumentError(name, 'not set; this action runs on GitHub Actions only');
    }
  } catch (err) {
    return fail(errorMessage(err));
  }
  const dir = mkdtempSync(join(env.RUNNER_TEMP || tmpdir(), 'jitgate-'));
  const holder = startHolder(dir);
  if (holder.pid !== undefined) appendFileCommand(env, 'GITHUB_STATE', { pid: String(holder.pid), dir });
  out(`jitgate: requesting ${inputs.resource} from jitgated at ${inputs.socket}`);
  const outcome = await converse(holder);
  if (outcome.type === 'granted') {
    try {
      exportGrant(inputs, outcome);
      await acknowledge(holder);
    } catch (err) {
      holder.kill('SIGTERM');
      return fail(`cannot export the credentials (${errorMessage(err)}); the grant is released`);
    }
    holder.disconnect();
    holder.unref();
    return 0;
  }
  if (outcome.type === 'failed') return fail(outcome.message);
  if (outcome.signal !== undefined) return fail(`${outcome.signal} received; request cancelled`);
  const log = readFileSync(join(dir, LOG_FILE), 'utf8').trim();
  rmSync(dir, { recursive: true, force: true });
  return fail(`the holder exited before a decision${log === '' ? '' : `: ${log.split('\n').at(-1) ?? ''}`}`);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = fail(errorMessage(err));
  },
);
