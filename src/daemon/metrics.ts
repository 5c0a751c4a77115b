import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditLog } from './audit/types.js';
import type { AccessGate } from './gate/access-gate.js';

/**
 * Prometheus metrics. A registry per daemon (not the global one) so tests and embedders can run
 * several daemons in one process. Failed revocations are the figure to alert on: exposure is then
 * capped only by the TTL.
 */
export interface DaemonMetrics {
  readonly registry: Registry;
  /** Text exposition for `GET /metrics`. */
  render(): Promise<string>;
}

export function createMetrics(gate: AccessGate, audit: AuditLog): DaemonMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'jitgated_' });
  const outcomes = new Counter({
    name: 'jitgate_request_outcomes_total',
    help: 'Requests reaching an outcome, by outcome and resource.',
    labelNames: ['outcome', 'resource'] as const,
    registers: [registry],
  });
  const revocations = new Counter({
    name: 'jitgate_revocations_total',
    help: 'Grant revocations by result; result="failed" means Vault could not be reached in time and the TTL is the backstop.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'jitgate_pending_requests',
    help: 'Requests waiting for approval.',
    registers: [registry],
    collect() {
      this.set(gate.pendingCount);
    },
  });
  new Gauge({
    name: 'jitgate_live_grants',
    help: 'Grants whose credentials are live.',
    registers: [registry],
    collect() {
      this.set(gate.liveGrantCount);
    },
  });
  new Gauge({
    name: 'jitgate_audit_healthy',
    help: '1 while audit appends succeed; 0 means no new grants are issued.',
    registers: [registry],
    collect() {
      this.set(audit.healthy ? 1 : 0);
    },
  });
  const breakGlass = new Counter({
    name: 'jitgate_break_glass_total',
    help: 'Requests granted by break-glass (without quorum), by resource and rule: each one needs a review.',
    labelNames: ['resource', 'rule'] as const,
    registers: [registry],
  });
  gate.onChange(({ type, request }) => {
    if (type === 'decided') outcomes.inc({ outcome: request.status, resource: request.resource });
    if (type === 'break_glass') breakGlass.inc({ resource: request.resource, rule: request.rule ?? '' });
  });
  gate.onRevocation((result) => {
    revocations.inc({ result });
  });
  return { registry, render: () => registry.metrics() };
}
