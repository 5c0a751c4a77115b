import type { ClaimedContext } from '../model/context.js';

type Env = Readonly<Record<string, string | undefined>>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function first(...values: (string | undefined)[]): string | undefined {
  return values.find((v) => v !== undefined && v !== '');
}

/** GitLab gives bare branch names; the daemon compares full refs only. */
function gitlabRef(env: Env): string | undefined {
  if (env.CI_COMMIT_TAG) return `refs/tags/${env.CI_COMMIT_TAG}`;
  return env.CI_COMMIT_REF_NAME ? `refs/heads/${env.CI_COMMIT_REF_NAME}` : undefined;
}

/**
 * The context `jitgate run` claims: flags first, else the CI's own variables (GitHub Actions, GitLab).
 * Only a claim: the daemon compares it with the verified token.
 */
export function claimedContext(flags: ClaimedContext, env: Env): ClaimedContext {
  const out: Mutable<ClaimedContext> = {};
  const set = (key: keyof ClaimedContext, value: string | undefined): void => {
    if (value !== undefined && value !== '') out[key] = value;
  };
  set('repository', first(flags.repository, env.GITHUB_REPOSITORY, env.CI_PROJECT_PATH));
  set('ref', first(flags.ref, env.GITHUB_REF, gitlabRef(env)));
  set('sha', first(flags.sha, env.GITHUB_SHA, env.CI_COMMIT_SHA));
  set('actor', first(flags.actor, env.GITHUB_ACTOR, env.GITLAB_USER_LOGIN));
  set('environment', first(flags.environment, env.JITGATE_ENVIRONMENT, env.CI_ENVIRONMENT_NAME));
  set('workflow', first(flags.workflow, env.GITHUB_WORKFLOW_REF));
  return out;
}
