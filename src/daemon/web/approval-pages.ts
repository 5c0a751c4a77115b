import { decodeJwt } from 'jose';
import type { Clock } from '../../common/clock.js';
import type { ApproverIdentity } from '../../model/context.js';
import { ConfigError, ConflictError, errorMessage, IdentityError, InvalidArgumentError, JitgateError, NotFoundError, PermissionDeniedError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { AuditLog } from '../audit/types.js';
import type { Config } from '../config/types.js';
import type { Gate } from '../gate/types.js';
import type { HttpRequest, HttpResponse, HttpServer } from '../http/http-server.js';
import { createIdpApproverResolver } from '../identity/idp-approver-resolver.js';
import { readSecretFile } from '../../common/secret-file.js';
import { PAGE_HEADERS } from './html.js';
import { OidcClient } from './oidc-client.js';
import { renderMessagePage, renderRequestPage } from './request-page.js';
import { constantTimeEqual, expectedOrigin, isSameOrigin, readCookie } from './same-origin.js';
import { randomToken, SessionStore, type Session, type SessionStoreOptions } from './session-store.js';

export const LOGIN_PATH = '/auth/login';
export const CALLBACK_PATH = '/auth/callback';
export const SESSION_COOKIE = 'jitgate_session';
const MAX_TEXT = 500;
const REQUEST_PATH_RE = /^\/requests\/([A-Za-z0-9_-]{1,100})(?:\/(approve|deny))?$/;

export interface ApprovalPagesOptions {
  readonly server: HttpServer;
  readonly config: Pick<Config, 'http' | 'groups'> & Partial<Pick<Config, 'identity'>>;
  readonly gate: Pick<Gate, 'getRequest' | 'approve' | 'deny'>;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Test seam for calls to the IdP; default global fetch. */
  readonly fetch?: typeof fetch;
  readonly sessions?: Omit<SessionStoreOptions, 'clock'>;
}

export interface ApprovalPages {
  close(): void;
}

function page(status: number, body: string, extra: Record<string, string> = {}): HttpResponse {
  return { status, headers: { ...PAGE_HEADERS, ...extra }, body };
}

function redirect(location: string, extra: Record<string, string> = {}): HttpResponse {
  return { status: 303, headers: { ...PAGE_HEADERS, location, ...extra }, body: '' };
}

/** Messages of errors meant for the approver; anything else is shown generically (and logged). */
function userFacing(err: unknown): string | undefined {
  const known = [PermissionDeniedError, ConflictError, NotFoundError, IdentityError, InvalidArgumentError];
  return known.some((k) => err instanceof k) ? (err as JitgateError).message : undefined;
}

/**
 * Serves the approval web page on the daemon's HTTP listener: `GET /requests/:id` shows a request
 * (and never changes it: mail scanners fetch links), sign-in is the OIDC authorization-code flow
 * with PKCE against the approvers' IdP, and `POST /requests/:id/approve|deny` act only for a
 * signed-in approver, from our own origin, with the session's CSRF token. Does nothing (returns
 * undefined) unless `identity.approvers.web` is configured.
 */
export async function mountApprovalPages(options: ApprovalPagesOptions): Promise<ApprovalPages | undefined> {
  const { server, config, gate, audit, clock } = options;
  const approvers = config.identity?.approvers;
  const web = approvers?.web;
  if (approvers === undefined || web === undefined) return undefined;
  if (config.http === undefined) throw new ConfigError('http', 'is required by identity.approvers.web (the approval page is served there)');
  if (web.clientId !== approvers.audience) {
    throw new ConfigError('identity.approvers.web.client_id', 'must equal identity.approvers.audience: the page signs in with the ID tokens approvers use everywhere');
  }
  const { publicUrl } = config.http;
  const redirectUri = web.redirectUri ?? (publicUrl === undefined ? undefined : `${publicUrl.replace(/\/+$/, '')}${CALLBACK_PATH}`);
  if (redirectUri === undefined) throw new ConfigError('http.public_url', 'is required by identity.approvers.web (it names the sign-in callback)');
  const clientSecret = await readSecretFile(web.clientSecretFile, 'identity.approvers.web.client_secret_file');
  const logger = options.logger.child({ component: 'web' });
  const fetcher = options.fetch ?? globalThis.fetch;
  const resolver = createIdpApproverResolver({ config: approvers, groups: config.groups, clock, logger, fetch: fetcher });
  const oidc = new OidcClient({ issuer: approvers.issuer, clientId: web.clientId, clientSecret, redirectUri, scopes: web.scopes, fetch: fetcher });
  const sessions = new SessionStore({ clock, ...options.sessions });
  const secure = (publicUrl ?? redirectUri).startsWith('https:');

  const cookie = (session: Session): string =>
    `${SESSION_COOKIE}=${session.id}; HttpOnly; SameSite=Lax; Path=/${secure ? '; Secure' : ''}`;
  const sessionOf = (request: HttpRequest): Session | undefined => sessions.get(readCookie(request.headers, SESSION_COOKIE));
  const forbidden = (why: string): HttpResponse => page(403, renderMessagePage('Forbidden', why));

  const showRequest = async (request: HttpRequest, id: string): Promise<HttpResponse> => {
    let view;
    try {
      view = await gate.getRequest(id);
    } catch (err) {
      if (err instanceof NotFoundError) return page(404, renderMessagePage('Not found', 'No such request.'));
      throw err;
    }
    const session = sessionOf(request);
    const flash = session?.flash;
    if (session) delete session.flash;
    return page(
      200,
      renderRequestPage({
        request: view,
        nowMs: clock.now(),
        ...(session?.identity ? { identity: session.identity, csrf: session.csrf } : {}),
        ...(flash ? { flash } : {}),
        signInUrl: `${LOGIN_PATH}?${new URLSearchParams({ return: `/requests/${id}` }).toString()}`,
      }),
    );
  };

  const decide = async (request: HttpRequest, id: string, action: 'approve' | 'deny'): Promise<HttpResponse> => {
    const origin = expectedOrigin(publicUrl, request.headers);
    if (origin === undefined || !isSameOrigin(request.headers, origin)) {
      logger.warn({ requestId: id, action }, 'cross-site approval POST refused');
      return forbidden('This form may only be sent from the approval page itself.');
    }
    const session = sessionOf(request);
    const identity: ApproverIdentity | undefined = session?.identity;
    if (session === undefined || identity === undefined) return forbidden('Sign in first.');
    const form = new URLSearchParams(request.rawBody.toString('utf8'));
    const csrf = form.get('csrf') ?? '';
    if (!constantTimeEqual(csrf, session.csrf)) {
      logger.warn({ requestId: id, action, subject: identity.subject }, 'approval POST with a bad CSRF token refused');
      return forbidden('The form is stale or forged: reload the page and try again.');
    }
    const back = `/requests/${id}`;
    // A textarea's line breaks become spaces; any other control character is refused by the gate.
    const text = (form.get(action === 'approve' ? 'comment' : 'reason') ?? '').replace(/[\r\n\t]+/g, ' ').trim();
    if (text.length > MAX_TEXT) {
      session.flash = { kind: 'error', text: `Keep the ${action === 'approve' ? 'comment' : 'reason'} under ${String(MAX_TEXT)} characters.` };
      return redirect(back);
    }
    if (action === 'deny' && text === '') {
      session.flash = { kind: 'error', text: 'A denial needs a reason.' };
      return redirect(back);
    }
    try {
      const view = action === 'approve' ? await gate.approve(id, identity, text === '' ? undefined : text) : await gate.deny(id, identity, text);
      session.flash = { kind: 'info', text: action === 'approve' ? `Approved: the request is now ${view.status}.` : 'Denied.' };
    } catch (err) {
      const shown = userFacing(err);
      if (shown === undefined) logger.error({ requestId: id, action, err: errorMessage(err) }, 'web decision failed');
      session.flash = { kind: 'error', text: shown ?? 'The decision could not be recorded; nothing was changed. Try again.' };
    }
    return redirect(back);
  };

  server.route('GET', '/requests/*', (request) => {
    const match = REQUEST_PATH_RE.exec(request.path);
    if (match?.[1] === undefined || match[2] !== undefined) return page(404, renderMessagePage('Not found', 'No such page.'));
    return showRequest(request, match[1]);
  });

  server.route('POST', '/requests/*', (request) => {
    const match = REQUEST_PATH_RE.exec(request.path);
    const action = match?.[2];
    if (match?.[1] === undefined || (action !== 'approve' && action !== 'deny')) return page(404, renderMessagePage('Not found', 'No such page.'));
    return decide(request, match[1], action);
  });

  server.route('GET', LOGIN_PATH, async (request) => {
    const wanted = request.query?.get('return') ?? '';
    // Only our own request pages: an open redirect would lend this site's name to phishing.
    const returnTo = REQUEST_PATH_RE.test(wanted) && !wanted.endsWith('/approve') && !wanted.endsWith('/deny') ? wanted : '/';
    const login = { state: randomToken(), nonce: randomToken(), verifier: randomToken(), returnTo };
    let location: string;
    try {
      location = await oidc.authorizationUrl(login);
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'IdP discovery failed');
      return page(503, renderMessagePage('Sign-in unavailable', 'The identity provider cannot be reached. Try again shortly.'));
    }
    const session = sessions.startLogin(login);
    return redirect(location, { 'set-cookie': cookie(session) });
  });

  server.route('GET', CALLBACK_PATH, async (request) => {
    const session = sessionOf(request);
    const login = session?.login;
    const state = request.query?.get('state') ?? '';
    if (session === undefined || login === undefined || !constantTimeEqual(state, login.state)) {
      return page(400, renderMessagePage('Sign-in failed', 'This sign-in was not started here, or it took too long. Start again from the request page.'));
    }
    // One use: a replayed callback URL finds nothing to complete.
    delete session.login;
    const error = request.query?.get('error');
    const code = request.query?.get('code');
    if (error !== undefined && error !== null) return page(400, renderMessagePage('Sign-in failed', `The identity provider said: ${error.slice(0, 100)}`));
    if (code === undefined || code === null || code === '') return page(400, renderMessagePage('Sign-in failed', 'The identity provider sent no code.'));
    let identity: ApproverIdentity;
    try {
      const idToken = await oidc.redeem(code, login.verifier);
      identity = await resolver.resolve({ authorization: `Bearer ${idToken}` });
      // Verified above, so decoding is safe; the nonce ties the token to this very sign-in.
      const { nonce } = decodeJwt(idToken);
      if (typeof nonce !== 'string' || !constantTimeEqual(nonce, login.nonce)) throw new IdentityError('ID token nonce mismatch');
    } catch (err) {
      logger.warn({ err: errorMessage(err) }, 'web sign-in refused');
      const shown = err instanceof IdentityError ? err.message : 'the identity provider could not be reached';
      return page(err instanceof IdentityError ? 403 : 503, renderMessagePage('Sign-in failed', `Sign-in failed: ${shown}.`));
    }
    try {
      await audit.append({ type: 'approver.signed_in', channel: 'web', subject: identity.subject, name: identity.name, groups: identity.groups });
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'audit of a web sign-in failed');
      return page(503, renderMessagePage('Sign-in unavailable', 'The audit log cannot be written; nothing can be approved right now.'));
    }
    const signedIn = sessions.signIn(session, identity);
    logger.info({ subject: identity.subject, name: identity.name }, 'approver signed in on the web page');
    return redirect(login.returnTo, { 'set-cookie': cookie(signedIn) });
  });

  server.route('GET', '/', () => page(200, renderMessagePage('jitgate', 'Open a request from the link in its notification.')));

  return {
    close(): void {
      resolver.close();
    },
  };
}
