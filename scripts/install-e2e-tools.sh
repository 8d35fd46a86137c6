#!/usr/bin/env bash
# Installs what the end-to-end tests need (idempotent, cached in .tools/):
#   - Debian packages: chromium (driven by playwright-core), ripgrep, and the
#     toolchain code-server's native modules build with;
#   - code-server 4.100.3 (VS Code 1.100.3, the last one for Node 20) from npm,
#     into .tools/ — outside the project's own node_modules.
# Nothing here downloads from anywhere but the npm registry and Debian: the
# ripgrep binary @vscode/ripgrep would fetch is seeded from Debian's rg.
# Exit status: 0 ready, 3 a prerequisite cannot be installed here (the
# message says which), anything else a real failure.
set -euo pipefail
cd "$(dirname "$0")/.."

CODE_SERVER_VERSION=4.100.3
# @vscode/ripgrep as pinned by code-server 4.100.3 (lib/vscode/npm-shrinkwrap.json)
VSCODE_RIPGREP_VERSION=1.15.11
RG_TAGS=(v13.0.0-10 v13.0.0-4)
TOOLS_DIR=${MRCL_TOOLS_DIR:-$PWD/.tools}
CS_DIR="$TOOLS_DIR/code-server-$CODE_SERVER_VERSION"
CS_BIN="$CS_DIR/node_modules/.bin/code-server"

say() { echo "install-e2e-tools: $*" >&2; }
unavailable() { say "$*"; exit 3; }

# ---- Debian packages --------------------------------------------------------
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v rg >/dev/null || missing+=(ripgrep)
command -v make >/dev/null && command -v g++ >/dev/null || missing+=(build-essential)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v python3 >/dev/null || missing+=(python3)
[ -f /usr/include/krb5.h ] || [ -f /usr/include/krb5/krb5.h ] || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || unavailable "needs ${missing[*]} and there is no apt-get to install them"
  [ "$(id -u)" = 0 ] || unavailable "needs ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}"
  say "apt-get install ${missing[*]}"
  lock() { if command -v flock >/dev/null; then flock /tmp/apt.lock "$@"; else "$@"; fi; }
  export DEBIAN_FRONTEND=noninteractive
  if ! lock apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/mrcl-e2e-apt.log 2>&1; then
    lock apt-get update >>/tmp/mrcl-e2e-apt.log 2>&1 || true
    lock apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/mrcl-e2e-apt.log 2>&1 ||
      unavailable "apt-get install ${missing[*]} failed (log: /tmp/mrcl-e2e-apt.log)"
  fi
fi

# ---- code-server ------------------------------------------------------------
if [ -x "$CS_BIN" ] && [ -f "$CS_DIR/.complete" ]; then
  say "code-server $CODE_SERVER_VERSION already in $CS_DIR"
  exit 0
fi

# @vscode/ripgrep's postinstall downloads rg unless its cache holds these
# tarballs; pack Debian's rg into them (same TMPDIR as the install below).
TMP_ROOT=$(node -p 'require("os").tmpdir()')
RG_CACHE="$TMP_ROOT/vscode-ripgrep-cache-$VSCODE_RIPGREP_VERSION"
mkdir -p "$RG_CACHE"
for tag in "${RG_TAGS[@]}"; do
  tarball="$RG_CACHE/ripgrep-$tag-x86_64-unknown-linux-musl.tar.gz"
  [ -s "$tarball" ] || tar -czf "$tarball" -C "$(dirname "$(command -v rg)")" rg
done

say "installing code-server $CODE_SERVER_VERSION into $CS_DIR (about a minute)"
rm -rf "$CS_DIR"
mkdir -p "$CS_DIR"
# Its own package.json keeps this install apart from the project's.
echo '{ "name": "mrcl-e2e-tools", "private": true }' >"$CS_DIR/package.json"
(
  cd "$CS_DIR"
  export npm_config_unsafe_perm=true      # code-server's postinstall refuses root otherwise
  # node-gyp: Node's own headers (nodejs package), no download
  [ -f /usr/include/node/node_api.h ] && export npm_config_nodedir=/usr
  export npm_config_yes=true              # node-pty's postinstall runs `npx node-gyp`
  export npm_config_dangerously_allow_all_scripts=true # npm ≥ 11.19 blocks install scripts by default
  export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
  npm install --no-save --omit=dev --foreground-scripts "code-server@$CODE_SERVER_VERSION" >install.log 2>&1
) || { tail -40 "$CS_DIR/install.log" >&2; say "code-server install failed (log: $CS_DIR/install.log)"; exit 1; }
[ -x "$CS_BIN" ] || { say "code-server installed but $CS_BIN is missing"; exit 1; }
"$CS_BIN" --version >/dev/null
touch "$CS_DIR/.complete"
say "code-server $CODE_SERVER_VERSION ready"
