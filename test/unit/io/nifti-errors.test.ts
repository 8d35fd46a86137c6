import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readNifti, readNiftiHeader, writeNifti } from '../../../src/engine/io/nifti';
import { identityAffine } from '../../../src/engine/io/volume';

const dir = mkdtempSync(join(tmpdir(), 'nifti-err-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** A valid 4×5×6 float32 .nii (352-byte header + 480 bytes) as bytes. */
function validBytes(): Buffer {
  const p = join(dir, 'valid.nii');
  const data = new Float32Array(120).map((_, n) => n);
  writeNifti(p, { data, dims: [4, 5, 6], pixdim: [1, 1, 1], affine: identityAffine() });
  return readFileSync(p);
}

let counter = 0;
function corrupt(edit: (b: Buffer) => Buffer | void, ext = '.nii'): string {
  const b = validBytes();
  const out = edit(b) ?? b;
  const p = join(dir, `bad${counter++}${ext}`);
  writeFileSync(p, out);
  return p;
}

/** Asserts that reading throws an Error whose message names the file and matches `re`. */
function refuses(p: string, re: RegExp, opts = {}): void {
  assert.throws(
    () => readNifti(p, opts),
    (e: unknown) => e instanceof Error && e.message.includes(p) && re.test(e.message),
  );
}

test('missing file', () => refuses(join(dir, 'nope.nii'), /file not found/));

test('bad sizeof_hdr is not a NIfTI', () => {
  const p = corrupt((b) => void b.writeInt32LE(123, 0));
  refuses(p, /not a NIfTI file \(sizeof_hdr is 123/);
  assert.throws(() => readNiftiHeader(p), /not a NIfTI file/);
});

test('a text file is not a NIfTI', () => {
  const p = join(dir, 'text.nii');
  writeFileSync(p, 'hello, this is not an image at all\n'.repeat(20));
  refuses(p, /not a NIfTI file/);
});

test('bad magic', () => refuses(corrupt((b) => void b.write('abcd', 344, 'latin1')), /magic is "abcd", expected "n\+1"/));

test('.hdr/.img pair magic is refused with the reason', () =>
  refuses(corrupt((b) => void b.write('ni1\0', 344, 'latin1')), /\.hdr\/\.img pair/));

test('truncated header', () => refuses(corrupt((b) => b.subarray(0, 200)), /truncated NIfTI header \(200 of 348 bytes\)/));

test('truncated voxel data', () => refuses(corrupt((b) => b.subarray(0, 600)), /truncated: .*needs 832 bytes, file has 600/));

test('dims inconsistent with the file size', () =>
  refuses(corrupt((b) => void b.writeInt16LE(60, 46)), /truncated: 4×5×60 float32 .*needs 5152 bytes, file has 832/));

test('absurd dims are refused before allocating', () => {
  const p = corrupt((b) => {
    b.writeInt16LE(32767, 42);
    b.writeInt16LE(32767, 44);
    b.writeInt16LE(32767, 46);
  });
  refuses(p, /32767×32767×32767 = \d+ voxels exceeds the limit of 268435456 \(maxVoxels\)/);
  refuses(corrupt((b) => void b.writeInt16LE(100, 44)), /exceeds the limit of 1000 \(maxVoxels\)/, { maxVoxels: 1000 });
});

test('dim[0] outside 1..7 and non-positive dims', () => {
  refuses(corrupt((b) => void b.writeInt16LE(0, 40)), /dim\[0\] is 0; it must be 1\.\.7/);
  refuses(corrupt((b) => void b.writeInt16LE(8, 40)), /dim\[0\] is 8/);
  refuses(corrupt((b) => void b.writeInt16LE(-5, 44)), /dim\[2\] is -5; dimensions must be positive/);
  refuses(corrupt((b) => void b.writeInt16LE(0, 46)), /dim\[3\] is 0/);
});

test('5D images are refused', () =>
  refuses(
    corrupt((b) => {
      b.writeInt16LE(5, 40);
      b.writeInt16LE(1, 48);
      b.writeInt16LE(3, 50);
    }),
    /dim\[5\] is 3; images beyond 4D/,
  ));

test('unsupported datatypes', () => {
  refuses(corrupt((b) => void b.writeInt16LE(32, 70)), /unsupported NIfTI datatype complex64 \(32\)/);
  refuses(corrupt((b) => void b.writeInt16LE(128, 70)), /unsupported NIfTI datatype RGB24 \(128\)/);
  refuses(corrupt((b) => void b.writeInt16LE(1024, 70)), /int64/);
  refuses(corrupt((b) => void b.writeInt16LE(77, 70)), /unsupported NIfTI datatype code 77/);
});

test('NaN / Inf voxels: error by default, zero on request', () => {
  const p = corrupt((b) => {
    b.writeFloatLE(NaN, 352 + 4 * 7); // voxel 7 = [3, 1, 0]
    b.writeFloatLE(Infinity, 352 + 4 * 100);
  });
  refuses(p, /2 voxel\(s\) are NaN or infinite \(first at \[3, 1, 0\]\)/);
  const v = readNifti(p, { nonFinite: 'zero' });
  assert.equal(v.data[7], 0);
  assert.equal(v.data[100], 0);
  assert.equal(v.data[8], 8);
  const k = readNifti(p, { nonFinite: 'keep' });
  assert.ok(Number.isNaN(k.data[7]));
});

test('scaling that overflows float32 counts as non-finite', () =>
  refuses(corrupt((b) => void b.writeFloatLE(3e38, 112)), /voxel\(s\) are NaN or infinite/));

test('valid slope with a non-finite intercept', () =>
  refuses(
    corrupt((b) => {
      b.writeFloatLE(2, 112);
      b.writeFloatLE(NaN, 116);
    }),
    /scl_slope is 2 but scl_inter is NaN/,
  ));

test('gzip: header implying more than maxInflatedBytes is refused before inflating', () => {
  const p = corrupt((b) => gzipSync(b), '.nii.gz');
  assert.equal(readNifti(p).data[5], 5);
  refuses(p, /header implies 832 bytes, more than maxInflatedBytes \(500\)/, { maxInflatedBytes: 500 });
});

test('gzip bomb: a stream inflating past the limit is aborted', () => {
  // a valid small header (832 bytes of header + voxels) followed by 8 MiB of zeros
  const p = corrupt((b) => gzipSync(Buffer.concat([b, Buffer.alloc(8 * 1024 * 1024)])), '.nii.gz');
  // limit: maxInflatedBytes, when below what the header implies + 1 MiB of slack
  refuses(p, /gzip data inflates to more than 65536 bytes \(its header implies 832\)/, { maxInflatedBytes: 65536 });
  // else the header's size + 1 MiB, whatever maxInflatedBytes allows
  refuses(p, new RegExp(`gzip data inflates to more than ${832 + 1024 * 1024} bytes \\(its header implies 832\\)`));
});

test('corrupt and truncated gzip', () => {
  const gz = gzipSync(validBytes());
  const broken = Buffer.from(gz);
  for (let i = 20; i < broken.length - 8; i++) broken[i] = broken[i]! ^ 0x5a;
  const p1 = join(dir, 'broken.nii.gz');
  writeFileSync(p1, broken);
  refuses(p1, /corrupt gzip|truncated or corrupt gzip/);
  const p2 = join(dir, 'cut.nii.gz');
  writeFileSync(p2, gz.subarray(0, Math.floor(gz.length * 0.6)));
  refuses(p2, /truncated/);
});

test('non-finite pixdim and broken quaternion', () => {
  refuses(corrupt((b) => void b.writeFloatLE(NaN, 80)), /pixdim\[1\] is NaN/);
  const p = corrupt((b) => {
    b.writeInt16LE(0, 254); // sform off, so the qform is used
    b.writeFloatLE(0.9, 256);
    b.writeFloatLE(0.9, 260);
  });
  refuses(p, /qform quaternion .* has norm > 1/);
});

test('a 2D image reads as nz = 1 with nibabel\'s base affine (z zoom 1)', () => {
  const p = corrupt((b) => {
    b.writeInt16LE(2, 40);
    b.writeInt16LE(30, 44); // 4×30
    b.writeInt16LE(0, 252);
    b.writeInt16LE(0, 254);
    b.writeFloatLE(2, 80); // pixdim 2, 3, (7 ignored)
    b.writeFloatLE(3, 84);
    b.writeFloatLE(7, 88);
  });
  const v = readNifti(p);
  assert.deepEqual(v.dims, [4, 30, 1]);
  assert.deepEqual(v.pixdim, [2, 3, 1]);
  // shape_zoom_affine: diag(−2, 3, 1), origin at the grid centre
  assert.deepEqual(v.affine, [[-2, 0, 0, 3], [0, 3, 0, -43.5], [0, 0, 1, -0], [0, 0, 0, 1]]);
  assert.equal(v.data[119], 119);
});

test('readNiftiHeader of a .nii.gz inflates only the start', () => {
  const gz = gzipSync(Buffer.concat([validBytes(), Buffer.alloc(4 << 20)]));
  const p = join(dir, 'head-only.nii.gz');
  writeFileSync(p, gz.subarray(0, 200)); // cut far before the end
  assert.deepEqual(readNiftiHeader(p).dims, [4, 5, 6]);
  refuses(p, /truncated/);
});
