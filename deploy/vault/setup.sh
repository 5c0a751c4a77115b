#!/usr/bin/env bash
# Sets up jitgated's least-privilege Vault identity. Safe to run again: every step is a write of
# the desired state, and an existing secret_id file is kept unless JITGATED_ROTATE_SECRET_ID=1.
#
#   VAULT_ADDR=https://vault.internal:8200 VAULT_TOKEN=<admin token> \
#   JITGATED_ALLOWED_POLICIES=jit-prod-db,deploy-prod \
#     deploy/vault/setup.sh /etc/jitgated
#
# Creates (names fixed: the policy file names the role path):
#   policy     jitgated                   deploy/vault/jitgated-policy.hcl
#   token role auth/token/roles/jitgated  allowed_policies, orphan=false, renewable=false,
#                                         token_explicit_max_ttl
#   AppRole    auth/<mount>/role/jitgated token_policies=jitgated
# and writes <dir>/vault-role-id and <dir>/vault-secret-id (mode 0600) for vault.auth.approle.
#
# Environment:
#   VAULT_ADDR, VAULT_TOKEN          required; the token needs admin rights for the steps above
#   JITGATED_ALLOWED_POLICIES        required; comma-separated: every policy a resource hands out
#   JITGATED_MAX_GRANT_TTL           default 1h: no grant token outlives it (token_explicit_max_ttl)
#   JITGATED_TOKEN_TTL / _MAX_TTL    default 4h / 24h: the daemon's own AppRole token. Grant tokens
#                                    are its children, so keep the TTL >= 3x JITGATED_MAX_GRANT_TTL
#   JITGATED_APPROLE_MOUNT           default approle (enabled if missing)
#   JITGATED_ROTATE_SECRET_ID=1      issue a new secret_id even if <dir>/vault-secret-id exists
#   VAULT_CACERT                     CA bundle for an https VAULT_ADDR
#
# Nothing secret is printed or passed on a command line: the admin token reaches curl through a
# 0600 config file, and the role_id / secret_id go from the response straight into their files.
set -euo pipefail

die() { echo "setup.sh: $*" >&2; exit 1; }

[[ $# -eq 1 ]] || die "usage: setup.sh <directory for vault-role-id and vault-secret-id>"
out_dir=$1
: "${VAULT_ADDR:?VAULT_ADDR must be set}"
[[ -n ${VAULT_TOKEN:-} ]] || die "VAULT_TOKEN must be set"
[[ -n ${JITGATED_ALLOWED_POLICIES:-} ]] || die "JITGATED_ALLOWED_POLICIES must list the resources' policies (comma-separated)"
command -v curl >/dev/null || die "curl is required"
command -v node >/dev/null || die "node is required (it builds and reads the JSON)"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
policy_file=$here/jitgated-policy.hcl
[[ -r $policy_file ]] || die "cannot read $policy_file"
mount=${JITGATED_APPROLE_MOUNT:-approle}
max_grant_ttl=${JITGATED_MAX_GRANT_TTL:-1h}
token_ttl=${JITGATED_TOKEN_TTL:-4h}
token_max_ttl=${JITGATED_TOKEN_MAX_TTL:-24h}
addr=${VAULT_ADDR%/}
mkdir -p "$out_dir"

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The token as a curl config line, so it never appears in `ps`.
printf 'header = "X-Vault-Token: %s"\n' "$VAULT_TOKEN" >"$work/curl.conf"
tls=()
[[ -n ${VAULT_CACERT:-} ]] && tls=(--cacert "$VAULT_CACERT")

# vault METHOD PATH [JSON on stdin] -> the HTTP status on stdout, the body in $work/body.
vault() {
  local method=$1 path=$2 data=()
  [[ $method == GET ]] || data=(--data-binary @-)
  curl -sS "${tls[@]}" -K "$work/curl.conf" -X "$method" -H 'Content-Type: application/json' \
    "${data[@]}" -o "$work/body" -w '%{http_code}' "$addr/v1/$path"
}
# Fails with Vault's error list (never a request body: those may hold secrets).
expect() {
  local got=$1 what=$2; shift 2
  for ok in "$@"; do [[ $got == "$ok" ]] && return 0; done
  die "$what: HTTP $got $(node -e 'try{const b=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log((b.errors||[]).join("; "))}catch{}' <"$work/body")"
}
# JSON from node, so policy text and lists are quoted correctly whatever they contain.
json() { node -e "$1" "${@:2}"; }

# 1. The daemon's policy.
status=$(json 'process.stdout.write(JSON.stringify({policy:require("fs").readFileSync(process.argv[1],"utf8")}))' "$policy_file" | vault PUT sys/policies/acl/jitgated)
expect "$status" "writing policy jitgated" 200 204

# 2. The token role every grant is minted through.
status=$(json 'const p=process.argv[1].split(",").map(s=>s.trim()).filter(Boolean);
  process.stdout.write(JSON.stringify({allowed_policies:p,disallowed_policies:["root","jitgated"],orphan:false,renewable:false,token_explicit_max_ttl:process.argv[2]}))' \
  "$JITGATED_ALLOWED_POLICIES" "$max_grant_ttl" | vault POST auth/token/roles/jitgated)
expect "$status" "writing token role jitgated" 200 204

# 3. AppRole, enabled if missing ("already in use" is fine), and the daemon's role.
status=$(echo '{"type":"approle"}' | vault POST "sys/auth/$mount")
if [[ $status == 400 ]] && grep -q 'already in use' "$work/body"; then status=204; fi
expect "$status" "enabling auth/$mount" 200 204
status=$(json 'process.stdout.write(JSON.stringify({token_policies:["jitgated"],token_ttl:process.argv[1],token_max_ttl:process.argv[2],token_type:"service"}))' \
  "$token_ttl" "$token_max_ttl" | vault POST "auth/$mount/role/jitgated")
expect "$status" "writing AppRole jitgated" 200 204

# 4. Credentials for vault.auth.approle, written without ever being printed.
write_field() { # field file: data.<field> of $work/body into file (0600)
  node -e 'const fs=require("fs");const v=JSON.parse(fs.readFileSync(process.argv[1],"utf8")).data?.[process.argv[2]];
    if(typeof v!=="string"||v===""){process.exit(1)}fs.writeFileSync(process.argv[3],v+"\n",{mode:0o600});fs.chmodSync(process.argv[3],0o600)' \
    "$work/body" "$1" "$2" || die "Vault's answer has no $1"
}
status=$(vault GET "auth/$mount/role/jitgated/role-id" </dev/null)
expect "$status" "reading the role_id" 200
write_field role_id "$out_dir/vault-role-id"
if [[ ! -s $out_dir/vault-secret-id || ${JITGATED_ROTATE_SECRET_ID:-0} == 1 ]]; then
  status=$(echo '{}' | vault POST "auth/$mount/role/jitgated/secret-id")
  expect "$status" "issuing a secret_id" 200
  write_field secret_id "$out_dir/vault-secret-id"
  echo "setup.sh: wrote $out_dir/vault-role-id and $out_dir/vault-secret-id"
else
  echo "setup.sh: wrote $out_dir/vault-role-id; kept the existing $out_dir/vault-secret-id"
fi
echo "setup.sh: done. In jitgated.yaml set vault.token_role: jitgated and vault.auth.approle.{role_id_file,secret_id_file}."
