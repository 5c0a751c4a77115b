import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Whether a state-changing request comes from our own page. `Origin` is what browsers send on
 * every POST; `Sec-Fetch-Site` is the fallback. With neither there is no proof, so it is refused.
 */
export function isSameOrigin(headers: IncomingHttpHeaders, expectedOrigin: string): boolean {
  const origin = headers.origin;
  // Under `Referrer-Policy: no-referrer` browsers send `Origin: null` on form posts; that proves
  // nothing either way, so the fetch metadata decides.
  if (typeof origin === 'string' && origin !== '' && origin !== 'null') return origin === expectedOrigin;
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== '') return site === 'same-origin';
  return false;
}

/** The origin the page is served from: `http.public_url`'s, else what the browser asked for. */
export function expectedOrigin(publicUrl: string | undefined, headers: IncomingHttpHeaders): string | undefined {
  if (publicUrl !== undefined) return new URL(publicUrl).origin;
  const host = headers.host;
  return typeof host === 'string' && host !== '' ? `http://${host}` : undefined;
}

export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  // Length is not secret (tokens have one fixed length); the comparison of contents is.
  return x.length === y.length && timingSafeEqual(x, y);
}

export function readCookie(headers: IncomingHttpHeaders, name: string): string | undefined {
  const header = headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
