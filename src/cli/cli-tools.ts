import { readFile } from 'node:fs/promises';
import { ConfigError, errorMessage } from '../common/errors.js';
import type { AddCommands, CliIo } from './cli-context.js';
import { EXIT, UsageError } from './exit-codes.js';

type VerifyModule = typeof import('../common/audit-verify.js');
type AuditVerifyResult = Awaited<ReturnType<VerifyModule['verifyAuditFile']>>;

function verifyLine(result: AuditVerifyResult, describe: VerifyModule['describeVerifyResult']): string {
  if (result.ok) return describe(result);
  return `FAILED at line ${result.line}${result.seq === null ? '' : ` (seq ${result.seq})`}: ${result.reason}`;
}

/**
 * One file: today's output. Several (one per fleet node): each chain is checked on its own, since a
 * chain is per node, and each gets one line naming the file and the node(s) its records name.
 */
async function auditVerify(args: { file: string[]; publicKey?: string | undefined }, io: CliIo): Promise<number> {
  const { verifyAuditFile, describeVerifyResult } = await import('../common/audit-verify.js');
  let options: { publicKeyPem?: string };
  try {
    options = args.publicKey === undefined ? {} : { publicKeyPem: await readFile(args.publicKey, 'utf8') };
  } catch (err) {
    io.stderr.write(`jitgate: ${errorMessage(err)}\n`);
    return EXIT.FAILURE;
  }
  const [only, ...rest] = args.file;
  if (only !== undefined && rest.length === 0) {
    try {
      const result = await verifyAuditFile(only, options);
      io.stdout.write(`${verifyLine(result, describeVerifyResult)}\n`);
      return result.ok ? EXIT.OK : EXIT.FAILURE;
    } catch (err) {
      io.stderr.write(`jitgate: ${errorMessage(err)}\n`);
      return EXIT.FAILURE;
    }
  }
  const failed: string[] = [];
  for (const file of args.file) {
    let line: string;
    try {
      const result = await verifyAuditFile(file, options);
      const node = result.nodes ? ` (node ${result.nodes.join(', ')})` : '';
      line = `${file}${node}: ${verifyLine(result, describeVerifyResult)}`;
      if (!result.ok) failed.push(file);
    } catch (err) {
      // A bad key or a missing file is this file's result; the other files are still checked.
      line = `${file}: FAILED ${errorMessage(err)}`;
      failed.push(file);
    }
    io.stdout.write(`${line}\n`);
  }
  if (failed.length === 0) return EXIT.OK;
  io.stderr.write(`jitgate: ${failed.length} of ${args.file.length} audit logs failed verification: ${failed.join(', ')}\n`);
  return EXIT.FAILURE;
}

async function policyCheck(file: string, io: CliIo): Promise<number> {
  const { loadConfig } = await import('../daemon/config/load-config.js');
  try {
    const config = await loadConfig(file);
    io.stdout.write(`${file}: OK, ${config.policies.length} rule(s), first match wins, no match denies\n`);
    config.policies.forEach((rule, i) => {
      const match = JSON.stringify(rule.match);
      const decision = rule.decision === 'require' ? `require ${rule.require.approvals} of ${rule.require.from.join(', ')}` : rule.decision;
      io.stdout.write(`${i + 1}. ${rule.name}: ${decision} when ${match === '{}' ? 'anything' : match}\n`);
    });
    return EXIT.OK;
  } catch (err) {
    io.stderr.write(`jitgate: ${errorMessage(err)}\n`);
    return err instanceof ConfigError ? EXIT.FAILURE : EXIT.UNAVAILABLE;
  }
}

/** `--context` JSON, with an optional "resource" key that `--resource` overrides. */
function explainInput(contextJson: string, resourceFlag: string | undefined): { parsed: unknown; resource: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(contextJson);
  } catch {
    throw new UsageError('--context: not valid JSON');
  }
  let resource = resourceFlag;
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'resource' in parsed) {
    const { resource: fromJson, ...rest } = parsed as Record<string, unknown>;
    resource ??= typeof fromJson === 'string' ? fromJson : undefined;
    parsed = rest;
  }
  if (resource === undefined) throw new UsageError('--resource: required (or a "resource" key in --context)');
  return { parsed, resource };
}

async function policyExplain(args: { config: string; context: string; resource?: string | undefined }, io: CliIo): Promise<number> {
  const policy = await import('../daemon/policy/index.js');
  const { loadConfig } = await import('../daemon/config/load-config.js');
  const { parsed, resource } = explainInput(args.context, args.resource);
  let context;
  try {
    context = policy.contextFromJson(parsed);
  } catch (err) {
    throw new UsageError(`--context: ${errorMessage(err)}`);
  }
  try {
    const config = await loadConfig(args.config);
    const engine = new policy.PolicyEngine(config.policies);
    io.stdout.write(`${policy.formatExplanation(resource, context, engine.explain(resource, context))}\n`);
    return EXIT.OK;
  } catch (err) {
    io.stderr.write(`jitgate: ${errorMessage(err)}\n`);
    return EXIT.FAILURE;
  }
}

/** `audit verify`, `policy check`, `policy explain`: offline tools that need no daemon. */
export const addToolCommands: AddCommands = (y, { io, done }) =>
  y
    .command('audit', 'audit log tools', (a) =>
      a
        .command(
          'verify <file..>',
          'check the whole hash chain and checkpoint signatures of each file (one file per fleet node)',
          (v) =>
            v
              .positional('file', { type: 'string', array: true, demandOption: true })
              .option('public-key', { type: 'string', describe: 'PEM file with the trusted Ed25519 public key' }),
          (args) => done(auditVerify(args, io)),
        )
        .demandCommand(1, 'audit: name a subcommand (verify)'),
    )
    .command('policy', 'policy tools', (p) =>
      p
        .command(
          'check <file>',
          'validate a config file and print its rules in order',
          (v) => v.positional('file', { type: 'string', demandOption: true }),
          (args) => done(policyCheck(args.file, io)),
        )
        .command(
          'explain',
          'show which rule decides a request, and why',
          (v) =>
            v
              .option('config', { type: 'string', demandOption: true })
              .option('context', { type: 'string', demandOption: true, describe: 'JSON object: repository, ref, sha, actor, environment, ...' })
              .option('resource', { type: 'string' }),
          (args) => done(policyExplain(args, io)),
        )
        .demandCommand(1, 'policy: name a subcommand (check, explain)'),
    );
