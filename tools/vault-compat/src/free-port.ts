import { createServer } from 'node:net';

/**
 * Asks the kernel for a free TCP port on `host`. Only for programs that cannot listen on port 0
 * themselves (PostgreSQL): the port is released before it is returned, so a race is possible.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((err) => {
        if (err) reject(err);
        else if (port === 0) reject(new Error('could not determine a free port'));
        else resolve(port);
      });
    });
  });
}
