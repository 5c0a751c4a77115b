/**
 * Rules that span more than one field: names and references, numbers that must agree, and the
 * guard rails that stop a policy from trusting more than its author meant. Each reports every
 * problem it finds, naming the exact key path, and runs on whatever sections parsed.
 */
import { compileGlob, isGlob } from '../../common/glob.js';
import { checkApprovers } from './approver-checks.js';
import type { ProblemList } from './config-problem.js';
import type { ConfigSections } from './config-sections.js';
import { urlHasPassword } from './inline-secrets.js';
import { ENV_NAME_RE, GROUP_RE, NAME_RE, type RawConfig, type RawMatch, type RawPolicy, type RawResource } from './schema.js';

const MAX_LEEWAY_MS = 5 * 60_000;
const DEFAULT_EXPIRES_AFTER_MS = 15 * 60_000;

/** Context fields a generic issuer's claim mapping may fill. */
export const CLAIM_FIELDS: readonly string[] = [
  'repository',
  'repository_id',
  'repository_owner_id',
  'namespace_id',
  'ref',
  'ref_type',
  'sha',
  'actor',
  'actor_id',
  'commit_author',
  'environment',
  'workflow',
  'workflow_ref',
  'job_workflow_ref',
  'event',
  'runner_environment',
  'run_id',
  'run_attempt',
  'run_url',
  'source_repository',
];

type Report = (path: readonly PropertyKey[], message: string) => void;

/** GitHub's default audience is the owner's URL: every repository of that owner can mint a token for it. */
function isGithubOwnerAudience(audience: string): boolean {
  if (!URL.canParse(audience)) return false;
  const host = new URL(audience).hostname.toLowerCase();
  return host === 'github.com' || host === 'www.github.com';
}

function checkState(state: RawConfig['state'], fail: Report): void {
  if (!state) return;
  const kinds = [state.sqlite, state.postgres].filter((v) => v !== undefined).length;
  if (kinds !== 1) fail(['state'], 'set exactly one of "sqlite" (a file path) or "postgres" (a URL)');
  if (state.password_file !== undefined && state.postgres === undefined) {
    fail(['state', 'password_file'], 'only applies to "postgres"');
  }
  if (state.postgres !== undefined && urlHasPassword(state.postgres)) {
    fail(
      ['state', 'postgres'],
      'the URL holds a password; inline secrets are not allowed: use "password_file" (or a .pgpass file)',
    );
  }
}

/** A fleet shares one PostgreSQL database; its timers must leave the sweeper room to tell a slow node from a dead one. */
function checkFleet(sections: ConfigSections, fail: Report): void {
  const { fleet } = sections;
  if (!fleet || sections.failed.has('state')) return;
  if (sections.state?.postgres === undefined) fail(['fleet'], 'needs state.postgres: a fleet shares one PostgreSQL database');
  const interval = fleet.heartbeat_interval ?? 5000;
  const timeout = fleet.heartbeat_timeout ?? 30_000;
  if (timeout < 2 * interval) fail(['fleet', 'heartbeat_timeout'], 'must be at least twice fleet.heartbeat_interval');
}

function checkVault(sections: ConfigSections, fail: Report): void {
  const { vault, fleet } = sections;
  if (!vault) return;
  const auth = vault.auth;
  // Under `fleet.mint: plane` a runner's host runs untrusted builds: it must hold no Vault identity.
  const credentialless = fleet?.mint === 'plane' && fleet.role === 'runner';
  if (!auth) {
    if (!credentialless) fail(['vault', 'auth'], 'set "token_file" or "approle" (only a fleet runner under fleet.mint: plane goes without)');
    return;
  }
  if (credentialless) {
    fail(['vault', 'auth'], 'a fleet runner under fleet.mint: plane holds no Vault credentials: remove vault.auth (the approval plane mints)');
    return;
  }
  if ((auth.token_file === undefined) === (auth.approle === undefined)) {
    fail(['vault', 'auth'], 'set exactly one of "token_file" or "approle"');
  }
}

function checkIdentity(identity: RawConfig['identity'], fail: Report): void {
  const seen = new Set<string>();
  identity?.ci?.forEach((ci, i) => {
    const at = ['identity', 'ci', i];
    if (seen.has(ci.issuer)) fail([...at, 'issuer'], `issuer ${JSON.stringify(ci.issuer)} is configured twice`);
    seen.add(ci.issuer);
    if (isGithubOwnerAudience(ci.audience)) {
      fail(
        [...at, 'audience'],
        `${JSON.stringify(ci.audience)} is GitHub's default audience (the repository owner's URL): workflows of every ` +
          'repository of that owner get tokens for it, and other services accept them too; use a jitgate-specific value such as "jitgate"',
      );
    }
    if (ci.leeway !== undefined && ci.leeway > MAX_LEEWAY_MS) fail([...at, 'leeway'], 'must be at most 5m');
    for (const field of Object.keys(ci.claims ?? {})) {
      if (!CLAIM_FIELDS.includes(field)) {
        fail([...at, 'claims', field], `unknown context field (known: ${CLAIM_FIELDS.join(', ')})`);
      }
    }
  });
  const approvers = identity?.approvers;
  if (approvers && isGithubOwnerAudience(approvers.audience)) {
    fail(['identity', 'approvers', 'audience'], 'use a jitgate-specific audience, not a GitHub URL');
  }
  checkApprovers(identity, fail);
}

