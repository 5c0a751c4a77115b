import type { Broker } from './broker.js';
import type { WrappingBroker } from './wrapped-grant.js';

/**
 * Takes the Vault login off the cold-start path. Authentication is not needed to answer health or
 * hold pending requests, only to talk to Vault, so it starts on the first Vault call (orphan
 * recovery, a mint) or when `authenticate()` is called once serving, whichever comes first, and
 * every Vault call waits for it. A failed login is reported once and the call proceeds as it did
 * before: Vault refuses it and the caller fails closed (UNAVAILABLE).
 */
export function deferAuthentication(
  broker: Broker & { authenticate?(): Promise<void> } & Partial<WrappingBroker>,
  onError: (err: unknown) => void,
): Broker & { authenticate(): Promise<void> } & Partial<WrappingBroker> {
  let auth: Promise<void> | undefined;
  const authenticated = (): Promise<void> =>
    (auth ??= (async () => {
      try {
        await broker.authenticate?.();
      } catch (err) {
        onError(err);
      }
    })());
  // The plane's wrapped mint (fleet.mint: plane), when the broker has one, waits for the login too.
  const { mintWrapped } = broker;
  const wrapping: Partial<WrappingBroker> = mintWrapped
    ? {
        async mintWrapped(resource, ttlMs, meta, wrapTtlS, onAccessor) {
          await authenticated();
          return mintWrapped(resource, ttlMs, meta, wrapTtlS, onAccessor);
        },
      }
    : {};
  return {
    ...wrapping,
    async mint(resource, ttlMs, meta, onAccessor) {
      await authenticated();
      return broker.mint(resource, ttlMs, meta, onAccessor);
    },
    async revoke(accessor, leaseIds) {
      await authenticated();
      return broker.revoke(accessor, leaseIds);
    },
    async check() {
      await authenticated();
      return broker.check();
    },
    async close() {
      // A login still in flight would otherwise schedule token refreshes after close.
      await auth;
      return broker.close();
    },
    authenticate: authenticated,
  };
}
