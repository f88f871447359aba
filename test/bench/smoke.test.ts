/**
 * Smoke test of the benchmark suite (issue 8): `bench/run.ts --quick` restricted to ringvm's
 * interpreter and the native program produces the table and the JSON, and every guest checksum
 * equals the one the same C source computes as a Linux program. No timing assertions: the figures
 * depend on the machine. Skipped when there is no C compiler (the native reference).
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const cc = spawnSync('sh', ['-c', 'command -v cc'], { stdio: 'ignore' }).status === 0;
if (!cc) console.warn('bench smoke: no cc; skipping');

interface JsonRow { workload: string; config: string; checksum: string | null; expected: string | null; checksumOk: boolean | null; mips: number | null }

describe.skipIf(!cc)('bench/run.ts --quick (ringvm interp + native)', () => {
  const out = mkdtempSync(join(tmpdir(), 'ringvm-bench-smoke-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  let r: SpawnSyncReturns<string>;
  beforeAll(() => {
    r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--configs', 'ringvm-interp,native', '--workloads', 'cpu64,cpu32', '--out', out],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
    );
  }, 130_000);

  it('exits 0 and prints the table with a row per workload and configuration', () => {
    expect(r.status, r.stderr).toBe(0);
    for (const w of ['cpu64', 'cpu32'])
      for (const c of ['ringvm-interp', 'native']) expect(r.stdout).toMatch(new RegExp(`^${w}\\s+${c}\\s`, 'm'));
  });

  it('writes the JSON and the chart', () => {
    const j = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as { rows: JsonRow[]; quick: boolean };
    expect(j.quick).toBe(true);
    expect(j.rows).toHaveLength(4);
    expect(readFileSync(join(out, 'latest.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
  });

  it('every checksum agrees with the native program', () => {
    const j = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as { rows: JsonRow[] };
    for (const row of j.rows) {
      expect(row.checksum, `${row.workload}/${row.config}`).toMatch(/^0x[0-9a-f]{8}$/);
      expect(row.checksum, `${row.workload}/${row.config}`).toBe(row.expected);
      expect(row.checksumOk).toBe(true);
    }
    // ringvm's figure is computed from its own instruction count
    expect(j.rows.find((x) => x.config === 'ringvm-interp')!.mips).toBeGreaterThan(0);
  });
});
