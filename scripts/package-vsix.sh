#!/usr/bin/env bash
# Packages the extension as out/mri-report-cl.vsix (offline). The VSIX
# carries the runtime npm dependencies (see .vscodeignore), so the engine
# worker it starts finds them next to dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p out
[ -f dist/extension.js ] && [ -f dist/worker.js ] && [ -f dist/cli.js ] || node esbuild.mjs extension worker cli >/dev/null
VSCE=node_modules/@vscode/vsce/vsce
[ -f "$VSCE" ] || { echo "package-vsix: @vscode/vsce is not installed (npm ci)" >&2; exit 1; }
# no repository or licence file yet: accept that instead of prompting
node "$VSCE" package --out out/mri-report-cl.vsix \
  --allow-missing-repository --skip-license --no-rewrite-relative-links --no-update-package-json 2>&1 |
  sed '/^\s*$/d' >&2
ls -l out/mri-report-cl.vsix >&2
