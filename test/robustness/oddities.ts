/**
 * Oddities for the machine fuzz (harness.ts `oddities`, scripts/fuzz-machine.ts --oddities): after
 * a case's normal set-up, paging switched on with damaged page tables (32-bit 4 KiB or 4 MiB pages
 * and PAE in protected mode; 2 MiB pages split into 4 KiB tables in long mode), random descriptors
 * in an extended GDT (call and task gates, LDTs, available and busy TSSs, any code or data type),
 * IDT gates of every type with odd selectors and IST indexes, a short IDT limit, and hostile
 * stack pointers in the TSS. The damage is drawn from its own random stream, so a case keeps the
 * code, registers and flags of its seed; the random code then runs into these structures.
 */
import {
  CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE, CR4_SMEP, EFER_NXE, OFF_CR0, OFF_CR3, OFF_CR4, OFF_EFER, OFF_GDTR_LIMIT,
  OFF_IDTR_LIMIT,
} from '../../src/cpu/state.js';
import type { Machine } from '../../src/machine/machine.js';
import type { Rng } from './harness.js';

/** The layout harness.ts uses (guest-physical). */
export interface Layout {
  ram: number;
  idt: number;
  pml4: number;
  gdt: number;
  tss: number;
  handlers: number;
  junk: number;
  /** pages the case cannot do without: damage lands there now and then, not always */
  critical: number[];
}

/** Free RAM for the tables built here (above the stacks, below the end of a 4 MiB guest). */
const TABLES = 0x90000;

function w32(m: Machine, pa: number, v: number): void {
  m.phys.write32(pa, v >>> 0);
}

/** A value near an edge of memory: what a damaged entry or stack pointer may point at. */
function edge(rng: Rng, ram: number): number {
  return rng.pick([0, ram - 4, ram, ram + 0x1000, 0xfee00000, 0xfff00000, 0xfffff000, rng.next() & ~0xfff, rng.int(ram)]) >>> 0;
}

/** Damages one 4- or 8-byte paging entry at pa: one flag, a reserved bit, or the frame. */
function damage(m: Machine, rng: Rng, pa: number, wide: boolean, ram: number): void {
  const lo = m.phys.read32(pa);
  const hi = wide ? m.phys.read32(pa + 4) : 0;
  switch (rng.int(8)) {
    case 0: w32(m, pa, lo & ~1); break; // not present
    case 1: w32(m, pa, lo & ~2); break; // read-only
    case 2: w32(m, pa, lo & ~4); break; // supervisor
    case 3: if (wide) w32(m, pa + 4, hi | 0x80000000); break; // NX
    case 4: if (wide) w32(m, pa + 4, hi | (1 << (16 + rng.int(15)))); else w32(m, pa, lo | (1 << (13 + rng.int(9)))); break; // reserved / high bits
    case 5: w32(m, pa, (lo & 0xfff) | (edge(rng, ram) & ~0xfff)); break; // another frame
    case 6: w32(m, pa, lo ^ (1 << rng.int(12))); break; // any low flag (PWT, PCD, A, D, PS, G ...)
    default: w32(m, pa, rng.next()); if (wide) w32(m, pa + 4, rng.chance(0.5) ? 0 : rng.next()); break;
  }
}

/** An index into a table of 512 or 1024 entries, aimed at a critical page one time in ten. */
function target(rng: Rng, entries: number, critical: number[], pageOf: (page: number) => number): number {
  if (rng.chance(0.1)) return pageOf(rng.pick(critical)) % entries;
  return rng.int(entries);
}

