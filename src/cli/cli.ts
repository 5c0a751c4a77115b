import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { packageVersion } from '../common/package-version.js';
import { displayLines } from '../common/display-text.js';
import { errorMessage } from '../common/errors.js';
import { APPROVER_TOKEN_FILE_ENV } from './approver-token.js';
import { addApproverCommands } from './cli-approver.js';
import { addBreakGlassCommands } from './cli-break-glass.js';
import type { CliContext, CliIo, GlobalArgs } from './cli-context.js';
import { addRunCommand } from './cli-run.js';
import { addToolCommands } from './cli-tools.js';
import { DEFAULT_SOCKET } from '../client/client.js';
import { EXIT, UsageError } from './exit-codes.js';

export type { CliIo } from './cli-context.js';

/** The global options, then each command module's commands (run; approver commands; offline tools). */
function parser(argv: readonly string[], io: CliIo, setCode: (code: number) => void): Argv<GlobalArgs> {
  const ctx: CliContext = { io, done: (p) => p.then(setCode) };
  const global: Argv<GlobalArgs> = yargs([...argv])
    .scriptName('jitgate')
    .parserConfiguration({ 'populate--': true })
    .env(false)
    .option('socket', {
      type: 'string',
      default: io.env.JITGATE_SOCKET ?? DEFAULT_SOCKET,
      describe: 'jitgated Unix socket (env JITGATE_SOCKET)',
    })
    .option('address', {
      type: 'string',
      default: io.env.JITGATE_ADDRESS,
      describe: 'host:port of a jitgated TCP+TLS listener, for approver commands (env JITGATE_ADDRESS); wins over --socket',
    })
    .option('ca-file', { type: 'string', default: io.env.JITGATE_CA_FILE, describe: 'PEM CA bundle that signed --address (env JITGATE_CA_FILE)' })
    .option('as', { type: 'string', describe: 'act as this local approver (development mode)' })
    .option('approver-token-file', {
      type: 'string',
      default: io.env[APPROVER_TOKEN_FILE_ENV],
      describe: `file holding your ID token from the identity provider, to act as an approver (env ${APPROVER_TOKEN_FILE_ENV})`,
    });
  return addToolCommands(addBreakGlassCommands(addApproverCommands(addRunCommand(global, ctx), ctx), ctx), ctx)
    .demandCommand(1, 'name a command (run, list, show, approve, deny, watch, break-glass, review, audit verify, policy check|explain)')
    .strict()
    .help()
    // --version is answered before yargs (it must not need a command); yargs' own is off.
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      throw err instanceof Error && !msg ? err : new UsageError(msg || errorMessage(err));
    });
}

/** Runs the CLI and resolves with its exit code; prints usage errors (naming the flag) without stack traces. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length === 1 && argv[0] === '--version') {
    io.stdout.write(`${packageVersion()}\n`);
    return EXIT.OK;
  }
  let code: number = EXIT.OK;
  try {
    await parser(argv, io, (c) => {
      code = c;
    }).parseAsync();
    return code;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`jitgate: ${err.message}\nRun 'jitgate --help' for usage.\n`);
      return EXIT.USAGE;
    }
    io.stderr.write(`jitgate: ${displayLines(errorMessage(err))}\n`);
    return EXIT.UNAVAILABLE;
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  void main(hideBin(process.argv), { env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then((code) => {
    process.exitCode = code;
    // gRPC handles are closed by now; this only guards against a stray handle keeping a finished CLI alive.
    setTimeout(() => process.exit(code), 2_000).unref();
  });
}
