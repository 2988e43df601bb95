#!/usr/bin/env bash
# The main job on the embedded defaults, offline, in seconds:
#   a maintainer's machine infers, locks, builds and publishes the env of a repo to the
#   local directory cache; a fresh machine (a new ZAGI_HOME) runs `zagi clone` and gets
#   the env as a download ("cached"), then runs the locked tool.
# Uses the stand-in nixpkgs (fixtures/nixpkgs) and the real Nix on this machine.
set -euo pipefail
repo_root=$(cd "$(dirname "$0")/.." && pwd)
zagi=${ZAGI:-$repo_root/.venv/bin/zagi}
export ZAGI_NIXPKGS=$repo_root/fixtures/nixpkgs
work=$(mktemp -d "${TMPDIR:-/tmp}/zagi-demo.XXXXXX")
trap 'rm -rf "$work/maintainer/roots" "$work/user/roots"; rm -rf "$work"' EXIT
git_id=(-c user.name=demo -c user.email=demo@example.org)

# Offline (as here), Nix would spend seconds per call failing to reach cache.nixos.org:
# configure Nix the way an offline user does. zagi itself never touches substituters.
if [ -z "${NIX_CONFIG:-}" ] && ! curl -sf --max-time 3 -o /dev/null https://cache.nixos.org/nix-cache-info 2>/dev/null; then
  echo "(offline: NIX_CONFIG='substituters =' for this demo)"
  export NIX_CONFIG="substituters ="
fi

echo "== maintainer: zagi init, sync, publish"
export ZAGI_HOME=$work/maintainer
cp -r "$repo_root/fixtures/demo" "$work/app"
cd "$work/app" && git init -q && git "${git_id[@]}" add -A && git "${git_id[@]}" commit -qm app
"$zagi" init >/dev/null
"$zagi" sync
key=$("$zagi" keys generate demo-cache-1 2>/dev/null)
"$zagi" publish                      # to the local cache: file://$ZAGI_HOME/cache
printf '[cache]\nurls = ["file://%s/cache"]\npublic_keys = ["%s"]\n' "$ZAGI_HOME" "$key" \
  > .zagi/config.toml
git "${git_id[@]}" add -A && git "${git_id[@]}" commit -qm "zagi env"

echo "== the env's store paths are deleted, so the clone below has to download them"
rm -rf "$ZAGI_HOME/roots"
closure=$(python3 -c 'import json; l = json.load(open(".zagi/env.lock"))
print(" ".join(p["path"] for s in l["systems"].values() for p in s.get("closure", [])))')
# Nix deletes a path only with everything that refers to it, and keeps a .drv while its
# outputs live: take the referrers, and the outputs of referring .drv files, in one call.
doomed=$(for p in $closure; do nix-store -q --referrers-closure "$p" 2>/dev/null; done | sort -u)
drvs=$(printf '%s\n' $doomed | grep '\.drv$' || true)
[ -n "$drvs" ] && doomed="$doomed $(nix-store -q --outputs $drvs 2>/dev/null)"
nix-store --delete $doomed >/dev/null 2>&1 || true
left=0; for p in $closure; do [ -e "$p" ] && left=$((left + 1)); done
echo "   $left of $(wc -w <<<"$closure") path(s) still in the store (kept alive by something else)"

echo "== a fresh machine: zagi clone, trusting the maintainer's key (the repo only suggests it)"
export ZAGI_HOME=$work/user
cd "$work"
"$zagi" clone --trust "$key" "$work/app" clone
"$zagi" run -C clone -- node --version
