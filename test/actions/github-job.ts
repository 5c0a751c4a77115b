/**
 * A simulated GitHub Actions job for the action's tests: the runner's file-command files
 * (GITHUB_ENV, GITHUB_STATE, GITHUB_OUTPUT) and RUNNER_TEMP in a temp dir, `INPUT_*` variables,
 * the token-request endpoint of a test CI issuer, and the bundled entry points run with `node`.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CiIssuer } from '../support/ci-issuer.js';
import { Proc, ROOT, type CliResult } from '../support/daemon-process.js';

export const DIST = join(ROOT, 'actions/request-access/dist');

/** Parses a file-command file: `NAME<<DELIM` heredocs (what the action writes) and `NAME=value` lines. */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name = '', delimiter] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '');
      if (i >= lines.length) throw new Error(`unterminated heredoc for ${name}`);
      out[name] = value.join('\n');
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

export class GithubJob {
  private constructor(
    readonly dir: string,
    private readonly base: Record<string, string>,
    private readonly dist: string,
  ) {}

  /** `dist`: where the bundle is run from (default the committed one in the checkout). */
  static async create(parent: string, name: string, issuer: CiIssuer, inputs: Record<string, string>, dist = DIST): Promise<GithubJob> {
    const dir = join(parent, name);
    const runnerTemp = join(dir, 'runner-temp');
    await mkdir(runnerTemp, { recursive: true });
    for (const file of ['env', 'state', 'output']) await writeFile(join(dir, file), '');
    const base: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      GITHUB_ACTIONS: 'true',
      GITHUB_ENV: join(dir, 'env'),
      GITHUB_STATE: join(dir, 'state'),
      GITHUB_OUTPUT: join(dir, 'output'),
      RUNNER_TEMP: runnerTemp,
      GITHUB_REPOSITORY: 'acme/api',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SHA: 'a'.repeat(40),
      GITHUB_ACTOR: 'alice',
      ACTIONS_ID_TOKEN_REQUEST_URL: issuer.actions.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: issuer.actions.requestToken,
      INPUT_AUDIENCE: 'jitgate',
      ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
    };
    return new GithubJob(dir, base, dist);
  }

  /** Starts an entry point (`pre`, `main`, `post`) of the committed bundle, as the runner would. */
  start(entry: 'pre' | 'main' | 'post', extra: Record<string, string | undefined> = {}): Proc {
    const env: Record<string, string> = { ...this.base };
    // `undefined` removes a variable, e.g. the token-request pair of a job without id-token: write.
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) Reflect.deleteProperty(env, k);
      else env[k] = v;
    }
    if (entry === 'post') for (const [k, v] of Object.entries(this.stateNow)) env[`STATE_${k}`] = v;
    return new Proc(spawn(process.execPath, [join(this.dist, `${entry}.js`)], { cwd: this.dir, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  async run(entry: 'pre' | 'main' | 'post', extra: Record<string, string | undefined> = {}): Promise<CliResult> {
    if (entry === 'post') await this.loadState();
    return this.start(entry, extra).exited;
  }

  private stateNow: Record<string, string> = {};

  async loadState(): Promise<Record<string, string>> {
    this.stateNow = parseFileCommands(await readFile(join(this.dir, 'state'), 'utf8'));
    return this.stateNow;
  }

  async file(name: 'env' | 'state' | 'output'): Promise<string> {
    return readFile(join(this.dir, name), 'utf8');
  }

  async exported(): Promise<Record<string, string>> {
    return parseFileCommands(await this.file('env'));
  }

  /** The environment a later step of the job sees: the job's plus what earlier steps exported. */
  async stepEnv(): Promise<Record<string, string>> {
    return { ...this.base, ...(await this.exported()) };
  }
}
