// Regenerate src/api/schema.d.ts from the backend's OpenAPI document.
//   npm run gen:api                          -> from frontend/openapi.json
//   npm run gen:api -- http://127.0.0.1:8000 -> from a running backend (also refreshes openapi.json)
// Dump the file without a server:
//   cd .. && .venv/bin/python -c "import json; from backend.main import app; print(json.dumps(app.openapi()))" > frontend/openapi.json
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const specFile = resolve(root, 'openapi.json');
const source = process.argv[2];

if (source) {
  const url = source.endsWith('.json') ? source : `${source.replace(/\/$/, '')}/openapi.json`;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} -> ${response.status}`);
  const spec = await response.json();
  writeFileSync(specFile, JSON.stringify(spec) + '\n');
  console.log(`saved ${url} to openapi.json`);
}

execFileSync(
  process.execPath,
  [resolve(root, 'node_modules/openapi-typescript/bin/cli.js'), specFile, '-o', resolve(root, 'src/api/schema.d.ts')],
  { stdio: 'inherit' },
);
