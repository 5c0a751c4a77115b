import type { RequestContext } from '../../model/context.js';
import type { MatchPatterns, PolicyMatch, PolicyRule, RequireSpec } from '../config/types.js';
import { compileGlob, hasControlChar } from '../../common/glob.js';

export type PolicyDecision =
  | { kind: 'deny'; rule: string | null; reason: string }
  | { kind: 'auto-approve'; rule: string }
  | { kind: 'require'; rule: string; require: RequireSpec };

/** How one rule fared against a request; `mismatches` is empty when it matched. */
export interface RuleTrace {
  rule: string;
  matched: boolean;
  mismatches: string[];
}

export interface PolicyExplanation {
  decision: PolicyDecision;
  /** Every rule tried, in order, up to and including the deciding one. */
  trace: RuleTrace[];
}

type ContextKey = Exclude<keyof PolicyMatch, 'fork' | 'resource'>;

/** Match keys as users write them in the config, paired with the context field each one reads. */
const CONTEXT_KEYS: readonly (readonly [configKey: string, matchKey: ContextKey])[] = [
  ['issuer', 'issuer'],
  ['repository', 'repository'],
  ['repository_id', 'repositoryId'],
  ['repository_owner_id', 'repositoryOwnerId'],
  ['namespace_id', 'namespaceId'],
  ['ref', 'ref'],
  ['ref_type', 'refType'],
  ['environment', 'environment'],
  ['actor', 'actor'],
  ['workflow', 'workflow'],
  ['job_workflow_ref', 'jobWorkflowRef'],
  ['event', 'event'],
  ['runner_environment', 'runnerEnvironment'],
];

/**
 * Compared as whole strings, never as globs: an issuer is a URL, and `https://gitlab.*` would
 * trust whoever registers a matching host.
 */
const EXACT_KEYS: ReadonlySet<ContextKey> = new Set(['issuer']);

interface Condition {
  readonly key: string;
  readonly patterns: MatchPatterns;
  readonly test: (value: string) => boolean;
  readonly read: (resource: string, context: RequestContext) => string | undefined;
}

interface CompiledRule {
  readonly rule: PolicyRule;
  readonly conditions: readonly Condition[];
  readonly fork: boolean;
}

function compileCondition(
  key: string,
  patterns: MatchPatterns,
  read: Condition['read'],
  exact = false,
): Condition {
  const matchers = patterns.map((p) => (exact ? (value: string) => value === p : compileGlob(p)));
  return { key, patterns, read, test: (value) => matchers.some((m) => m(value)) };
}

function compileRule(rule: PolicyRule): CompiledRule {
  const conditions: Condition[] = [];
  if (rule.match.resource) {
    conditions.push(compileCondition('resource', rule.match.resource, (resource) => resource));
  }
  for (const [configKey, matchKey] of CONTEXT_KEYS) {
    const patterns = rule.match[matchKey];
    if (patterns) {
      conditions.push(compileCondition(configKey, patterns, (_, context) => context[matchKey], EXACT_KEYS.has(matchKey)));
    }
  }
  return { rule, conditions, fork: rule.match.fork === true };
}

function describePatterns(patterns: MatchPatterns): string {
  const quoted = patterns.map((p) => JSON.stringify(p));
  return quoted.length === 1 ? (quoted[0] ?? '') : `any of ${quoted.join(', ')}`;
}

/** Why the rule does not apply; empty when it does. Every condition is checked so `explain` can list them all. */
function mismatches(compiled: CompiledRule, resource: string, context: RequestContext): string[] {
  const out: string[] = [];
  // Forks are their own context: a rule for the base repository must not match code from a fork.
  if (context.fork && !compiled.fork) out.push('fork: the request comes from a fork and the rule does not say fork: true');
  if (!context.fork && compiled.fork) out.push('fork: the rule is for forks and the request is not from a fork');
  for (const condition of compiled.conditions) {
    const value = condition.read(resource, context);
    if (value === undefined || value === '') {
      out.push(`${condition.key}: absent from the request context (rule wants ${describePatterns(condition.patterns)})`);
    } else if (hasControlChar(value)) {
      out.push(`${condition.key}: ${JSON.stringify(value)} contains a control character and never matches`);
    } else if (!condition.test(value)) {
      out.push(`${condition.key}: ${JSON.stringify(value)} does not match ${describePatterns(condition.patterns)}`);
    }
  }
  return out;
}

function decisionOf(rule: PolicyRule): PolicyDecision {
  switch (rule.decision) {
    case 'deny':
      return { kind: 'deny', rule: rule.name, reason: `denied by policy rule "${rule.name}"` };
    case 'auto-approve':
      return { kind: 'auto-approve', rule: rule.name };
    case 'require':
      return { kind: 'require', rule: rule.name, require: rule.require };
  }
}

export const NO_MATCH_REASON = 'no policy rule matched';

/**
 * Ordered rules; the first whose every condition holds decides. No match denies. A condition on a
 * field the context lacks never holds (a rule about `environment` says nothing about a job without one).
 */
export class PolicyEngine {
  readonly #rules: readonly CompiledRule[];

  constructor(rules: readonly PolicyRule[]) {
    this.#rules = rules.map(compileRule);
  }

  decide(resource: string, context: RequestContext): PolicyDecision {
    for (const compiled of this.#rules) {
      if (mismatches(compiled, resource, context).length === 0) return decisionOf(compiled.rule);
    }
    return { kind: 'deny', rule: null, reason: NO_MATCH_REASON };
  }

  explain(resource: string, context: RequestContext): PolicyExplanation {
    const trace: RuleTrace[] = [];
    for (const compiled of this.#rules) {
      const found = mismatches(compiled, resource, context);
      trace.push({ rule: compiled.rule.name, matched: found.length === 0, mismatches: found });
      if (found.length === 0) return { decision: decisionOf(compiled.rule), trace };
    }
    return { decision: { kind: 'deny', rule: null, reason: NO_MATCH_REASON }, trace };
  }
}