/** Paging for a protected-mode case: 32-bit or PAE, identity-mapping the first 4 MiB, then damage. */
function protectedPaging(m: Machine, rng: Rng, l: Layout): void {
  const v = m.views;
  const pae = rng.chance(0.5);
  const big = rng.chance(0.3);
  const g = rng.chance(0.5) ? 0x100 : 0;
  let cr4 = (v.lo(OFF_CR4) | (rng.chance(0.5) ? CR4_PGE : 0) | (big || rng.chance(0.5) ? CR4_PSE : 0)) >>> 0;
  const entries: [number, boolean][] = []; // [pa, wide] of every entry built, for the damage
  if (!pae) {
    const pd = TABLES;
    const pt = TABLES + 0x1000;
    if (big) w32(m, pd, 0x87 | g);
    else {
      w32(m, pd, pt | 7);
      for (let i = 0; i < 1024; i++) { w32(m, pt + i * 4, (i << 12) | 7 | g); entries.push([pt + i * 4, false]); }
    }
    entries.push([pd, false]);
    for (let i = 1; i < 1024; i++) if (rng.chance(0.01)) { w32(m, pd + i * 4, rng.next()); entries.push([pd + i * 4, false]); }
    v.set64(OFF_CR3, pd | (rng.chance(0.2) ? 0x18 : 0), 0);
  } else {
    cr4 |= CR4_PAE;
    const pdpt = TABLES + 0x2000;
    const pd = TABLES + 0x3000;
    const pt = TABLES + 0x4000; // two tables: 4 MiB of 4 KiB pages
    w32(m, pdpt, pd | 1);
    for (let i = 1; i < 4; i++) if (rng.chance(0.2)) w32(m, pdpt + i * 8, rng.next() | 1);
    for (let j = 0; j < 2; j++) {
      if (big) w32(m, pd + j * 8, (j << 21) | 0x87 | g);
      else {
        w32(m, pd + j * 8, (pt + j * 0x1000) | 7);
        for (let i = 0; i < 512; i++) {
          const e = pt + j * 0x1000 + i * 8;
          w32(m, e, (((j << 9) + i) << 12) | 7 | g);
          entries.push([e, true]);
        }
      }
      entries.push([pd + j * 8, true]);
    }
    entries.push([pdpt, true]);
    v.set64(OFF_EFER, v.lo(OFF_EFER) | (rng.chance(0.5) ? EFER_NXE : 0), 0);
    v.set64(OFF_CR3, pdpt | (rng.chance(0.2) ? 0x18 : 0), 0);
  }
  v.set64(OFF_CR4, cr4, 0);
  v.set64(OFF_CR0, (v.lo(OFF_CR0) | CR0_PG | (rng.chance(0.5) ? CR0_WP : 0)) >>> 0, 0);
  for (let n = rng.int(24); n > 0; n--) {
    const [pa, wide] = rng.chance(0.85) && entries.length > 4
      ? entries[target(rng, entries.length, l.critical, (p) => p)]
      : rng.pick(entries);
    damage(m, rng, pa, wide, l.ram);
  }
}

/** Long mode: split the first 4 MiB into 4 KiB pages now and then, and damage entries at every level. */
function longPaging(m: Machine, rng: Rng, l: Layout): void {
  const v = m.views;
  const pd = l.pml4 + 0x2000;
  const entries: number[] = [l.pml4, l.pml4 + 0x1000];
  for (let j = 0; j < 2; j++) {
    if (rng.chance(0.5)) {
      const pt = TABLES + 0x4000 + j * 0x1000;
      for (let i = 0; i < 512; i++) {
        w32(m, pt + i * 8, (((j << 9) + i) << 12) | 7 | (rng.chance(0.1) ? 0x100 : 0));
        w32(m, pt + i * 8 + 4, 0);
        entries.push(pt + i * 8);
      }
      w32(m, pd + j * 8, pt | 7);
    }
    entries.push(pd + j * 8);
  }
  for (let i = 2; i < 512; i++) if (rng.chance(0.02)) entries.push(pd + i * 8);
  if (rng.chance(0.5)) v.set64(OFF_CR0, (v.lo(OFF_CR0) | CR0_WP) >>> 0, 0);
  if (rng.chance(0.3)) v.set64(OFF_CR4, v.lo(OFF_CR4) | CR4_PGE | (rng.chance(0.1) ? CR4_SMEP : 0), 0);
  // (entries[2 + page] is a page's 4 KiB entry when the first 2 MiB were split)
  for (let n = rng.int(24); n > 0; n--) damage(m, rng, entries[target(rng, entries.length, l.critical, (p) => p + 2)], true, l.ram);
}

