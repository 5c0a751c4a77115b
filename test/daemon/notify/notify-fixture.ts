import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditEvent, AuditLog } from '../../../src/daemon/audit/types.js';
import { slackSignatureHeaders } from '../../../src/daemon/notify/signing.js';

/** Polls until `check` holds; fails with `what` after a generous real-time cap (never a timing assertion). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Moves a manual clock forward in small steps until `check` holds, letting I/O run between steps:
 * a retry timer is only armed once the failed attempt has been processed, a moment after it is seen.
 */
export async function advanceUntil(clock: { advance(ms: number): void }, check: () => boolean, what: string, stepMs = 250): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (check()) return;
    clock.advance(stepMs);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function writeSecret(dir: string, name: string, value: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${value}\n`, { mode: 0o600 });
  return path;
}

/** An audit log that keeps records in memory, for tests of parts that only append. */
export class MemoryAuditLog implements AuditLog {
  readonly events: AuditEvent[] = [];
  readonly healthy = true;
  append(event: AuditEvent): Promise<void> {
    this.events.push(event);
    return Promise.resolve();
  }
  onUnhealthy(): void {
    // never turns unhealthy
  }
  hmac(value: string): string {
    return `hmac(${value.length})`;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export interface SlackClick {
  readonly user: string;
  readonly action: 'jitgate_approve' | 'jitgate_deny' | 'jitgate_approve_comment' | 'jitgate_deny_reason';
  readonly requestId: string;
  readonly messageTs: string;
  readonly channelId: string;
  readonly team?: string;
  readonly actionTs?: string;
  readonly triggerId?: string;
}

let clickSeq = 0;

/** The form body Slack POSTs when a button is clicked (block_actions). */
export function slackClickBody(click: SlackClick): string {
  clickSeq++;
  const payload = {
    type: 'block_actions',
    team: { id: click.team ?? 'T0ACME', domain: 'acme' },
    user: { id: click.user, username: click.user.toLowerCase(), team_id: click.team ?? 'T0ACME' },
    api_app_id: 'A0JITGATE',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: click.messageTs, channel_id: click.channelId, is_ephemeral: false },
    trigger_id: click.triggerId ?? `trigger.${clickSeq}.${click.user}`,
    channel: { id: click.channelId, name: 'deploys' },
    response_url: 'https://hooks.slack.com/actions/T0ACME/1/xyz',
    actions: [
      {
        action_id: click.action,
        block_id: 'jitgate_decision',
        value: click.requestId,
        type: 'button',
        action_ts: click.actionTs ?? `1767225700.${String(clickSeq).padStart(6, '0')}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export async function postSlack(
  address: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://${address}/slack/interactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  return { status: res.status, text: await res.text() };
}

export function signSlack(secret: string, body: string, nowMs: number): Record<string, string> {
  return slackSignatureHeaders(secret, body, nowMs);
}

export interface ReceivedHook {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly status: number;
}

export interface HookReceiver {
  readonly url: string;
  readonly received: ReceivedHook[];
  /** Answer the next `n` requests with 500. */
  failNext(n: number): void;
  close(): Promise<void>;
}

/** A webhook receiver over real HTTP; `hang` keeps every request open without answering. */
export async function startHookReceiver(options: { hang?: boolean } = {}): Promise<HookReceiver> {
  const received: ReceivedHook[] = [];
  let failures = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (options.hang) return;
      const status = failures > 0 ? 500 : 204;
      if (failures > 0) failures--;
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    failNext(n) {
      failures = n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
