#!/usr/bin/env node
import { systemClock } from '../common/clock.js';
import { errorMessage } from '../common/errors.js';
import { packageVersion } from '../common/package-version.js';
import { checkConfigFile } from './config/check-config.js';
import { problemText } from './config/config-problem.js';
import type { CheckedConfig } from './config/types.js';
import { startDaemon } from './daemon.js';
import { ACTIVATION_VARIABLES, activatedSocketFd } from './socket-activation.js';

/** Exit codes: 0 clean stop, 1 runtime failure, 78 (EX_CONFIG) invalid configuration, 64 usage. */
const EX_USAGE = 64;
const EX_CONFIG = 78;

/**
 * The one configuration phase, shared by `check-config` and the daemon: every problem is printed,
 * one per line, and any problem exits EX_CONFIG before anything starts.
 */
async function load(path: string): Promise<CheckedConfig> {
  let result: Awaited<ReturnType<typeof checkConfigFile>>;
  try {
    result = await checkConfigFile(path);
  } catch (err) {
    process.stderr.write(`jitgated: invalid config ${path}: ${errorMessage(err)}\n`);
    process.exit(1);
  }
  if (result.config === undefined || result.problems.length > 0) {
    const lines = result.problems.map((problem) => `jitgated: invalid config ${path}: ${problemText(problem)}\n`);
    process.stderr.write(lines.length > 0 ? lines.join('') : `jitgated: invalid config ${path}\n`);
    process.exit(EX_CONFIG);
  }
  return result.config;
}

/**
 * The socket systemd passed us, if any (the environment is read here and nowhere deeper); the
 * variables are then cleared so that no child process takes the socket for its own.
 */
function socketFromSystemd(): number | undefined {
  let fd: number | undefined;
  try {
    fd = activatedSocketFd(process.env, process.pid);
  } catch (err) {
    process.stderr.write(`jitgated: invalid socket activation environment: ${errorMessage(err)}\n`);
    process.exit(EX_CONFIG);
  }
  for (const name of ACTIVATION_VARIABLES) Reflect.deleteProperty(process.env, name);
  return fd;
}

const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
type LogFormatFlag = (typeof LOG_FORMATS)[number];

/** `--log-format` checked here, so that a typo is refused with the flag's name (and never falls back to a default). */
function logFormatFlag(value: unknown): LogFormatFlag | undefined {
  if (value === undefined) return undefined;
  const found = LOG_FORMATS.find((format) => format === value);
  if (found === undefined) throw new Error(`--log-format must be one of ${LOG_FORMATS.join(', ')} (got ${JSON.stringify(value)})`);
  return found;
}

async function serve(configPath: string, logFormat?: LogFormatFlag): Promise<void> {
  const loaded = await load(configPath);
  // The flag overrides `log.format` from the file; the config stays frozen.
  const config = logFormat === undefined ? loaded : Object.freeze({ ...loaded, log: Object.freeze({ ...loaded.log, format: logFormat }) });
  const socketFd = socketFromSystemd();
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(config, socketFd === undefined ? {} : { socketFd });
  } catch (err) {
    process.stderr.write(`jitgated: failed to start: ${errorMessage(err)}\n`);
    process.exit(1);
  }
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = true;
    // The stop timeout is a hard ceiling: systemd would SIGKILL us anyway, better to exit on our terms.
    const hard = systemClock.setTimeout(() => {
      process.stderr.write(`jitgated: stop timeout after ${signal}; exiting\n`);
      process.exit(1);
    }, config.stopTimeoutMs);
    hard.unref();
    daemon.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`jitgated: error while stopping: ${errorMessage(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * `--config FILE` (or `-c FILE`, `--config=FILE`) alone is how the service unit starts us: it is
 * parsed here so that a cold start does not pay for loading yargs. Anything else (check-config,
 * --help, a typo) goes through yargs, which owns usage and error messages.
 */
function fastConfigPath(args: readonly string[]): string | undefined {
  const [first, second] = args;
  if (first === undefined) return undefined;
  if (args.length === 1) {
    const m = /^--config=(.+)$/.exec(first);
    return m?.[1];
  }
  if (args.length === 2 && (first === '--config' || first === '-c') && second !== undefined && !second.startsWith('-')) return second;
  return undefined;
}

async function parseWithYargs(args: string[]): Promise<void> {
  const { default: yargs } = await import('yargs');
  await yargs(args)
    .scriptName('jitgated')
    .usage('$0 --config FILE [--log-format auto|json|pretty]\n$0 check-config FILE')
    .command(
      'check-config <file>',
      'validate a config file and exit',
      (y) => y.positional('file', { type: 'string', demandOption: true }),
      async (argv) => {
        await load(argv.file);
        process.stdout.write(`${argv.file}: ok\n`);
      },
    )
    .command(
      '$0',
      'run the daemon',
      (y) =>
        y.option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'path to the YAML config' }).option('log-format', {
          type: 'string',
          coerce: logFormatFlag,
          describe: 'auto (default: lines on a terminal, JSON otherwise), json or pretty; overrides log.format',
        }),
      async (argv) => {
        await serve(argv.config, argv.logFormat);
      },
    )
    .strict()
    .fail((msg, err) => {
      process.stderr.write(`jitgated: ${msg || errorMessage(err)}\n`);
      process.exit(EX_USAGE);
    })
    .help()
    .parseAsync();
}

const args = process.argv.slice(2);
const fast = fastConfigPath(args);
if (fast !== undefined) await serve(fast);
else if (args.length === 1 && args[0] === '--version') process.stdout.write(`${packageVersion()}\n`);
else await parseWithYargs(args);
