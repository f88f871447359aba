// Nothing a guest does may hurt the host: a deterministic sample of the machine fuzz (random and
// table-driven code in real, protected and long mode, CPL 0 and 3) under both engines. Every case
// must end in a documented stop with no host exception and the host's own state below guest RAM
// untouched; also with damaged page tables and descriptors (oddities.ts). Long runs:
// scripts/fuzz-machine.ts (docs/robustness.md has the counts).
import { describe, expect, it } from 'vitest';
import { CPU_BASE, CPU_SIZE } from '../../src/cpu/state.js';
import { runCase, SETTINGS, type CaseResult } from './harness.js';

const CASES = 600;
const BUDGET = 3000;

async function sample(engine: 'interp' | 'dbt', first: number): Promise<{ failures: string[]; results: CaseResult[] }> {
  const failures: string[] = [];
  const results: CaseResult[] = [];
  for (let seed = first; seed < first + CASES; seed++) {
    const r = await runCase(seed, { engine, budget: BUDGET, maxMs: 30_000 });
    results.push(r);
    if (r.failure !== '') failures.push(`seed ${seed} (${r.setting}): ${r.failure.split('\n').slice(0, 4).join(' | ')}`);
  }
  return { failures, results };
}

function checkSpread(results: CaseResult[]): void {
  // The sample is not degenerate: every setting is run, and the cases end in several ways.
  for (const s of SETTINGS) expect(results.filter((r) => r.setting === s).length).toBeGreaterThan(CASES / 10);
  const count = (re: RegExp) => results.filter((r) => r.stop !== null && re.test(r.stop.reason)).length;
  expect(count(/^instruction limit/)).toBeGreaterThan(CASES / 20);
  expect(count(/^guest halted/)).toBeGreaterThan(CASES / 20);
  expect(count(/^triple fault/)).toBeGreaterThan(0);
}

describe('machine fuzz: random guest code never hurts the host', () => {
  it(`interpreter: ${CASES} cases`, async () => {
    const { failures, results } = await sample('interp', 1);
    expect(failures).toEqual([]);
    checkSpread(results);
  }, 60_000);

  it(`translator: ${CASES} cases`, async () => {
    const { failures, results } = await sample('dbt', 100_001);
    expect(failures).toEqual([]);
    checkSpread(results);
  }, 60_000);

  it('under --trace exec,int: 40 cases per engine (the disassembler and interrupt log see random code)', async () => {
    const failures: string[] = [];
    for (const engine of ['interp', 'dbt'] as const) {
      for (let seed = 200_001; seed <= 200_040; seed++) {
        const r = await runCase(seed, { engine, budget: 1000, maxMs: 30_000, trace: true });
        if (r.failure !== '') failures.push(`${engine} seed ${seed} (${r.setting}): ${r.failure.split('\n').slice(0, 4).join(' | ')}`);
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);

  it('under the leak and umip policies with virtually indexed translation caches: 40 cases each', async () => {
    const failures: string[] = [];
    const variants = [[1, 'virt'], [2, 'virt-noflush']] as const;
    for (const [policy, tcIndex] of variants) {
      for (let seed = 300_001; seed <= 300_040; seed++) {
        const r = await runCase(seed, { engine: 'dbt', budget: 2000, maxMs: 30_000, policy, tcIndex });
        if (r.failure !== '') failures.push(`policy ${policy} ${tcIndex} seed ${seed}: ${r.failure.split('\n').slice(0, 4).join(' | ')}`);
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);

  it('with damaged page tables and odd descriptors (oddities.ts): 100 cases per engine, every policy', async () => {
    const failures: string[] = [];
    for (const engine of ['interp', 'dbt'] as const) {
      for (let seed = 400_001; seed <= 400_100; seed++) {
        const r = await runCase(seed, { engine, budget: 2000, maxMs: 30_000, policy: seed % 3, oddities: true });
        if (r.failure !== '') failures.push(`${engine} seed ${seed} (${r.setting}): ${r.failure.split('\n').slice(0, 4).join(' | ')}`);
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);

  it('the harness reports a host exception and a write to host state as failures', async () => {
    const thrown = await runCase(7, { engine: 'interp', budget: 100, onMachine: () => { throw new Error('planted'); } });
    expect(thrown.failure).toMatch(/^host exception: Error: planted/);
    const scribbled = await runCase(7, {
      engine: 'interp', budget: 100, onMachine: (m) => { m.views.u8[CPU_BASE + CPU_SIZE - 3] ^= 0xff; },
    });
    expect(scribbled.failure).toBe(`host state at 0x${(CPU_BASE + CPU_SIZE - 3).toString(16)} overwritten`);
    const clean = await runCase(7, { engine: 'interp', budget: 100 });
    expect(clean.failure).toBe('');
  });
});
