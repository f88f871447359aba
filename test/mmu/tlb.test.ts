// The software TLB: caching as hardware does (stale until flushed), PGE + flushNonGlobal, INVLPG
// (also of large pages), privilege separation, the dirty-bit upgrade, code pages, ROM and MMIO.
import { beforeEach, describe, expect, it } from 'vitest';
import { CODE_BITMAP_BASE, RAM_BASE, TLB_BASE } from '../../src/cpu/state.js';
import type { MmioDevice } from '../../src/devices/device.js';
import { ACCESS_READ } from '../../src/mmu/mmu.js';
import { A, D, G, makeRig, P, PE, pf, PG, PGE, PS, PSE, RW, US, type Rig } from './harness.js';

const PD = 0x1000;
const PT = 0x2000;

let r: Rig;
beforeEach(() => {
  r = makeRig();
  r.w32(PD + 0, PT | P | RW | US);
  r.w32(PT + 1 * 4, 0x7000 | P | RW | US); // lin 0x1000
  r.w32(PT + 2 * 4, 0x8000 | P | RW | US | G); // lin 0x2000, global
  r.w32(PD + 4, 0x00400000 | PS | P | RW | US); // 4 MiB page at lin 0x400000
  r.setRegs({ cr0: PG | PE, cr3: PD, cr4: PGE | PSE });
});

const remap = (pteIndex: number, frame: number, extra = 0): void => r.w32(PT + pteIndex * 4, frame | P | RW | US | extra);

