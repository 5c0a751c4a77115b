import type Database from 'better-sqlite3';
import type { ApprovalRow, BreakGlassRow, GrantRow, RequestRow } from './row-codec.js';

/** Named parameters of a statement. */
export type Bind = Record<string, string | number | null>;

export interface Statements {
  insertRequest: Database.Statement<[Bind]>;
  transitionRequest: Database.Statement<[Bind]>;
  getRequest: Database.Statement<[string], RequestRow>;
  listRequests: Database.Statement<[Bind], RequestRow>;
  listRequestsByStatus: Database.Statement<[Bind], RequestRow>;
  countRequests: Database.Statement<[string], number>;
  addApproval: Database.Statement<[Bind]>;
  listApprovals: Database.Statement<[string], ApprovalRow>;
  insertBreakGlass: Database.Statement<[Bind]>;
  reviewBreakGlass: Database.Statement<[Bind]>;
  getBreakGlass: Database.Statement<[string], BreakGlassRow>;
  listBreakGlass: Database.Statement<[Bind], BreakGlassRow>;
  insertGrant: Database.Statement<[Bind]>;
  updateGrant: Database.Statement<[Bind]>;
  getGrant: Database.Statement<[string], GrantRow>;
  listGrants: Database.Statement<[string], GrantRow>;
  rememberTokenId: Database.Statement<[Bind]>;
  purgeTokenIds: Database.Statement<[Bind]>;
}

/** Prepares every statement once, at open: the store's hot paths only bind and run. */
export function prepareStatements(db: Database.Database): Statements {
return {
    insertRequest: db.prepare<[Bind]>(`
      INSERT INTO requests (id, resource, reason, context, claimed, ttl_ms, status, status_reason, rule,
                            require, created_at, expires_at, updated_at)
      VALUES (@id, @resource, @reason, @context, @claimed, @ttlMs, @status, @statusReason, @rule,
              @require, @createdAt, @expiresAt, @updatedAt)`),
    transitionRequest: db.prepare<[Bind]>(`
      UPDATE requests
         SET status = @status, status_reason = coalesce(@statusReason, status_reason), updated_at = @updatedAt
       WHERE id = @id AND status IN (SELECT value FROM json_each(@from))`),
    getRequest: db.prepare<[string], RequestRow>('SELECT * FROM requests WHERE id = ?'),
    listRequests: db.prepare<[Bind], RequestRow>('SELECT * FROM requests ORDER BY created_at DESC, rowid DESC LIMIT @limit'),
    listRequestsByStatus: db.prepare<[Bind], RequestRow>(`
      SELECT * FROM requests WHERE status IN (SELECT value FROM json_each(@statuses))
       ORDER BY created_at DESC, rowid DESC LIMIT @limit`),
    countRequests: db.prepare<[string], number>(
      'SELECT count(*) FROM requests WHERE status IN (SELECT value FROM json_each(?))',
    ).pluck(),
    addApproval: db.prepare<[Bind]>(`
      INSERT INTO approvals (request_id, subject, name, trust, decision, comment, at, channel)
      VALUES (@requestId, @subject, @name, @trust, @decision, @comment, @at, @channel)
      -- A subject counts once; an approver who changes their mind can still deny, and the denial wins.
      ON CONFLICT (request_id, subject) DO UPDATE
        SET name = excluded.name, trust = excluded.trust, decision = excluded.decision, comment = excluded.comment, at = excluded.at,
            channel = excluded.channel
        WHERE approvals.decision = 'approve' AND excluded.decision = 'deny'`),
    listApprovals: db.prepare<[string], ApprovalRow>('SELECT * FROM approvals WHERE request_id = ? ORDER BY at, rowid'),
    insertBreakGlass: db.prepare<[Bind]>('INSERT INTO break_glass (request_id, record, reviewed) VALUES (@requestId, @record, 0)'),
    reviewBreakGlass: db.prepare<[Bind]>('UPDATE break_glass SET record = @record, reviewed = 1 WHERE request_id = @requestId AND reviewed = 0'),
    getBreakGlass: db.prepare<[string], BreakGlassRow>('SELECT request_id, record FROM break_glass WHERE request_id = ?'),
    listBreakGlass: db.prepare<[Bind], BreakGlassRow>(
      'SELECT request_id, record FROM break_glass WHERE reviewed = 0 OR @all = 1 ORDER BY rowid',
    ),
    insertGrant: db.prepare<[Bind]>(`
      INSERT INTO grants (id, request_id, resource, accessor, lease_ids, status, created_at, expires_at, updated_at)
      VALUES (@id, @requestId, @resource, @accessor, @leaseIds, @status, @createdAt, @expiresAt, @updatedAt)`),
    updateGrant: db.prepare<[Bind]>(`
      UPDATE grants
         SET accessor = CASE WHEN @setAccessor THEN @accessor ELSE accessor END,
             lease_ids = coalesce(@leaseIds, lease_ids),
             status = coalesce(@status, status),
             expires_at = coalesce(@expiresAt, expires_at),
             updated_at = @updatedAt
       WHERE id = @id`),
    getGrant: db.prepare<[string], GrantRow>('SELECT * FROM grants WHERE id = ?'),
    listGrants: db.prepare<[string], GrantRow>(
      'SELECT * FROM grants WHERE status IN (SELECT value FROM json_each(?)) ORDER BY created_at, rowid',
    ),
    // Inserts, or takes over a row whose lifetime is over; a live row is left alone (changes = 0).
    rememberTokenId: db.prepare<[Bind]>(`
      INSERT INTO token_ids (issuer, jti, expires_at) VALUES (@issuer, @jti, @expiresAt)
      ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = excluded.expires_at
       WHERE token_ids.expires_at <= @now`),
    purgeTokenIds: db.prepare<[Bind]>(`
      DELETE FROM token_ids WHERE rowid IN
        (SELECT rowid FROM token_ids WHERE expires_at <= @now LIMIT @limit)`),
  };
}
