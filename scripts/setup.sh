#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine (idempotent).
# npm packages come from the lockfile. @tensorflow/tfjs-node(-gpu) are
# optional: their install downloads libtensorflow, and where that fails the
# engine falls back to the pure-JS cpu backend.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