function checkGroups(groups: RawConfig['groups'], fail: Report): void {
  for (const name of Object.keys(groups ?? {})) {
    if (!GROUP_RE.test(name)) fail(['groups', name], 'group names use letters, digits, "-", "_" and "."');
  }
}

function checkResource(name: string, resource: RawResource, fail: Report): void {
    const at = ['resources', name];
    if (!NAME_RE.test(name)) {
      fail(at, 'resource names start with a lower-case letter or digit and use only a-z, 0-9, "-", "_" and "."');
    }
    resource.vault.policies.forEach((policy, i) => {
      if (policy === 'root') fail([...at, 'vault', 'policies', i], 'a grant must never carry the "root" policy');
    });
    const env = Object.entries(resource.env);
    if (env.length === 0) fail([...at, 'env'], 'must map at least one environment variable (e.g. VAULT_TOKEN: token)');
    for (const [variable, source] of env) {
      if (!ENV_NAME_RE.test(variable)) {
        fail([...at, 'env', variable], 'environment variable names use A-Z, 0-9 and "_" and do not start with a digit');
      }
      if (source !== 'token' && resource.vault.read === undefined) {
        fail(
          [...at, 'env', variable],
          `data key ${JSON.stringify(source)} needs vault.read (without a read path only "token" is available)`,
        );
      }
    }
    if (resource.ttl < 1000) fail([...at, 'ttl'], 'must be at least 1s (Vault counts TTLs in seconds)');
    if (resource.max_ttl !== undefined && resource.max_ttl < resource.ttl) {
      fail([...at, 'max_ttl'], 'must not be shorter than ttl');
    }
}

