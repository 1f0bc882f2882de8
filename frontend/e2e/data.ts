/** A small, reproducible MPEA split: 40 reference rows, 8 test rows keeping the measured targets. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TARGETS = ['YS(MPa)', 'UTS(MPa)', 'El(%)'] as const;
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const MPEA_CSV = process.env.MPEA_CSV ?? resolve(REPO_ROOT, 'backend/demo_data/mpea/mpea_alloys.csv');

export interface Split {
  test: string;
  reference: string;
  testIds: string[];
}

/** Every 7th row (offset 3) is a test row, up to `testRows`; the first `referenceRows` others are reference rows. */
export function mpeaSplit(testRows = 8, referenceRows = 40): Split {
  const lines = readFileSync(MPEA_CSV, 'utf8').trim().split(/\r?\n/);
  const [header, ...rows] = lines;
  if (!header) throw new Error(`${MPEA_CSV} is empty`);
  const test: string[] = [];
  const reference: string[] = [];
  rows.forEach((row, i) => {
    if (i % 7 === 3 && test.length < testRows) test.push(row);
    else if (reference.length < referenceRows) reference.push(row);
  });
  return {
    test: [header, ...test].join('\n') + '\n',
    reference: [header, ...reference].join('\n') + '\n',
    testIds: test.map((row) => row.split(',')[0] ?? ''),
  };
}

/**
 * `n` synthetic test rows made from the MPEA rows (cycled, compositions jittered by a seeded
 * generator, measured targets kept as ground truth) – for the large-task render measurement.
 */
export function syntheticTest(n: number, seed = 7): { test: string; reference: string } {
  const lines = readFileSync(MPEA_CSV, 'utf8').trim().split(/\r?\n/);
  const [header, ...rows] = lines;
  if (!header) throw new Error(`${MPEA_CSV} is empty`);
  const columns = header.split(',');
  const jitter = columns.map((c) => c.endsWith('(at%)'));
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const out: string[] = [header];
  for (let i = 0; i < n; i++) {
    const cells = (rows[i % rows.length] ?? '').split(',');
    cells[0] = `SYN-${String(i + 1).padStart(5, '0')}`;
    cells.forEach((cell, j) => {
      if (j > 0 && jitter[j] && Number(cell) > 0) cells[j] = (Number(cell) * (0.9 + 0.2 * random())).toFixed(2);
    });
    out.push(cells.join(','));
  }
  return { test: out.join('\n') + '\n', reference: [header, ...rows].join('\n') + '\n' };
}
