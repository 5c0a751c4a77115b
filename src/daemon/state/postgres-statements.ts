/**
 * Every statement, named so that each pooled connection prepares it once and reuses the plan.
 * The compare-and-set needs no row lock: under READ COMMITTED a second UPDATE of the same row waits
 * for the first to commit, then re-checks its WHERE against the new row and changes nothing.
 */
export const SQL = {
  insertRequest: `
    INSERT INTO requests (id, resource, reason, context, claimed, ttl_ms, status, status_reason, rule,
                          require, created_at, expires_at, updated_at, owner_node)
    VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $14)`,
  transitionRequest: `
    UPDATE requests SET status = $2, status_reason = coalesce($3, status_reason), updated_at = $4
     WHERE id = $1 AND status = ANY($5::text[])`,
  getRequest: 'SELECT * FROM requests WHERE id = $1',
  // LIMIT NULL means no limit.
  listRequests: 'SELECT * FROM requests ORDER BY created_at DESC, seq DESC LIMIT $1',
  listRequestsByStatus: `
    SELECT * FROM requests WHERE status = ANY($1::text[]) ORDER BY created_at DESC, seq DESC LIMIT $2`,
  // This node's own (orphan recovery): a fleet's other daemons still vouch for theirs.
  listOwnRequestsByStatus: `
    SELECT * FROM requests WHERE owner_node = $3 AND status = ANY($1::text[]) ORDER BY created_at DESC, seq DESC LIMIT $2`,
  countRequests: 'SELECT count(*) AS n FROM requests WHERE status = ANY($1::text[])',
  addApproval: `
    INSERT INTO approvals (request_id, subject, name, trust, decision, comment, at, channel, node, groups)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)
    -- A subject counts once; an approver who changes their mind can still deny, and the denial wins.
    ON CONFLICT (request_id, subject) DO UPDATE
        SET name = excluded.name, trust = excluded.trust, decision = excluded.decision, comment = excluded.comment, at = excluded.at,
            channel = excluded.channel, node = excluded.node, groups = excluded.groups
        WHERE approvals.decision = 'approve' AND excluded.decision = 'deny'`,
  listApprovals: 'SELECT * FROM approvals WHERE request_id = $1 ORDER BY at, seq',
  insertBreakGlass: 'INSERT INTO break_glass (request_id, record, reviewed) VALUES ($1, $2::jsonb, false)',
  reviewBreakGlass: 'UPDATE break_glass SET record = $2::jsonb, reviewed = true WHERE request_id = $1 AND NOT reviewed',
  getBreakGlass: 'SELECT request_id, record FROM break_glass WHERE request_id = $1',
  listBreakGlass: 'SELECT request_id, record FROM break_glass WHERE NOT reviewed OR $1::boolean ORDER BY seq',
  insertGrant: `
    INSERT INTO grants (id, request_id, resource, accessor, lease_ids, status, created_at, expires_at, updated_at, owner_node)
    VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10)`,
  updateGrant: `
    UPDATE grants
       SET accessor = CASE WHEN $2::boolean THEN $3 ELSE accessor END,
           lease_ids = coalesce($4::jsonb, lease_ids),
           status = coalesce($5, status),
           expires_at = coalesce($6::bigint, expires_at),
           updated_at = $7
     WHERE id = $1`,
  getGrant: 'SELECT * FROM grants WHERE id = $1',
  // Only this node's grants: in a fleet, another daemon's are its own (or the fleet sweeper's) to revoke.
  listGrants: 'SELECT * FROM grants WHERE owner_node = $2 AND status = ANY($1::text[]) ORDER BY created_at, seq',
  rememberTokenId: `
    INSERT INTO token_ids (issuer, jti, expires_at) VALUES ($1, $2, $3)
    ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = excluded.expires_at
     WHERE token_ids.expires_at <= $4`,
  purgeTokenIds: `
    DELETE FROM token_ids WHERE ctid IN
      (SELECT ctid FROM token_ids WHERE expires_at <= $1 LIMIT $2)`,
} as const;

export type StatementName = keyof typeof SQL;
