import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  /** The message as transmitted (headers and encoded body). */
  readonly raw: string;
  readonly subject: string;
  /** The body with its transfer encoding (quoted-printable, base64) undone. */
  readonly text: string;
  /** Whether the session had been upgraded to TLS when the message came in. */
  readonly secure: boolean;
}

export interface ReceivedAuth {
  readonly username: string;
  readonly password: string;
  readonly secure: boolean;
}

export interface SmtpSink {
  readonly host: string;
  readonly port: number;
  readonly messages: ReceivedMail[];
  readonly auths: ReceivedAuth[];
  close(): Promise<void>;
}

function decodeBody(raw: string): { subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const body = raw.slice(split + 4);
  const headerValue = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? '';
  const encoding = headerValue('Content-Transfer-Encoding').toLowerCase();
  let text = body;
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    text = Buffer.from(bytes, 'latin1').toString('utf8');
  } else if (encoding === 'base64') {
    text = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  return { subject: headerValue('Subject'), text: text.replace(/\r\n/g, '\n') };
}

export interface SmtpSinkOptions {
  /** Offer STARTTLS with this key and certificate; without it the sink speaks plain SMTP only. */
  readonly tls?: { readonly key: Buffer | string; readonly cert: Buffer | string };
}

/**
 * A real SMTP peer on 127.0.0.1 (optional AUTH, STARTTLS only when given a certificate) that keeps
 * every message and every AUTH it accepts.
 */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const auths: ReceivedAuth[] = [];
  const server = new SMTPServer({
    authOptional: true,
    ...(options.tls === undefined ? { disabledCommands: ['STARTTLS'] } : { key: options.tls.key, cert: options.tls.cert }),
    // AUTH is allowed before STARTTLS too: the sink must show what a careless client would send.
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, session, callback) {
      auths.push({ username: auth.username ?? '', password: auth.password ?? '', secure: session.secure });
      callback(null, { user: 'jitgate' });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        messages.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw, ...decodeBody(raw), secure: session.secure });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    messages,
    auths,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}
