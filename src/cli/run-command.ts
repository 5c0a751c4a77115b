import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { ClaimedContext } from '../model/context.js';
import { displayLines } from '../common/display-text.js';
import { IdentityError, JitgateError, PermissionDeniedError, errorMessage } from '../common/errors.js';
import { AccessDeniedError } from '../client/access-denied-error.js';
import { JitgateClient } from '../client/client.js';
import { EXIT, RUN_EXIT_CODES } from './exit-codes.js';
import { formatProgress } from './format.js';
import type { Grant } from '../client/grant.js';

export interface RunOptions {
  readonly socket: string;
  readonly resource: string;
  readonly reason?: string;
  readonly ttl?: string;
  readonly idToken?: string;
  /** Why no identity token was sent, and how to get one; shown if the daemon asks for one. */
  readonly idTokenHint?: string;
  readonly context: ClaimedContext;
  readonly command: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly stderr: NodeJS.WritableStream;
}

const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

function signalExit(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] as number | undefined ?? 0);
}

/** The exit code of a request that failed before the command ran: from its code, through the one table. */
export function runExitCode(err: unknown): number {
  return err instanceof JitgateError ? RUN_EXIT_CODES[err.code] : EXIT.UNAVAILABLE;
}

/** Prints a failed request's one-line reason and returns its documented exit code. */
function requestFailure(err: unknown, stderr: NodeJS.WritableStream, idTokenHint?: string): number {
  if (err instanceof AccessDeniedError) {
    stderr.write(`jitgate: ${displayLines(err.message)}\n`);
  } else if (err instanceof IdentityError && idTokenHint !== undefined) {
    stderr.write(`jitgate: access denied: ${displayLines(err.message)}; ${idTokenHint}\n`);
  } else if (err instanceof IdentityError || err instanceof PermissionDeniedError) {
    stderr.write(`jitgate: access denied: ${displayLines(err.message)}\n`);
  } else {
    stderr.write(`jitgate: ${displayLines(errorMessage(err))}\n`);
  }
  return runExitCode(err);
}

/**
 * `jitgate run`: ask, wait (progress on stderr), run the command with the credentials in its
 * environment only, release when it exits. Resolves with the exit code.
 */
export async function runWithAccess(options: RunOptions): Promise<number> {
  const { stderr } = options;
  const client = new JitgateClient({
    socket: options.socket,
    context: options.context,
    ...(options.idToken === undefined ? {} : { idToken: options.idToken }),
  });
  const controller = new AbortController();
  let cancelledBy: NodeJS.Signals | undefined;
  const onPendingSignal = (signal: NodeJS.Signals): void => {
    cancelledBy = signal;
    controller.abort();
  };
  for (const s of FORWARDED) process.on(s, onPendingSignal);

  let grant: Grant;
  try {
    grant = await client.request({
      resource: options.resource,
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
      signal: controller.signal,
      onUpdate: (p) => {
        if (p.state !== 'denied' && p.state !== 'expired') stderr.write(`${formatProgress(p, Date.now())}\n`);
      },
    });
  } catch (err) {
    client.close();
    if (cancelledBy) {
      stderr.write(`jitgate: ${cancelledBy} received; request cancelled\n`);
      return signalExit(cancelledBy);
    }
    return requestFailure(err, stderr, options.idTokenHint);
  } finally {
    for (const s of FORWARDED) process.off(s, onPendingSignal);
  }

  try {
    return await runChild(grant, options);
  } finally {
    try {
      await grant.release();
    } catch (err) {
      // The stream is closed either way, which revokes too; the TTL is the backstop.
      stderr.write(`jitgate: release failed (${errorMessage(err)}); the daemon revokes on disconnect\n`);
    }
    client.close();
  }
}

async function runChild(grant: Grant, options: RunOptions): Promise<number> {
  const [file, ...args] = options.command;
  if (file === undefined) return EXIT.USAGE;
  // Credentials go into the child's environment only: never argv, never our own env, never printed.
  const child = spawn(file, args, { stdio: 'inherit', env: { ...options.env, ...grant.credentials } });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  void grant.ended.then((end) => {
    if (end.outcome === 'lost') {
      options.stderr.write(`jitgate: the grant ended early (${displayLines(end.error?.message ?? 'daemon closed it')}); credentials are revoked\n`);
    }
  });
  try {
    return await new Promise<number>((resolve) => {
      child.once('error', (err) => {
        options.stderr.write(`jitgate: cannot run ${file}: ${errorMessage(err)}\n`);
        resolve(EXIT.NOT_RUNNABLE);
      });
      child.once('exit', (code, signal) => {
        resolve(code ?? (signal ? signalExit(signal) : EXIT.FAILURE));
      });
    });
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}
