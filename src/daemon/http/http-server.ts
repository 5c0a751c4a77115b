import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { BodyTooLargeError, readBody, send } from './http-io.js';
import type { HttpHandler } from './http-types.js';
import { RouteTable } from './route-table.js';

export type { HttpHandler, HttpRequest, HttpResponse } from './http-types.js';

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

/** Splits "host:port" (IPv6 in brackets) into its parts. */
export function parseHostPort(listen: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[2]);
  if (!m?.[1] || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('http.listen', `expected host:port, got ${JSON.stringify(listen)}`);
  }
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/** Parses the request line's target; undefined when it is not a URL at all. */
function parseTarget(req: IncomingMessage): { path: string; query: URLSearchParams } | undefined {
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    return { path: url.pathname, query: url.searchParams };
  } catch {
    return undefined;
  }
}

/** Finds the handler, reads the bounded body, and answers every failure with a status. */
async function handle(routes: RouteTable, maxBody: number, log: Logger, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const target = parseTarget(req);
  if (!target) {
    send(res, { status: 400, body: 'bad request\n' });
    return;
  }
  const { path, query } = target;
  const byMethod = routes.find(path);
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
    rawBody = await readBody(req, maxBody);
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
    send(res, await handler({ method, path, headers: req.headers, rawBody, query, remoteAddress: req.socket.remoteAddress ?? '' }));
  } catch (err) {
    log.error({ path, err: errorMessage(err) }, 'http handler failed');
    send(res, { status: 500, body: 'internal error\n' });
  }
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
  const routes = new RouteTable();

  const server = createServer({ requestTimeout: timeoutMs, headersTimeout: Math.min(timeoutMs, 60_000) }, (req, res) => {
    void handle(routes, maxBody, log, req, res);
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  return {
    route(method, path, handler) {
      routes.add(method, path, handler);
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
