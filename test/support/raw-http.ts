import { connect } from 'node:net';

/** Sends raw bytes to `address` (host:port) and collects whatever comes back until the server closes or ends the reply. */
export function rawRequest(address: string, data: string | Buffer): Promise<string> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const socket = connect(Number(port), host ?? '127.0.0.1');
    let out = '';
    socket.on('data', (c: Buffer) => (out += c.toString('utf8')));
    socket.on('error', () => undefined); // the server may reset after refusing: the reply is what matters
    socket.on('close', () => {
      resolve(out);
    });
    socket.write(data);
    socket.on('data', () => {
      if (/\r\n\r\n/.test(out)) socket.end();
    });
  });
}
