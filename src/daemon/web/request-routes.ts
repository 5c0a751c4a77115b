import { ConflictError, errorMessage, IdentityError, InvalidArgumentError, JitgateError, NotFoundError, PermissionDeniedError } from '../../common/errors.js';
import type { ApproverIdentity } from '../../model/context.js';
import type { HttpRequest, HttpResponse, HttpServer } from '../http/http-server.js';
import { forbidden, messagePage, page, redirect } from './page-response.js';
import { renderRequestPage } from './request-page.js';
import { constantTimeEqual, expectedOrigin, isSameOrigin } from './same-origin.js';
import type { Session } from './session-store.js';
import { LOGIN_PATH, REQUEST_PATH_RE, type WebContext } from './web-context.js';

const MAX_TEXT = 500;

/** Messages of errors meant for the approver; anything else is shown generically (and logged). */
function userFacing(err: unknown): string | undefined {
  const known = [PermissionDeniedError, ConflictError, NotFoundError, IdentityError, InvalidArgumentError];
  return known.some((k) => err instanceof k) ? (err as JitgateError).message : undefined;
}

/** `GET /requests/:id`: shows the request and never changes it (mail scanners fetch links). */
async function showRequest(ctx: WebContext, request: HttpRequest, id: string): Promise<HttpResponse> {
  let view;
  try {
    view = await ctx.gate.getRequest(id);
  } catch (err) {
    if (err instanceof NotFoundError) return messagePage(404, 'Not found', 'No such request.');
    throw err;
  }
  const session = ctx.sessionOf(request);
  const flash = session?.flash;
  if (session) delete session.flash;
  return page(
    200,
    renderRequestPage({
      request: view,
      nowMs: ctx.clock.now(),
      ...(session?.identity ? { identity: session.identity, csrf: session.csrf } : {}),
      ...(flash ? { flash } : {}),
      signInUrl: `${LOGIN_PATH}?${new URLSearchParams({ return: `/requests/${id}` }).toString()}`,
    }),
  );
}

/** The approver's comment or reason: a textarea's line breaks become spaces; the gate refuses other control characters. */
function formText(form: URLSearchParams, action: 'approve' | 'deny'): string {
  return (form.get(action === 'approve' ? 'comment' : 'reason') ?? '').replace(/[\r\n\t]+/g, ' ').trim();
}

/**
 * The approver as the IdP knows them now (membership-recheck.ts). A sign-in the IdP no longer
 * accepts ends the session and starts a new sign-in that returns to the request; an IdP that
 * cannot be asked refuses the decision. Either way nothing is decided with stale groups.
 */
async function currentIdentity(ctx: WebContext, session: Session, id: string): Promise<{ identity: ApproverIdentity } | { page: HttpResponse }> {
  try {
    return { identity: await ctx.recheck(session) };
  } catch (err) {
    if (err instanceof IdentityError) {
      ctx.logger.info({ requestId: id, subject: session.identity.subject, err: errorMessage(err) }, 'web session ended at the IdP; signing in again');
      ctx.sessions.delete(session.id);
      return { page: redirect(`${LOGIN_PATH}?${new URLSearchParams({ return: `/requests/${id}` }).toString()}`) };
    }
    ctx.logger.error({ requestId: id, err: errorMessage(err) }, 'group membership re-check failed');
    session.flash = { kind: 'error', text: 'Your group membership could not be re-checked at the identity provider; nothing was changed. Try again shortly.' };
    return { page: redirect(`/requests/${id}`) };
  }
}

/** `POST /requests/:id/approve|deny`: only from our own origin, signed in, with the session's CSRF token. */
async function decide(ctx: WebContext, request: HttpRequest, id: string, action: 'approve' | 'deny'): Promise<HttpResponse> {
  const { gate, logger } = ctx;
  const origin = expectedOrigin(ctx.publicUrl, request.headers);
  if (origin === undefined || !isSameOrigin(request.headers, origin)) {
    logger.warn({ requestId: id, action }, 'cross-site approval POST refused');
    return forbidden('This form may only be sent from the approval page itself.');
  }
  const session = ctx.sessionOf(request);
  const identity: ApproverIdentity | undefined = session?.identity;
  if (session === undefined || identity === undefined) return forbidden('Sign in first.');
  const form = new URLSearchParams(request.rawBody.toString('utf8'));
  if (!constantTimeEqual(form.get('csrf') ?? '', session.csrf)) {
    logger.warn({ requestId: id, action, subject: identity.subject }, 'approval POST with a bad CSRF token refused');
    return forbidden('The form is stale or forged: reload the page and try again.');
  }
  const back = `/requests/${id}`;
  const text = formText(form, action);
  if (text.length > MAX_TEXT) {
    session.flash = { kind: 'error', text: `Keep the ${action === 'approve' ? 'comment' : 'reason'} under ${String(MAX_TEXT)} characters.` };
    return redirect(back);
  }
  if (action === 'deny' && text === '') {
    session.flash = { kind: 'error', text: 'A denial needs a reason.' };
    return redirect(back);
  }
  const current = await currentIdentity(ctx, session, id);
  if ('page' in current) return current.page;
  try {
    const view =
      action === 'approve'
        ? await gate.approve(id, current.identity, { ...(text === '' ? {} : { comment: text }), channel: 'web' })
        : await gate.deny(id, current.identity, text, { channel: 'web' });
    session.flash = { kind: 'info', text: action === 'approve' ? `Approved: the request is now ${view.status}.` : 'Denied.' };
  } catch (err) {
    // Step-up: sign in again at the IdP (fresh login), then decide on the same page. A link, not a
    // redirect: the page's CSP (form-action 'self') rightly stops a form post from landing off-site.
    if (err instanceof JitgateError && err.code === 'STEP_UP_REQUIRED') {
      const href = `${LOGIN_PATH}?${new URLSearchParams({ return: back, step_up: '1' }).toString()}`;
      session.flash = { kind: 'error', text: `${err.message}.`, link: { href, text: 'Sign in again' } };
      return redirect(back);
    }
    const shown = userFacing(err);
    if (shown === undefined) logger.error({ requestId: id, action, err: errorMessage(err) }, 'web decision failed');
    session.flash = { kind: 'error', text: shown ?? 'The decision could not be recorded; nothing was changed. Try again.' };
  }
  return redirect(back);
}

/** The request page and its two forms. */
export function mountRequestRoutes(server: HttpServer, ctx: WebContext): void {
  server.route('GET', '/requests/*', (request) => {
    const match = REQUEST_PATH_RE.exec(request.path);
    if (match?.[1] === undefined || match[2] !== undefined) return messagePage(404, 'Not found', 'No such page.');
    return showRequest(ctx, request, match[1]);
  });

  server.route('POST', '/requests/*', (request) => {
    const match = REQUEST_PATH_RE.exec(request.path);
    const action = match?.[2];
    if (match?.[1] === undefined || (action !== 'approve' && action !== 'deny')) return messagePage(404, 'Not found', 'No such page.');
    return decide(ctx, request, match[1], action);
  });
}
