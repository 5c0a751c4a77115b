import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { AuditLog } from '../audit/types.js';
import type { ApproverResolver, Gate } from '../gate/types.js';
import type { HttpRequest } from '../http/http-server.js';
import type { LoginRateLimiter } from './login-rate-limit.js';
import type { LoginSealer, PendingLogin } from './login-state.js';
import type { MembershipRecheck } from './membership-recheck.js';
import type { OidcClient } from './oidc-client.js';
import { readCookie } from './same-origin.js';
import type { Session, SessionStore } from './session-store.js';

export const LOGIN_PATH = '/auth/login';
export const SESSION_COOKIE = 'jitgate_session';
/** The sealed sign-in in progress; sent only to `/auth/*`. */
export const LOGIN_COOKIE = 'jitgate_login';
/** A request page, or one of its two forms. */
export const REQUEST_PATH_RE = /^\/requests\/([A-Za-z0-9_-]{1,100})(?:\/(approve|deny))?$/;

/** What the route handlers share: the gate, the sign-in client and the sessions. */
export interface WebContext {
  readonly gate: Pick<Gate, 'getRequest' | 'approve' | 'deny'>;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly oidc: OidcClient;
  readonly resolver: Pick<ApproverResolver, 'resolve'>;
  readonly sessions: SessionStore;
  /** `identity.approvers.web.recheck_groups`: sign-in refuses an IdP whose groups cannot be re-checked. */
  readonly recheckGroups: boolean;
  /** The approver as the IdP knows them at decision time. */
  readonly recheck: MembershipRecheck;
  /** Sign-ins started per client address. */
  readonly loginLimiter: LoginRateLimiter;
  /** `http.public_url`: the origin decisions must come from. */
  readonly publicUrl: string | undefined;
  /** The Set-Cookie value carrying a session. */
  cookie(session: Session): string;
  /** The session the request's cookie names, if it is still alive. */
  sessionOf(request: HttpRequest): Session | undefined;
  /** The Set-Cookie value carrying a sealed sign-in in progress. */
  loginCookie(login: PendingLogin): string;
  /** The Set-Cookie value that removes it (a sign-in is completed at most once per browser). */
  readonly clearLoginCookie: string;
  /** The sign-in in progress the request's cookie seals, if it is ours and not expired. */
  loginOf(request: HttpRequest): PendingLogin | undefined;
}

/**
 * The session step: sessions live in memory, named by an HttpOnly, SameSite=Lax cookie (Secure
 * whenever the page is served over https); the CSRF token lives in the session. A sign-in in
 * progress is a sealed cookie of its own (Lax still sends it on the IdP's redirect back).
 */
export function sessionCookies(
  sessions: SessionStore,
  sealer: LoginSealer,
  secure: boolean,
): Pick<WebContext, 'cookie' | 'sessionOf' | 'loginCookie' | 'clearLoginCookie' | 'loginOf'> {
  const flags = `HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  return {
    cookie: (session) => `${SESSION_COOKIE}=${session.id}; HttpOnly; SameSite=Lax; Path=/${secure ? '; Secure' : ''}`,
    sessionOf: (request) => sessions.get(readCookie(request.headers, SESSION_COOKIE)),
    loginCookie: (login) => `${LOGIN_COOKIE}=${sealer.seal(login)}; ${flags}; Path=/auth; Max-Age=${String(Math.ceil(sealer.ttlMs / 1000))}`,
    clearLoginCookie: `${LOGIN_COOKIE}=; ${flags}; Path=/auth; Max-Age=0`,
    loginOf: (request) => sealer.open(readCookie(request.headers, LOGIN_COOKIE)),
  };
}
