/**
 * Random paging configurations for the differential test against refwalk.ts (and the longer run
 * in scripts/fuzz-mmu.ts): a pool of table pages filled at a few "interesting" indices with random
 * entries (random rights, PS/G/A/D/NX, occasional reserved bits and wild addresses), random CR0/CR4/
 * EFER bits, and linear addresses built from the same indices so most walks go deep.
 */
import { RAM_BASE } from '../../src/cpu/state.js';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE } from '../../src/mmu/mmu.js';
import { makeRig, type Rig } from './harness.js';
import { RefMemory, refTranslate, type RefRegs } from './refwalk.js';

export const RAM = 2 << 20;
const POOL = 0x10000;
const POOL_PAGES = 24;
const PDPT_PAGE = 0x8000; // PAE PDPT lives here, a page no entry points to
const IDX = [0, 1, 2, 3, 255, 256, 510, 511, 1022, 1023];

export class Rng {
  constructor(private s: number) {}
  next(): number {
    let x = this.s | 0;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x;
    return x >>> 0;
  }
  below(n: number): number {
    return this.next() % n;
  }
  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }
}

/** Returns [lo, hi] of a random paging entry. */
function randomEntry(g: Rng, wide: boolean): [number, number] {
  let lo = 0;
  let hi = 0;
  if (g.chance(0.9)) lo |= 1;
  if (g.chance(0.75)) lo |= 2;
  if (g.chance(0.75)) lo |= 4;
  if (g.chance(0.3)) lo |= 0x80; // PS
  if (g.chance(0.3)) lo |= 0x100; // G
  if (g.chance(0.3)) lo |= 0x20;
  if (g.chance(0.3)) lo |= 0x40;
  const r = g.next() / 4294967296;
  if (r < 0.85) lo |= POOL + g.below(POOL_PAGES) * 0x1000;
  else if (r < 0.95) lo |= (g.next() & 0xfffff000) >>> 0;
  else if (wide) hi |= 1 + g.below(0xff); // above 4 GiB: outside RAM
  else lo |= 0xfff00000; // above RAM
  if (wide && g.chance(0.25)) hi |= 0x80000000; // NX
  if (g.chance(0.08)) {
    // one possibly-reserved bit: large-page low bits, bit 21, bits 51:40, 62:52, PDPTE bits
    const choices = wide ? [13, 16, 20, 21, 29, 40, 45, 51, 52, 58, 62, 1, 2, 5, 7] : [13, 17, 20, 21];
    const b = choices[g.below(choices.length)];
    if (b < 32) lo |= 1 << b;
    else hi |= 1 << (b - 32);
  }
  return [lo >>> 0, hi >>> 0];
}

export interface FuzzStats {
  accesses: number;
  faults: number;
  translations: number;
}

/**
 * How the TLB is treated between accesses: 'all' flushes it before each access (pure walker test),
 * 'none' keeps it (tables only change by A/D write-back, which never changes a translation), and
 * 'page' edits random table entries in both memories as it goes and relies on INVLPG (flushPage)
 * of the accessed address alone to see the edit, as a guest would.
 */
export type FlushMode = 'all' | 'none' | 'page';

/**
 * Runs `configs` random configurations of `accesses` accesses each, comparing the MMU with the
 * reference. Returns statistics; throws with a description on the first disagreement.
 */
