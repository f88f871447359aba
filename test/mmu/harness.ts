/**
 * Test harness for the MMU tests: a small machine (memory, state views, physical memory, MMU) and
 * helpers that write paging structures into guest RAM and set the control registers the walker
 * reads. Bit values are spelled out here from the SDM, independently of src/mmu.
 */
import { OFF_CR0, OFF_CR3, OFF_CR4, OFF_EFER, OFF_FAULT_ADDR, RAM_BASE, StateViews } from '../../src/cpu/state.js';
import { Mmu } from '../../src/mmu/mmu.js';
import { PhysicalMemory } from '../../src/mmu/physmem.js';

export const P = 1;
export const RW = 2;
export const US = 4;
export const A = 0x20;
export const D = 0x40;
export const PS = 0x80;
export const G = 0x100;
export const NX_HI = 0x80000000;

export const PG = 0x80000000;
export const PE = 1;
export const WP = 0x10000;
export const PSE = 0x10;
export const PAE = 0x20;
export const PGE = 0x80;
export const SMEP = 0x100000;
export const LME = 0x100;
export const LMA = 0x400;
export const NXE = 0x800;

export interface Rig {
  views: StateViews;
  phys: PhysicalMemory;
  mmu: Mmu;
  /** 32-bit little-endian word of guest RAM. */
  r32(pa: number): number;
  w32(pa: number, v: number): void;
  /** A 64-bit paging entry as two halves. */
  w64(pa: number, lo: number, hi?: number): void;
  setRegs(r: { cr0?: number; cr3?: number; cr3hi?: number; cr4?: number; efer?: number }): void;
  /** Fault address recorded by the MMU, as an unsigned 64-bit hex string. */
  faultAddr(): string;
}

export function makeRig(ramSize = 16 << 20): Rig {
  const pages = (RAM_BASE + ramSize) / 65536;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const views = new StateViews(memory);
  const phys = new PhysicalMemory(views, ramSize);
  const mmu = new Mmu(views, phys);
  const dv = new DataView(memory.buffer);
  const rig: Rig = {
    views,
    phys,
    mmu,
    r32: (pa) => dv.getUint32(RAM_BASE + pa, true),
    w32: (pa, v) => dv.setUint32(RAM_BASE + pa, v >>> 0, true),
    w64: (pa, lo, hi = 0) => {
      dv.setUint32(RAM_BASE + pa, lo >>> 0, true);
      dv.setUint32(RAM_BASE + pa + 4, hi >>> 0, true);
    },
    setRegs: (r) => {
      if (r.cr0 !== undefined) dv.setUint32(OFF_CR0, r.cr0 >>> 0, true);
      if (r.cr3 !== undefined) dv.setUint32(OFF_CR3, r.cr3 >>> 0, true);
      if (r.cr3hi !== undefined) dv.setUint32(OFF_CR3 + 4, r.cr3hi >>> 0, true);
      if (r.cr4 !== undefined) dv.setUint32(OFF_CR4, r.cr4 >>> 0, true);
      if (r.efer !== undefined) dv.setUint32(OFF_EFER, r.efer >>> 0, true);
      mmu.flushAll();
    },
    faultAddr: () => dv.getBigUint64(OFF_FAULT_ADDR, true).toString(16),
  };
  return rig;
}

/** The #PF fault value with error code `err`, spelled out from cpu/fault.ts's documented format. */
export const pf = (err: number): number => 0x100 | 0x200 | 14 | (err << 16);
