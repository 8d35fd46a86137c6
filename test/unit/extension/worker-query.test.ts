// The real worker (src/worker/main.ts through tsx) answering model-summary
// queries from the extension's query client: the counts are the engine's for
// the text sent (an editor's unsaved content), not the file's, and a failure
// names the config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EngineQueryClient } from '../../../src/extension/runs/engine-queries';
import { tinyConfig } from '../../e2e/tiny-config';

const WORKER = ['--import', 'tsx', resolve('src/worker/main.ts')];

test('the worker counts the text it is sent and names the config when it cannot', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-query-'));
  const client = new EngineQueryClient({ spawnSpec: () => ({ command: process.execPath, args: WORKER }) });
  try {
    const path = join(dir, 'tiny.mrcl.json');
    const onDisk = tinyConfig('tiny');
    writeFileSync(path, JSON.stringify(onDisk));
    const saved = await client.ask('modelSummary', { config: path });
    // the unsaved text: a wider image encoder (width 4 instead of 2)
    const edited = await client.ask('modelSummary', { config: path, text: JSON.stringify({ ...onDisk, image: { width: 4 } }) });
    for (const s of [saved.summary, edited.summary]) {
      assert.ok(s.pretrain.imageEncoder.trainable > 0 && s.pretrain.total.trainable >= s.pretrain.imageEncoder.trainable);
      assert.deepEqual(s.finetune.textEncoder, { trainable: 0, frozen: 0 }, 'no text encoder in fine-tuning');
    }
    // conv weights grow with the square of the width: doubling it more than doubles the encoder
    assert.ok(edited.summary.pretrain.imageEncoder.trainable + edited.summary.pretrain.imageEncoder.frozen > 2 * (saved.summary.pretrain.imageEncoder.trainable + saved.summary.pretrain.imageEncoder.frozen));
    assert.equal(edited.summary.pretrain.textEncoder.trainable, saved.summary.pretrain.textEncoder.trainable, 'the text encoder did not change');
    assert.match(saved.table, /Image encoder/);

    await assert.rejects(client.ask('modelSummary', { config: path, text: '{ "image": ' }), (e: Error) => e.message.startsWith(`${path}: not valid JSON`));
    await assert.rejects(client.ask('modelSummary', { config: path, text: JSON.stringify({ ...onDisk, text: { pretrained: 'no-such-folder' } }) }), (e: Error) => e.message.includes(path) && /config\.json is missing/.test(e.message));
    await assert.rejects(client.ask('modelSummary', { config: path, text: JSON.stringify({ image: { width: -1 } }) }), (e: Error) => e.message.includes(path) && /width/.test(e.message));
  } finally {
    client.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
