import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';

export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-cased header names, as node:http gives them. */
  readonly headers: IncomingHttpHeaders;
  /** The body exactly as received: signatures are computed over these bytes, never a re-encoding. */
  readonly rawBody: Buffer;
  /** The query string's parameters (e.g. an OIDC callback's `code` and `state`). */
  readonly query?: URLSearchParams;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export type HttpHandler = (request: HttpRequest) => Promise<HttpResponse> | HttpResponse;

export interface HttpServerOptions {
  /** "host:port"; port 0 picks a free port. */
  readonly listen: string;
  readonly logger: Logger;
  readonly maxBodyBytes?: number;
  /** Whole-request deadline (headers and body): a slow client cannot hold a socket for long. */
  readonly requestTimeoutMs?: number;
}

export interface HttpServer {
  /** `path` is exact, or a prefix ending in `/*` (`/requests/*`); an exact route wins. */
  route(method: string, path: string, handler: HttpHandler): void;
  /** Starts listening; resolves with "host:port" as bound. */
  start(): Promise<string>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

class BodyTooLargeError extends Error {}

/** Splits "host:port" (IPv6 in brackets) into its parts. */
export function parseHostPort(listen: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[2]);
  if (!m?.[1] || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('http.listen', `expected host:port, got ${JSON.stringify(listen)}`);
  }
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/**
 * A small router on node:http for callbacks from outside (Slack, webhooks). It is exposed to the
 * network, so it bounds every request (size, time), answers every failure with a status instead of
 * throwing, and never echoes input back.
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const log = options.logger.child({ component: 'http' });
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const routes = new Map<string, Map<string, HttpHandler>>();

  const prefixRoute = (path: string): Map<string, HttpHandler> | undefined => {
    for (const [pattern, byMethod] of routes) {
      if (pattern.endsWith('/*') && path.length > pattern.length - 1 && path.startsWith(pattern.slice(0, -1))) return byMethod;
    }
    return undefined;
  };

  const send = (res: ServerResponse, response: HttpResponse): void => {
    if (res.headersSent || res.destroyed) return;
    const body = response.body ?? '';
    res.writeHead(response.status, {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...response.headers,
      'content-length': String(Buffer.byteLength(body)),
    });
    res.end(body);
  };

  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBody) {
        reject(new BodyTooLargeError());
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBody) {
          req.removeAllListeners('data');
          reject(new BodyTooLargeError());
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        resolve(Buffer.concat(chunks));
      });
      req.on('error', reject);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    let path: string;
    let query: URLSearchParams;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      path = url.pathname;
      query = url.searchParams;
    } catch {
      send(res, { status: 400, body: 'bad request\n' });
      return;
    }
    const byMethod = routes.get(path) ?? prefixRoute(path);
    if (!byMethod) {
      send(res, { status: 404, body: 'not found\n' });
      req.resume();
      return;
    }
    const handler = byMethod.get(method);
    if (!handler) {
      send(res, { status: 405, headers: { allow: [...byMethod.keys()].join(', ') }, body: 'method not allowed\n' });
      req.resume();
      return;
    }
    let rawBody: Buffer;
    try {
      rawBody = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        // Close the connection: reading the rest of an oversized body is what the limit avoids.
        send(res, { status: 413, headers: { connection: 'close' }, body: 'request body too large\n' });
        res.on('finish', () => req.destroy());
        return;
      }
      send(res, { status: 400, body: 'bad request\n' });
      return;
    }
    try {
      send(res, await handler({ method, path, headers: req.headers, rawBody, query }));
    } catch (err) {
      log.error({ path, err: errorMessage(err) }, 'http handler failed');
      send(res, { status: 500, body: 'internal error\n' });
    }
  };

  const server = createServer({ requestTimeout: timeoutMs, headersTimeout: Math.min(timeoutMs, 60_000) }, (req, res) => {
    void handle(req, res);
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  return {
    route(method, path, handler) {
      let byMethod = routes.get(path);
      if (!byMethod) {
        byMethod = new Map();
        routes.set(path, byMethod);
      }
      byMethod.set(method.toUpperCase(), handler);
    },
    start() {
      const { host, port } = parseHostPort(options.listen);
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          log.info({ address: `${shown}:${address.port}` }, 'http listening');
          resolve(`${shown}:${address.port}`);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
    },
  };
}
