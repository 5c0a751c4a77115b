/**
 * The Vault-compatible server (with its PostgreSQL database engine) in a process of its own, so its
 * CPU is not shared with the bench's clients and its event loop is not delayed by theirs. Prints
 * one JSON line with the address when ready; stops on SIGTERM or when stdin closes (the bench died).
 */
import { startVaultWithDatabase } from '../tools/vault-compat/src/start.js';

const env = await startVaultWithDatabase();
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  env.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();

const announce = {
  address: env.vault.address,
  rootToken: env.vault.rootToken,
  pgUrl: env.pg.url,
  dbRole: env.dbRole,
  policies: env.policies,
};
process.stdout.write(`${JSON.stringify(announce)}\n`);
