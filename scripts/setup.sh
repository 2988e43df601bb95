#!/usr/bin/env bash
# One command that makes a fresh Debian machine ready to develop and test zagi.
# Idempotent: a second run checks everything, changes nothing, and says so.
#   - system packages (Nix from Debian's nix-bin, git, zsh, fish, direnv, age,
#     bubblewrap (the `zagi agent` sandbox), tmux (the agent attack tests try to drive a
#     server outside), strace, with which the hook tests prove a prompt starts no process,
#     busybox-static, the stand-in package set's bootstrap shell, and patchelf, with which
#     Debian's servers are bundled for it) when missing and we are root; otherwise prints
#     the exact command to run;
#   - the stand-in set's real servers (postgres 13 and 15, redis, mariadb, memcached):
#     Debian's packages downloaded, never installed (scripts/standin_servers.py);
#   - Nix single-user setup as Debian ships it (nixbld build users, sandbox = false);
#   - .venv with zagi installed editable, with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

say()  { printf '  %-8s %s\n' "$1" "$2"; }
need_root_cmd=()

# --- system packages --------------------------------------------------------
# command -> Debian package that provides it
declare -A PKG=( [nix-build]=nix-bin [git]=git [zsh]=zsh [fish]=fish [direnv]=direnv [age]=age
                 [strace]=strace [script]=bsdutils [bwrap]=bubblewrap [tmux]=tmux
                 [busybox]=busybox-static [patchelf]=patchelf [dpkg-deb]=dpkg [cc]=gcc
                 [pkg-config]=pkg-config )
missing=()
for cmd in nix-build git zsh fish direnv age strace script bwrap tmux busybox patchelf dpkg-deb cc pkg-config; do
  if command -v "$cmd" >/dev/null 2>&1; then say ok "$cmd ($(command -v "$cmd"))"
  else missing+=("${PKG[$cmd]}"); fi
done
# A fresh Debian has python3 but not always its venv module.
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then missing+=(python3-venv); fi

if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say install "${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    need_root_cmd+=("sudo apt-get install -y ${missing[*]}")
  fi
fi

# --- Nix as Debian's nix-bin needs it -----------------------------------------
if command -v nix-build >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  if ! getent group nixbld >/dev/null; then
    say create "nixbld group and build users nixbld1..4 (Nix builds as them)"
    groupadd --system nixbld
    for i in 1 2 3 4; do
      useradd --system --no-create-home --home-dir /var/empty \
        --shell /usr/sbin/nologin -g nixbld -G nixbld "nixbld$i"
    done
  else say ok "nixbld build users"; fi
  if [ ! -e /etc/nix/nix.conf ]; then
    # Debian's nix runs without a daemon here; its sandbox needs namespaces that
    # containers often lack, so Debian's documented default is sandbox = false.
    say write "/etc/nix/nix.conf (build-users-group = nixbld, sandbox = false)"
    mkdir -p /etc/nix
    printf 'build-users-group = nixbld\nsandbox = false\n' > /etc/nix/nix.conf
  else say ok "/etc/nix/nix.conf exists (left as is)"; fi
fi

# --- the unprivileged user the daemon tests run zagi as -------------------------
# (tests/integration/machine.py: a real nix-daemon that does not trust its user)
if [ "$(id -u)" = 0 ]; then
  if ! id zagi-tester >/dev/null 2>&1; then
    say create "user zagi-tester (the daemon tests' untrusted Nix user)"
    useradd --create-home --shell /bin/sh zagi-tester
  else say ok "test user zagi-tester"; fi
fi

# --- the stand-in package set's bootstrap -------------------------------------
# Its builders may use only store paths (so it builds in Nix's sandbox, as nixpkgs
# does); a statically linked busybox is the one binary it imports into the store.
boot=fixtures/nixpkgs/bootstrap/busybox
static_busybox() { bb=$(command -v busybox 2>/dev/null) && { ldd "$bb" 2>&1 || true; } | grep -q 'not a dynamic'; }
if ! static_busybox && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  say install "busybox-static (a dynamic busybox is not enough: the stand-in set runs it in the Nix sandbox)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
fi
if static_busybox; then
  if ! cmp -s "$bb" "$boot"; then
    say copy "$bb -> $boot (static; the stand-in set's bootstrap)"; cp "$bb" "$boot"; chmod 755 "$boot"
  else say ok "stand-in bootstrap ($boot)"; fi
else
  need_root_cmd+=("sudo apt-get install -y busybox-static   # a static busybox for the stand-in set")
fi

# --- the stand-in package set's libraries ---------------------------------------
# Real shared objects, as nixpkgs' libraries are, so tests compile and run a C program
# against the env. The set has no compiler of its own (its builders use busybox only),
# so they are compiled here once, as its bootstrap is provided: each exports
# <name>_ok(), which returns 42. The set copies them into its libraries' `out` outputs.
libs=fixtures/nixpkgs/bootstrap/libs
if command -v cc >/dev/null; then
  mkdir -p "$libs"
  for so in pq ssl sqlite3 pixman-1 cairo; do
    if [ ! -e "$libs/lib$so.so" ]; then
      printf 'int %s_ok(void) { return 42; }\n' "${so//-/_}" > "$libs/$so.c"
      cc -shared -fPIC -o "$libs/lib$so.so" "$libs/$so.c"
      rm -f "$libs/$so.c"
    fi
  done
  say ok "stand-in libraries ($libs)"
else
  need_root_cmd+=("sudo apt-get install -y gcc   # compiles the stand-in set's libraries")
fi

# --- the stand-in package set's servers ----------------------------------------
# Services are tested against real servers from the env: Debian's builds, downloaded
# (not installed: no host service starts) and laid out as store paths. Needs root for
# apt's download cache; a second run only compares the .deb versions apt offers.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && command -v patchelf >/dev/null; then
  python3 scripts/standin_servers.py
elif [ ! -d fixtures/nixpkgs/bootstrap/servers ]; then
  need_root_cmd+=("sudo python3 scripts/standin_servers.py   # the stand-in set's real servers")
fi

# --- Python virtualenv with zagi and its test extras --------------------------
PY=""
for cand in python3.13 python3.12 python3.11 python3; do
  if command -v "$cand" >/dev/null 2>&1 &&
     "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    PY=$(command -v "$cand"); break
  fi
done
if [ -z "$PY" ]; then
  echo "error: zagi needs Python >= 3.11 (Debian 12: apt-get install python3 python3-venv)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys' 2>/dev/null; then
  say create ".venv with $("$PY" --version)"
  rm -rf .venv
  "$PY" -m venv .venv
else say ok ".venv ($(.venv/bin/python --version))"; fi

# Reinstall only when the package metadata changed: pip's editable install takes
# seconds even when nothing changed.
stamp=.venv/.zagi-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say install "zagi (editable) with test extras into .venv"
  # pip's build chatter is kept in a log and shown only when the install fails.
  log=.venv/pip-install.log
  if ! { .venv/bin/python -m pip install -q --upgrade pip &&
         .venv/bin/python -m pip install -q -e '.[test]'; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2; echo "error: pip install failed (full log: $log)" >&2; exit 1
  fi
  echo "$want" > "$stamp"
else say ok "zagi installed in .venv (pyproject.toml unchanged)"; fi

if ((${#need_root_cmd[@]})); then
  echo
  echo "Not root, so these system packages were not installed. Run:"
  printf '  %s\n' "${need_root_cmd[@]}"
  echo "Tests that need them will fail and name what is missing."
fi
echo
echo "Ready. Run the tests with: bash scripts/test.sh"
