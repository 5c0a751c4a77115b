import type { Pool, PoolClient } from 'pg';
import { errorMessage, JitgateError, UnavailableError } from '../../common/errors.js';
import type { FleetLedger, LedgerRow, LedgerWrite } from '../gate/ports.js';
import { SQL } from '../state/postgres-statements.js';
import { type ApprovalRow, checkInteger, decodeApproval, decodeRequest, type RequestRow } from '../state/row-codec.js';

/** The channel every daemon of a fleet LISTENs on; the payload is `<node> <request id>`. */
export const FLEET_CHANNEL = 'jitgate_requests';

const SET_DIGEST = 'UPDATE approvals SET request_digest = $3 WHERE request_id = $1 AND subject = $2';
const LOCK_REQUEST = 'SELECT * FROM requests WHERE id = $1 FOR UPDATE';
const LIST_APPROVALS = 'SELECT * FROM approvals WHERE request_id = $1 ORDER BY at, seq';
// changed_at is the database's clock: the owner's reconcile compares it with nothing but itself.
const MARK_CHANGED = `
  UPDATE requests
     SET status = coalesce($2, status), status_reason = coalesce($3, status_reason),
         updated_at = CASE WHEN $2::text IS NULL THEN updated_at ELSE $4 END,
         changed_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint
   WHERE id = $1`;

/**
 * The fleet's shared decisions on PostgreSQL: one transaction per decision, holding the request's
 * row lock from the read to the write, and a NOTIFY (delivered at commit) that wakes the owner.
 */
export class PostgresLedger implements FleetLedger {
  readonly #pool: Pool;
  readonly node: string;
  readonly #now: () => number;

  constructor(pool: Pool, node: string, now: () => number) {
    this.#pool = pool;
    this.node = node;
    this.#now = now;
  }

  async decide<T>(id: string, decide: (row: LedgerRow) => Promise<LedgerWrite<T>>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw unavailable(err);
    }
    try {
      await client.query('BEGIN');
      const request = (await client.query<RequestRow>(LOCK_REQUEST, [id])).rows[0];
      const approvals = request ? (await client.query<ApprovalRow>(LIST_APPROVALS, [id])).rows.map(decodeApproval) : [];
      const write = await decide({ request: request ? decodeRequest(request) : undefined, approvals });
      const { approval, status } = write;
      if (approval) {
        await client.query(SQL.addApproval, [
          approval.requestId, approval.subject, approval.name, approval.trust, approval.decision, approval.comment ?? null,
          checkInteger('at', approval.at), approval.channel, this.node, approval.groups === undefined ? null : JSON.stringify(approval.groups),
        ]);
        await client.query(SET_DIGEST, [approval.requestId, approval.subject, approval.requestDigest ?? null]);
      }
      if (approval || status) {
        await client.query(MARK_CHANGED, [id, status?.status ?? null, status?.statusReason ?? null, this.#now()]);
        await client.query('SELECT pg_notify($1, $2)', [FLEET_CHANNEL, `${this.node} ${id}`]);
      }
      await client.query('COMMIT');
      return write.result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err instanceof JitgateError ? err : unavailable(err);
    } finally {
      client.release();
    }
  }
}

function unavailable(err: unknown): UnavailableError {
  return new UnavailableError(`state store: decision failed: ${errorMessage(err)}`, { cause: err, code: 'STATE_UNAVAILABLE' });
}
