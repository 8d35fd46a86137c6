#!/usr/bin/env bash
# End-to-end tests on a real single-node Slurm cluster (test/slurm): they
# start slurmctld, slurmd and munged as root under a temp folder and stop
# them by PID; without root or the Debian packages they are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f dist/cli.js ]; then
  echo "test-slurm: dist/cli.js is missing; run npm run build first" >&2
  exit 1
fi
exec node --import tsx --test --test-concurrency=1 test/slurm/slurm.test.ts