export function runFuzz(seed: number, configs: number, accesses: number, flush: FlushMode): FuzzStats {
  const g = new Rng(seed);
  const stats: FuzzStats = { accesses: 0, faults: 0, translations: 0 };
  for (let c = 0; c < configs; c++) {
    const rig: Rig = makeRig(RAM);
    const mode = 1 + g.below(3); // 1 = 32-bit, 2 = PAE, 3 = 4-level
    const wide = mode !== 1;
    const ram = rig.views.u8.subarray(RAM_BASE, RAM_BASE + RAM);
    for (let p = 0; p < POOL_PAGES; p++) {
      for (const i of IDX) {
        if (!wide || i < 512) {
          const [lo, hi] = randomEntry(g, wide);
          if (wide) rig.w64(POOL + p * 0x1000 + i * 8, lo, hi);
          else rig.w32(POOL + p * 0x1000 + i * 4, lo);
        }
      }
    }
    const pdptOff = g.below(128) * 32;
    if (mode === 2) {
      for (let i = 0; i < 4; i++) {
        let lo = (POOL + g.below(POOL_PAGES) * 0x1000) | (g.chance(0.9) ? 1 : 0);
        let hi = 0;
        if (g.chance(0.08)) lo |= [2, 4, 0x20, 0x40, 0x100][g.below(5)];
        if (g.chance(0.05)) hi |= 0x80000000;
        rig.w64(PDPT_PAGE + pdptOff + i * 8, lo, hi);
      }
    }
    const cr0 = (0x80000001 | (g.chance(0.5) ? 0x10000 : 0)) >>> 0;
    let cr4 = (g.chance(0.5) ? 0x10 : 0) | (g.chance(0.5) ? 0x80 : 0) | (g.chance(0.3) ? 0x100000 : 0);
    if (mode !== 1) cr4 |= 0x20;
    const efer = (mode === 3 ? 0x500 : 0) | (g.chance(0.7) ? 0x800 : 0);
    const cr3 = mode === 2 ? PDPT_PAGE + pdptOff : POOL + g.below(POOL_PAGES) * 0x1000;
    rig.setRegs({ cr0, cr3, cr4, efer });
    const regs: RefRegs = { cr0, cr3: BigInt(cr3), cr4, efer };
    const refMem = new RefMemory(ram.slice(), RAM);

    for (let k = 0; k < accesses; k++) {
      let lin: number;
      const pick = (): number => IDX[g.below(IDX.length)] & (mode === 1 ? 1023 : 511);
      const off = g.chance(0.5) ? g.below(4096) : 0;
      if (mode === 1) lin = ((pick() << 22) | (pick() << 12) | off) >>> 0;
      else if (mode === 2) lin = (g.below(4) * 2 ** 30 + pick() * 2 ** 21 + pick() * 4096 + off);
      else {
        const v = pick() * 2 ** 39 + pick() * 2 ** 30 + pick() * 2 ** 21 + pick() * 4096 + off;
        lin = v >= 2 ** 47 ? v - 2 ** 48 : v; // canonical, signed
      }
      const acc = g.below(3);
      const user = g.chance(0.5);
      if (flush === 'all') rig.mmu.flushAll();
      if (flush === 'page') {
        if (g.chance(0.3)) {
          const ea = POOL + g.below(POOL_PAGES) * 0x1000 + (IDX[g.below(IDX.length)] & 511) * (wide ? 8 : 4);
          const [lo, hi] = randomEntry(g, wide);
          if (wide) rig.w64(ea, lo, hi);
          else rig.w32(ea, lo);
          refMem.bytes.set(ram.subarray(ea, ea + 8), ea);
        }
        rig.mmu.flushPage(lin);
      }
      rig.mmu.fault = 0;
      const pa = rig.mmu.translate(lin, acc, user);
      const ref = refTranslate(refMem, regs, BigInt(lin), acc === ACCESS_READ ? 'r' : acc === ACCESS_WRITE ? 'w' : 'x', user);
      const what = () =>
        `seed ${seed} config ${c} access ${k}: mode ${mode} cr0 ${cr0.toString(16)} cr4 ${cr4.toString(16)} ` +
        `efer ${efer.toString(16)} lin ${lin.toString(16)} acc ${acc} user ${user}: ` +
        `mmu ${pa < 0 ? `fault ${(rig.mmu.fault >>> 16).toString(16)}` : pa.toString(16)} ref ${JSON.stringify(ref, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v))}`;
      stats.accesses++;
      if ('pa' in ref) {
        stats.translations++;
        if (pa !== Number(ref.pa) || rig.mmu.fault !== 0) throw new Error(what());
      } else {
        stats.faults++;
        const want = 0x100 | 0x200 | 14 | (ref.err << 16);
        if (pa !== -1 || rig.mmu.fault !== want) throw new Error(what());
        const fa = BigInt.asUintN(64, BigInt(lin)).toString(16);
        if (rig.faultAddr() !== fa) throw new Error(`${what()}: fault address ${rig.faultAddr()}`);
      }
      if (k % 16 === 15 || k === accesses - 1) {
        for (let a = 0; a < RAM; a += 4) {
          if (ram[a] !== refMem.bytes[a] || ram[a + 1] !== refMem.bytes[a + 1] || ram[a + 2] !== refMem.bytes[a + 2] || ram[a + 3] !== refMem.bytes[a + 3]) {
            throw new Error(`${what()}: memory differs at 0x${a.toString(16)}`);
          }
        }
      }
    }
  }
  return stats;
}

export { ACCESS_FETCH };
