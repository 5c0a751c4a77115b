import type { ApproverIdentity } from '../../model/context.js';
import { IdentityError } from '../../common/errors.js';
import type { Config } from '../config/types.js';
import type { ApproverResolver } from '../gate/types.js';

export const LOCAL_APPROVER_HEADER = 'x-jitgate-approver';
const NAME_RE = /^[a-zA-Z0-9._-]{1,64}$/;

/**
 * Development only: approvers name themselves (`jitgate approve ID --as bob`). Group membership
 * still comes from the daemon's static config, never from the caller.
 */
export function createLocalApproverResolver(groups: Config['groups']): ApproverResolver {
  return {
    resolve(metadata: Readonly<Record<string, string>>): Promise<ApproverIdentity> {
      const name = metadata[LOCAL_APPROVER_HEADER];
      if (name === undefined || name === '') {
        return Promise.reject(new IdentityError(`no approver identity: send ${LOCAL_APPROVER_HEADER} (e.g. --as NAME)`));
      }
      if (!NAME_RE.test(name)) {
        return Promise.reject(
          new IdentityError(`invalid ${LOCAL_APPROVER_HEADER}: use 1-64 characters from a-z A-Z 0-9 . _ -`),
        );
      }
      const memberOf = Object.entries(groups)
        .filter(([, members]) => members.includes(name))
        .map(([group]) => group)
        .sort();
      return Promise.resolve({ subject: name, name, groups: memberOf, aliases: [name], trust: 'local' });
    },
  };
}
