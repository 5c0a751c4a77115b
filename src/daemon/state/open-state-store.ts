import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import { readSecretFile } from '../../common/secret-file.js';
import type { StateConfig } from '../config/types.js';
import type { StateStore } from './store.js';

/** Opens the store the configuration names. Throws UnavailableError when it cannot be opened, ConfigError when its password file is unusable. */
export async function openStateStore(
  config: StateConfig,
  deps: { readonly clock: Clock; readonly logger?: Logger; readonly node?: string },
): Promise<StateStore> {
  // Only the configured driver is loaded (pg and better-sqlite3 each cost start-up time).
  if (config.kind === 'sqlite') return (await import('./sqlite-store.js')).openSqliteStore({ path: config.path, clock: deps.clock });
  // The URL never holds the password (inline secrets are refused): it comes from `state.password_file`.
  const password = config.passwordFile !== undefined ? await readSecretFile(config.passwordFile, 'state.password_file') : undefined;
  const { openPostgresStore } = await import('./postgres-store.js');
  return openPostgresStore({
    url: config.url,
    clock: deps.clock,
    ...(password !== undefined ? { password } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.node !== undefined ? { node: deps.node } : {}),
  });
}
