import type { HttpResponse } from '../http/http-server.js';
import { PAGE_HEADERS } from './html.js';
import { renderMessagePage } from './request-page.js';

/** An HTML page with the strict page headers (CSP, no framing, no referrer, no caching). */
export function page(status: number, body: string, extra: Record<string, string | string[]> = {}): HttpResponse {
  return { status, headers: { ...PAGE_HEADERS, ...extra }, body };
}

/** 303 See Other: after a POST, and into and out of sign-in. */
export function redirect(location: string, extra: Record<string, string | string[]> = {}): HttpResponse {
  return { status: 303, headers: { ...PAGE_HEADERS, location, ...extra }, body: '' };
}

export function messagePage(status: number, title: string, text: string, extra: Record<string, string | string[]> = {}): HttpResponse {
  return page(status, renderMessagePage(title, text), extra);
}

export function forbidden(why: string): HttpResponse {
  return messagePage(403, 'Forbidden', why);
}
