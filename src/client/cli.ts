import { readFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { parseDuration } from '../common/duration.js';
import {
  ConfigError,
  InvalidArgumentError,
  JitgateError,
  UnavailableError,
  errorMessage,
} from '../common/errors.js';
import type { RequestStatus } from '../model/request.js';
import { APPROVER_TOKEN_FILE_ENV, readApproverToken } from './approver-token.js';
import { claimedContext } from './ci-context.js';
import { DEFAULT_SOCKET, JitgateClient } from './client.js';
import { EXIT, UsageError } from './exit-codes.js';
import { formatRequestDetails, formatRequestLine } from './format.js';
import { resolveIdToken } from './resolve-id-token.js';
import { runWithAccess } from './run-command.js';
import { watchRequests } from './watch-command.js';

export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Where `watch` reads approver commands from; absent: watch only. */
  readonly stdin?: NodeJS.ReadableStream;
}

interface GlobalArgs {
  socket: string;
  as?: string | undefined;
  approverTokenFile?: string | undefined;
}

const ACTIVE: RequestStatus[] = ['pending', 'approved', 'granted'];

function approverClient(args: GlobalArgs): JitgateClient {
  const file = args.approverTokenFile;
  return new JitgateClient({
    socket: args.socket,
    ...(args.as === undefined ? {} : { approver: args.as }),
    ...(file === undefined || file === '' ? {} : { bearerToken: readApproverToken(file) }),
  });
}

/** Approver commands: the daemon unreachable is 69, a refusal (not found, not allowed, final) is 1. */
function daemonFailure(err: unknown, io: CliIo): number {
  io.stderr.write(`jitgate: ${errorMessage(err)}\n`);
  if (err instanceof InvalidArgumentError) return EXIT.USAGE;
  if (err instanceof UnavailableError || !(err instanceof JitgateError)) return EXIT.UNAVAILABLE;
  return EXIT.FAILURE;
}

