# jitgated's own Vault policy: exactly what the daemon calls, nothing more.
# Applied by deploy/vault/setup.sh; the daemon logs in with the AppRole `jitgated` that carries it.
#
# Not here, on purpose:
#   - plain auth/token/create and create-orphan: grants are minted only through the token role
#     below, whose allowed_policies (not this policy) bound what a grant may carry;
#   - any read of a secret path (database/creds/*, secret/data/*): the daemon reads a resource's
#     `read:` path WITH the grant's own child token, so the lease is the child's and this token
#     never sees a secret through its own identity;
#   - auth/token/revoke, revoke-orphan, accessors, sys/leases/revoke-prefix, sys/policies/*.

# Mint: one child token per grant, through the token role (auth/token/roles/jitgated).
path "auth/token/create/jitgated" {
  capabilities = ["update"]
}

# Release and orphan recovery: the daemon stores a grant's token accessor, never the token.
path "auth/token/revoke-accessor" {
  capabilities = ["update"]
}
path "auth/token/lookup-accessor" {
  capabilities = ["update"]
}

# Release: a grant's dynamic-secret leases are revoked synchronously before its token.
path "sys/leases/revoke" {
  capabilities = ["update"]
}

# The daemon's own token: health check (lookup-self) and keeping it alive (renew-self).
# Also in Vault's `default` policy; listed so the daemon works with token_no_default_policy too.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
