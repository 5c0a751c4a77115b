import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/** One Web API call as received, with `blocks` decoded from the form encoding the SDK uses. */
export interface SlackApiCall {
  readonly method: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly raw: string;
  /** What the server answered. */
  readonly reply: Readonly<Record<string, unknown>>;
}

/** A modal opened by views.open, as Slack holds it: the view as sent, with Slack's id and hash. */
export interface OpenedView {
  readonly id: string;
  readonly hash: string;
  readonly view: Readonly<Record<string, unknown>>;
}

export interface SlackApiServer {
  /** Base URL for `slackApiUrl`, ending in `/api/`. */
  readonly url: string;
  /** The channel id the server answers with for the configured channel name. */
  readonly channelId: string;
  readonly calls: SlackApiCall[];
  /** Calls of one method that Slack would have accepted. */
  accepted(method: string): SlackApiCall[];
  /**
   * A trigger id as Slack puts in each interaction payload: views.open takes it once, within 3
   * seconds of the interaction (`trigger_exchanged`, `expired_trigger_id`, `invalid_trigger_id`).
   */
  issueTrigger(): string;
  /** Modals opened so far, oldest first. */
  readonly views: OpenedView[];
  /**
   * The `view_submission` payload Slack posts when `user` presses the modal's submit button with
   * `text` typed into its input fields. Throws where Slack's client would not submit: a required
   * field left empty, a text over the field's `max_length`, or a view without a submit button.
   */
  submission(viewId: string, user: string, text: string): Record<string, unknown>;
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
  for (const key of ['blocks', 'attachments', 'view']) {
    if (typeof args[key] === 'string') args[key] = JSON.parse(args[key]) as unknown;
  }
  return args;
}

const plainText = (v: unknown, max: number): boolean => {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return o.type === 'plain_text' && typeof o.text === 'string' && o.text.length > 0 && o.text.length <= max;
};

function inputBlocks(view: Readonly<Record<string, unknown>>): Record<string, unknown>[] {
  const blocks = Array.isArray(view.blocks) ? (view.blocks as Record<string, unknown>[]) : [];
  return blocks.filter((b) => b.type === 'input');
}

/** What Slack's views.open refuses in a modal (its documented limits), or undefined. */
function modalProblem(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return '[ERROR] missing required field: view';
  const view = raw as Record<string, unknown>;
  if (view.type !== 'modal') return '[ERROR] must be modal [json-pointer:/view/type]';
  if (!plainText(view.title, 24)) return '[ERROR] title: plain_text of at most 24 characters [json-pointer:/view/title]';
  const blocks = Array.isArray(view.blocks) ? (view.blocks as unknown[]) : [];
  if (blocks.length === 0 || blocks.length > 100) return '[ERROR] blocks: 1 to 100 [json-pointer:/view/blocks]';
  const inputs = inputBlocks(view);
  if (inputs.length > 0 && !plainText(view.submit, 24)) return '[ERROR] submit is required with input blocks [json-pointer:/view/submit]';
  if (view.close !== undefined && !plainText(view.close, 24)) return '[ERROR] close: plain_text of at most 24 characters [json-pointer:/view/close]';
  if (typeof view.callback_id === 'string' && view.callback_id.length > 255) return '[ERROR] callback_id too long';
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000) return '[ERROR] private_metadata too long';
  for (const block of inputs) {
    const element = block.element as Record<string, unknown> | undefined;
    if (!plainText(block.label, 2000)) return '[ERROR] input label: plain_text [json-pointer:/view/blocks/label]';
    if (typeof block.block_id !== 'string' || block.block_id.length > 255) return '[ERROR] input block_id [json-pointer:/view/blocks/block_id]';
    if (element?.type !== 'plain_text_input' || typeof element.action_id !== 'string') return '[ERROR] input element [json-pointer:/view/blocks/element]';
    if (element.max_length !== undefined && (typeof element.max_length !== 'number' || element.max_length > 3000)) return '[ERROR] max_length up to 3000';
  }
  return undefined;
}

/**
 * Stands in for Slack's Web API: checks each call as Slack would (POST to /api/<method>, bot token
 * in `Authorization: Bearer`, a known channel, blocks present on messages, chat.update naming a
 * message it posted, views.open with a fresh unused trigger id and a modal within Slack's limits)
 * and answers with Slack's `{ ok, error }` envelope. Records every call.
 */
export async function startSlackApiServer(options: { token: string; channel: string; team?: string }): Promise<SlackApiServer> {
  const channelId = 'C0DEPLOYS1';
  const team = options.team ?? 'T0ACME';
  const calls: (SlackApiCall & { ok: boolean })[] = [];
  const posted = new Set<string>();
  const triggers = new Map<string, { issuedAt: number; used: boolean }>();
  const views: OpenedView[] = [];
  let seq = 100;

  const issueTrigger = (): string => {
    const id = `${String(seq++)}.4242.${randomBytes(8).toString('hex')}`;
    triggers.set(id, { issuedAt: Date.now(), used: false });
    return id;
  };

  const viewsOpen = (args: Record<string, unknown>): Record<string, unknown> => {
    const trigger = typeof args.trigger_id === 'string' ? triggers.get(args.trigger_id) : undefined;
    if (!trigger) return { ok: false, error: 'invalid_trigger_id' };
    if (trigger.used) return { ok: false, error: 'trigger_exchanged' };
    if (Date.now() - trigger.issuedAt > 3000) return { ok: false, error: 'expired_trigger_id' };
    const problem = modalProblem(args.view);
    if (problem !== undefined) return { ok: false, error: 'invalid_arguments', response_metadata: { messages: [problem] } };
    trigger.used = true;
    const opened: OpenedView = { id: `V0${String(seq++)}`, hash: `${String(seq++)}.abc`, view: args.view as Record<string, unknown> };
    views.push(opened);
    return { ok: true, view: { id: opened.id, team_id: team, ...opened.view, state: { values: {} }, hash: opened.hash } };
  };

  const submission = (viewId: string, user: string, text: string): Record<string, unknown> => {
    const opened = views.find((v) => v.id === viewId);
    if (!opened) throw new Error(`no modal ${viewId} was opened`);
    if (opened.view.submit === undefined) throw new Error('the modal has no submit button');
    const values: Record<string, Record<string, unknown>> = {};
    for (const block of inputBlocks(opened.view)) {
      const element = block.element as Record<string, unknown>;
      if (text === '' && block.optional !== true) throw new Error(`Slack would not submit: ${String(block.block_id)} is required`);
      if (typeof element.max_length === 'number' && text.length > element.max_length) throw new Error('Slack would not submit: text too long');
      values[String(block.block_id)] = { [String(element.action_id)]: { type: element.type, value: text === '' ? null : text } };
    }
    return {
      type: 'view_submission',
      team: { id: team, domain: 'acme' },
      user: { id: user, username: user.toLowerCase(), team_id: team },
      api_app_id: 'A0JITGATE',
      token: 'deprecated-verification-token',
      trigger_id: issueTrigger(),
      view: { id: opened.id, team_id: team, ...opened.view, state: { values }, hash: opened.hash, app_id: 'A0JITGATE' },
      response_urls: [],
    };
  };

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
      case 'views.open':
        return viewsOpen(args);
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
    issueTrigger,
    views,
    submission,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
