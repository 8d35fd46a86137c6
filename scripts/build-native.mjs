// Builds the optional oneDNN addon (native/) with node-gyp against the
// installed Node headers, so nothing is downloaded.
//
//   node scripts/build-native.mjs                 fail unless it builds
//   node scripts/build-native.mjs --if-available  skip quietly without oneDNN, fail if the build breaks
//   node scripts/build-native.mjs --optional      never fail (npm install): say why, and the engine
//                                                 uses the pure-JS kernels
//   --force                                       rebuild even when up to date
//
// oneDNN is looked for in $DNNL_ROOT, then the usual prefixes (Debian's
// libdnnl-dev puts it in /usr). MRCL_NATIVE=0 skips the build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const addon = join(nativeDir, 'build', 'Release', 'mrcl_native.node');
const args = new Set(process.argv.slice(2));
const optional = args.has('--optional');
const ifAvailable = optional || args.has('--if-available');
const force = args.has('--force');

function log(msg) {
  console.log(`build-native: ${msg}`);
}

function skip(msg) {
  log(`${msg}; the engine will use the pure-JS TF.js kernels.`);
  process.exit(0);
}

function fail(msg) {
  if (optional) skip(`${msg} (not fatal during install)`);
  console.error(`build-native: ${msg}`);
  process.exit(1);
}

if (['0', 'off', 'false', 'no'].includes((process.env.MRCL_NATIVE ?? '').toLowerCase())) skip('MRCL_NATIVE=0');

/** { include, lib } of a oneDNN installation, or null. */
function findOneDnn() {
  const prefixes = [process.env.DNNL_ROOT, process.env.ONEDNN_ROOT, '/usr', '/usr/local', '/opt/homebrew', '/opt/local', '/opt/intel/oneapi/dnnl/latest'].filter(Boolean);
  const libDirs = ['lib/x86_64-linux-gnu', 'lib/aarch64-linux-gnu', 'lib64', 'lib'];
  const libNames = ['libdnnl.so', 'libdnnl.dylib'];
  for (const p of prefixes) {
    const include = join(p, 'include');
    if (!existsSync(join(include, 'oneapi', 'dnnl', 'dnnl.hpp'))) continue;
    for (const d of libDirs) {
      const lib = join(p, d);
      if (libNames.some((n) => existsSync(join(lib, n)))) return { include, lib };
    }
  }
  return null;
}

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    // npm's own copy, next to the node binary (Debian, nvm, official tarballs)
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ].filter(Boolean);
  return candidates.find((c) => existsSync(c)) ?? null;
}

/** --nodedir for the installed headers, unless npm already configures one. */
function nodeDirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function newestSource() {
  let t = statSync(join(nativeDir, 'binding.gyp')).mtimeMs;
  for (const f of readdirSync(join(nativeDir, 'src'))) t = Math.max(t, statSync(join(nativeDir, 'src', f)).mtimeMs);
  return t;
}

function loads(path) {
  const r = spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(path)}); console.log('oneDNN ' + a.version().onednn + ', ' + a.getNumThreads() + ' threads')`], {
    encoding: 'utf8',
  });
  return r.status === 0 ? { ok: true, detail: r.stdout.trim() } : { ok: false, detail: (r.stderr || r.stdout).trim().split('\n')[0] };
}

const dnnl = findOneDnn();
if (!dnnl) {
  const msg = 'oneDNN not found (install libdnnl-dev, or set DNNL_ROOT; see README "Native kernels")';
  if (ifAvailable) skip(msg);
  fail(msg);
}

if (!force && existsSync(addon) && statSync(addon).mtimeMs >= newestSource()) {
  const r = loads(addon);
  if (r.ok) {
    log(`up to date: ${addon} (${r.detail})`);
    process.exit(0);
  }
}

const gyp = nodeGyp();
if (!gyp) fail('node-gyp not found (it ships with npm; run this through `npm run build:native`)');
if (!existsSync(join(root, 'node_modules', 'node-addon-api'))) fail('node-addon-api is not installed (run npm ci first)');

const gypArgs = [...nodeDirArgs(), `--jobs=${availableParallelism()}`, '--', `-Ddnnl_include=${dnnl.include}`, `-Ddnnl_lib=${dnnl.lib}`];
const needsConfigure = force || !existsSync(join(nativeDir, 'build', 'Makefile')) || statSync(join(nativeDir, 'binding.gyp')).mtimeMs > statSync(join(nativeDir, 'build', 'Makefile')).mtimeMs;
log(`building with oneDNN from ${dnnl.include} (${needsConfigure ? 'configure + build' : 'incremental build'})`);
const steps = needsConfigure ? [['configure', ...gypArgs], ['build', ...gypArgs.slice(0, -3)]] : [['build', ...gypArgs.slice(0, -3)]];
for (const step of steps) {
  const r = spawnSync(process.execPath, [gyp, ...step], { cwd: nativeDir, stdio: 'inherit' });
  if (r.status !== 0) fail(`node-gyp ${step[0]} failed (exit ${r.status ?? r.signal}); see the compiler output above`);
}
const r = loads(addon);
if (!r.ok) fail(`built ${addon} but it does not load: ${r.detail}`);
log(`built ${addon} (${r.detail})`);
