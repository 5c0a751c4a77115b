#!/usr/bin/env bash
# Builds jitgate_<version>_<arch>.deb from this checkout, with no network: the compiled dist/, the
# production dependencies already in node_modules/ (better-sqlite3 built for this Node ABI), the
# systemd units (service and socket), sysusers.d/tmpfiles.d entries, the example config and the Vault policy + setup.sh.
#   deploy/deb/build.sh [OUT_DIR]      (default: dist/deb)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-$top/dist/deb}
cd "$top"

version=$(node -p 'require("./package.json").version')
arch=$(dpkg --print-architecture)
[ -d node_modules ] || { echo "build.sh: node_modules/ is missing: run npm ci first" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
app=$stage/usr/lib/jitgate
mkdir -p "$app" "$stage/usr/bin" "$stage/DEBIAN"

# Compiled straight into the package tree: the checkout's own dist/ is left alone.
echo "--- compile"
npx tsc -p tsconfig.build.json --outDir "$app/dist"

echo "--- stage"
cp -r bin proto package.json README.md "$app/"
# Production dependencies only, exactly as installed (npm lists each package's folder).
mkdir -p "$app/node_modules"
npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2 | while read -r dir; do
  rel=${dir#"$top/"}
  mkdir -p "$app/$(dirname "$rel")"
  cp -r "$dir" "$app/$(dirname "$rel")/"
done
# better-sqlite3's C sources and build intermediates are not needed at run time.
rm -rf "$app/node_modules/better-sqlite3/deps" "$app/node_modules/better-sqlite3/src" \
  "$app/node_modules/better-sqlite3/build/Release/obj" "$app/node_modules/better-sqlite3/build/Release/.deps"

for bin in jitgate jitgated; do
  cat > "$stage/usr/bin/$bin" <<SH
#!/bin/sh
exec /usr/bin/node /usr/lib/jitgate/bin/$bin.js "\$@"
SH
  chmod 0755 "$stage/usr/bin/$bin"
done

install -D -m 0644 deploy/jitgated.service "$stage/usr/lib/systemd/system/jitgated.service"
install -D -m 0644 deploy/jitgated.socket "$stage/usr/lib/systemd/system/jitgated.socket"
install -D -m 0644 "$here/sysusers.conf" "$stage/usr/lib/sysusers.d/jitgate.conf"
install -D -m 0644 "$here/tmpfiles.conf" "$stage/usr/lib/tmpfiles.d/jitgate.conf"
install -D -m 0640 deploy/jitgated.example.yaml "$stage/etc/jitgated/jitgated.example.yaml"
# The Vault side (least-privilege policy + setup.sh, which finds the policy beside itself): run once
# by a Vault admin, e.g. /usr/share/jitgate/vault/setup.sh /etc/jitgated.
install -D -m 0644 deploy/vault/jitgated-policy.hcl "$stage/usr/share/jitgate/vault/jitgated-policy.hcl"
install -D -m 0755 deploy/vault/setup.sh "$stage/usr/share/jitgate/vault/setup.sh"
# Fleet mode: example configs for a runner and an approval plane, and the PostgreSQL roles script.
for f in approval-plane.yaml runner.yaml postgres-roles.sql; do
  install -D -m 0644 "deploy/fleet/$f" "$stage/usr/share/jitgate/fleet/$f"
done

size=$(du -sk "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" "$here/control" > "$stage/DEBIAN/control"
install -m 0755 "$here/postinst" "$stage/DEBIAN/postinst"
echo "/etc/jitgated/jitgated.example.yaml" > "$stage/DEBIAN/conffiles"

mkdir -p "$out"
deb="$out/jitgate_${version}_${arch}.deb"
echo "--- dpkg-deb"
dpkg-deb --root-owner-group -Zgzip --build "$stage" "$deb" >/dev/null
echo "$deb"
