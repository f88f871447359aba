/**
 * ELF64 direct entry: segments at p_paddr, long-mode CPU state, and page tables that really map
 * the low 4 GiB one to one (checked with a small 4-level walker written here from SDM Vol. 3 §4.5).
 */
import { describe, expect, it } from 'vitest';
import {
  gprOffset, MODE_LONG64, OFF_CR0, OFF_CR3, OFF_CR4, OFF_EFER, OFF_GDTR_BASE, OFF_MODE, OFF_RIP,
  REG_RAX, REG_RDI, REG_RSI, REG_RSP, SEG_ATTR, SEG_CS, SEG_SELECTOR, SEG_SS, segOffset,
} from '../../src/cpu/state.js';
import { loadImage } from '../../src/boot/load.js';
import { cString, elf, machine, pattern, type TestMachine } from './images.js';

const MiB = 0x100000;

/** Walks the guest's 4-level tables for a linear address < 2^32; returns the physical address or -1. */
function walk(m: TestMachine, cr3: number, lin: number): number {
  let table = cr3 & ~0xfff;
  const idx = [Math.floor(lin / 2 ** 39) & 511, Math.floor(lin / 2 ** 30) & 511, Math.floor(lin / 2 ** 21) & 511, Math.floor(lin / 4096) & 511];
  for (let level = 0; level < 4; level++) {
    const lo = m.phys.read32(table + idx[level] * 8);
    const hi = m.phys.read32(table + idx[level] * 8 + 4);
    if ((lo & 1) === 0) return -1;
    const base = hi * 2 ** 32 + (lo - (lo % 4096)); // read32 returns unsigned values
    if (level === 2 && (lo & 0x80) !== 0) return (base - (base % (2 * MiB))) + (lin % (2 * MiB));
    if (level === 3) return base + (lin % 4096);
    table = base;
  }
  return -1;
}

describe('ELF64 direct entry', () => {
  const code = pattern(0x3000, 11);
  const image = elf(true, {
    entry: 0x200040,
    segs: [
      { paddr: 0x200000, data: code },
      { paddr: 0x400000, data: pattern(16, 12), memsz: 0x1000 },
    ],
  });

  it('loads segments and enters 64-bit mode with the info structure in RDI', () => {
    const m = machine(32 * MiB);
    const r = loadImage(image, m, { cmdline: 'x=1', imageName: 'k64', modules: [] });
    expect(r.format).toBe('elf64');
    expect(m.phys.readBytes(0x200000, code.length)).toEqual(code);
    const v = m.views;
    expect(v.getNum(OFF_RIP)).toBe(0x200040);
    expect(v.u32[OFF_MODE >>> 2]).toBe(MODE_LONG64);
    expect(v.lo(OFF_CR0) >>> 0).toBe(0x80000011); // PG | ET | PE
    expect(v.lo(OFF_CR4) & 0x20).toBe(0x20); // PAE
    expect(v.lo(OFF_EFER) & 0x500).toBe(0x500); // LME | LMA
    expect(v.lo(gprOffset(REG_RDI))).toBe(0x9500);
    expect(v.lo(gprOffset(REG_RSI))).toBe(0x2badb002);
    expect(v.lo(gprOffset(REG_RAX))).toBe(0x2badb002);
    expect(v.getNum(gprOffset(REG_RSP))).toBe(0x9000);
    const cs = v.u32[(segOffset(SEG_CS) + SEG_ATTR) >>> 2];
    expect(cs & 0xff).toBe(0x9b);
    expect((cs >> 13) & 1).toBe(1); // L
    expect((cs >> 14) & 1).toBe(0); // D must be 0 with L
    expect(v.u32[(segOffset(SEG_CS) + SEG_SELECTOR) >>> 2]).toBe(0x08);
    expect(v.u32[(segOffset(SEG_SS) + SEG_SELECTOR) >>> 2]).toBe(0x10);
    // The GDT entry for 0x08 is a 64-bit code descriptor (byte 6 = G|L).
    const gdt = v.getNum(OFF_GDTR_BASE);
    expect(m.phys.read8(gdt + 8 + 5)).toBe(0x9b);
    expect(m.phys.read8(gdt + 8 + 6) >> 4).toBe(0xa);
    // Same info structure as multiboot.
    expect(cString(m, m.phys.read32(0x9500 + 16))).toBe('k64 x=1');
    expect(m.phys.read32(0x9500 + 8)).toBe(32 * 1024 - 1024 - 128); // KiB from 1 MiB to SeaBIOS's top 128 KiB
  });

  it('identity-maps the low 4 GiB, writable, and the tables avoid the kernel', () => {
    const m = machine(32 * MiB);
    loadImage(image, m, { cmdline: '', imageName: 'k', modules: [] });
    const cr3 = m.views.lo(OFF_CR3);
    expect(cr3 === 0 || (cr3 >= 0x200000 && cr3 < 0x401000)).toBe(false);
    for (const lin of [0, 0x1234, 0x200040, 0x1fffff, 0x200000, 31 * MiB + 5, 0x40000000, 0xbfffffff, 0xfee00020, 0xffffffff]) {
      expect(walk(m, cr3, lin)).toBe(lin);
    }
    let wrong = 0;
    for (let page = 0; page < 2048; page++) {
      const lin = page * 2 * MiB + ((page * 0x12345) % (2 * MiB));
      if (walk(m, cr3, lin) !== lin) wrong++;
    }
    expect(wrong).toBe(0);
    // Writable at every level for a sample address.
    const pml4e = m.phys.read32(cr3 & ~0xfff);
    expect(pml4e & 3).toBe(3);
    expect(walk(m, cr3, 2 ** 32)).toBe(-1); // nothing above 4 GiB
  });
});