/** The value at `path` in the document as written, before normalisation. */
function written(doc: unknown, path: readonly PropertyKey[]): unknown {
  let node = doc;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function checkMatch(policy: RawPolicy, i: number, known: readonly string[], doc: unknown, fail: Report): void {
  const match: RawMatch = policy.match ?? {};
  const at = ['policies', i, 'match'];
  // A single pattern is named by its key, one of a list by its index, as the user wrote it.
  const at2 = (key: string, j: number): PropertyKey[] =>
    Array.isArray(written(doc, [...at, key])) ? [...at, key, j] : [...at, key];
  match.resource?.forEach((pattern, j) => {
    const hits = known.filter(compileGlob(pattern));
    if (hits.length > 0) return;
    const what = isGlob(pattern) ? `pattern ${JSON.stringify(pattern)} matches no resource` : `unknown resource ${JSON.stringify(pattern)}`;
    fail(at2('resource', j), `${what} (known: ${known.join(', ') || 'none'})`);
  });
  match.ref?.forEach((pattern, j) => {
    if (!pattern.startsWith('refs/')) {
      const hint = isGlob(pattern) ? 'e.g. refs/heads/release/*' : `refs/heads/${pattern} for a branch or refs/tags/${pattern} for a tag`;
      fail(
        at2('ref', j),
        `${JSON.stringify(pattern)} is not a full ref: refs are compared in full so a tag cannot pass for a branch; write ${hint}`,
      );
    }
  });
  for (const key of ['repository_id', 'repository_owner_id', 'namespace_id'] as const) {
    match[key]?.forEach((pattern, j) => {
      if (!/^\d+$/.test(pattern)) fail(at2(key, j), `${JSON.stringify(pattern)} is not a numeric id`);
    });
  }
  match.job_workflow_ref?.forEach((pattern, j) => {
    const ref = pattern.includes('@') ? pattern.slice(pattern.lastIndexOf('@') + 1) : undefined;
    if (ref === undefined ? !pattern.includes('**') : !ref.startsWith('refs/') && !ref.startsWith('*')) {
      fail(
        at2('job_workflow_ref', j),
        `${JSON.stringify(pattern)} never matches: GitHub writes the workflow path and its full ref, ` +
          'e.g. acme/ci/.github/workflows/deploy.yml@refs/tags/v1',
      );
    }
  });
}

/**
 * Ids and names are only unique within one issuer (GitLab project 123 and GitHub repository 123 are
 * unrelated), so with several CI issuers a rule must say which one it trusts. `issuers` is
 * undefined when the identity section did not parse: nothing to compare with then.
 */
function checkIssuerPin(policy: RawPolicy, i: number, issuers: readonly string[] | undefined, doc: unknown, fail: Report): void {
  if (issuers === undefined) return;
  const at = ['policies', i, 'match', 'issuer'];
  const pinned = policy.match?.issuer;
  if (pinned === undefined) {
    // A deny rule can only refuse more, so a catch-all `decision: deny` need not name every issuer.
    if (issuers.length > 1 && policy.decision !== 'deny') {
      fail(
        at,
        `required when more than one identity.ci issuer is configured: without it rule ${JSON.stringify(policy.name)} ` +
          `matches tokens from every issuer, whose repository ids and names collide (configured: ${issuers.join(', ')})`,
      );
    }
    return;
  }
  const list = Array.isArray(written(doc, at));
  pinned.forEach((issuer, j) => {
    if (issuers.includes(issuer)) return;
    fail(
      list ? [...at, j] : at,
      `${JSON.stringify(issuer)} is not a configured identity.ci issuer (compared exactly, no wildcards; ` +
        `configured: ${issuers.join(', ') || 'none'})`,
    );
  });
}

function couldMatchProduction(match: RawMatch | undefined): boolean {
  if (match?.environment === undefined) return true;
  return match.environment.some((pattern) => compileGlob(pattern)('production'));
}

function checkRequire(policy: RawPolicy, i: number, fail: Report): void {
  const spec = policy.require;
  if (!spec) return;
  const at = ['policies', i, 'require'];
  const expiresAfter = spec.expires_after ?? DEFAULT_EXPIRES_AFTER_MS;
  spec.escalate?.forEach((step, j) => {
    if (step.after >= expiresAfter) {
      fail([...at, 'escalate', j, 'after'], 'must be shorter than expires_after, or the escalation never happens');
    }
  });
  if (spec.scope_ttl !== undefined && spec.approval_scope !== 'run') {
    fail([...at, 'scope_ttl'], 'applies only with approval_scope: run');
  }
  const escalates = (spec.escalate?.length ?? 0) > 0;
  if (!escalates && spec.from.every((p) => p.startsWith('user:'))) {
    const people = new Set(spec.from).size;
    if (spec.approvals > people) {
      fail(
        [...at, 'approvals'],
        `needs ${spec.approvals} approvals but only ${people} ${people === 1 ? 'person' : 'people'} can approve (${spec.from.join(', ')})`,
      );
    }
  }
}

function checkPolicies(sections: ConfigSections, doc: unknown, fail: Report): void {
  const names = new Map<string, number>();
  const issuers = sections.failed.has('identity') ? undefined : (sections.identity?.ci ?? []).map((ci) => ci.issuer);
  for (const [i, policy] of sections.policies) {
    const at = ['policies', i];
    const earlier = names.get(policy.name);
    if (earlier !== undefined) fail([...at, 'name'], `duplicate rule name ${JSON.stringify(policy.name)} (also policies[${earlier}])`);
    else names.set(policy.name, i);
    if ((policy.decision === undefined) === (policy.require === undefined)) {
      fail(at, 'set exactly one of "decision" (deny or auto-approve) or "require"');
    }
    checkMatch(policy, i, sections.resourceNames, doc, fail);
    checkIssuerPin(policy, i, issuers, doc, fail);
    checkRequire(policy, i, fail);
    if (policy.break_glass !== undefined && policy.require === undefined) {
      fail([...at, 'break_glass'], 'only applies to a rule with "require": break-glass stands in for its approvals');
    }
    const grants = policy.require !== undefined || policy.decision === 'auto-approve';
    const pinned = policy.match?.repository !== undefined || policy.match?.repository_id !== undefined;
    if (grants && !pinned && couldMatchProduction(policy.match)) {
      fail(
        policy.match ? [...at, 'match'] : at,
        `rule ${JSON.stringify(policy.name)} can grant access for environment "production" to any repository: ` +
          'add "repository" or "repository_id" to its match, or restrict "environment"',
      );
    }
  }
}

/**
 * Cross-field validation of the sections that parsed (`sections`, normalised by the schema;
 * `doc`, the same document as written, for naming paths). Reports every problem.
 */
export function crossCheck(sections: ConfigSections, doc: unknown, problems: ProblemList): void {
  const fail: Report = (path, message) => {
    problems.add(path, message);
  };
  checkState(sections.state, fail);
  checkFleet(sections, fail);
  checkVault(sections, fail);
  checkIdentity(sections.identity, fail);
  checkGroups(sections.groups, fail);
  for (const [name, resource] of Object.entries(sections.resources)) checkResource(name, resource, fail);
  checkStepUp(sections, fail);
  checkPolicies(sections, doc, fail);
}

/** Step-up happens on the approval web page: without it nobody could approve such a resource but through the CLI. */
function checkStepUp(sections: ConfigSections, fail: Report): void {
  if (sections.failed.has('identity')) return;
  const web = sections.identity?.approvers?.web !== undefined;
  for (const [name, resource] of Object.entries(sections.resources)) {
    if (resource.step_up === undefined || resource.step_up === false || web) continue;
    fail(['resources', name, 'step_up'], 'needs identity.approvers.web: approvers step up by signing in again on the approval web page');
  }
}
