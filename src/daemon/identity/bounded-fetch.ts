/**
 * The one way the daemon fetches identity documents (OpenID discovery, JWKS, the IdP token
 * endpoint). Whoever answers those URLs decides which keys sign valid tokens, so the fetch is
 * strict: https only (plain http only to a loopback address, where no network sits in between),
 * a byte cap enforced while the body streams (a huge or endless answer is cut off, never
 * buffered), and redirects under our control: a redirect to another origin is refused, a
 * same-origin one is followed for GET at most MAX_REDIRECTS times, and any redirect of another
 * method (a POST carrying the client secret) is refused.
 */
import { isIP } from 'node:net';
import { UnavailableError, errorMessage } from '../../common/errors.js';

const MAX_REDIRECTS = 3;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export interface BoundedFetchInit {
  /** The fetch implementation (a test seam; the global fetch in production). */
  readonly fetch: typeof fetch;
  /** Bytes of body accepted; one more and the transfer is aborted. */
  readonly maxBytes: number;
  /** What is fetched, for messages ("JWKS", "IdP discovery"). */
  readonly what: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal?: AbortSignal;
}

export interface BoundedResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly text: string;
}

/** 127.0.0.0/8, ::1 and `localhost`: addresses that never leave the host. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Parses `value` as a URL the daemon may fetch identity documents from, or throws naming `what`. */
export function identityUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new UnavailableError(`${what} is not a valid URL`, { cause });
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  throw new UnavailableError(`${what} must be an https URL (plain http only on loopback): ${url.origin}`);
}

/** Reads at most `maxBytes` of the body; past that, aborts the transfer through `abort`. */
async function readCapped(response: Response, init: BoundedFetchInit, url: URL, abort: AbortController): Promise<string> {
  const tooLarge = (): UnavailableError => new UnavailableError(`${init.what} from ${url.href} is larger than ${String(init.maxBytes)} bytes`);
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > init.maxBytes) {
    abort.abort();
    throw tooLarge();
  }
  if (response.body === null) return '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > init.maxBytes) {
        abort.abort();
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (cause) {
    if (cause instanceof UnavailableError) throw cause;
    throw new UnavailableError(`cannot read ${init.what} from ${url.href}: ${errorMessage(cause)}`, { cause });
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** Fetches `target` under the rules above; network failures and refusals are UnavailableError. */
export async function boundedFetch(target: string, init: BoundedFetchInit): Promise<BoundedResponse> {
  const method = init.method ?? 'GET';
  const abort = new AbortController();
  const signal = init.signal === undefined ? abort.signal : AbortSignal.any([init.signal, abort.signal]);
  let url = identityUrl(target, `${init.what} URL`);
  for (let hops = 0; ; hops++) {
    let response: Response;
    try {
      response = await init.fetch(url.href, {
        method,
        ...(init.headers && { headers: init.headers }),
        ...(init.body !== undefined && { body: init.body }),
        redirect: 'manual',
        signal,
      });
    } catch (cause) {
      throw new UnavailableError(`cannot fetch ${init.what} from ${url.href}: ${errorMessage(cause)}`, { cause });
    }
    if (!REDIRECT_STATUSES.has(response.status)) {
      return { status: response.status, ok: response.ok, text: await readCapped(response, init, url, abort) };
    }
    await response.body?.cancel().catch(() => undefined);
    const location = response.headers.get('location');
    if (location === null || !URL.canParse(location, url.href)) {
      throw new UnavailableError(`${init.what} from ${url.href}: redirect without a valid Location refused`);
    }
    const next = new URL(location, url);
    // Another origin could hand us anyone's keys; the origin includes the scheme, so https stays https.
    if (next.origin !== url.origin) throw new UnavailableError(`${init.what} from ${url.href}: redirect to another origin refused`);
    if (method !== 'GET') throw new UnavailableError(`${init.what} from ${url.href}: redirect of a ${method} refused`);
    if (hops >= MAX_REDIRECTS) throw new UnavailableError(`${init.what} from ${url.href}: more than ${String(MAX_REDIRECTS)} redirects`);
    url = next;
  }
}
