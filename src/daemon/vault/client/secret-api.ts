import { isGone, malformed } from './http-errors.js';
import type { VaultClient } from './api.js';
import { asRecord, num } from './responses.js';
import { write, type VaultCall } from './transport.js';

// Vault answers 204 for unknown leases; some versions say 400 "invalid lease".
const GONE_LEASE = /invalid lease|not found/i;

type SecretApi = Pick<VaultClient, 'health' | 'read' | 'revokeLease'>;

/** Seal status, secret reads and their leases. */
export function secretApi(call: VaultCall): SecretApi {
  return {
    health: () =>
      call(
        'sys/health',
        // sys/health answers 429/472/473 for standbys and 503 when sealed; node-vault hands any of
        // those back as a body, so the seal status is read from the body.
        (vault) => vault.request({ path: '/sys/health?standbyok=true&perfstandbyok=true', method: 'GET' }),
        (body) => {
          const b = asRecord(body);
          if (typeof b?.sealed !== 'boolean' || typeof b.initialized !== 'boolean') throw malformed('sys/health', 'a seal status');
          return { initialized: b.initialized, sealed: b.sealed };
        },
      ),

    read: (path, token) =>
      call(
        path,
        (vault) => vault.read(path, { headers: { 'X-Vault-Token': token } }),
        (body) => {
          const b = asRecord(body);
          const data = asRecord(b?.data);
          if (!b || !data) throw malformed(path, 'data');
          const leaseId = typeof b.lease_id === 'string' && b.lease_id !== '' ? b.lease_id : null;
          return { leaseId, leaseDurationS: num(b.lease_duration), data };
        },
      ),

    revokeLease: async (leaseId) => {
      try {
        await call('sys/leases/revoke', write('sys/leases/revoke', { lease_id: leaseId, sync: true }), () => undefined);
      } catch (err) {
        if (isGone(err, GONE_LEASE)) return;
        throw err;
      }
    },
  };
}
