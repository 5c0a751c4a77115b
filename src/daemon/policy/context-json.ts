import type { RequestContext } from '../../model/context.js';
import { InvalidArgumentError } from '../../common/errors.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

type StringField = Exclude<keyof RequestContext, 'trust' | 'fork'>;

/** Context fields with their snake_case spelling; both spellings are accepted on input. */
const STRING_FIELDS: Readonly<Record<StringField, string>> = {
  issuer: 'issuer',
  repository: 'repository',
  repositoryId: 'repository_id',
  repositoryOwnerId: 'repository_owner_id',
  namespaceId: 'namespace_id',
  ref: 'ref',
  refType: 'ref_type',
  sha: 'sha',
  actor: 'actor',
  actorId: 'actor_id',
  commitAuthor: 'commit_author',
  environment: 'environment',
  workflow: 'workflow',
  workflowRef: 'workflow_ref',
  jobWorkflowRef: 'job_workflow_ref',
  event: 'event',
  runnerEnvironment: 'runner_environment',
  runId: 'run_id',
  runAttempt: 'run_attempt',
  runUrl: 'run_url',
  sourceRepository: 'source_repository',
};

/** Numeric ids arrive as JSON numbers as often as strings. */
const NUMERIC_FIELDS: ReadonlySet<string> = new Set(['repositoryId', 'repositoryOwnerId', 'namespaceId', 'actorId', 'runId', 'runAttempt']);

const REQUIRED_FIELDS: readonly StringField[] = ['repository', 'ref'];

function canonicalKeys(): Map<string, keyof RequestContext> {
  const keys = new Map<string, keyof RequestContext>([
    ['trust', 'trust'],
    ['fork', 'fork'],
  ]);
  for (const [camel, snake] of Object.entries(STRING_FIELDS) as [StringField, string][]) {
    keys.set(camel, camel);
    keys.set(snake, camel);
  }
  return keys;
}

const KEYS = canonicalKeys();

function stringValue(field: string, value: unknown, numeric: boolean): string {
  if (typeof value === 'string') return value;
  if (numeric && typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  throw new InvalidArgumentError(field, numeric ? 'must be a string or a non-negative integer' : 'must be a string');
}

/**
 * Builds a request context from JSON (for `jitgate policy explain --context JSON`). Keys may be
 * snake_case or camelCase; unknown keys are refused, because a misspelt field silently ignored
 * would make the explanation lie. Trust is `local` unless the JSON says otherwise.
 */
export function contextFromJson(json: unknown): RequestContext {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidArgumentError('context', 'must be a JSON object');
  }
  const seen = new Map<keyof RequestContext, string>();
  const out: Partial<Mutable<RequestContext>> = { trust: 'local', fork: false, sha: '', actor: '', environment: '' };
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    const field = KEYS.get(key);
    if (field === undefined) {
      throw new InvalidArgumentError(key, `unknown context field (known: ${[...Object.values(STRING_FIELDS), 'trust', 'fork'].join(', ')})`);
    }
    const earlier = seen.get(field);
    if (earlier !== undefined) throw new InvalidArgumentError(key, `given twice (also as "${earlier}")`);
    seen.set(field, key);
    if (field === 'trust') {
      if (value !== 'local' && value !== 'oidc') throw new InvalidArgumentError(key, 'must be "local" or "oidc"');
      out.trust = value;
    } else if (field === 'fork') {
      if (typeof value !== 'boolean') throw new InvalidArgumentError(key, 'must be true or false');
      out.fork = value;
    } else {
      out[field] = stringValue(key, value, NUMERIC_FIELDS.has(field));
    }
  }
  for (const field of REQUIRED_FIELDS) {
    if (!out[field]) throw new InvalidArgumentError(STRING_FIELDS[field], 'is required');
  }
  if (!out.ref?.startsWith('refs/')) {
    throw new InvalidArgumentError('ref', `${JSON.stringify(out.ref)} is not a full ref (write e.g. refs/heads/main or refs/tags/v1)`);
  }
  return out as RequestContext;
}
