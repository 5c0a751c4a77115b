import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { StateConfig } from '../config/types.js';
import type { StateStore } from './store.js';

/** Opens the store the configuration names. Throws UnavailableError when it cannot be opened. */
export async function openStateStore(
  config: StateConfig,
  deps: { readonly clock: Clock; readonly logger?: Logger },
): Promise<StateStore> {
  // Only the configured driver is loaded (pg and better-sqlite3 each cost start-up time).
  if (config.kind === 'sqlite') return (await import('./sqlite-store.js')).openSqliteStore({ path: config.path, clock: deps.clock });
  const { openPostgresStore } = await import('./postgres-store.js');
  return openPostgresStore({ url: config.url, clock: deps.clock, ...(deps.logger ? { logger: deps.logger } : {}) });
}
