// Files that claim or inflate to far more than they hold are refused before
// the reader spends that memory (issue: unbounded reads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readNifti, writeNifti } from '../../../src/engine/io/nifti';
import { identityAffine } from '../../../src/engine/io/volume';
import { loadTorchCheckpoint } from '../../../src/engine/io/torch-checkpoint';
import { unpickle } from '../../../src/engine/io/pickle';
import { niftiGzBomb, pthOneTensor, pthPickleBomb, pthStorageBomb } from './hostile-files';

const dir = mkdtempSync(join(tmpdir(), 'hostile-sizes-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// a 2×2×2 float32 volume: 352 header bytes + 32 voxel bytes
const NEEDED = 384;
const LIMIT = NEEDED + 1024 * 1024;

test('a .nii.gz whose header claims 2×2×2 voxels but inflates to 200 MiB is refused after inflating what the header allows', () => {
  const p = join(dir, 'bomb.nii.gz');
  niftiGzBomb(p, 200);
  assert.throws(() => readNifti(p), { message: `${p}: gzip data inflates to more than ${LIMIT} bytes (its header implies ${NEEDED}); refusing it` });
});

test('the same header with a little trailing data (within the slack) still reads', () => {
  const p = join(dir, 'honest.nii.gz');
  niftiGzBomb(p, 0);
  assert.deepEqual([...readNifti(p).data], [1, 1, 1, 1, 1, 1, 1, 1]);
  const plain = join(dir, 'tail.nii');
  writeNifti(plain, { data: new Float32Array(8).fill(2), dims: [2, 2, 2], pixdim: [1, 1, 1], affine: identityAffine() });
  const withTail = join(dir, 'tail.nii.gz');
  writeFileSync(withTail, gzipSync(Buffer.concat([readFileSync(plain), Buffer.alloc(1000)])));
  assert.deepEqual([...readNifti(withTail).data], [2, 2, 2, 2, 2, 2, 2, 2]);
});

test('a .nii.gz far larger than its header could compress to is refused before inflating', () => {
  const plain = join(dir, 'small.nii');
  writeNifti(plain, { data: new Float32Array(8), dims: [2, 2, 2], pixdim: [1, 1, 1], affine: identityAffine() });
  const p = join(dir, 'padded.nii.gz');
  // incompressible bytes after the header: 3 MiB of gzip for a 384-byte image
  const gz = gzipSync(Buffer.concat([readFileSync(plain), randomBytes(3 * 1024 * 1024)]));
  writeFileSync(p, gz);
  assert.throws(() => readNifti(p), { message: `${p}: gzip file of ${gz.length} bytes is larger than the ${NEEDED} bytes its header implies could take` });
});

test('a .pth whose data.pkl claims 1 GiB is refused by the directory size, before inflating', () => {
  const p = join(dir, 'pickle-bomb.pth');
  pthPickleBomb(p, 1024);
  assert.throws(() => loadTorchCheckpoint(p), { message: `${p}: zip entry "archive/data.pkl" is 1073741824 bytes, more than the limit of 67108864` });
});

test('a .pth whose one-element tensor views a 1 GiB deflated storage is refused before inflating it', () => {
  const honest = join(dir, 'one.pth');
  pthOneTensor(honest, [2.5]);
  const ck = loadTorchCheckpoint(honest);
  assert.deepEqual([...ck.tensors.get('w')!.data], [2.5]);

  const p = join(dir, 'storage-bomb.pth');
  pthStorageBomb(p, 1024);
  // the default limit is 4 × the file size + 64 MiB
  assert.throws(() => loadTorchCheckpoint(p), /storage "0" of "w" holds 1073741824 bytes, past the limit of \d+ bytes of tensor data \(maxBytes\)/);
});

test('the unpickler stops a pickle that builds more values than its limit', () => {
  const findClass = (): never => {
    throw new Error('no globals');
  };
  // PROTO 2 (64 estimated bytes), 100 EMPTY_TUPLEs (128 each), EMPTY_LIST, STOP: the 78th tuple,
  // read at byte 79, passes 10 000 (64 + 78 × 128 = 10 048)
  const pkl = Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.alloc(100, 0x29), Buffer.from([0x5d, 0x2e])]);
  assert.ok(Array.isArray(unpickle(pkl, { file: 'p.pkl', findClass }).value));
  assert.throws(() => unpickle(pkl, { file: 'p.pkl', findClass, maxValueBytes: 10_000 }), /^Error: p\.pkl: pickle: builds more than 10000 bytes of values \(a pickle bomb\?\) \(at byte 80\)$/);
  // strings count by their length
  const text = Buffer.concat([Buffer.from([0x80, 0x02, 0x58]), Buffer.from([0x10, 0x27, 0, 0]), Buffer.alloc(10_000, 0x61), Buffer.from([0x2e])]);
  assert.throws(() => unpickle(text, { file: 't.pkl', findClass, maxValueBytes: 10_000 }), /builds more than 10000 bytes/);
  assert.equal((unpickle(text, { file: 't.pkl', findClass, maxValueBytes: 20_000 }).value as string).length, 10_000);
});
