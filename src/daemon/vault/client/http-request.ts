import http from 'node:http';
import https from 'node:https';
import { grantStage } from '../../../common/grant-stages.js';

/**
 * node-vault's HTTP layer, on `node:http`. node-vault takes a `request-promise`-shaped object
 * (`defaults(options)` returning `request(options) → { statusCode, body }`) in place of its
 * built-in axios wrapper; this is that object. The profile put axios, follow-redirects and
 * node-vault's wrapper at 13% of the daemon's CPU on the grant path, for what is one HTTP request
 * on a kept-alive connection.
 *
 * Semantics kept from the axios wrapper: every status comes back as a response (node-vault decides
 * what an error is), JSON bodies are parsed and an empty body is `undefined`, a timeout fails the
 * call with `ETIMEDOUT`. Redirects: Vault standbys answer 307 to send a client to the active node,
 * so 307/308 are followed (same method, body and headers, at most five hops); a redirect from
 * https to http is refused rather than followed, so the token never leaves TLS. Other statuses,
 * 301/302/303 included, are handed to node-vault as they are. VAULT_SKIP_VERIFY, which node-vault
 * reads from the environment, has no effect here: the agents' TLS settings are the only ones.
 */
export interface VaultHttpAgents {
  readonly http: http.Agent;
  readonly https: https.Agent;
}

/** What node-vault passes per request (its defaults merged with the call's options). */
interface RequestOptions {
  readonly method?: unknown;
  readonly uri?: unknown;
  readonly headers?: unknown;
  readonly json?: unknown;
  readonly timeout?: unknown;
}

export interface VaultHttpResponse {
  readonly statusCode: number;
  readonly body: unknown;
  readonly request: { readonly path: string };
}

const MAX_REDIRECTS = 5;
/** Vault answers are small; a body past this is not Vault's and is not buffered further. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** An error shaped like the ones node-vault's callers already read: a `code`, no request config. */
function failure(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

function headersOf(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Proxies and load balancers answer HTML; node-vault then reports the status.
    return text;
  }
}

function once(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, timeoutMs: number, agents: VaultHttpAgents): Promise<{ status: number; location: string | undefined; body: unknown }> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const req = (secure ? https : http).request(url, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': String(body.length) },
      agent: secure ? agents.https : agents.http,
    });
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    // One deadline for the whole exchange (connect, send, the whole answer), as axios's `timeout`.
    const timer = timeoutMs > 0
      ? setTimeout(() => {
          settle(() => {
            reject(failure(`timeout of ${String(timeoutMs)}ms exceeded`, 'ETIMEDOUT'));
          });
          req.destroy();
        }, timeoutMs)
      : undefined;
    // A fresh error: the original may carry the request, headers and all.
    const broken = (err: NodeJS.ErrnoException): void => {
      settle(() => {
        reject(failure(err.message, typeof err.code === 'string' ? err.code : 'ECONNRESET'));
      });
    };
    req.on('error', broken);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          settle(() => {
            reject(failure('response body too large', 'ERESPONSETOOLARGE'));
          });
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', broken);
      res.on('end', () => {
        grantStage('vault-answered');
        settle(() => {
          const location = res.headers.location;
          resolve({ status: res.statusCode ?? 0, location, body: parseBody(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)) });
        });
      });
    });
    req.end(body);
    grantStage('vault-sent');
  });
}

/** One request as node-vault makes it, following Vault's 307/308 redirects. */
export async function vaultHttpRequest(options: RequestOptions, agents: VaultHttpAgents, defaultTimeoutMs: number): Promise<VaultHttpResponse> {
  if (typeof options.uri !== 'string' || typeof options.method !== 'string') throw failure('request without uri or method', 'EINVALID');
  const first = new URL(options.uri);
  const method = options.method.toUpperCase();
  const headers = headersOf(options.headers);
  const body = typeof options.json === 'object' && options.json !== null ? Buffer.from(JSON.stringify(options.json)) : undefined;
  const timeoutMs = typeof options.timeout === 'number' ? options.timeout : defaultTimeoutMs;
  let url = first;
  for (let hop = 0; ; hop += 1) {
    const answer = await once(url, method, headers, body, timeoutMs, agents);
    if ((answer.status === 307 || answer.status === 308) && answer.location !== undefined) {
      if (hop >= MAX_REDIRECTS) throw failure(`more than ${String(MAX_REDIRECTS)} redirects`, 'ETOOMANYREDIRECTS');
      const next = new URL(answer.location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw failure('redirect to a non-HTTP address', 'EREDIRECT');
      if (url.protocol === 'https:' && next.protocol === 'http:') throw failure('redirect from https to http refused', 'EREDIRECT');
      url = next;
      continue;
    }
    return { statusCode: answer.status, body: answer.body, request: { path: first.pathname } };
  }
}

/** The `request-promise` stand-in node-vault accepts as `config['request-promise']`. */
export function requestPromiseFor(agents: VaultHttpAgents, timeoutMs: number): { defaults(base: object): (options: object) => Promise<VaultHttpResponse> } {
  return {
    defaults: (base) => (options) => vaultHttpRequest({ ...base, ...options }, agents, timeoutMs),
  };
}
