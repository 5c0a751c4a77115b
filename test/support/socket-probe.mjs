// Connects to a jitgated Unix socket as whatever user runs it (the socket tests run it as other
// users) and prints one JSON line: the connect error code, or the grpc.health.v1 answer for "".
// Plain JavaScript, so it runs with plain node under any uid that can read the checkout.
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';

const socket = process.argv[2];
if (!socket) throw new Error('usage: socket-probe.mjs SOCKET');

function print(result) {
  process.stdout.write(`${JSON.stringify({ uid: process.getuid(), ...result })}\n`);
}

// The raw connect first: it is what EACCES (directory or socket mode) shows up on.
const connectError = await new Promise((resolve) => {
  const sock = connect({ path: socket });
  sock.once('connect', () => {
    sock.destroy();
    resolve(undefined);
  });
  sock.once('error', (err) => resolve(err.code ?? err.message));
});
if (connectError !== undefined) {
  print({ connected: false, code: connectError });
} else {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, { keepCase: true, enums: String }));
  const client = new pkg.grpc.health.v1.Health(`unix:${socket}`, grpc.credentials.createInsecure());
  client.Check({ service: '' }, { deadline: Date.now() + 10_000 }, (err, res) => {
    print(err ? { connected: true, code: grpc.status[err.code] } : { connected: true, health: res.status });
    client.close();
  });
}
