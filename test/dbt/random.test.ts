/**
 * Random-program parity (issue 6): 400 programs of the interpreter oracle's generator, looped,
 * under the interpreter and under the translator with random options and slices (random-env.ts);
 * every final state must agree. The large run (100,000 programs) is scripts/fuzz-dbt.ts --gen,
 * on machines used again (ProgramRunner), which the last test checks against fresh ones.
 */
import { describe, expect, it } from 'vitest';
import { compareFinal, ProgramRunner, randomProgram, randomTrial, Rng, runProgram } from './random-env.js';

describe('random programs from the interpreter oracle\'s generator', () => {
  it('400 programs: the translator ends in the interpreter\'s state', () => {
    let translated = 0;
    let faulted = 0;
    const runner = new ProgramRunner();
    for (let k = 0; k < 400; k++) {
      const rng = new Rng(7000 + k);
      const p = randomProgram(rng, rng.chance(0.7) ? 64 : 32, 1 + rng.int(24), 1 + rng.int(8), rng.chance(0.6));
      const { opts, slice } = randomTrial(rng);
      // the same slices for both: an interrupted REP restarts from its (maybe overwritten) bytes
      const ref = runner.run(p, null, slice);
      const got = runner.run(p, opts, slice);
      expect(compareFinal(p, ref, got), `seed ${7000 + k} ${JSON.stringify(opts)} slice ${slice} ${p.c.names.join(' ')}`).toBe('');
      if (got.translated > 0) translated++;
      if (ref.counter[0] !== 0) faulted++;
    }
    // the run exercised translated code and faults part-way, not only the interpreter fallback
    expect(translated).toBeGreaterThan(150);
    expect(faulted).toBeGreaterThan(40);
  }, 60_000);

  it('machines used again (ProgramRunner, the long run\'s) end as fresh ones do', () => {
    const runner = new ProgramRunner();
    for (let k = 0; k < 20; k++) {
      const rng = new Rng(9100 + k);
      const p = randomProgram(rng, k % 3 === 0 ? 32 : 64, 1 + rng.int(24), 1 + rng.int(8), k % 2 === 0);
      const { opts, slice } = randomTrial(rng);
      for (const o of [null, opts]) {
        const fresh = runProgram(p, o, slice);
        const reused = runner.run(p, o, slice);
        expect(compareFinal(p, fresh, reused), `seed ${9100 + k}`).toBe('');
        expect(reused.translated).toBe(fresh.translated);
      }
    }
  });

  it('the comparison sees a one-bit difference in memory, a register or the flags', () => {
    const rng = new Rng(99);
    const p = randomProgram(rng, 64, 8, 2);
    const a = runProgram(p, null, 100_000);
    const b = runProgram(p, { threshold: 0 }, 100_000);
    expect(compareFinal(p, a, b)).toBe('');
    const data = b.data.slice();
    data[100] ^= 1;
    expect(compareFinal(p, a, { ...b, data })).toMatch(/^data byte/);
    const regs = b.regs.slice();
    regs[13] ^= 1n << 40n;
    expect(compareFinal(p, a, { ...b, regs })).toMatch(/^reg 13/);
    expect(compareFinal(p, a, { ...b, rflags: b.rflags ^ (0x800 & ~p.c.anyTaint) })).toMatch(/rflags|^$/);
  });
});
