import { decodeJwt } from 'jose';
import { errorMessage, IdentityError } from '../../common/errors.js';
import type { ApproverIdentity } from '../../model/context.js';
import type { HttpRequest, HttpResponse, HttpServer } from '../http/http-server.js';
import { WEB_CALLBACK_PATH } from '../config/web-settings.js';
import type { PendingLogin } from './login-state.js';
import { messagePage, redirect } from './page-response.js';
import { constantTimeEqual } from './same-origin.js';
import { randomToken } from './session-store.js';
import { LOGIN_PATH, REQUEST_PATH_RE, type WebContext } from './web-context.js';

/** Allowed difference between the IdP's clock and ours when checking a step-up's `auth_time`. */
const FRESH_SKEW_MS = 60_000;

/**
 * `GET /auth/login`: starts the authorization-code flow with PKCE, remembering where to return.
 * Rate-limited per client address; what the callback needs travels in a sealed cookie, so starting
 * a sign-in holds nothing in the daemon and no flood of them can push out anyone's session.
 */
async function startLogin(ctx: WebContext, request: HttpRequest): Promise<HttpResponse> {
  const rate = ctx.loginLimiter.take(request.remoteAddress);
  if (!rate.allowed) {
    const wait = String(rate.retryAfterSeconds);
    return messagePage(429, 'Too many sign-ins', `Too many sign-ins were started from your address. Try again in ${wait} s.`, { 'retry-after': wait });
  }
  const wanted = request.query?.get('return') ?? '';
  // Only our own request pages: an open redirect would lend this site's name to phishing.
  const returnTo = REQUEST_PATH_RE.test(wanted) && !wanted.endsWith('/approve') && !wanted.endsWith('/deny') ? wanted : '/';
  const fresh = request.query?.get('step_up') === '1';
  const login: PendingLogin = { state: randomToken(), nonce: randomToken(), verifier: randomToken(), returnTo, ...(fresh && { freshSince: ctx.clock.now() }) };
  let location: string;
  try {
    location = await ctx.oidc.authorizationUrl({ ...login, fresh });
  } catch (err) {
    ctx.logger.error({ err: errorMessage(err) }, 'IdP discovery failed');
    return messagePage(503, 'Sign-in unavailable', 'The identity provider cannot be reached. Try again shortly.');
  }
  return redirect(location, { 'set-cookie': ctx.loginCookie(login) });
}

interface VerifiedSignIn {
  readonly identity: ApproverIdentity;
  readonly accessToken?: string;
  /** The ID token's `exp`, wall-clock ms. */
  readonly idTokenExpMs?: number;
}

/** With re-checks on, a sign-in the daemon could not re-check later is refused now rather than trusted for an hour. */
async function refuseUncheckable(ctx: WebContext, accessToken: string | undefined): Promise<void> {
  if (!ctx.recheckGroups) return;
  if (accessToken === undefined || !(await ctx.oidc.hasUserinfo())) {
    ctx.logger.error('the IdP gave no access token or publishes no userinfo endpoint: set identity.approvers.web.recheck_groups: false for it');
    throw new IdentityError('the identity provider does not allow group membership to be re-checked (see identity.approvers.web.recheck_groups)');
  }
}

/** Redeems the code and verifies the ID token as every approver token is verified; else the page to show. */
async function verifiedIdentity(ctx: WebContext, code: string, login: PendingLogin): Promise<VerifiedSignIn | { refused: HttpResponse }> {
  try {
    const { idToken, accessToken } = await ctx.oidc.redeem(code, login.verifier);
    const identity = await ctx.resolver.resolve({ authorization: `Bearer ${idToken}` });
    // Verified above, so decoding is safe; the nonce ties the token to this very sign-in.
    const { nonce, exp } = decodeJwt(idToken);
    if (typeof nonce !== 'string' || !constantTimeEqual(nonce, login.nonce)) throw new IdentityError('ID token nonce mismatch');
    // A step-up asked for a fresh login: an ID token whose auth_time predates the request is an old sign-in replayed.
    if (login.freshSince !== undefined && (identity.authTime === undefined || identity.authTime < login.freshSince - FRESH_SKEW_MS)) {
      throw new IdentityError('the identity provider did not sign you in again (no recent auth_time); step-up needs a fresh sign-in');
    }
    await refuseUncheckable(ctx, accessToken);
    return { identity, ...(accessToken !== undefined && { accessToken }), ...(typeof exp === 'number' && { idTokenExpMs: exp * 1000 }) };
  } catch (err) {
    ctx.logger.warn({ err: errorMessage(err) }, 'web sign-in refused');
    const shown = err instanceof IdentityError ? err.message : 'the identity provider could not be reached';
    return { refused: messagePage(err instanceof IdentityError ? 403 : 503, 'Sign-in failed', `Sign-in failed: ${shown}.`) };
  }
}

/** `GET /auth/callback`: completes a sign-in started in this browser, once, and audits it. */
async function completeLogin(ctx: WebContext, request: HttpRequest): Promise<HttpResponse> {
  const { audit, logger } = ctx;
  const login = ctx.loginOf(request);
  const state = request.query?.get('state') ?? '';
  if (login === undefined || !constantTimeEqual(state, login.state)) {
    return messagePage(400, 'Sign-in failed', 'This sign-in was not started here, or it took too long. Start again from the request page.');
  }
  // One use: the sealed sign-in is dropped whatever the outcome (and the IdP redeems a code once).
  const done = { 'set-cookie': ctx.clearLoginCookie };
  const error = request.query?.get('error');
  const code = request.query?.get('code');
  if (error !== undefined && error !== null) return messagePage(400, 'Sign-in failed', `The identity provider said: ${error.slice(0, 100)}`, done);
  if (code === undefined || code === null || code === '') return messagePage(400, 'Sign-in failed', 'The identity provider sent no code.', done);
  const verified = await verifiedIdentity(ctx, code, login);
  if ('refused' in verified) return { ...verified.refused, headers: { ...verified.refused.headers, ...done } };
  const { identity, ...signedIn } = verified;
  try {
    await audit.append({ type: 'approver.signed_in', channel: 'web', subject: identity.subject, name: identity.name, groups: identity.groups });
  } catch (err) {
    logger.error({ err: errorMessage(err) }, 'audit of a web sign-in failed');
    return messagePage(503, 'Sign-in unavailable', 'The audit log cannot be written; nothing can be approved right now.', done);
  }
  const session = ctx.sessions.signIn(ctx.sessionOf(request), identity, signedIn);
  logger.info({ subject: identity.subject, name: identity.name }, 'approver signed in on the web page');
  return redirect(login.returnTo, { 'set-cookie': [ctx.cookie(session), ctx.clearLoginCookie] });
}

/** Sign-in: the OIDC authorization-code flow with PKCE against the approvers' IdP. */
export function mountSignInRoutes(server: HttpServer, ctx: WebContext): void {
  server.route('GET', LOGIN_PATH, (request) => startLogin(ctx, request));
  server.route('GET', WEB_CALLBACK_PATH, (request) => completeLogin(ctx, request));
}
