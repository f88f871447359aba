/**
 * --lockstep (machine/lockstep.ts) on tinyos: a correct run reports no divergence at any block
 * boundary; a deliberately wrong one (invalidation switched off with smcCheck false, so stale
 * translations of tinyos's self-modifying `smc` program keep running) stops at the first block
 * whose result differs, with exit status 6 and a report holding the differing fields, the block's
 * guest code disassembled and both register dumps. The same for virtual indexing without the
 * CR3 flush (two processes with different code at one virtual address).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadImage } from '../../src/boot/load.js';
import type { DbtOptions } from '../../src/dbt/engine.js';
import { lockstepPair, STATUS_DIVERGENCE } from '../../src/machine/lockstep.js';
import type { StopInfo } from '../../src/machine/machine.js';

const IMAGES = join(import.meta.dirname, '../../guest-images');

async function lockstepRun(image: string, cmdline: string, dbt: DbtOptions, smcCheck = true) {
  const bytes = new Uint8Array(readFileSync(join(IMAGES, image)));
  const out: number[] = [];
  const { machine, lockstep } = lockstepPair(
    { ramSize: 32 << 20, serialSink: (b) => out.push(b), debugconSink: () => {}, maxInsns: 40_000_000, ips: 100_000_000,
      rtcStart: 1_700_000_000, engine: { engine: 'dbt', dbt }, smcCheck },
    (m) => loadImage(bytes, m, { cmdline, imageName: image, modules: [] }),
    undefined,
    1 << 18,
  );
  const stop: StopInfo = await machine.run();
  return { stop, serial: Buffer.from(out).toString('latin1'), result: lockstep.finish() };
}

describe('lockstep', () => {
  it('tinyos running its self-modifying smc program: no divergence at any block boundary', async () => {
    const r = await lockstepRun('tinyos.bin', 'run smc', { threshold: 2 });
    expect(r.result.divergence).toBeNull();
    expect(r.stop.status).toBe(33);
    expect(r.serial).toContain('4950');
    expect(r.result.boundaries).toBeGreaterThan(1000);
    expect(r.result.memChecks).toBeGreaterThan(1);
  }, 60_000);

  it('stale translations (no invalidation) are caught at the first wrong block, with both states', async () => {
    const r = await lockstepRun('tinyos.bin', 'run smc', { threshold: 0 }, false);
    expect(r.stop.status).toBe(STATUS_DIVERGENCE);
    const text = r.result.divergence ?? '';
    expect(text).toMatch(/^lockstep: first divergence between the translator and the interpreter after the block at [0-9a-f]+/);
    // the differing fields name both values
    expect(text).toMatch(/\n {2}[a-z0-9. ]+: translator [0-9a-f]+, interpreter [0-9a-f]+/);
    // the block disassembled: address, bytes, mnemonic
    expect(text).toMatch(/guest code of the block \(64-bit, entered at [0-9a-f]+; as in memory now\):\n {2}[0-9a-f]+ {2}([0-9a-f]{2} )+ +[a-z]+/);
    expect(text).toContain('translator state:\nRAX=');
    expect(text).toContain('interpreter state:\nRAX=');
    // and it stopped there: the program did not run to its end
    expect(r.serial).not.toContain('smc exited');
  }, 60_000);

  it('--tc-index virt-noflush: alpha running beta\'s translation at the same virtual address is caught', async () => {
    const r = await lockstepRun('tinyos.bin', 'run procs', { threshold: 2, tcIndex: 'virt-noflush' });
    expect(r.stop.status).toBe(STATUS_DIVERGENCE);
    expect(r.result.divergence).toMatch(/\n {2}rip: translator [0-9a-f]+, interpreter [0-9a-f]+/);
  }, 60_000);
});
