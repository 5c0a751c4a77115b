import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Signed callbacks older (or further in the future) than this are refused, as Slack recommends. */
export const SIGNATURE_WINDOW_MS = 5 * 60_000;

const HEX_SHA256 = /^[0-9a-f]{64}$/;

export function hmacSha256Hex(secret: string, data: string | Buffer): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

/**
 * Compares a presented hex digest with the expected one in constant time. Shape is checked first
 * (wrong length or non-hex is simply unequal) so timingSafeEqual only ever sees equal lengths.
 */
export function hexDigestEquals(presented: string, expected: string): boolean {
  if (!HEX_SHA256.test(presented) || !HEX_SHA256.test(expected)) return false;
  return timingSafeEqual(Buffer.from(presented, 'hex'), Buffer.from(expected, 'hex'));
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** Parses a Unix-seconds timestamp header and checks it lies within the window around `nowMs`. */
function freshTimestamp(value: string | undefined, nowMs: number): string | undefined {
  if (value === undefined || !/^\d{1,12}$/.test(value)) return undefined;
  return Math.abs(nowMs - Number(value) * 1000) <= SIGNATURE_WINDOW_MS ? value : undefined;
}

export type SignatureCheck = { readonly ok: true; readonly timestamp: string } | { readonly ok: false; readonly reason: string };

/** Slack's v0 scheme: `v0=` + hex HMAC-SHA256(signing secret, `v0:{timestamp}:{raw body}`). */
export function verifySlackSignature(headers: IncomingHttpHeaders, rawBody: Buffer, secret: string, nowMs: number): SignatureCheck {
  const timestamp = freshTimestamp(header(headers, 'x-slack-request-timestamp'), nowMs);
  if (timestamp === undefined) return { ok: false, reason: 'missing or stale timestamp' };
  const signature = header(headers, 'x-slack-signature');
  if (!signature?.startsWith('v0=')) return { ok: false, reason: 'missing or malformed signature' };
  const expected = hmacSha256Hex(secret, Buffer.concat([Buffer.from(`v0:${timestamp}:`), rawBody]));
  return hexDigestEquals(signature.slice(3), expected) ? { ok: true, timestamp } : { ok: false, reason: 'bad signature' };
}

export function slackSignatureHeaders(secret: string, rawBody: string, nowMs: number): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': `v0=${hmacSha256Hex(secret, `v0:${timestamp}:${rawBody}`)}`,
  };
}

export const WEBHOOK_TIMESTAMP_HEADER = 'x-jitgate-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'x-jitgate-signature';

/** jitgate's webhook scheme: `sha256=` + hex HMAC-SHA256(secret, `{timestamp}.{body}`), timestamp in Unix seconds. */
export function webhookSignatureHeaders(secret: string, body: string, nowMs: number): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    [WEBHOOK_TIMESTAMP_HEADER]: timestamp,
    [WEBHOOK_SIGNATURE_HEADER]: `sha256=${hmacSha256Hex(secret, `${timestamp}.${body}`)}`,
  };
}

export function verifyWebhookSignature(headers: IncomingHttpHeaders, rawBody: Buffer, secret: string, nowMs: number): SignatureCheck {
  const timestamp = freshTimestamp(header(headers, WEBHOOK_TIMESTAMP_HEADER), nowMs);
  if (timestamp === undefined) return { ok: false, reason: 'missing or stale timestamp' };
  const signature = header(headers, WEBHOOK_SIGNATURE_HEADER);
  if (!signature?.startsWith('sha256=')) return { ok: false, reason: 'missing or malformed signature' };
  const expected = hmacSha256Hex(secret, Buffer.concat([Buffer.from(`${timestamp}.`), rawBody]));
  return hexDigestEquals(signature.slice(7), expected) ? { ok: true, timestamp } : { ok: false, reason: 'bad signature' };
}
