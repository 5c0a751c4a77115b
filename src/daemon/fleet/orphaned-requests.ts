import type pg from 'pg';
import type { Clock } from '../../common/clock.js';
import type { TrustMode } from '../../model/context.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { DB_NOW_MS } from './heartbeat.js';
import { FLEET_CHANNEL } from './postgres-ledger.js';

const BATCH = 200;

// Unfinished requests of a dead node, from before it was declared dead.
const ORPHANED_REQUESTS = `
  SELECT r.id, r.status, r.context->>'trust' AS trust, r.owner_node
    FROM requests r JOIN nodes n ON n.id = r.owner_node
   WHERE n.dead_at IS NOT NULL AND n.id <> $1 AND r.created_at <= n.dead_at
     AND r.status IN ('pending','approved','granted')
   ORDER BY r.created_at, r.seq LIMIT ${String(BATCH)}`;
// The moves of the gate's state table (pending/approved → denied, granted → released), each a
// compare-and-set on the status read: of two sweepers, or the sweeper and a late decision, one wins.
// changed_at (the database's clock) lets the owner's reconcile see it, should the owner come back.
const END_REQUEST = `
  UPDATE requests SET status = $2, status_reason = $3, updated_at = $4, changed_at = ${DB_NOW_MS}
   WHERE id = $1 AND status = $5`;

interface RequestRow {
  readonly id: string;
  readonly status: 'pending' | 'approved' | 'granted';
  readonly trust: TrustMode | null;
  readonly owner_node: string;
}

/**
 * Ends the requests a dead node left unfinished: waiting or approved ones are denied, granted ones
 * (their grants revoked first) released; each in this daemon's audit log. Returns the ids it ended.
 */
export async function endOrphanedRequests(options: {
  readonly pool: pg.Pool;
  readonly node: string;
  readonly audit: AuditTrail;
  readonly clock: Clock;
  readonly reason: string;
}): Promise<string[]> {
  const { pool, node, audit, clock, reason } = options;
  const { rows } = await pool.query<RequestRow>(ORPHANED_REQUESTS, [node]);
  const ended: string[] = [];
  for (const request of rows) {
    const status = request.status === 'granted' ? 'released' : 'denied';
    const moved = await pool.query(END_REQUEST, [request.id, status, reason, clock.now(), request.status]);
    if (moved.rowCount !== 1) continue;
    ended.push(request.id);
    await audit.settled([
      audit.issue({ type: `request.${status}`, requestId: request.id, ...(request.trust ? { trust: request.trust } : {}), reason, ownerNode: request.owner_node }),
    ]);
  }
  return ended;
}

/** Tells the fleet (watchers on every daemon) that a request changed, as the ledger does. */
export async function notifyChange(pool: pg.Pool, node: string, id: string): Promise<void> {
  await pool.query('SELECT pg_notify($1, $2)', [FLEET_CHANNEL, `${node} ${id}`]).catch(() => undefined);
}