describe('software TLB', () => {
  it('keeps a stale translation until INVLPG, like hardware', () => {
    expect(r.mmu.translate(0x1234, ACCESS_READ, true)).toBe(0x7234);
    remap(1, 0x9000);
    expect(r.mmu.translate(0x1234, ACCESS_READ, true)).toBe(0x7234);
    expect(r.mmu.translate(0x1234, ACCESS_READ, false)).toBe(0x9234); // the other privilege walks
    r.mmu.flushPage(0x1fff);
    expect(r.mmu.translate(0x1234, ACCESS_READ, true)).toBe(0x9234);
  });

  it('keeps global pages across flushNonGlobal and drops them on flushAll', () => {
    r.mmu.read8(0x1000, true);
    r.mmu.read8(0x2000, true);
    remap(1, 0x9000);
    remap(2, 0xa000, G);
    r.mmu.flushNonGlobal();
    expect(r.mmu.translate(0x1000, ACCESS_READ, true)).toBe(0x9000);
    expect(r.mmu.translate(0x2000, ACCESS_READ, true)).toBe(0x8000);
    r.mmu.flushAll();
    expect(r.mmu.translate(0x2000, ACCESS_READ, true)).toBe(0xa000);
    // INVLPG drops global entries too
    remap(2, 0xb000, G);
    r.mmu.flushPage(0x2000);
    expect(r.mmu.translate(0x2000, ACCESS_READ, true)).toBe(0xb000);
  });

  it('ignores the G bit when CR4.PGE is clear', () => {
    r.setRegs({ cr4: PSE });
    r.mmu.read8(0x2000, true);
    remap(2, 0xa000, G);
    r.mmu.flushNonGlobal();
    expect(r.mmu.translate(0x2000, ACCESS_READ, true)).toBe(0xa000);
  });

  it('INVLPG of any address in a large page drops every cached piece of it', () => {
    expect(r.mmu.translate(0x401000, ACCESS_READ, false)).toBe(0x401000);
    expect(r.mmu.translate(0x7ff000, ACCESS_READ, false)).toBe(0x7ff000);
    r.w32(PD + 4, 0x00800000 | PS | P | RW | US);
    r.mmu.flushPage(0x400000);
    expect(r.mmu.translate(0x401000, ACCESS_READ, false)).toBe(0x801000);
    expect(r.mmu.translate(0x7ff000, ACCESS_READ, false)).toBe(0xbff000);
  });

  it('keeps global large pages across flushNonGlobal and still drops them on INVLPG', () => {
    r.w32(PD + 8, 0x00c00000 | PS | P | RW | G); // lin 0x800000, global 4 MiB page
    expect(r.mmu.translate(0x801000, ACCESS_READ, false)).toBe(0xc01000);
    r.w32(PD + 8, 0x01000000 | PS | P | RW | G);
    r.mmu.flushNonGlobal();
    expect(r.mmu.translate(0x801000, ACCESS_READ, false)).toBe(0xc01000);
    r.mmu.flushPage(0xbff000); // another address in the same large page
    expect(r.mmu.translate(0x801000, ACCESS_READ, false)).toBe(0x1001000);
  });

  it('a supervisor entry does not let user code in', () => {
    r.w32(PT + 3 * 4, 0x9000 | P | RW); // supervisor page
    expect(r.mmu.read32(0x3000, false)).toBe(0);
    expect(r.mmu.fault).toBe(0);
    expect(r.mmu.read32(0x3000, true)).toBe(0);
    expect(r.mmu.fault).toBe(pf(5));
  });

  it('a read-only entry does not let a write through, and the first write sets D', () => {
    r.w32(0x7000, 0x01020304);
    expect(r.mmu.read32(0x1000, true)).toBe(0x01020304);
    expect(r.r32(PT + 4) & (A | D)).toBe(A);
    r.mmu.write32(0x1000, 0xaabbccdd, true); // hits a cached entry without the write right
    expect(r.r32(PT + 4) & D).toBe(D);
    expect(r.r32(0x7000)).toBe(0xaabbccdd);
    r.w32(PT + 3 * 4, 0x9000 | P | US); // read-only user page
    expect(r.mmu.read8(0x3000, true)).toBe(0);
    r.mmu.write8(0x3000, 1, true);
    expect(r.mmu.fault).toBe(pf(7));
  });

  it('sends stores to code pages through PhysicalMemory until the page is no longer code', () => {
    const writes: number[] = [];
    const bitmap = r.views.u8;
    r.phys.onCodeWrite = (page) => {
      writes.push(page);
      bitmap[CODE_BITMAP_BASE + (page >>> 3)] &= ~(1 << (page & 7)); // the translator clears the mark
    };
    r.mmu.write32(0x1000, 1, true); // fast write entry installed
    bitmap[CODE_BITMAP_BASE + (7 >>> 3)] |= 1 << (7 & 7); // page 7 now holds code
    r.mmu.invalidatePhysPage(7);
    r.mmu.write32(0x1004, 2, true);
    expect(writes).toEqual([7]);
    expect(r.r32(0x7004)).toBe(2);
    r.mmu.write8(0x1008, 3, true); // mark cleared: back on the fast path
    r.mmu.write8(0x1009, 4, true);
    expect(writes).toEqual([7]);
    expect(r.r32(0x7008)).toBe(0x0403);
    // a page that is code when first touched never gets a fast write entry
    bitmap[CODE_BITMAP_BASE + 1] |= 1 << 0; // page 8
    r.mmu.write16(0x2000, 0x55aa, true);
    expect(writes).toEqual([7, 8]);
    expect(r.r32(0x8000)).toBe(0x55aa);
    // while the mark stays, every store is reported, the second one too
    r.phys.onCodeWrite = (page) => void writes.push(page);
    bitmap[CODE_BITMAP_BASE + 1] |= 1 << 0;
    r.mmu.write8(0x2010, 1, true);
    r.mmu.write32(0x2020, 2, true);
    expect(writes).toEqual([7, 8, 8, 8]);
  });

  it('fills the entry layout documented in tlb.ts', () => {
    r.mmu.read8(0x1000, true);
    const w = (TLB_BASE >> 2) + (4096 + 1) * 8; // user table, index 1
    const i32 = r.views.i32;
    expect(i32[w + 0]).toBe(0); // read tag: lin >> 24
    expect(i32[w + 1]).toBe(-0x80000000); // not dirty yet: no fast write
    expect(i32[w + 2]).toBe(0); // fetch
    expect(r.views.u32[w + 3]).toBe(RAM_BASE + 0x7000);
    expect(i32[w + 6]).toBe(0x7000);
    r.mmu.write8(0x1000, 1, true);
    expect(i32[w + 1]).toBe(0);
  });

  it('never writes the ROM area and sends MMIO pages to their device', () => {
    r.setRegs({ cr0: PE, cr4: 0 }); // no paging
    r.mmu.write32(0xc0000, 0x12345678, false);
    r.mmu.write8(0xc0004, 0x12, false);
    r.mmu.write32(0xc0008, 0x12, false);
    expect(r.r32(0xc0000)).toBe(0);
    expect(r.r32(0xc0004)).toBe(0);
    expect(r.r32(0xc0008)).toBe(0);
    const log: string[] = [];
    const dev: MmioDevice = {
      mmioRead: (off: number, size: number) => {
        log.push(`r${size}@${off.toString(16)}`);
        return 0x42;
      },
      mmioWrite: (off: number, size: number, v: number) => void log.push(`w${size}@${off.toString(16)}=${v.toString(16)}`),
    };
    r.phys.addMmio(0xfee00000, 0x1000, dev);
    expect(r.mmu.read32(0xfee000b0, false)).toBe(0x42);
    expect(r.mmu.read32(0xfee000b0, false)).toBe(0x42);
    r.mmu.write32(0xfee000b0, 0, false);
    r.mmu.write32(0xfee000b0, 7, false);
    expect(log).toEqual(['r4@b0', 'r4@b0', 'w4@b0=0', 'w4@b0=7']);
  });
});
