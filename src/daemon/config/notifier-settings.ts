/**
 * `notifiers:` entries (snake_case as written, `*_file` paths already absolute) checked and
 * mapped onto the typed NotifierConfig the notifiers take. Every problem is reported, e.g.
 * `notifiers[0].slack.channel: must not be empty`.
 */
import { z } from 'zod';
import { ownRecord } from '../../common/own-keys.js';
import { ProblemList, firstProblemError } from './config-problem.js';
import type { NotifierConfig } from './types.js';
import { reportIssues } from './zod-issues.js';

function obj<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key (expected one of: ${known})` : undefined),
  });
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const text = z.string().min(1, 'must not be empty').refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters');

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https anywhere; plain http only to loopback, where nothing on the wire can read or forge it. */
const url = text.refine((s) => {
  if (!URL.canParse(s)) return false;
  const u = new URL(s);
  return u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname));
}, 'must be an https URL (http only on loopback)');

const approverName = z.string().regex(/^[a-zA-Z0-9._-]{1,64}$/, 'must be an approver name (1-64 of a-z A-Z 0-9 . _ -)');
const email = z.string().regex(/^[^\s@<>,;]+@[^\s@<>,;]+$/, 'must be an email address');
/**
 * Who a Slack user is: a local approver name, the person's IdP identity as `sub:<sub>`, or their
 * verified IdP e-mail. Linked to the IdP identity, the same person approving in Slack and through
 * the IdP (CLI, web page) counts once toward a quorum.
 */
const slackPerson = z.union([approverName, email, z.string().regex(/^sub:[^\s]{1,255}$/, 'sub:<IdP subject>')], {
  error: 'must be an approver name, an IdP subject as sub:<sub>, or a verified IdP e-mail address',
});

const slackSchema = obj({
  token_file: text,
  signing_secret_file: text,
  channel: text,
  team_id: z.string().regex(/^T[A-Z0-9]+$/, 'must be a Slack team id such as T0123ABCD'),
  users: z.record(z.string().regex(/^[UW][A-Z0-9]+$/, 'keys must be Slack user ids such as U0123ABCD'), slackPerson),
  api_url: url.optional(),
});

const webhookSchema = obj({
  url,
  secret_file: text,
  decisions: obj({ identity: approverName }).optional(),
});

/**
 * How mail reaches the relay. `starttls` (the default, except on port 465) refuses to send unless
 * the server upgrades with STARTTLS; `implicit` is TLS from the first byte (port 465's default);
 * `none` sends in clear when STARTTLS is missing or stripped, which hands the SMTP password and
 * the mail to anyone on the path: only for a relay on the same host.
 */
const SMTP_TLS_MODES = ['starttls', 'implicit', 'none'] as const;

const emailSchema = obj({
  smtp: obj({
    host: text,
    port: z.number().int('must be a whole number').min(1).max(65535),
    tls: z.enum(SMTP_TLS_MODES, { error: `must be one of: ${SMTP_TLS_MODES.join(', ')}` }).optional(),
    ca_file: text.optional(),
    user: text.optional(),
    password_file: text.optional(),
  }),
  from: email,
  to: z.array(email).min(1, 'must list at least one recipient'),
});

const entrySchema = obj({
  slack: slackSchema.optional(),
  webhook: webhookSchema.optional(),
  email: emailSchema.optional(),
});

type Entry = z.output<typeof entrySchema>;

function mapEntry(entry: Entry, index: number, problems: ProblemList): NotifierConfig | undefined {
  const kinds = Object.keys(entry).filter((k) => entry[k as keyof Entry] !== undefined);
  const { slack, webhook, email: mail } = entry;
  if (kinds.length !== 1 || (!slack && !webhook && !mail)) {
    problems.add(['notifiers', index], 'each notifier must have exactly one of: slack, webhook, email');
    return undefined;
  }
  if (slack) {
    if (Object.keys(slack.users).length === 0) {
      problems.add(['notifiers', index, 'slack', 'users'], 'must map at least one user');
      return undefined;
    }
    return {
      kind: 'slack',
      tokenFile: slack.token_file,
      signingSecretFile: slack.signing_secret_file,
      channel: slack.channel,
      teamId: slack.team_id,
      users: ownRecord(Object.entries(slack.users)),
      ...(slack.api_url !== undefined ? { apiUrl: slack.api_url } : {}),
    };
  }
  if (webhook) {
    return {
      kind: 'webhook',
      url: webhook.url,
      secretFile: webhook.secret_file,
      ...(webhook.decisions ? { decisions: { identity: webhook.decisions.identity } } : {}),
    };
  }
  if (!mail) return undefined;
  if (mail.smtp.password_file !== undefined && mail.smtp.user === undefined) {
    problems.add(['notifiers', index, 'email', 'smtp', 'user'], 'is required when password_file is set');
    return undefined;
  }
  return {
    kind: 'email',
    smtp: {
      host: mail.smtp.host,
      port: mail.smtp.port,
      tls: mail.smtp.tls ?? (mail.smtp.port === 465 ? 'implicit' : 'starttls'),
      ...(mail.smtp.ca_file !== undefined ? { caFile: mail.smtp.ca_file } : {}),
      ...(mail.smtp.user !== undefined ? { user: mail.smtp.user } : {}),
      ...(mail.smtp.password_file !== undefined ? { passwordFile: mail.smtp.password_file } : {}),
    },
    from: mail.from,
    to: mail.to,
  };
}

/** Checks every entry; returns the valid ones, typed, with their index in the file. */
export function checkNotifiers(raw: readonly unknown[], problems: ProblemList): (readonly [number, NotifierConfig])[] {
  const out: (readonly [number, NotifierConfig])[] = [];
  raw.forEach((value, index) => {
    const parsed = entrySchema.safeParse(value);
    if (!parsed.success) {
      reportIssues(parsed.error, problems, ['notifiers', index]);
      return;
    }
    const entry = mapEntry(parsed.data, index, problems);
    if (entry) out.push([index, entry]);
  });
  return out;
}

/** The typed entries of a list with no problem; throws ConfigError naming the first problem. */
export function validateNotifiersConfig(raw: readonly unknown[]): NotifierConfig[] {
  const problems = new ProblemList();
  const entries = checkNotifiers(raw, problems);
  if (!problems.empty) throw firstProblemError(problems.items);
  return entries.map(([, entry]) => entry);
}
