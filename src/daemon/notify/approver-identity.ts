import type { ApproverIdentity } from '../../model/context.js';
import type { Config } from '../config/types.js';

/**
 * The identity a channel acts as. Subject and name are the configured approver name, exactly as
 * the CLI's `--as NAME` gives them, so one person counts once whichever channel they use.
 */
export function channelApprover(
  name: string,
  groups: Config['groups'],
  trust: 'slack' | 'webhook',
  channelId?: string,
): ApproverIdentity {
  const memberOf = Object.entries(groups)
    .filter(([, members]) => members.includes(name))
    .map(([group]) => group)
    .sort();
  return { subject: name, name, groups: memberOf, aliases: channelId ? [name, channelId] : [name], trust };
}
