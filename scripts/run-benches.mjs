#!/usr/bin/env node
// Runs every bench/<name>/run.ts in turn; each prints one JSON line of results.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv.slice(2);
const names = readdirSync('bench')
  .filter((n) => existsSync(join('bench', n, 'run.ts')))
  .filter((n) => only.length === 0 || only.includes(n))
  .sort();
let failed = 0;
for (const name of names) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join('bench', name, 'run.ts')], {
    stdio: 'inherit',
  });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
