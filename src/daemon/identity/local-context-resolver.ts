import type { ClaimedContext, RequestContext } from '../../model/context.js';
import { InvalidArgumentError } from '../../common/errors.js';
import type { ContextResolver } from '../gate/ports.js';
import { hasControlChars, isFullRef, isSha, MAX_CONTEXT_VALUE_LENGTH } from './text-checks.js';

type Required = 'repository' | 'ref' | 'sha' | 'actor' | 'environment';

function field(claimed: ClaimedContext, name: Required | 'workflow', required: boolean): string | undefined {
  const value = claimed[name];
  const path = `context.${name}`;
  if (value === undefined || value === '') {
    if (required) throw new InvalidArgumentError(path, 'is required in local trust mode');
    return undefined;
  }
  if (value.length > MAX_CONTEXT_VALUE_LENGTH) throw new InvalidArgumentError(path, 'is too long');
  if (hasControlChars(value)) throw new InvalidArgumentError(path, 'must not contain control characters');
  if (value.trim() !== value) throw new InvalidArgumentError(path, 'must not have leading or trailing spaces');
  return value;
}

function requiredField(claimed: ClaimedContext, name: Required): string {
  const value = field(claimed, name, true);
  if (value === undefined) throw new InvalidArgumentError(`context.${name}`, 'is required in local trust mode');
  return value;
}

/**
 * Development only: the context is whatever the client asserts, marked `trust: 'local'` so every
 * audit record and approver view shows it was never verified. Shape rules still apply, so a rule
 * for `refs/heads/main` cannot be met by a bare `main`.
 */
export function createLocalContextResolver(): ContextResolver {
  return {
    resolve(_idToken: string | undefined, claimed: ClaimedContext): Promise<RequestContext> {
      return new Promise((resolve) => {
        const repository = requiredField(claimed, 'repository');
        const ref = requiredField(claimed, 'ref');
        if (!isFullRef(ref)) {
          throw new InvalidArgumentError('context.ref', 'must be a full ref such as refs/heads/main');
        }
        const sha = requiredField(claimed, 'sha');
        if (!isSha(sha)) throw new InvalidArgumentError('context.sha', 'must be 7 to 64 hexadecimal characters');
        const actor = requiredField(claimed, 'actor');
        const environment = requiredField(claimed, 'environment');
        const workflow = field(claimed, 'workflow', false);
        const context: RequestContext = {
          trust: 'local',
          repository,
          ref,
          sha,
          actor,
          environment,
          fork: false,
          ...(workflow === undefined ? {} : { workflow }),
        };
        resolve(context);
      });
    },
  };
}
