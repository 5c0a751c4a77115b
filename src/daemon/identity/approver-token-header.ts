/**
 * Header that carries the approver's IdP token, as the gRPC layer hands it over (lower-cased).
 * Its own module so that checking for it does not load jose (the IdP verifier) at start-up.
 */
export const APPROVER_TOKEN_HEADER = 'authorization';
