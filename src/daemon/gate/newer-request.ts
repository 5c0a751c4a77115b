import type { RequestContext } from '../../model/context.js';
import type { RequireSpec } from '../config/types.js';
import type { StoredRequest } from '../state/store.js';

/** A request waiting for approvers, with the approval spec of its rule. */
export interface Waiting {
  readonly request: StoredRequest;
  readonly require: RequireSpec;
}

const DECIMAL = /^[0-9]{1,30}$/;

/**
 * Whether `later` (the request that arrived after `earlier`) is the newer one. The verified run id
 * (GitHub `run_id`, GitLab `pipeline_id`) grows with each run, so it decides when both have one and
 * they differ: a re-run of an old commit that arrives late is older, not newer. Without two
 * comparable ids, arrival order decides, and `later` arrived later.
 */
export function isNewerRun(later: Pick<RequestContext, 'runId'>, earlier: Pick<RequestContext, 'runId'>): boolean {
  const a = later.runId;
  const b = earlier.runId;
  if (a === undefined || b === undefined || !DECIMAL.test(a) || !DECIMAL.test(b)) return true;
  const [x, y] = [BigInt(a), BigInt(b)];
  return x === y || x > y;
}

/** A rule's `supersede`, or its default: on for branches, off for tags and anything else. */
export function supersedeEnabled(entry: Waiting): boolean {
  return entry.require.supersede ?? entry.request.context.ref.startsWith('refs/heads/');
}

/**
 * The verified fields that make two requests "the same deployment": never anything the client
 * claimed, so a self-asserted (local trust) context never supersedes nor is superseded.
 */
function sameTarget(a: StoredRequest, b: StoredRequest): boolean {
  const x = a.context;
  const y = b.context;
  return (
    a.resource === b.resource &&
    x.trust === 'oidc' &&
    y.trust === 'oidc' &&
    x.issuer === y.issuer &&
    x.repository === y.repository &&
    x.repositoryId === y.repositoryId &&
    x.workflow === y.workflow &&
    x.ref === y.ref
  );
}

/** Whether `newer`, just arrived, makes the pending `entry` stale. */
export function supersedes(newer: StoredRequest, entry: Waiting): boolean {
  const old = entry.request;
  return (
    old.id !== newer.id &&
    old.status === 'pending' &&
    old.context.sha !== newer.context.sha &&
    sameTarget(newer, old) &&
    supersedeEnabled(entry) &&
    isNewerRun(newer.context, old.context)
  );
}

