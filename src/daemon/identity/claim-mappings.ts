import type { JWTPayload } from 'jose';
import type { RequestContext } from '../../model/context.js';
import { IdentityError } from '../../common/errors.js';
import { ownValue } from '../../common/own-keys.js';
import type { CiIssuerConfig } from '../config/types.js';
import { hasControlChars, isFullRef, isSha, MAX_CONTEXT_VALUE_LENGTH } from './text-checks.js';

/**
 * Verified claims → RequestContext, one mapping per issuer kind. Only the token's claims are used;
 * anything required but absent, oddly typed, or carrying control characters fails the identity
 * (fail closed) rather than producing a context with holes in it.
 */

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type OptionalField = Exclude<keyof RequestContext, 'trust' | 'repository' | 'ref' | 'sha' | 'actor' | 'environment' | 'fork'>;

/** Context fields a `generic` issuer's `claims` map may name (config validation uses this list). */
export const GENERIC_CONTEXT_FIELDS = [
  'repository',
  'repositoryId',
  'repositoryOwnerId',
  'namespaceId',
  'ref',
  'refType',
  'sha',
  'actor',
  'actorId',
  'commitAuthor',
  'environment',
  'workflow',
  'workflowRef',
  'jobWorkflowRef',
  'event',
  'runnerEnvironment',
  'runId',
  'runAttempt',
  'runUrl',
  'fork',
  'sourceRepository',
] as const;

class Claims {
  constructor(private readonly payload: JWTPayload) {}

  optional(name: string): string | undefined {
    const raw = ownValue(this.payload, name);
    if (raw === undefined || raw === null || raw === '') return undefined;
    let value: string;
    if (typeof raw === 'string') value = raw;
    else if (typeof raw === 'number' && Number.isSafeInteger(raw)) value = String(raw);
    else throw new IdentityError(`token claim "${name}" has an unexpected type`);
    if (value.length > MAX_CONTEXT_VALUE_LENGTH) throw new IdentityError(`token claim "${name}" is too long`);
    if (hasControlChars(value)) throw new IdentityError(`token claim "${name}" contains control characters`);
    return value;
  }

  required(name: string): string {
    const value = this.optional(name);
    if (value === undefined) throw new IdentityError(`token lacks required claim "${name}"`);
    return value;
  }

  flag(name: string): boolean {
    const raw = ownValue(this.payload, name);
    if (raw === true || raw === 'true') return true;
    if (raw === false || raw === 'false') return false;
    throw new IdentityError(`token claim "${name}" must be a boolean`);
  }
}

function setIf<K extends OptionalField>(ctx: Mutable<RequestContext>, key: K, value: RequestContext[K] | undefined): void {
  if (value !== undefined) ctx[key] = value;
}

function checkRef(ref: string, claim: string): string {
  if (!isFullRef(ref)) throw new IdentityError(`token claim "${claim}" is not a full ref`);
  return ref;
}

function checkSha(sha: string, claim: string): string {
  if (!isSha(sha)) throw new IdentityError(`token claim "${claim}" is not a commit sha`);
  return sha;
}

