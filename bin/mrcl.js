#!/usr/bin/env node
'use strict';
// Reruns itself with the training node flags when they are missing (dist/launch.js, src/cli/launch.ts).
if (!require('../dist/launch.js').relaunch(__filename, process.argv.slice(2))) {
  require('../dist/cli.js').main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err) => { process.stderr.write(`mrcl: ${err && err.message ? err.message : String(err)}\n`); process.exitCode = 1; },
  );
}
