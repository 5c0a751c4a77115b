import { createHash } from 'node:crypto';
import { canonicalJson } from '../../common/audit-chain.js';
import type { StoredRequest } from '../state/store.js';

/**
 * What an approver approves, as a digest: the request's identity, owner, resource, TTL, rule and
 * verified context. Stored with each fleet approval; under `fleet.mint: plane` the plane mints
 * only while the request row (which its runner can rewrite) still has this digest.
 */
export function requestDigest(request: StoredRequest): string {
  const approved = [request.id, request.ownerNode ?? '', request.resource, request.ttlMs, request.rule, request.context, request.claimed];
  return createHash('sha256').update(canonicalJson(approved)).digest('hex');
}
