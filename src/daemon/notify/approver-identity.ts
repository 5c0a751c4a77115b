import type { ApproverIdentity } from '../../model/context.js';
import type { Config } from '../config/types.js';

/**
 * The identity a channel acts as, from the configured mapping: `sub:<sub>` is the person's IdP
 * subject (the subject an IdP sign-in gives them), anything else (a local approver name, or the
 * verified e-mail an IdP sign-in names them by) is both subject and name, exactly as the CLI's
 * `--as NAME` gives them. Either way one person counts once whichever channel they use.
 */
export function channelApprover(
  mapped: string,
  groups: Config['groups'],
  trust: 'slack' | 'webhook',
  channelId?: string,
): ApproverIdentity {
  const subject = mapped.startsWith('sub:') ? mapped.slice('sub:'.length) : mapped;
  const memberOf = Object.entries(groups)
    .filter(([, members]) => members.includes(subject) || members.includes(mapped))
    .map(([group]) => group)
    .sort();
  return { subject, name: subject, groups: memberOf, aliases: channelId ? [subject, channelId] : [subject], trust };
}
