/**
 * The approval web page on the daemon's HTTP listener: `GET /requests/:id` shows a request (and
 * never changes it: mail scanners fetch links), sign-in is the OIDC authorization-code flow with
 * PKCE against the approvers' IdP, and `POST /requests/:id/approve|deny` act only for a signed-in
 * approver, from our own origin, with the session's CSRF token. Steps: the settings (checked by
 * checkConfig, the client secret read here), the session cookies, then the routes.
 */
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import { readSecretFile } from '../../common/secret-file.js';
import type { AuditLog } from '../audit/types.js';
import type { Config, WebPagesConfig } from '../config/types.js';
import type { Gate } from '../gate/types.js';
import type { HttpServer } from '../http/http-server.js';
import { createIdpApproverResolver } from '../identity/idp-approver-resolver.js';
import { LoginRateLimiter, type LoginRateLimitOptions } from './login-rate-limit.js';
import { LoginSealer } from './login-state.js';
import { membershipRecheck } from './membership-recheck.js';
import { OidcClient } from './oidc-client.js';
import { messagePage } from './page-response.js';
import { mountRequestRoutes } from './request-routes.js';
import { SessionStore, type SessionStoreOptions } from './session-store.js';
import { mountSignInRoutes } from './sign-in-routes.js';
import { sessionCookies, type WebContext } from './web-context.js';

export { LOGIN_COOKIE, LOGIN_PATH, SESSION_COOKIE } from './web-context.js';

export interface ApprovalPagesOptions {
  readonly server: HttpServer;
  /** Checked settings (`checkConfig` → `CheckedConfig.webPages`). */
  readonly settings: WebPagesConfig;
  /** Static group membership, merged into IdP groups. */
  readonly groups: Config['groups'];
  readonly gate: Pick<Gate, 'getRequest' | 'approve' | 'deny'>;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Test seam for calls to the IdP; default global fetch. */
  readonly fetch?: typeof fetch;
  readonly sessions?: Omit<SessionStoreOptions, 'clock'>;
  /** Per-address limit on starting sign-ins; defaults suit production. */
  readonly loginRate?: Omit<LoginRateLimitOptions, 'clock'>;
  /** How long a started sign-in may take. Default 10 min. */
  readonly loginTtlMs?: number;
}

export interface ApprovalPages {
  close(): void;
}

/** Mounts the page's routes on `server`. Reads the client secret; ConfigError when it is unusable. */
export async function mountApprovalPages(options: ApprovalPagesOptions): Promise<ApprovalPages> {
  const { server, settings, gate, audit, clock } = options;
  const clientSecret = await readSecretFile(settings.clientSecretFile, 'identity.approvers.web.client_secret_file');
  const logger = options.logger.child({ component: 'web' });
  const fetcher = options.fetch ?? globalThis.fetch;
  const resolver = createIdpApproverResolver({ config: settings.approvers, groups: options.groups, clock, logger, fetch: fetcher });
  const oidc = new OidcClient({
    issuer: settings.approvers.issuer,
    clientId: settings.clientId,
    clientSecret,
    redirectUri: settings.redirectUri,
    scopes: settings.scopes,
    fetch: fetcher,
  });
  const sessions = new SessionStore({ clock, ...options.sessions });
  const sealer = new LoginSealer({ clock, ...(options.loginTtlMs !== undefined ? { ttlMs: options.loginTtlMs } : {}) });
  const loginLimiter = new LoginRateLimiter({ clock, ...options.loginRate });
  const secure = (settings.publicUrl ?? settings.redirectUri).startsWith('https:');
  const ctx: WebContext = {
    gate,
    audit,
    clock,
    logger,
    oidc,
    resolver,
    sessions,
    recheckGroups: settings.recheckGroups,
    recheck: membershipRecheck(settings.recheckGroups, oidc, resolver),
    loginLimiter,
    publicUrl: settings.publicUrl,
    ...sessionCookies(sessions, sealer, secure),
  };

  mountRequestRoutes(server, ctx);
  mountSignInRoutes(server, ctx);
  server.route('GET', '/', () => messagePage(200, 'jitgate', 'Open a request from the link in its notification.'));

  return {
    close(): void {
      resolver.close();
    },
  };
}