/** A tag ref claimed as a branch (or the reverse) means the claims disagree with themselves. */
function checkRefType(ref: string, refType: string | undefined): string | undefined {
  if (refType === undefined) return undefined;
  const isTag = ref.startsWith('refs/tags/');
  if ((refType === 'tag' && !isTag) || (refType === 'branch' && isTag)) {
    throw new IdentityError('token claims "ref" and "ref_type" disagree');
  }
  return refType;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * GitHub Actions. Fork rule (fail closed): every `pull_request*` event is a fork context. GitHub's
 * token does not say whether the head branch lives in the base repository, and
 * `pull_request_target` runs with base-repository rights on behalf of fork authors, so only rules
 * that say `fork: true` can ever match a pull-request job.
 */
export function mapGithubClaims(issuer: CiIssuerConfig, payload: JWTPayload): RequestContext {
  const c = new Claims(payload);
  const repository = c.required('repository');
  const runId = c.required('run_id');
  const event = c.required('event_name');
  const ctx: Mutable<RequestContext> = {
    trust: 'oidc',
    issuer: issuer.issuer,
    repository,
    ref: checkRef(c.required('ref'), 'ref'),
    sha: checkSha(c.required('sha'), 'sha'),
    actor: c.required('actor'),
    environment: c.optional('environment') ?? '',
    fork: event.startsWith('pull_request'),
    repositoryId: c.required('repository_id'),
    repositoryOwnerId: c.required('repository_owner_id'),
    actorId: c.required('actor_id'),
    event,
    runId,
    runUrl: `${trimSlash(issuer.webUrl ?? 'https://github.com')}/${repository}/actions/runs/${runId}`,
  };
  setIf(ctx, 'refType', checkRefType(ctx.ref, c.optional('ref_type')));
  const workflowRef = c.optional('workflow_ref');
  const jobWorkflowRef = c.optional('job_workflow_ref');
  setIf(ctx, 'workflow', jobWorkflowRef ?? workflowRef);
  setIf(ctx, 'workflowRef', workflowRef);
  setIf(ctx, 'jobWorkflowRef', jobWorkflowRef);
  setIf(ctx, 'runnerEnvironment', c.optional('runner_environment'));
  setIf(ctx, 'runAttempt', c.optional('run_attempt'));
  const head = c.optional('head_repository');
  if (head !== undefined && head !== repository) ctx.sourceRepository = head;
  return ctx;
}

function gitlabRef(c: Claims): string {
  const refPath = c.optional('ref_path');
  if (refPath !== undefined) return checkRef(refPath, 'ref_path');
  const ref = c.required('ref');
  const refType = c.required('ref_type');
  if (refType === 'branch') return checkRef(`refs/heads/${ref}`, 'ref');
  if (refType === 'tag') return checkRef(`refs/tags/${ref}`, 'ref');
  throw new IdentityError('token claim "ref_type" is neither branch nor tag and no "ref_path" is given');
}

/**
 * GitLab CI `id_tokens`. Fork rule: a merge-request pipeline from a fork runs jobs in the fork's
 * project, which GitLab reports as `job_project_path`/`job_project_id`; when either differs from
 * the pipeline's project the context is a fork.
 */
export function mapGitlabClaims(issuer: CiIssuerConfig, payload: JWTPayload): RequestContext {
  const c = new Claims(payload);
  const repository = c.required('project_path');
  const repositoryId = c.required('project_id');
  const namespaceId = c.required('namespace_id');
  const pipelineId = c.required('pipeline_id');
  const jobProjectPath = c.optional('job_project_path');
  const jobProjectId = c.optional('job_project_id');
  const fork =
    (jobProjectPath !== undefined && jobProjectPath !== repository) ||
    (jobProjectId !== undefined && jobProjectId !== repositoryId);
  const ctx: Mutable<RequestContext> = {
    trust: 'oidc',
    issuer: issuer.issuer,
    repository,
    ref: gitlabRef(c),
    sha: checkSha(c.required('sha'), 'sha'),
    actor: c.required('user_login'),
    environment: c.optional('environment') ?? '',
    fork,
    repositoryId,
    repositoryOwnerId: namespaceId,
    namespaceId,
    event: c.required('pipeline_source'),
    runId: pipelineId,
    runUrl: `${trimSlash(issuer.webUrl ?? issuer.issuer)}/${repository}/-/pipelines/${pipelineId}`,
  };
  setIf(ctx, 'refType', checkRefType(ctx.ref, c.optional('ref_type')));
  setIf(ctx, 'actorId', c.optional('user_id'));
  setIf(ctx, 'workflow', c.optional('ci_config_ref_uri'));
  setIf(ctx, 'runnerEnvironment', c.optional('runner_environment'));
  if (fork) ctx.sourceRepository = jobProjectPath ?? `project ${jobProjectId ?? ''}`;
  return ctx;
}

/**
 * Any other issuer: `issuer.claims` maps context fields to claim names. `repository`, `ref`, `sha`
 * and `actor` are required and default to claims of the same name; `fork`, when mapped, must be a
 * boolean claim that is present.
 */
export function mapGenericClaims(issuer: CiIssuerConfig, payload: JWTPayload): RequestContext {
  const c = new Claims(payload);
  const claimFor = (field: string): string => ownValue(issuer.claims, field) ?? field;
  const mapped = (field: OptionalField): string | undefined => {
    const claim = ownValue(issuer.claims, field);
    return claim === undefined ? undefined : c.required(claim);
  };
  const forkClaim = issuer.claims['fork'];
  const ctx: Mutable<RequestContext> = {
    trust: 'oidc',
    issuer: issuer.issuer,
    repository: c.required(claimFor('repository')),
    ref: checkRef(c.required(claimFor('ref')), claimFor('ref')),
    sha: checkSha(c.required(claimFor('sha')), claimFor('sha')),
    actor: c.required(claimFor('actor')),
    environment: c.optional(claimFor('environment')) ?? '',
    fork: forkClaim === undefined ? false : c.flag(forkClaim),
  };
  for (const field of GENERIC_CONTEXT_FIELDS) {
    if (field === 'repository' || field === 'ref' || field === 'sha' || field === 'actor') continue;
    if (field === 'environment' || field === 'fork') continue;
    setIf(ctx, field, mapped(field));
  }
  return ctx;
}

export function mapClaims(issuer: CiIssuerConfig, payload: JWTPayload): RequestContext {
  switch (issuer.kind) {
    case 'github':
      return mapGithubClaims(issuer, payload);
    case 'gitlab':
      return mapGitlabClaims(issuer, payload);
    case 'generic':
      return mapGenericClaims(issuer, payload);
  }
}
