export { createContextResolver } from './context-resolver.js';
export { createOidcContextResolver, type OidcContextResolverOptions } from './oidc-context-resolver.js';
export { createLocalContextResolver } from './local-context-resolver.js';
export { createLocalApproverResolver, LOCAL_APPROVER_HEADER } from './local-approver-resolver.js';
export { ContextMismatchError, type ContextMismatch, type ComparedField } from './context-mismatch-error.js';
export { assertClaimsMatch } from './compare-context.js';
export { GENERIC_CONTEXT_FIELDS, mapClaims, mapGenericClaims, mapGithubClaims, mapGitlabClaims } from './claim-mappings.js';
