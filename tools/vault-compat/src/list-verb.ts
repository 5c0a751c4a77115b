import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** Header the rewriter adds so the handler knows the request came in as `LIST`. */
export const LIST_HEADER = 'x-vault-list-verb';
const MAX_HEAD = 64 * 1024;

/**
 * Node's HTTP parser rejects methods it does not know, and Vault's `LIST` is one of them (node-vault
 * sends it). This rewrites `LIST` request lines to `GET` plus a marker header, tracking message
 * framing (Content-Length) so keep-alive connections stay in step. Anything it cannot frame
 * (chunked bodies, oversized heads) passes through untouched for the rest of the connection.
 */
class ListRewriter {
  #buf: Buffer = Buffer.alloc(0);
  #bodyLeft = 0;
  #raw = false;

  feed(chunk: Buffer): Buffer[] {
    if (this.#raw) return [chunk];
    const out: Buffer[] = [];
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    for (;;) {
      if (this.#bodyLeft > 0) {
        const take = Math.min(this.#bodyLeft, this.#buf.length);
        if (take === 0) break;
        out.push(this.#buf.subarray(0, take));
        this.#buf = this.#buf.subarray(take);
        this.#bodyLeft -= take;
        continue;
      }
      let skip = 0;
      while (this.#buf[skip] === 0x0d || this.#buf[skip] === 0x0a) skip += 1;
      if (skip > 0) {
        out.push(this.#buf.subarray(0, skip));
        this.#buf = this.#buf.subarray(skip);
      }
      const end = this.#buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.#buf.length > MAX_HEAD) this.#passThrough(out);
        break;
      }
      const head = this.#buf.subarray(0, end + 4).toString('latin1');
      this.#buf = this.#buf.subarray(end + 4);
      const lines = head.split('\r\n');
      let contentLength = 0;
      let chunked = false;
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === 'content-length') contentLength = Number(value) || 0;
        if (name === 'transfer-encoding' && /chunked/i.test(value)) chunked = true;
      }
      let rewritten = head;
      if (head.startsWith('LIST ')) {
        const firstEnd = head.indexOf('\r\n');
        rewritten = `GET ${head.slice(5, firstEnd)}\r\n${LIST_HEADER}: 1${head.slice(firstEnd)}`;
      }
      out.push(Buffer.from(rewritten, 'latin1'));
      if (chunked) {
        this.#passThrough(out);
        break;
      }
      this.#bodyLeft = contentLength;
    }
    return out;
  }

  #passThrough(out: Buffer[]): void {
    this.#raw = true;
    if (this.#buf.length) out.push(this.#buf);
    this.#buf = Buffer.alloc(0);
  }
}

/** Hands `socket` to `server` through the LIST rewriter. */
export function attachWithListVerb(server: Server, socket: Socket): void {
  const rewriter = new ListRewriter();
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end();
      cb();
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    let more = true;
    for (const part of rewriter.feed(chunk)) more = duplex.push(part) && more;
    if (!more) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  socket.on('error', () => duplex.destroy());
  Object.assign(duplex, { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, setTimeout: () => duplex, setNoDelay: () => duplex, setKeepAlive: () => duplex });
  socket.setNoDelay(true);
  server.emit('connection', duplex);
}
