import { z } from 'zod';
import { ConfigError } from '../../common/errors.js';
import { formatPath } from '../config/config-path.js';

/** The validated notifier entries: camelCase, secrets still as file paths (read at start). */
export interface SlackNotifierConfig {
  readonly kind: 'slack';
  readonly tokenFile: string;
  readonly signingSecretFile: string;
  readonly channel: string;
  readonly teamId: string;
  /** Slack user id → approver name (the same name the CLI uses). */
  readonly users: Readonly<Record<string, string>>;
  readonly apiUrl?: string;
}

export interface WebhookNotifierConfig {
  readonly kind: 'webhook';
  readonly url: string;
  readonly secretFile: string;
  /** When set, signed decisions may be POSTed to /webhook/decisions and act as this identity. */
  readonly decisions?: { readonly identity: string };
}

export interface EmailNotifierConfig {
  readonly kind: 'email';
  readonly smtp: {
    readonly host: string;
    readonly port: number;
    readonly secure: boolean;
    readonly user?: string;
    readonly passwordFile?: string;
  };
  readonly from: string;
  readonly to: readonly string[];
}

export type NotifierConfig = SlackNotifierConfig | WebhookNotifierConfig | EmailNotifierConfig;

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

const slackSchema = obj({
  token_file: text,
  signing_secret_file: text,
  channel: text,
  team_id: z.string().regex(/^T[A-Z0-9]+$/, 'must be a Slack team id such as T0123ABCD'),
  users: z.record(z.string().regex(/^[UW][A-Z0-9]+$/, 'keys must be Slack user ids such as U0123ABCD'), approverName),
  api_url: url.optional(),
});

const webhookSchema = obj({
  url,
  secret_file: text,
  decisions: obj({ identity: approverName }).optional(),
});

const emailSchema = obj({
  smtp: obj({
    host: text,
    port: z.number().int('must be a whole number').min(1).max(65535),
    secure: z.boolean().optional(),
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

/**
 * Validates `notifiers:` entries (snake_case as written, `*_file` paths already absolute). Throws
 * ConfigError naming the first bad key, e.g. `notifiers[0].slack.channel`.
 */
export function validateNotifiersConfig(raw: readonly unknown[]): NotifierConfig[] {
  return raw.map((entry, index) => {
    const parsed = entrySchema.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = ['notifiers', index, ...(issue?.path ?? [])];
      if (issue?.code === 'unrecognized_keys') path.push(issue.keys[0] ?? '');
      throw new ConfigError(formatPath(path), issue?.message ?? 'invalid notifier');
    }
    const kinds = Object.keys(parsed.data).filter((k) => parsed.data[k as keyof typeof parsed.data] !== undefined);
    if (kinds.length !== 1) {
      throw new ConfigError(formatPath(['notifiers', index]), 'each notifier must have exactly one of: slack, webhook, email');
    }
    const { slack, webhook, email: mail } = parsed.data;
    if (slack) {
      if (Object.keys(slack.users).length === 0) throw new ConfigError(formatPath(['notifiers', index, 'slack', 'users']), 'must map at least one user');
      return {
        kind: 'slack',
        tokenFile: slack.token_file,
        signingSecretFile: slack.signing_secret_file,
        channel: slack.channel,
        teamId: slack.team_id,
        users: slack.users,
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
    if (!mail) throw new ConfigError(formatPath(['notifiers', index]), 'each notifier must have exactly one of: slack, webhook, email');
    if (mail.smtp.password_file !== undefined && mail.smtp.user === undefined) {
      throw new ConfigError(formatPath(['notifiers', index, 'email', 'smtp', 'user']), 'is required when password_file is set');
    }
    return {
      kind: 'email',
      smtp: {
        host: mail.smtp.host,
        port: mail.smtp.port,
        secure: mail.smtp.secure ?? mail.smtp.port === 465,
        ...(mail.smtp.user !== undefined ? { user: mail.smtp.user } : {}),
        ...(mail.smtp.password_file !== undefined ? { passwordFile: mail.smtp.password_file } : {}),
      },
      from: mail.from,
      to: mail.to,
    };
  });
}
