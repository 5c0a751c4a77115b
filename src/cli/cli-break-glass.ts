import { InvalidArgumentError } from '../common/errors.js';
import { withApprover } from './cli-approver.js';
import type { AddCommands } from './cli-context.js';
import { EXIT } from './exit-codes.js';
import { formatRequestLine } from './format.js';

/** `break-glass` and `review`: granting without quorum when approvers cannot be reached, and the review that follows. */
export const addBreakGlassCommands: AddCommands = (y, { io, done }) =>
  y
    .command(
      'break-glass <id>',
      'grant a pending request without approvals (on-call only, where the rule allows it); loudly announced and audited',
      (c) =>
        c
          .positional('id', { type: 'string', demandOption: true })
          .option('reason', { type: 'string', demandOption: true, describe: 'why the approvers cannot be waited for, at least 10 characters (e.g. "INC-1234: db down")' }),
      (args) =>
        done(
          withApprover(args, io, async (client) => {
            if (args.reason.trim().length < 10) throw new InvalidArgumentError('--reason', 'must say why in at least 10 characters (e.g. "INC-1234: db down")');
            const r = await client.breakGlass(args.id, { reason: args.reason });
            io.stdout.write(`${formatRequestLine(r, Date.now())}\n`);
            return EXIT.OK;
          }),
        ),
    )
    .command(
      'review <id>',
      'review a break-glass grant after the fact: --ok, or --concern "what is wrong"',
      (c) =>
        c
          .positional('id', { type: 'string', demandOption: true })
          .option('ok', { type: 'boolean', describe: 'the break-glass was justified' })
          .option('concern', { type: 'string', describe: 'what is wrong with it' })
          .conflicts('ok', 'concern'),
      (args) =>
        done(
          withApprover(args, io, async (client) => {
            const concern = args.concern?.trim();
            if (args.ok !== true && concern === undefined) throw new InvalidArgumentError('--ok/--concern', 'give one: --ok, or --concern "what is wrong"');
            if (concern === '') throw new InvalidArgumentError('--concern', 'needs a note saying what is wrong');
            const r = await client.review(args.id, concern === undefined ? { verdict: 'ok' } : { verdict: 'concern', note: concern });
            io.stdout.write(`${formatRequestLine(r, Date.now())}\n`);
            return EXIT.OK;
          }),
        ),
    );
