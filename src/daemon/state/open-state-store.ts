import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { StateConfig } from '../config/types.js';
import { openPostgresStore } from './postgres-store.js';
import { openSqliteStore } from './sqlite-store.js';
import type { StateStore } from './store.js';

/** Opens the store the configuration names. Throws UnavailableError when it cannot be opened. */
export async function openStateStore(
  config: StateConfig,
  deps: { readonly clock: Clock; readonly logger?: Logger },
): Promise<StateStore> {
  if (config.kind === 'sqlite') return openSqliteStore({ path: config.path, clock: deps.clock });
  return openPostgresStore({ url: config.url, clock: deps.clock, ...(deps.logger ? { logger: deps.logger } : {}) });
}
