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
}

export interface HttpResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export type HttpHandler = (request: HttpRequest) => Promise<HttpResponse> | HttpResponse;
