import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { AuditLog } from '../audit/types.js';
import type { ApproverResolver, Gate } from '../gate/types.js';
import type { HttpRequest } from '../http/http-server.js';
import type { OidcClient } from './oidc-client.js';
import { readCookie } from './same-origin.js';
import type { Session, SessionStore } from './session-store.js';

export const LOGIN_PATH = '/auth/login';
export const SESSION_COOKIE = 'jitgate_session';
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
  /** `http.public_url`: the origin decisions must come from. */
  readonly publicUrl: string | undefined;
  /** The Set-Cookie value carrying a session. */
  cookie(session: Session): string;
  /** The session the request's cookie names, if it is still alive. */
  sessionOf(request: HttpRequest): Session | undefined;
}

/**
 * The session step: sessions live in memory, named by an HttpOnly, SameSite=Lax cookie (Secure
 * whenever the page is served over https); the CSRF token lives in the session.
 */
export function sessionCookies(sessions: SessionStore, secure: boolean): Pick<WebContext, 'cookie' | 'sessionOf'> {
  return {
    cookie: (session) => `${SESSION_COOKIE}=${session.id}; HttpOnly; SameSite=Lax; Path=/${secure ? '; Secure' : ''}`,
    sessionOf: (request) => sessions.get(readCookie(request.headers, SESSION_COOKIE)),
  };
}
