import { isGone, malformed } from './http-errors.js';
import type { VaultClient } from './api.js';
import { asRecord, dataOf, num, parseAuth } from './responses.js';
import { write, type VaultCall } from './transport.js';

const GONE_ACCESSOR = /invalid accessor|not found|no such/i;

type TokenApi = Pick<VaultClient, 'createChildToken' | 'revokeAccessor' | 'lookupAccessor' | 'lookupSelf' | 'loginAppRole' | 'renewSelf'>;

/** auth/token/* and AppRole login: the grant's child tokens and the daemon's own token. */
export function tokenApi(call: VaultCall): TokenApi {
  return {
    createChildToken: (req) => {
      const path = req.role === undefined ? 'auth/token/create' : `auth/token/create/${req.role}`;
      return call(
        path,
        // Not tokenCreate(): node-vault would replace the daemon's own token with the child's.
        write(path, {
          policies: [...req.policies],
          ttl: req.ttl,
          explicit_max_ttl: req.explicitMaxTtl,
          renewable: req.renewable,
          meta: { ...req.meta },
          display_name: req.displayName,
          no_default_policy: req.noDefaultPolicy ?? false,
        }),
        (body) => {
          const auth = parseAuth(path, body);
          if (auth.accessor === '') throw malformed(path, 'an accessor');
          return { token: auth.token, accessor: auth.accessor, leaseDurationS: auth.leaseDurationS };
        },
      );
    },

    revokeAccessor: async (accessor) => {
      try {
        await call('auth/token/revoke-accessor', write('auth/token/revoke-accessor', { accessor }), () => undefined);
      } catch (err) {
        if (isGone(err, GONE_ACCESSOR)) return;
        throw err;
      }
    },

    lookupAccessor: async (accessor) => {
      try {
        return await call('auth/token/lookup-accessor', write('auth/token/lookup-accessor', { accessor }), (body) => ({
          ttlS: num(dataOf('auth/token/lookup-accessor', body).ttl),
        }));
      } catch (err) {
        if (isGone(err, GONE_ACCESSOR)) return null;
        throw err;
      }
    },

    lookupSelf: () =>
      call(
        'auth/token/lookup-self',
        (vault) => vault.read('auth/token/lookup-self'),
        (body) => {
          const data = dataOf('auth/token/lookup-self', body);
          return { ttlS: num(data.ttl), renewable: data.renewable === true };
        },
      ),

    loginAppRole: (mount, roleId, secretId) => {
      const path = `auth/${mount.replace(/^\/+|\/+$/g, '')}/login`;
      return call(path, write(path, { role_id: roleId, secret_id: secretId }), (body) => {
        const auth = parseAuth(path, body);
        return { token: auth.token, leaseDurationS: auth.leaseDurationS, renewable: auth.renewable };
      });
    },

    renewSelf: () =>
      call('auth/token/renew-self', write('auth/token/renew-self', {}), (body) => {
        const auth = asRecord(asRecord(body)?.auth);
        if (!auth) throw malformed('auth/token/renew-self', 'auth');
        return { leaseDurationS: num(auth.lease_duration) };
      }),
  };
}
