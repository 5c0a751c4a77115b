import type { Clock } from '../../common/clock.js';
import { ConfigError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { AuditLog } from '../audit/types.js';
import { formatPath } from '../config/config-path.js';
import type { Config } from '../config/types.js';
import type { AccessGate } from '../gate/access-gate.js';
import { createHttpServer, type HttpServer } from '../http/http-server.js';
import type { ApprovalPages } from '../web/approval-pages.js';
import type { Notifier } from './notifier.js';
import { validateNotifiersConfig } from './notifier-config.js';
import { NotifierHub, type HubTuning } from './notifier-hub.js';
import { readSecretFile } from '../../common/secret-file.js';
import type { createSlackInteractionsHandler } from './slack-interactions.js';
import type { SlackNotifier } from './slack-notifier.js';
import type { DecisionSender } from './webhook-decisions.js';

// The notifier kinds, their SDKs (@slack/web-api, nodemailer) and the web pages (jose) are loaded
// only when the config uses them: importing them all cost a few hundred ms of cold start.

export { validateNotifiersConfig, type NotifierConfig } from './notifier-config.js';

export const SLACK_INTERACTIONS_PATH = '/slack/interactions';
export const WEBHOOK_DECISIONS_PATH = '/webhook/decisions';

export interface StartNotificationsOptions {
  /** `identity` only matters for the approval web page (`identity.approvers.web`). */
  readonly config: Pick<Config, 'notifiers' | 'http' | 'groups'> & Partial<Pick<Config, 'identity'>>;
  readonly gate: AccessGate;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Slack Web API base URL (test seam); a notifier's `api_url` key wins over it. */
  readonly slackApiUrl?: string;
  /** Queue, retry and timeout settings of the hub; defaults suit production. */
  readonly tuning?: Partial<HubTuning>;
  /**
   * An HTTP server owned by the caller (e.g. shared with the approval web page): routes are added
   * to it and the caller starts and closes it. Absent: one is created from `config.http`.
   */
  readonly httpServer?: HttpServer;
  /** Extra notifiers beside the configured ones (embedding, tests). */
  readonly extraNotifiers?: readonly Notifier[];
}

export interface Notifications {
  /** "host:port" the HTTP listener bound, when one is configured. */
  readonly httpAddress?: string;
  close(): Promise<void>;
}

/**
 * Validates `notifiers:`, reads their secrets, subscribes a hub to the gate and, when `http:` is
 * configured, serves Slack interactions and inbound webhook decisions. Throws ConfigError (with the
 * key path) on any bad entry or unreadable secret, before anything starts.
 */
export async function startNotifications(options: StartNotificationsOptions): Promise<Notifications> {
  const { config, gate, audit, clock, logger } = options;
  const entries = validateNotifiersConfig(config.notifiers);
  // Notifications link to the web page only where it is actually served.
  const publicUrl = config.identity?.approvers?.web !== undefined ? config.http?.publicUrl : undefined;
  const linked = publicUrl !== undefined ? { publicUrl } : {};
  const notifiers: Notifier[] = [];
  const secrets: string[] = [];
  const senders: DecisionSender[] = [];
  const slackEndpoints: { notifier: SlackNotifier; signingSecret: string; config: Parameters<typeof createSlackInteractionsHandler>[0]['config'] }[] = [];

  for (const [index, entry] of entries.entries()) {
    const at = (...keys: string[]): string => formatPath(['notifiers', index, entry.kind, ...keys]);
    const name = `${entry.kind}#${index}`;
    if (entry.kind === 'slack') {
      const token = await readSecretFile(entry.tokenFile, at('token_file'));
      const signingSecret = await readSecretFile(entry.signingSecretFile, at('signing_secret_file'));
      secrets.push(token, signingSecret);
      const apiUrl = entry.apiUrl ?? options.slackApiUrl;
      const { SlackNotifier } = await import('./slack-notifier.js');
      const notifier = new SlackNotifier({ name, config: entry, token, clock, ...linked, ...(apiUrl !== undefined ? { apiUrl } : {}) });
      notifiers.push(notifier);
      slackEndpoints.push({ notifier, signingSecret, config: entry });
    } else if (entry.kind === 'webhook') {
      const secret = await readSecretFile(entry.secretFile, at('secret_file'));
      secrets.push(secret);
      const { WebhookNotifier } = await import('./webhook-notifier.js');
      notifiers.push(new WebhookNotifier({ name, config: entry, secret, clock }));
      if (entry.decisions) senders.push({ secret, identity: entry.decisions.identity });
    } else {
      const password = entry.smtp.passwordFile !== undefined ? await readSecretFile(entry.smtp.passwordFile, at('smtp', 'password_file')) : undefined;
      if (password !== undefined) secrets.push(password);
      const { EmailNotifier } = await import('./email-notifier.js');
      notifiers.push(new EmailNotifier({ name, config: entry, clock, ...linked, ...(password !== undefined ? { password } : {}) }));
    }
  }
  if (slackEndpoints.length > 1) {
    throw new ConfigError('notifiers', 'at most one slack notifier is supported (it owns /slack/interactions)');
  }
  const webPages = config.identity?.approvers?.web !== undefined;
  const needsHttp = slackEndpoints.length > 0 || senders.length > 0 || webPages;
  if (needsHttp && !config.http && !options.httpServer) {
    throw new ConfigError('http', 'is required: Slack buttons, webhook decisions and the approval web page are served over HTTP (set http.listen)');
  }

  const hub = new NotifierHub({
    notifiers: [...notifiers, ...(options.extraNotifiers ?? [])],
    audit,
    clock,
    logger,
    secrets,
    ...(options.tuning ? { tuning: options.tuning } : {}),
  });
  gate.onChange((event) => {
    hub.enqueue(event);
  });

  const inflight = new Set<Promise<void>>();
  const track = (work: Promise<void>): void => {
    inflight.add(work);
    void work.finally(() => inflight.delete(work));
  };
  let httpAddress: string | undefined;
  const owned = !options.httpServer && config.http && needsHttp ? createHttpServer({ listen: config.http.listen, logger }) : undefined;
  const server = options.httpServer ?? owned;
  if (server) {
    if (slackEndpoints.length > 0) {
      const { createSlackInteractionsHandler } = await import('./slack-interactions.js');
      for (const slack of slackEndpoints) {
        server.route(
          'POST',
          SLACK_INTERACTIONS_PATH,
          createSlackInteractionsHandler({
            config: slack.config,
            signingSecret: slack.signingSecret,
            gate,
            groups: config.groups,
            clock,
            logger,
            tellUser: (channel, user, text) => slack.notifier.tellUser(channel, user, text),
            track,
          }),
        );
      }
    }
    if (senders.length > 0) {
      const { createWebhookDecisionsHandler } = await import('./webhook-decisions.js');
      server.route('POST', WEBHOOK_DECISIONS_PATH, createWebhookDecisionsHandler({ senders, gate, groups: config.groups, clock, logger }));
    }
  }
  let pages: ApprovalPages | undefined;
  try {
    pages = server && webPages ? await (await import('../web/approval-pages.js')).mountApprovalPages({ server, config, gate, audit, clock, logger }) : undefined;
  } catch (err) {
    await hub.close();
    throw err;
  }
  if (owned) {
    try {
      httpAddress = await owned.start();
    } catch (err) {
      await hub.close();
      pages?.close();
      throw new ConfigError('http.listen', `cannot listen on ${config.http?.listen ?? ''}`, { cause: err });
    }
  }

  return {
    ...(httpAddress !== undefined ? { httpAddress } : {}),
    async close() {
      await owned?.close();
      pages?.close();
      await Promise.allSettled([...inflight]);
      await hub.close();
    },
  };
}
