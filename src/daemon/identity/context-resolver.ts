import type { ClaimedContext, RequestContext } from '../../model/context.js';
import { IdentityError } from '../../common/errors.js';
import type { ContextResolver } from '../gate/ports.js';
import { createLocalContextResolver } from './local-context-resolver.js';

/**
 * Picks how a request's context is established. A presented token always goes to OIDC, and a
 * token that fails verification is a denial: falling back to self-asserted context there would
 * let anyone downgrade a bad token into a trusted-looking request. Local (self-asserted) context is
 * used only when local mode is on and OIDC is not configured or no token was presented.
 */
export function createContextResolver(options: { local: boolean; oidc?: ContextResolver }): ContextResolver {
  const local = options.local ? createLocalContextResolver() : undefined;
  const { oidc } = options;
  return {
    resolve(idToken: string | undefined, claimed: ClaimedContext): Promise<RequestContext> {
      const hasToken = idToken !== undefined && idToken !== '';
      if (hasToken && oidc !== undefined) return oidc.resolve(idToken, claimed);
      if (local !== undefined) return local.resolve(undefined, claimed);
      return Promise.reject(
        new IdentityError(
          oidc === undefined
            ? 'no CI identity issuer is configured (identity.ci) and local trust mode is off'
            : 'a CI identity token is required (see `permissions: id-token: write` / GitLab `id_tokens`)',
        ),
      );
    },
  };
}
