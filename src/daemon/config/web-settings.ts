/**
 * Settings that span the notifiers, the web page and `http:`: who needs the HTTP listener, and
 * the approval page's sign-in client. Checked here, so the notifiers and the page start from
 * settings that are already known to be good.
 */
import { ConfigError } from '../../common/errors.js';
import type { ProblemList } from './config-problem.js';
import type { ConfigSections } from './config-sections.js';
import type { Config, NotifierConfig, WebPagesConfig } from './types.js';

/** Where the IdP sends approvers back after sign-in, below `http.public_url` unless `redirect_uri` says otherwise. */
export const WEB_CALLBACK_PATH = '/auth/callback';

/** Slack buttons, inbound webhook decisions and the web page are served on `http:`. */
export function checkHttpNeeds(sections: ConfigSections, notifiers: readonly (readonly [number, NotifierConfig])[], problems: ProblemList): void {
  const slack = notifiers.filter(([, entry]) => entry.kind === 'slack');
  if (slack.length > 1) problems.add('notifiers', 'at most one slack notifier is supported (it owns /slack/interactions)');
  const decisions = notifiers.some(([, entry]) => entry.kind === 'webhook' && entry.decisions !== undefined);
  const webPages = sections.identity?.approvers?.web !== undefined;
  if ((slack.length > 0 || decisions || webPages) && sections.http === undefined) {
    problems.add('http', 'is required: Slack buttons, webhook decisions and the approval web page are served over HTTP (set http.listen)');
  }
}

/** The approval page signs in with the approvers' IdP and needs a callback URL it can name. */
export function checkWebPages(sections: ConfigSections, problems: ProblemList): void {
  const approvers = sections.identity?.approvers;
  const web = approvers?.web;
  if (approvers === undefined || web === undefined) return;
  if (web.client_id !== approvers.audience) {
    problems.add(
      'identity.approvers.web.client_id',
      'must equal identity.approvers.audience: the page signs in with the ID tokens approvers use everywhere',
    );
  }
  if (sections.http !== undefined && web.redirect_uri === undefined && sections.http.public_url === undefined) {
    problems.add('http.public_url', 'is required by identity.approvers.web (it names the sign-in callback)');
  }
}

/** The web page's settings of a config that passed `checkWebPages`, derived values filled in. */
export function resolveWebPages(config: Config): WebPagesConfig | undefined {
  const approvers = config.identity.approvers;
  const web = approvers?.web;
  if (approvers === undefined || web === undefined) return undefined;
  const publicUrl = config.http?.publicUrl;
  const redirectUri = web.redirectUri ?? (publicUrl === undefined ? undefined : `${publicUrl.replace(/\/+$/, '')}${WEB_CALLBACK_PATH}`);
  // Unreachable after checkWebPages; kept so a caller that skipped it fails closed.
  if (redirectUri === undefined) throw new ConfigError('http.public_url', 'is required by identity.approvers.web (it names the sign-in callback)');
  return {
    approvers,
    clientId: web.clientId,
    clientSecretFile: web.clientSecretFile,
    scopes: web.scopes,
    recheckGroups: web.recheckGroups,
    redirectUri,
    ...(publicUrl !== undefined && { publicUrl }),
  };
}
