import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Clock } from '../../common/clock.js';
import { displayText } from '../../common/display-text.js';
import type { RequestView } from '../../model/request.js';
import type { Notifier, NotifyEvent } from './notifier.js';
import type { EmailNotifierConfig } from '../config/types.js';
import { requestPageUrl } from '../web/request-page-url.js';
import { contextLines } from './request-summary.js';

const SMTP_TIMEOUT_MS = 10_000;

export interface EmailNotifierOptions {
  readonly name: string;
  readonly config: EmailNotifierConfig;
  readonly password?: string;
  /** PEM of `smtp.ca_file`, read at start: the CA the relay's certificate must chain to. */
  readonly ca?: string;
  readonly clock: Clock;
  /** `http.public_url` when the approval web page is served: mails then carry a read-only link to it. */
  readonly publicUrl?: string;
}

/**
 * Single-line text for a header or a body line: control characters (a newline in a branch name)
 * could forge headers; bidi and zero-width characters could reorder what the approver reads, so
 * they show as `<U+202E>`.
 */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  return displayText(text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 200));
}

/** Quotes an argument for a POSIX shell so the command can be pasted as is. */
function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:=-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The mail an approver gets. Plain text, and deliberately without links that act: mail scanners
 * fetch every link, so deciding takes a command (or the authenticated web page / Slack).
 */
export function renderEmail(request: RequestView, nowMs: number, pageUrl?: string): { subject: string; text: string } {
  const width = Math.max(...contextLines(request, nowMs).map(([label]) => label.length));
  const details = contextLines(request, nowMs)
    .map(([label, value]) => `  ${`${label}:`.padEnd(width + 1)} ${oneLine(value)}`)
    .join('\n');
  const id = shellQuote(request.id);
  const text = [
    `Access request ${request.id} is waiting for approval.`,
    '',
    details,
    '',
    ...(pageUrl === undefined ? [] : ['To see it and approve or deny after signing in, open:', `  ${pageUrl}`, '']),
    'To approve, run:',
    `  jitgate approve ${id} --comment 'looked at the diff'`,
    '',
    'To deny, run:',
    `  jitgate deny ${id} --reason 'why not'`,
    '',
    'To see its current state:',
    `  jitgate show ${id}`,
    '',
    'Nothing in this message changes the request by being opened or fetched.',
    'If you did not expect this request, deny it.',
    '',
  ].join('\n');
  const subject = oneLine(`[jitgate] Approval needed: ${request.resource} for ${request.context.repository} (${request.id})`);
  return { subject, text };
}

/** The announcement of a break-glass grant: who, why, and the review it needs. */
export function renderBreakGlassEmail(request: RequestView, nowMs: number): { subject: string; text: string } {
  const lines = contextLines(request, nowMs);
  const width = Math.max(...lines.map(([label]) => label.length));
  const glass = request.breakGlass;
  const text = [
    `BREAK-GLASS: access request ${request.id} was granted WITHOUT approvals by ${glass?.name ?? 'an on-call approver'}.`,
    '',
    lines.map(([label, value]) => `  ${`${label}:`.padEnd(width + 1)} ${oneLine(value)}`).join('\n'),
    '',
    'Someone other than the breaker must review it:',
    `  jitgate review ${shellQuote(request.id)} --ok`,
    `  jitgate review ${shellQuote(request.id)} --concern 'what is wrong'`,
    '',
  ].join('\n');
  return { subject: oneLine(`[jitgate] BREAK-GLASS: ${request.resource} for ${request.context.repository} by ${glass?.name ?? '?'} (${request.id})`), text };
}

/**
 * nodemailer upgrades with STARTTLS only when the server offers it, so an attacker on the path who
 * strips the offer gets the password and the mail in clear; `requireTLS` makes that a failed send.
 * The certificate is always verified (against `ca_file` when given), TLS 1.2 at least.
 */
function smtpTlsOptions(mode: EmailNotifierConfig['smtp']['tls'], ca: string | undefined): SMTPTransport.Options {
  const tls = { minVersion: 'TLSv1.2' as const, rejectUnauthorized: true, ...(ca !== undefined ? { ca } : {}) };
  if (mode === 'implicit') return { secure: true, tls };
  if (mode === 'starttls') return { secure: false, requireTLS: true, tls };
  return { secure: false, tls };
}

/** Mails the configured recipients when a request starts waiting for approvers. */
export class EmailNotifier implements Notifier {
  readonly name: string;
  readonly #o: EmailNotifierOptions;
  readonly #transport: Transporter;

  constructor(options: EmailNotifierOptions) {
    this.name = options.name;
    this.#o = options;
    const { smtp } = options.config;
    this.#transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      ...smtpTlsOptions(smtp.tls, options.ca),
      ...(smtp.user !== undefined && options.password !== undefined ? { auth: { user: smtp.user, pass: options.password } } : {}),
      connectionTimeout: SMTP_TIMEOUT_MS,
      greetingTimeout: SMTP_TIMEOUT_MS,
      socketTimeout: SMTP_TIMEOUT_MS,
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    });
  }

  accepts(event: NotifyEvent): boolean {
    return event.type === 'created' || event.type === 'break_glass';
  }

  async deliver(event: NotifyEvent): Promise<void> {
    const now = this.#o.clock.now();
    const { subject, text } =
      event.type === 'break_glass' ? renderBreakGlassEmail(event.request, now) : renderEmail(event.request, now, requestPageUrl(this.#o.publicUrl, event.request.id));
    await this.#transport.sendMail({
      from: this.#o.config.from,
      to: [...this.#o.config.to],
      subject,
      text,
      headers: { 'X-Jitgate-Request': event.request.id },
    });
  }

  close(): Promise<void> {
    this.#transport.close();
    return Promise.resolve();
  }
}
