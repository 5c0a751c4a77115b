import type { RequestContext } from '../../model/context.js';
import { formatDuration } from '../../common/duration.js';
import type { RequireSpec } from '../config/types.js';
import type { PolicyDecision, PolicyExplanation } from './engine.js';

const SHOWN_FIELDS: readonly (readonly [label: string, field: keyof RequestContext])[] = [
  ['issuer', 'issuer'],
  ['repository', 'repository'],
  ['repository_id', 'repositoryId'],
  ['repository_owner_id', 'repositoryOwnerId'],
  ['namespace_id', 'namespaceId'],
  ['ref', 'ref'],
  ['ref_type', 'refType'],
  ['sha', 'sha'],
  ['environment', 'environment'],
  ['actor', 'actor'],
  ['workflow', 'workflow'],
  ['job_workflow_ref', 'jobWorkflowRef'],
  ['event', 'event'],
  ['runner_environment', 'runnerEnvironment'],
  ['fork', 'fork'],
];

function describeRequire(spec: RequireSpec): string {
  const people = spec.approvals === 1 ? '1 approval' : `${spec.approvals} approvals`;
  let text = `${people} from ${spec.from.join(', ')}`;
  if (spec.everyGroup) text += ' (at least one from each)';
  text += `, expires after ${formatDuration(spec.expiresAfterMs)}`;
  for (const step of spec.escalate) text += `; after ${formatDuration(step.afterMs)} also ${step.to.join(', ')}`;
  // Only when written, so the explanation of every other rule reads as before.
  if (spec.approvalScope) text += `; one approval covers its run for ${formatDuration(spec.approvalScope.ttlMs)}`;
  if (spec.supersede !== undefined) text += `; supersede ${spec.supersede ? 'on' : 'off'}`;
  return text;
}

export function describeDecision(decision: PolicyDecision): string {
  switch (decision.kind) {
    case 'deny':
      return decision.rule === null ? `DENY: ${decision.reason}` : `DENY by rule "${decision.rule}"`;
    case 'auto-approve':
      return `AUTO-APPROVE by rule "${decision.rule}"`;
    case 'require':
      return `REQUIRE ${describeRequire(decision.require)} by rule "${decision.rule}"`;
  }
}

/** Human text for `jitgate policy explain`: the request, each rule tried and why it did not match, the outcome. */
export function formatExplanation(resource: string, context: RequestContext, result: PolicyExplanation): string {
  const lines: string[] = [`request: resource ${JSON.stringify(resource)} (trust: ${context.trust})`];
  for (const [label, field] of SHOWN_FIELDS) {
    const value = context[field];
    if (value === undefined || value === '') continue;
    lines.push(`  ${label}: ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  }
  lines.push('rules:');
  if (result.trace.length === 0) lines.push('  (none)');
  for (const step of result.trace) {
    lines.push(`  ${step.matched ? '✓' : '✗'} ${step.rule}${step.matched ? ': matches' : ''}`);
    for (const why of step.mismatches) lines.push(`      ${why}`);
  }
  lines.push(`decision: ${describeDecision(result.decision)}`);
  return `${lines.join('\n')}\n`;
}
