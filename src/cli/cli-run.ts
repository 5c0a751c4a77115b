import { displayLines } from '../common/display-text.js';
import { parseDuration } from '../common/duration.js';
import { errorMessage } from '../common/errors.js';
import { claimedContext } from './ci-context.js';
import type { AddCommands, CliIo } from './cli-context.js';
import { EXIT, UsageError } from './exit-codes.js';
import { resolveIdToken } from '../client/resolve-id-token.js';
import { runWithAccess } from './run-command.js';

interface RunArgs {
  readonly socket: string;
  readonly resource: string;
  readonly reason?: string | undefined;
  readonly ttl?: string | undefined;
  readonly idTokenFile?: string | undefined;
  readonly audience: string;
  readonly repository?: string | undefined;
  readonly ref?: string | undefined;
  readonly sha?: string | undefined;
  readonly actor?: string | undefined;
  readonly environment?: string | undefined;
  readonly workflow?: string | undefined;
  readonly _: readonly (string | number)[];
}

/** The command after `--`, checked: present, nothing stray before it, a `--ttl` that parses. */
function commandOf(args: RunArgs): string[] {
  const command = ((args as { '--'?: (string | number)[] })['--'] ?? []).map(String);
  if (command.length === 0) throw new UsageError('run: missing the command to run after --');
  if (args._.length > 1) throw new UsageError(`run: unexpected argument ${String(args._[1])} (put the command after --)`);
  if (args.ttl !== undefined) {
    try {
      parseDuration(args.ttl, '--ttl');
    } catch (err) {
      throw new UsageError(errorMessage(err));
    }
  }
  return command;
}

async function run(args: RunArgs, io: CliIo): Promise<number> {
  const command = commandOf(args);
  const flags = {
    ...(args.repository === undefined ? {} : { repository: args.repository }),
    ...(args.ref === undefined ? {} : { ref: args.ref }),
    ...(args.sha === undefined ? {} : { sha: args.sha }),
    ...(args.actor === undefined ? {} : { actor: args.actor }),
    ...(args.environment === undefined ? {} : { environment: args.environment }),
    ...(args.workflow === undefined ? {} : { workflow: args.workflow }),
  };
  let identity: Awaited<ReturnType<typeof resolveIdToken>>;
  try {
    identity = await resolveIdToken({
      env: io.env,
      audience: args.audience,
      ...(args.idTokenFile === undefined ? {} : { file: args.idTokenFile }),
    });
  } catch (err) {
    io.stderr.write(`jitgate: access denied: ${displayLines(errorMessage(err))}\n`);
    return EXIT.DENIED;
  }
  return runWithAccess({
    socket: args.socket,
    resource: args.resource,
    ...(args.reason === undefined ? {} : { reason: args.reason }),
    ...(args.ttl === undefined ? {} : { ttl: args.ttl }),
    ...(identity.token === undefined ? { idTokenHint: identity.hint } : { idToken: identity.token }),
    context: claimedContext(flags, io.env),
    command,
    env: io.env,
    stderr: io.stderr,
  });
}

/** `jitgate run`: ask for access, then run a command with the credentials in its environment. */
export const addRunCommand: AddCommands = (y, { io, done }) =>
  y.command(
    'run',
    'ask for access, then run a command with the credentials in its environment',
    (r) =>
      r
        .usage('$0 run --resource NAME [--reason TEXT] [--ttl 60s] -- CMD [ARGS...]')
        .option('resource', { type: 'string', demandOption: true, describe: 'resource name from the daemon config' })
        .option('reason', { type: 'string', describe: 'why; shown to approvers' })
        .option('ttl', { type: 'string', describe: 'credential lifetime, e.g. 60s' })
        .option('id-token-file', { type: 'string', describe: 'file holding the CI identity token (else GitHub Actions, else env JITGATE_ID_TOKEN)' })
        .option('audience', { type: 'string', describe: 'audience to request the CI identity token for (env JITGATE_AUDIENCE)', default: io.env.JITGATE_AUDIENCE ?? 'jitgate' })
        .option('repository', { type: 'string' })
        .option('ref', { type: 'string', describe: 'full ref, e.g. refs/heads/main' })
        .option('sha', { type: 'string' })
        .option('actor', { type: 'string' })
        .option('environment', { type: 'string' })
        .option('workflow', { type: 'string' }),
    (args) => done(run(args, io)),
  );
