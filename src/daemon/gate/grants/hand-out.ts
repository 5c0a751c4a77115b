import type { AccessUpdate, ApprovalView, GrantHandle } from '../../../model/request.js';
import type { MintedGrant } from '../../vault/broker.js';
import type { GateCore } from '../gate-core.js';
import type { LiveGrant, LiveGrants } from './live-grants.js';
import type { Revocations } from './revocations.js';

/**
 * Gives the credentials to the step and holds the grant until it ends: release, TTL, the step's
 * stream breaking or closing. Whichever comes first revokes; the stream then says `released`.
 */
export async function* handOut(
  parts: { readonly core: GateCore; readonly grants: LiveGrants; readonly revocations: Revocations },
  live: LiveGrant,
  minted: MintedGrant,
  approvals: readonly ApprovalView[],
  approvers: readonly string[],
  signal: AbortSignal,
): AsyncGenerator<AccessUpdate> {
  const { core, grants, revocations } = parts;
  const { clock, views } = core;
  const { stored: grant, request } = live;
  // The TTL is Vault's backstop; the timer just ends the stream and the record at the same moment.
  live.timer = clock.setTimeout(() => void revocations.revokeLive(live, 'ttl elapsed'), minted.ttlMs);
  live.timer.unref();
  const onAbort = (): void => void revocations.revokeLive(live, 'requester disconnected');
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();

  const handle: GrantHandle = { id: grant.id, releaseToken: live.releaseToken, credentials: minted.credentials, ttlMs: minted.ttlMs, expiresAt: grant.expiresAt };
  const grantedView = views.view({ ...request, status: 'granted' }, approvals, approvers, grant.id);
  // Observers (watchers, notifiers, metrics) and the log hear of the grant on the loop's next
  // check phase, after HTTP/2 has sent the reply (its writes are native immediates, which run
  // first): the step is not kept waiting on a log line or a notifier's queue.
  setImmediate(() => {
    core.log.info({ requestId: request.id, resource: request.resource, grantId: grant.id, ttlMs: minted.ttlMs }, 'granted');
    views.emit('decided', grantedView);
  });
  try {
    yield { kind: 'granted', request: grantedView, grant: handle };
    let why = 'released';
    for await (const reason of live.ended) why = reason;
    yield { kind: 'released', request: views.view({ ...request, status: 'released', statusReason: why }, approvals, approvers, grant.id) };
  } finally {
    signal.removeEventListener('abort', onAbort);
    // The consumer stopped iterating (stream closed): the step is gone, so is its grant.
    if (grants.has(grant.id)) await revocations.revokeLive(live, 'stream closed');
  }
}
