// Writes schemas/experiment.schema.json from the TypeBox config (one source).
// A unit test fails when the committed file is stale.
import { writeFileSync, mkdirSync } from 'node:fs';
import { editorSchema } from '../src/engine/config/resolve';

mkdirSync('schemas', { recursive: true });
writeFileSync('schemas/experiment.schema.json', JSON.stringify(editorSchema(), null, 2) + '\n');
console.log('wrote schemas/experiment.schema.json');
