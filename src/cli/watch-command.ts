import { createInterface } from 'node:readline';
import { displayLines } from '../common/display-text.js';
import { errorMessage } from '../common/errors.js';
import type { JitgateClient } from '../client/client.js';
import { formatRequestDetails, formatRequestLine } from './format.js';

export interface WatchOptions {
  readonly client: JitgateClient;
  readonly stdout: NodeJS.WritableStream;
  /** Commands typed by the approver; absent or closed: watch only. */
  readonly stdin?: NodeJS.ReadableStream;
  readonly signal: AbortSignal;
  readonly now?: () => number;
}

const HELP = 'commands: approve ID [comment] | deny ID REASON | show ID | help   (a/d/s for short)';

/**
 * `jitgate watch`: a live feed of new and changed requests, and a prompt to act on them without
 * leaving the terminal. Decisions go through the same ApprovalService as `jitgate approve`, so the
 * same rules apply (allowed approvers, no self-approval, one person counts once).
 */
export async function watchRequests(options: WatchOptions): Promise<void> {
  const { client, stdout, signal } = options;
  const now = options.now ?? Date.now;
  const say = (line: string): void => {
    stdout.write(`${line}\n`);
  };

  const prompt = options.stdin ? createInterface({ input: options.stdin, terminal: false }) : undefined;
  if (prompt) {
    say(HELP);
    prompt.on('line', (line) => {
      void act(line.trim()).catch((err: unknown) => {
        say(`! ${displayLines(errorMessage(err))}`);
      });
    });
  }

  async function act(line: string): Promise<void> {
    if (line === '') return;
    const [verb = '', id = '', ...rest] = line.split(/\s+/);
    const text = rest.join(' ');
    switch (verb) {
      case 'a':
      case 'approve': {
        if (!id) throw new Error('approve needs a request id');
        const r = await client.approve(id, text ? { comment: text } : {});
        say(`✓ approved ${r.id} (now ${r.status})`);
        return;
      }
      case 'd':
      case 'deny': {
        if (!id || !text) throw new Error('deny needs a request id and a reason');
        const r = await client.deny(id, { reason: text });
        say(`✗ denied ${r.id}`);
        return;
      }
      case 's':
      case 'show': {
        if (!id) throw new Error('show needs a request id');
        say(formatRequestDetails(await client.getRequest(id), now()));
        return;
      }
      case 'h':
      case 'help':
      case '?':
        say(HELP);
        return;
      default:
        throw new Error(`unknown command ${JSON.stringify(verb)}; ${HELP}`);
    }
  }

  try {
    for await (const request of client.watch({ signal })) say(formatRequestLine(request, now()));
  } finally {
    prompt?.close();
  }
}