async function withApprover(args: GlobalArgs, io: CliIo, fn: (client: JitgateClient) => Promise<number>): Promise<number> {
  const client = approverClient(args);
  try {
    return await fn(client);
  } catch (err) {
    return daemonFailure(err, io);
  } finally {
    client.close();
  }
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

function parser(argv: readonly string[], io: CliIo, setCode: (code: number) => void): Argv<GlobalArgs> {
  const done = (p: Promise<number>): Promise<void> => p.then(setCode);
  return yargs([...argv])
    .scriptName('jitgate')
    .parserConfiguration({ 'populate--': true })
    .env(false)
    .option('socket', {
      type: 'string',
      default: io.env.JITGATE_SOCKET ?? DEFAULT_SOCKET,
      describe: 'jitgated Unix socket (env JITGATE_SOCKET)',
    })
    .option('as', { type: 'string', describe: 'act as this local approver (development mode)' })
    .option('approver-token-file', {
      type: 'string',
      default: io.env[APPROVER_TOKEN_FILE_ENV],
      describe: `file holding your ID token from the identity provider, to act as an approver (env ${APPROVER_TOKEN_FILE_ENV})`,
    })
    .command(
      'run',
      'ask for access, then run a command with the credentials in its environment',
      (y) =>
        y
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
      (args) =>
        done(
          (async () => {
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
              io.stderr.write(`jitgate: access denied: ${errorMessage(err)}\n`);
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
          })(),
        ),
    )
    .command(
      'list',
      'list requests (active ones unless --all)',
      (y) => y.option('all', { type: 'boolean', default: false }).option('json', { type: 'boolean', default: false }),
      (args) =>
        done(
          withApprover(args, io, async (client) => {
            const requests = await client.listRequests(args.all ? {} : { status: ACTIVE });
            if (args.json) io.stdout.write(json(requests));
            else if (requests.length === 0) io.stdout.write('no requests\n');
            else for (const r of requests) io.stdout.write(`${formatRequestLine(r, Date.now())}\n`);
            return EXIT.OK;
          }),
        ),
    )
    .command(
      'show <id>',
      'show one request: verified context, approvals, time left',
      (y) => y.positional('id', { type: 'string', demandOption: true }).option('json', { type: 'boolean', default: false }),
      (args) =>
        done(
          withApprover(args, io, async (client) => {
            const r = await client.getRequest(args.id);
            io.stdout.write(args.json ? json(r) : `${formatRequestDetails(r, Date.now())}\n`);
            return EXIT.OK;
          }),
        ),
    )
    .command(
      'approve <id>',
      'approve a request',
      (y) => y.positional('id', { type: 'string', demandOption: true }).option('comment', { type: 'string' }),
      (args) =>
        done(
          withApprover(args, io, async (client) => {
            const r = await client.approve(args.id, args.comment === undefined ? {} : { comment: args.comment });
            io.stdout.write(`${formatRequestLine(r, Date.now())}\n`);
            return EXIT.OK;
          }),
        ),
    )
    .command(
      'deny <id>',
      'deny a request',
      (y) => y.positional('id', { type: 'string', demandOption: true }).option('reason', { type: 'string', demandOption: true }),
      (args) =>
        done(
          withApprover(args, io, async (client) => {
            const r = await client.deny(args.id, { reason: args.reason });
            io.stdout.write(`${formatRequestLine(r, Date.now())}\n`);
            return EXIT.OK;
          }),
        ),
    )
    .command(
      'watch',
      'print each new or changed request until interrupted; type approve/deny/show commands to act',
      (y) => y,
      (args) =>
        done(
          withApprover(args, io, async (client) => {
            const controller = new AbortController();
            const stop = (): void => {
              controller.abort();
            };
            process.once('SIGINT', stop);
            process.once('SIGTERM', stop);
            try {
              await watchRequests({ client, stdout: io.stdout, signal: controller.signal, ...(io.stdin ? { stdin: io.stdin } : {}) });
            } finally {
              process.off('SIGINT', stop);
              process.off('SIGTERM', stop);
            }
            return EXIT.OK;
          }),
        ),
    )
    .command('audit', 'audit log tools', (y) =>
      y
        .command(
          'verify <file>',
          'check the whole hash chain and checkpoint signatures',
          (v) =>
            v
              .positional('file', { type: 'string', demandOption: true })
              .option('public-key', { type: 'string', describe: 'PEM file with the trusted Ed25519 public key' }),
          (args) =>
            done(
              (async () => {
                const { verifyAuditFile, describeVerifyResult } = await import('../common/audit-chain.js');
                try {
                  const publicKeyPem = args.publicKey === undefined ? undefined : await readFile(args.publicKey, 'utf8');
                  const result = await verifyAuditFile(args.file, publicKeyPem === undefined ? {} : { publicKeyPem });
                  if (result.ok) {
                    io.stdout.write(`${describeVerifyResult(result)}\n`);
                    return EXIT.OK;
                  }
                  io.stdout.write(`FAILED at line ${result.line}${result.seq === null ? '' : ` (seq ${result.seq})`}: ${result.reason}\n`);
                  return EXIT.FAILURE;
                } catch (err) {
                  io.stderr.write(`jitgate: ${errorMessage(err)}\n`);
                  return EXIT.FAILURE;
                }
              })(),
            ),
        )
        .demandCommand(1, 'audit: name a subcommand (verify)'),
    )
    .command('policy', 'policy tools', (y) =>
      y
        .command(
          'check <file>',
          'validate a config file and print its rules in order',
          (v) => v.positional('file', { type: 'string', demandOption: true }),
          (args) =>
            done(
              (async () => {
                const { loadConfig } = await import('../daemon/config/load-config.js');
                try {
                  const config = await loadConfig(args.file);
                  io.stdout.write(`${args.file}: OK, ${config.policies.length} rule(s), first match wins, no match denies\n`);
                  config.policies.forEach((rule, i) => {
                    const match = JSON.stringify(rule.match);
                    const decision =
                      rule.decision === 'require'
                        ? `require ${rule.require.approvals} of ${rule.require.from.join(', ')}`
                        : rule.decision;
                    io.stdout.write(`${i + 1}. ${rule.name}: ${decision} when ${match === '{}' ? 'anything' : match}\n`);
                  });
                  return EXIT.OK;
                } catch (err) {
                  io.stderr.write(`jitgate: ${errorMessage(err)}\n`);
                  return err instanceof ConfigError ? EXIT.FAILURE : EXIT.UNAVAILABLE;
                }
              })(),
            ),
        )
        .command(
          'explain',
          'show which rule decides a request, and why',
          (v) =>
            v
              .option('config', { type: 'string', demandOption: true })
              .option('context', { type: 'string', demandOption: true, describe: 'JSON object: repository, ref, sha, actor, environment, ...' })
              .option('resource', { type: 'string' }),
          (args) =>
            done(
              (async () => {
                const policy = await import('../daemon/policy/index.js');
                const { loadConfig } = await import('../daemon/config/load-config.js');
                let parsed: unknown;
                try {
                  parsed = JSON.parse(args.context);
                } catch {
                  throw new UsageError('--context: not valid JSON');
                }
                let resource = args.resource;
                if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'resource' in parsed) {
                  const { resource: fromJson, ...rest } = parsed as Record<string, unknown>;
                  resource ??= typeof fromJson === 'string' ? fromJson : undefined;
                  parsed = rest;
                }
                if (resource === undefined) throw new UsageError('--resource: required (or a "resource" key in --context)');
                let context;
                try {
                  context = policy.contextFromJson(parsed);
                } catch (err) {
                  throw new UsageError(`--context: ${errorMessage(err)}`);
                }
                try {
                  const config = await loadConfig(args.config);
                  const engine = new policy.PolicyEngine(config.policies);
                  io.stdout.write(`${policy.formatExplanation(resource, context, engine.explain(resource, context))}\n`);
                  return EXIT.OK;
                } catch (err) {
                  io.stderr.write(`jitgate: ${errorMessage(err)}\n`);
                  return EXIT.FAILURE;
                }
              })(),
            ),
        )
        .demandCommand(1, 'policy: name a subcommand (check, explain)'),
    )
    .demandCommand(1, 'name a command (run, list, show, approve, deny, watch, audit verify, policy check|explain)')
    .strict()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      throw err instanceof Error && !msg ? err : new UsageError(msg || errorMessage(err));
    });
}

/** Runs the CLI and resolves with its exit code; prints usage errors (naming the flag) without stack traces. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
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
    io.stderr.write(`jitgate: ${errorMessage(err)}\n`);
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