/** Random descriptors in GDT slots 9.. (the limit grows to cover them). */
function gdtOddities(m: Machine, rng: Rng, l: Layout): void {
  const slots = 1 + rng.int(40);
  for (let i = 9; i < 9 + slots; i++) {
    const dpl = rng.int(4) << 13;
    const p = rng.chance(0.9) ? 0x8000 : 0;
    const base = rng.pick([0, l.junk, l.tss, l.handlers, edge(rng, l.ram)]);
    const limit = rng.pick([0, 0x67, 0xfff, 0xfffff, rng.int(0x100000)]);
    const type = rng.pick([0x2, 0x5, 0x9, 0xb, 0xc, 0xe, 0xf, 0x10 | rng.int(16), 0x10 | rng.int(16), 0x10 | rng.int(16)]);
    let lo: number;
    let hi: number;
    if (type === 0x5 || type === 0xc || type === 0xe || type === 0xf) {
      // a gate: selector and offset
      const sel = rng.pick([0x08, 0x18 | 3, 0x28, 0x30 | 3, 0x38, 0x10, 0, (i + rng.int(4)) << 3]);
      const off = l.handlers + rng.int(0x1000);
      lo = (sel << 16) | (off & 0xffff);
      hi = (off & 0xffff0000) | p | dpl | (type << 8) | rng.int(32);
    } else {
      lo = ((base & 0xffff) << 16) | (limit & 0xffff);
      hi = (base & 0xff000000) | (rng.int(16) << 20) | (limit & 0xf0000) | p | dpl | (type << 8) | ((base >>> 16) & 0xff);
    }
    w32(m, l.gdt + i * 8, lo);
    w32(m, l.gdt + i * 8 + 4, hi);
  }
  m.views.u32[OFF_GDTR_LIMIT >>> 2] = (9 + slots) * 8 - 1;
}

/** Odd IDT gates, a short IDT limit now and then, and hostile TSS stack pointers and IST entries. */
function idtOddities(m: Machine, rng: Rng, l: Layout, long: boolean): void {
  const stride = long ? 16 : 8;
  for (let n = rng.int(48); n > 0; n--) {
    const vec = rng.chance(0.5) ? rng.int(32) : rng.int(256);
    const e = l.idt + vec * stride;
    const type = rng.pick([0x0, 0x5, 0x6, 0x7, 0xc, 0xe, 0xf, 0x4]);
    const sel = rng.pick([0, 0x08, 0x10, 0x1b, 0x28, 0x33, 0x38, 0x48, 0xfff8, rng.int(0x10000)]);
    const hi = m.phys.read32(e + 4);
    w32(m, e, (m.phys.read32(e) & 0xffff) | (sel << 16));
    w32(m, e + 4, (hi & 0xffff00e0) | 0x8000 | (type << 8) | (long && rng.chance(0.3) ? 1 + rng.int(7) : 0));
  }
  if (rng.chance(0.2)) m.views.u32[OFF_IDTR_LIMIT >>> 2] = rng.int(stride * 40);
  if (rng.chance(0.3)) w32(m, l.tss + 4, edge(rng, l.ram)); // ESP0 / RSP0 low half
  if (!long && rng.chance(0.2)) w32(m, l.tss + 8, rng.pick([0, 0x08, 0x1b, 0x23, 0x38, rng.int(0x10000)])); // SS0
  if (long) for (let i = 0; i < 7; i++) if (rng.chance(0.5)) w32(m, l.tss + 0x24 + i * 8, edge(rng, l.ram)); // IST1..7
}

/** Applies the oddities to a case that has been set up (real mode: only the IVT and its limit). */
export function addOddities(m: Machine, rng: Rng, setting: string, l: Layout): void {
  if (setting === 'real') {
    for (let n = rng.int(32); n > 0; n--) w32(m, l.idt + rng.int(256) * 4, rng.chance(0.5) ? rng.next() : edge(rng, l.ram));
    if (rng.chance(0.2)) m.views.u32[OFF_IDTR_LIMIT >>> 2] = rng.int(0x100);
    return;
  }
  const long = setting.startsWith('long');
  if (rng.chance(0.7)) {
    if (long) longPaging(m, rng, l);
    else protectedPaging(m, rng, l);
  }
  if (rng.chance(0.6)) gdtOddities(m, rng, l);
  if (rng.chance(0.6)) idtOddities(m, rng, l, long);
}
