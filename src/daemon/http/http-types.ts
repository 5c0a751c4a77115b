import type { IncomingHttpHeaders } from 'node:http';

/** What a route handler sees of a request and answers with. */
export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-cased header names, as node:http gives them. */
  readonly headers: IncomingHttpHeaders;
  /** The body exactly as received: signatures are computed over these bytes, never a re-encoding. */
  readonly rawBody: Buffer;
  /** The query string's parameters (e.g. an OIDC callback's `code` and `state`). */
  readonly query?: URLSearchParams;
  /** The peer's IP address as the socket sees it (a proxy's, behind one); '' when unknown. */
  readonly remoteAddress: string;
}

export interface HttpResponse {
  readonly status: number;
  /** A list value sends the header once per item (several `set-cookie`s). */
  readonly headers?: Readonly<Record<string, string | string[]>>;
  readonly body?: string;
}

export type HttpHandler = (request: HttpRequest) => Promise<HttpResponse> | HttpResponse;
