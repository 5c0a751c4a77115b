import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpResponse } from './http-types.js';

/** The body was larger than the route allows (declared or as received). */
export class BodyTooLargeError extends Error {}

/** Writes a response unless the socket is gone; never sniffable, never cached. */
export function send(res: ServerResponse, response: HttpResponse): void {
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
}

/** Reads the whole body, refusing (before reading, when declared) anything over `maxBody` bytes. */
export function readBody(req: IncomingMessage, maxBody: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
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
}
