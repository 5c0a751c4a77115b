import { readFileSync } from 'node:fs';
import { displayLines, displaySafeJson } from '../common/display-text.js';
import { InvalidArgumentError, JitgateError, UnavailableError, errorMessage } from '../common/errors.js';
import type { RequestStatus } from '../model/request.js';
import { readApproverToken } from './approver-token.js';
import type { AddCommands, CliIo, GlobalArgs } from './cli-context.js';
import { JitgateClient } from '../client/client.js';
import { EXIT, UsageError } from './exit-codes.js';
import { formatRequestDetails, formatRequestLine } from './format.js';
import { watchRequests } from './watch-command.js';

const ACTIVE: RequestStatus[] = ['pending', 'approved', 'granted'];

/** The CA bundle named by --ca-file; a missing or unreadable file is a usage error naming the flag. */
function caBundle(path: string | undefined): Buffer | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`--ca-file: cannot read ${path}: ${errorMessage(err)}`);
  }
}

function approverClient(args: GlobalArgs): JitgateClient {
  const file = args.approverTokenFile;
  const rootCerts = caBundle(args.caFile);
  return new JitgateClient({
    socket: args.socket,
    ...(args.address === undefined || args.address === '' ? {} : { address: args.address }),
    ...(rootCerts === undefined ? {} : { rootCerts }),
    ...(args.as === undefined ? {} : { approver: args.as }),
    ...(file === undefined || file === '' ? {} : { bearerToken: readApproverToken(file) }),
  });
}

/** Approver commands: the daemon unreachable is 69, a refusal (not found, not allowed, final) is 1. */
function daemonFailure(err: unknown, io: CliIo): number {
  io.stderr.write(`jitgate: ${displayLines(errorMessage(err))}\n`);
  if (err instanceof InvalidArgumentError) return EXIT.USAGE;
  if (err instanceof UnavailableError || !(err instanceof JitgateError)) return EXIT.UNAVAILABLE;
  return EXIT.FAILURE;
}

export async function withApprover(args: GlobalArgs, io: CliIo, fn: (client: JitgateClient) => Promise<number>): Promise<number> {
  // A bad flag (an unreadable token or CA file) is a usage error: it propagates to main (exit 64).
  const client = approverClient(args);
  try {
    return await fn(client);
  } catch (err) {
    return daemonFailure(err, io);
  } finally {
    client.close();
  }
}

/** Machine-readable, and still safe in a terminal: bidi and invisible characters as `\\u202e` escapes. */
function json(value: unknown): string {
  return displaySafeJson(value, 2) + '\n';
}

/** Runs `watch` until SIGINT/SIGTERM. */
async function watchUntilSignal(client: JitgateClient, io: CliIo): Promise<number> {
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
}

/** `list`, `show`, `approve`, `deny`, `watch`: the approver's commands. */
export const addApproverCommands: AddCommands = (y, { io, done }) =>
  y
    .command(
      'list',
      'list requests (active ones unless --all)',
      (c) =>
        c
          .option('all', { type: 'boolean', default: false })
          .option('needs-review', { type: 'boolean', default: false, describe: 'only break-glass grants nobody has reviewed yet' })
          .option('json', { type: 'boolean', default: false }),
      (args) =>
        done(
          withApprover(args, io, async (client) => {
            const requests = await client.listRequests(args.needsReview ? { needsReview: true } : args.all ? {} : { status: ACTIVE });
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
      (c) => c.positional('id', { type: 'string', demandOption: true }).option('json', { type: 'boolean', default: false }),
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
      (c) => c.positional('id', { type: 'string', demandOption: true }).option('comment', { type: 'string' }),
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
      (c) => c.positional('id', { type: 'string', demandOption: true }).option('reason', { type: 'string', demandOption: true }),
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
      (c) => c,
      (args) => done(withApprover(args, io, (client) => watchUntilSignal(client, io))),
    );
