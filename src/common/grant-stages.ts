import { channel } from 'node:diagnostics_channel';

/**
 * The moments of one grant, in order, published on the diagnostics channel `jitgate:grant-stage`
 * for whoever subscribes inside the daemon's process (bench/grant-timeline.ts preloads a
 * subscriber to time each step of the grant path). Nothing subscribes in production; a publish is
 * then one `hasSubscribers` check. The message carries the stage name and a monotonic time only:
 * no ids, no credentials.
 */
export type GrantStage =
  | 'received'
  | 'admitted'
  | 'request-recorded'
  | 'intent-issued'
  | 'intent-durable'
  | 'vault-sent'
  | 'vault-answered'
  | 'token-created'
  | 'accessor-recorded'
  | 'minted'
  | 'grant-recorded'
  | 'replied';

export interface GrantStageMessage {
  readonly stage: GrantStage;
  /** `process.hrtime.bigint()` at the moment. */
  readonly at: bigint;
}

export const GRANT_STAGE_CHANNEL = 'jitgate:grant-stage';

const stages = channel(GRANT_STAGE_CHANNEL);

export function grantStage(stage: GrantStage): void {
  if (stages.hasSubscribers) stages.publish({ stage, at: process.hrtime.bigint() } satisfies GrantStageMessage);
}
