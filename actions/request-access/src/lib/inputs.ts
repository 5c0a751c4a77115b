import { parseDuration } from '../../../../src/common/duration.js';
import { IdentityError, InvalidArgumentError } from '../../../../src/common/errors.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface ActionInputs {
  readonly resource: string;
  readonly reason?: string;
  readonly ttl?: string;
  readonly socket: string;
  readonly audience: string;
}

/** Defaults as declared in action.yml; repeated here so a step run outside the runner behaves the same. */
export const DEFAULT_SOCKET = '/run/jitgated/jitgated.sock';
export const DEFAULT_AUDIENCE = 'jitgate';

/** The runner passes input `foo bar` as `INPUT_FOO_BAR`; an empty value counts as not given. */
export function readInput(env: Env, name: string): string | undefined {
  const value = env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** The action's inputs, checked before anything is started so a typo fails the step at once. */
export function readInputs(env: Env): ActionInputs {
  const resource = readInput(env, 'resource');
  if (resource === undefined) throw new InvalidArgumentError('resource', 'input required (the resource name from the jitgated config)');
  const ttl = readInput(env, 'ttl');
  if (ttl !== undefined) parseDuration(ttl, 'ttl');
  const reason = readInput(env, 'reason');
  return {
    resource,
    ...(reason === undefined ? {} : { reason }),
    ...(ttl === undefined ? {} : { ttl }),
    socket: readInput(env, 'socket') ?? DEFAULT_SOCKET,
    audience: readInput(env, 'audience') ?? DEFAULT_AUDIENCE,
  };
}

/**
 * GitHub sets the token-request variables only for jobs with `permissions: id-token: write`;
 * without them there is no identity to present, so the step fails before starting anything.
 */
export function checkIdTokenPermission(env: Env): void {
  const missing = ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new IdentityError(
      `the job has no OIDC token: add \`permissions: id-token: write\` to the job (${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set)`,
    );
  }
}
