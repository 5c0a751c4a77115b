import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Web API call as received, with `blocks` decoded from the form encoding the SDK uses. */
export interface SlackApiCall {
  readonly method: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly raw: string;
  /** What the server answered. */
  readonly reply: Readonly<Record<string, unknown>>;
}

export interface SlackApiServer {
  /** Base URL for `slackApiUrl`, ending in `/api/`. */
  readonly url: string;
  /** The channel id the server answers with for the configured channel name. */
  readonly channelId: string;
  readonly calls: SlackApiCall[];
  /** Calls of one method that Slack would have accepted. */
  accepted(method: string): SlackApiCall[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function decodeArgs(contentType: string, raw: string): Record<string, unknown> {
  if (contentType.startsWith('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const args: Record<string, unknown> = Object.fromEntries(new URLSearchParams(raw));
  // The SDK JSON-encodes structured arguments inside the form, as Slack expects.
  for (const key of ['blocks', 'attachments']) {
    if (typeof args[key] === 'string') args[key] = JSON.parse(args[key]) as unknown;
  }
  return args;
}

/**
 * Stands in for Slack's Web API: checks each call as Slack would (POST to /api/<method>, bot token
 * in `Authorization: Bearer`, a known channel, blocks present on messages, chat.update naming a
 * message it posted) and answers with Slack's `{ ok, error }` envelope. Records every call.
 */
export async function startSlackApiServer(options: { token: string; channel: string }): Promise<SlackApiServer> {
  const channelId = 'C0DEPLOYS1';
  const calls: (SlackApiCall & { ok: boolean })[] = [];
  const posted = new Set<string>();
  let seq = 100;

  const answer = (method: string, auth: string | undefined, args: Record<string, unknown>): Record<string, unknown> => {
    if (auth === undefined) return { ok: false, error: 'not_authed' };
    if (auth !== `Bearer ${options.token}`) return { ok: false, error: 'invalid_auth' };
    const blocksOk = Array.isArray(args.blocks) && args.blocks.length > 0;
    const channel = args.channel === options.channel || args.channel === channelId ? channelId : undefined;
    switch (method) {
      case 'chat.postMessage': {
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (!blocksOk) return { ok: false, error: 'invalid_blocks' };
        const ts = `1767225600.${String(seq++).padStart(6, '0')}`;
        posted.add(ts);
        return { ok: true, channel, ts, message: { text: args.text, blocks: args.blocks } };
      }
      case 'chat.update': {
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (typeof args.ts !== 'string' || !posted.has(args.ts)) return { ok: false, error: 'message_not_found' };
        if (!blocksOk) return { ok: false, error: 'invalid_blocks' };
        return { ok: true, channel, ts: args.ts, text: args.text };
      }
      case 'chat.postEphemeral': {
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (typeof args.user !== 'string' || typeof args.text !== 'string') return { ok: false, error: 'invalid_arguments' };
        return { ok: true, message_ts: `1767225600.${String(seq++).padStart(6, '0')}` };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const method = /^\/api\/([a-zA-Z.]+)$/.exec(req.url ?? '')?.[1];
      let reply: Record<string, unknown>;
      let args: Record<string, unknown> = {};
      if (req.method !== 'POST' || method === undefined) {
        reply = { ok: false, error: 'unknown_method' };
      } else {
        try {
          args = decodeArgs(req.headers['content-type'] ?? '', raw);
          reply = answer(method, req.headers.authorization, args);
        } catch {
          reply = { ok: false, error: 'invalid_form_data' };
        }
      }
      calls.push({ method: method ?? req.url ?? '', args, raw, reply, ok: reply.ok === true });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    channelId,
    calls,
    accepted: (method) => calls.filter((c) => c.ok && c.method === method),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
