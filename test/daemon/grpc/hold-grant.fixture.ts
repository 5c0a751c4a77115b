// Child process for disconnect tests: holds a grant on the socket given as argv[2] until killed.
import * as grpc from '@grpc/grpc-js';
import { loadJitgateProto } from '../../../src/daemon/grpc/load-proto.js';
import type { AccessUpdate__Output } from '../../../src/generated/jitgate/v1/AccessUpdate.js';

const { proto } = loadJitgateProto();
const client = new proto.jitgate.v1.AccessService(`unix:${process.argv[2] ?? ''}`, grpc.credentials.createInsecure());
const call = client.RequestAccess({ resource: process.argv[3] ?? 'auto-db' });
call.on('data', (u: AccessUpdate__Output) => {
  process.stdout.write(`${u.state} ${u.request?.id ?? ''}\n`);
});
call.on('error', () => process.exit(2));
