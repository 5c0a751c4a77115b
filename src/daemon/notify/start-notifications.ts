import { readFile } from 'node:fs/promises';
import type { Clock } from '../../common/clock.js';
import { ConfigError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { readSecretFile } from '../../common/secret-file.js';
import type { AuditLog } from '../audit/types.js';
import type { CheckedConfig, NotifierConfig, SlackNotifierConfig } from '../config/types.js';
import type { AccessGate } from '../gate/access-gate.js';
import { createHttpServer, type HttpServer } from '../http/http-server.js';
import type { ApprovalPages } from '../web/approval-pages.js';
import type { Notifier } from './notifier.js';
import { NotifierHub, type HubTuning } from './notifier-hub.js';
import type { SlackNotifier } from './slack-notifier.js';
import type { DecisionSender } from './webhook-decisions.js';

// The notifier kinds, their SDKs (@slack/web-api, nodemailer) and the web pages (jose) are loaded
// only when the config uses them: importing them all cost a few hundred ms of cold start.

export const SLACK_INTERACTIONS_PATH = '/slack/interactions';
export const WEBHOOK_DECISIONS_PATH = '/webhook/decisions';

export interface StartNotificationsOptions {
  /** Checked settings (checkConfig): nothing here is validated again. */
  readonly config: Pick<CheckedConfig, 'notifiers' | 'http' | 'groups'> & Partial<Pick<CheckedConfig, 'webPages'>>;
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

interface SlackEndpoint {
  readonly notifier: SlackNotifier;
  readonly signingSecret: string;
  readonly config: SlackNotifierConfig;
}

/** The notifiers of the checked entries, their secrets read (for redaction) and their inbound endpoints. */
interface BuiltNotifiers {
  readonly notifiers: Notifier[];
  readonly secrets: string[];
  readonly senders: DecisionSender[];
  readonly slackEndpoints: SlackEndpoint[];
}

async function buildNotifiers(entries: readonly NotifierConfig[], options: StartNotificationsOptions): Promise<BuiltNotifiers> {
  const { clock } = options;
  // Notifications link to the web page only where it is actually served.
  const publicUrl = options.config.webPages !== undefined ? options.config.http?.publicUrl : undefined;
  const linked = publicUrl !== undefined ? { publicUrl } : {};
  const built: BuiltNotifiers = { notifiers: [], secrets: [], senders: [], slackEndpoints: [] };
  for (const [index, entry] of entries.entries()) {
    const at = (...keys: string[]): string => [`notifiers[${index}]`, entry.kind, ...keys].join('.');
    const name = `${entry.kind}#${index}`;
    if (entry.kind === 'slack') {
      const token = await readSecretFile(entry.tokenFile, at('token_file'));
      const signingSecret = await readSecretFile(entry.signingSecretFile, at('signing_secret_file'));
      built.secrets.push(token, signingSecret);
      const apiUrl = entry.apiUrl ?? options.slackApiUrl;
      const { SlackNotifier } = await import('./slack-notifier.js');
      const notifier = new SlackNotifier({ name, config: entry, token, clock, ...linked, ...(apiUrl !== undefined ? { apiUrl } : {}) });
      built.notifiers.push(notifier);
      built.slackEndpoints.push({ notifier, signingSecret, config: entry });
    } else if (entry.kind === 'webhook') {
      const secret = await readSecretFile(entry.secretFile, at('secret_file'));
      built.secrets.push(secret);
      const { WebhookNotifier } = await import('./webhook-notifier.js');
      built.notifiers.push(new WebhookNotifier({ name, config: entry, secret, clock }));
      if (entry.decisions) built.senders.push({ secret, identity: entry.decisions.identity });
    } else {
      const password = entry.smtp.passwordFile !== undefined ? await readSecretFile(entry.smtp.passwordFile, at('smtp', 'password_file')) : undefined;
      if (password !== undefined) built.secrets.push(password);
      const ca = entry.smtp.caFile !== undefined ? await readFile(entry.smtp.caFile, 'utf8') : undefined;
      if (entry.smtp.tls === 'none') {
        options.logger.warn({ notifier: name, host: entry.smtp.host }, `${at('smtp', 'tls')} is none: mail (and the SMTP password) may go in clear`);
      }
      const { EmailNotifier } = await import('./email-notifier.js');
      built.notifiers.push(
        new EmailNotifier({ name, config: entry, clock, ...linked, ...(password !== undefined ? { password } : {}), ...(ca !== undefined ? { ca } : {}) }),
      );
    }
  }
  return built;
}

/** Serves Slack interactions and inbound webhook decisions on `server`. */
async function mountCallbacks(server: HttpServer, built: BuiltNotifiers, options: StartNotificationsOptions, track: (work: Promise<void>) => void): Promise<void> {
  const { gate, clock, logger, config } = options;
  if (built.slackEndpoints.length > 0) {
    const { createSlackInteractionsHandler } = await import('./slack-interactions.js');
    for (const slack of built.slackEndpoints) {
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
          openView: (triggerId, view) => slack.notifier.openView(triggerId, view),
          track,
          ...(config.webPages !== undefined && config.http?.publicUrl !== undefined && { publicUrl: config.http.publicUrl }),
        }),
      );
    }
  }
  if (built.senders.length > 0) {
    const { createWebhookDecisionsHandler } = await import('./webhook-decisions.js');
    server.route('POST', WEBHOOK_DECISIONS_PATH, createWebhookDecisionsHandler({ senders: built.senders, gate, groups: config.groups, clock, logger }));
  }
}

/**
 * Starts the checked notifier entries: reads their secrets, subscribes a hub to the gate and, on
 * the HTTP listener, serves Slack interactions, inbound webhook decisions and the approval web
 * page. The settings were checked by checkConfig; what can still fail here is the world (a
 * secret file removed since, a port taken), reported as ConfigError with the key path.
 */
export async function startNotifications(options: StartNotificationsOptions): Promise<Notifications> {
  const { config, gate, audit, clock, logger } = options;
  const built = await buildNotifiers(config.notifiers, options);
  const webPages = config.webPages;
  const needsHttp = built.slackEndpoints.length > 0 || built.senders.length > 0 || webPages !== undefined;
  const hub = new NotifierHub({
    notifiers: [...built.notifiers, ...(options.extraNotifiers ?? [])],
    audit,
    clock,
    logger,
    secrets: built.secrets,
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
  const owned = !options.httpServer && config.http && needsHttp ? createHttpServer({ listen: config.http.listen, logger }) : undefined;
  const server = options.httpServer ?? owned;
  let pages: ApprovalPages | undefined;
  let httpAddress: string | undefined;
  try {
    if (server) await mountCallbacks(server, built, options, track);
    if (server && webPages) {
      const { mountApprovalPages } = await import('../web/approval-pages.js');
      pages = await mountApprovalPages({ server, settings: webPages, groups: config.groups, gate, audit, clock, logger });
    }
    if (owned) {
      try {
        httpAddress = await owned.start();
      } catch (err) {
        throw new ConfigError('http.listen', `cannot listen on ${config.http?.listen ?? ''}`, { cause: err });
      }
    }
  } catch (err) {
    await hub.close();
    pages?.close();
    throw err;
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
