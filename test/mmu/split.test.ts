// Accesses that cross a page boundary: both pages are translated (lower first) before any byte
// moves, so a fault reports the first byte of the faulting page and a split store writes nothing.
import { beforeEach, describe, expect, it } from 'vitest';
import { canonical } from '../../src/mmu/mmu.js';
import { D, LMA, LME, makeRig, P, PAE, PE, pf, PG, RW, US, type Rig } from './harness.js';

const PD = 0x1000;
const PT = 0x2000;

let r: Rig;
beforeEach(() => {
  r = makeRig();
  r.w32(PD, PT | P | RW | US);
  r.w32(PT + 4, 0x9000 | P | RW | US); // lin 0x1000 -> 0x9000
  r.w32(PT + 8, 0x5000 | P | RW | US); // lin 0x2000 -> 0x5000 (frames not contiguous)
  r.w32(PT + 12, 0x6000 | P | US); // lin 0x3000 read-only -> 0x6000
  r.setRegs({ cr0: PG | PE, cr3: PD, cr4: 0 });
  for (let i = 0; i < 16; i++) {
    r.views.u8[0x100000 + 0x9ff8 + i] = 0xa0 + i; // last 8 bytes of 0x9000
    r.views.u8[0x100000 + 0x5000 + i] = 0xb0 + i; // first bytes of 0x5000
  }
});

describe('page-crossing accesses', () => {
  it('assembles reads from two frames', () => {
    expect(r.mmu.read16(0x1fff, false)).toBe(0xb0a7);
    expect(r.mmu.read32(0x1ffd, true)).toBe(0xb0a7a6a5);
    expect(r.mmu.read32(0x1ffe, true)).toBe(0xb1b0a7a6);
    expect(r.mmu.read64(0x1ffb, false)).toBe(0xa6a5a4a3);
    expect(r.mmu.hi).toBe(0xb2b1b0a7);
    expect(r.mmu.fault).toBe(0);
  });

  it('faults with the address of the second page when only it is absent', () => {
    r.w32(PT + 8, 0); // lin 0x2000 absent
    r.mmu.flushAll();
    expect(r.mmu.read32(0x1ffe, true)).toBe(0);
    expect(r.mmu.fault).toBe(pf(4));
    expect(r.faultAddr()).toBe('2000');
  });

  it('faults with the access address when the first page is absent, even if both are', () => {
    r.w32(PT + 4, 0);
    r.w32(PT + 8, 0);
    r.mmu.flushAll();
    r.mmu.read32(0x1ffd, false);
    expect(r.mmu.fault).toBe(pf(0));
    expect(r.faultAddr()).toBe('1ffd');
  });

  it('writes nothing when the second page refuses the store', () => {
    r.mmu.write32(0x2ffe, 0x11223344, true);
    expect(r.mmu.fault).toBe(pf(7));
    expect(r.faultAddr()).toBe('3000');
    expect(r.r32(0x5ffc)).toBe(0);
    r.mmu.fault = 0;
    r.mmu.write64(0x2ff9, 0x11223344, 0x55667788, true);
    expect(r.mmu.fault).toBe(pf(7));
    expect(r.r32(0x5ff8)).toBe(0);
    expect(r.r32(0x5ffc)).toBe(0);
  });

  it('splits writes over two frames and sets D in both leaves', () => {
    r.mmu.write32(0x1ffe, 0x11223344, false);
    expect(r.views.u8[0x100000 + 0x9ffe]).toBe(0x44);
    expect(r.views.u8[0x100000 + 0x9fff]).toBe(0x33);
    expect(r.views.u8[0x100000 + 0x5000]).toBe(0x22);
    expect(r.views.u8[0x100000 + 0x5001]).toBe(0x11);
    expect(r.r32(PT + 4) & D).toBe(D);
    expect(r.r32(PT + 8) & D).toBe(D);
    r.mmu.write64(0x1ffc, 0x04030201, 0x08070605, false);
    expect(r.r32(0x9ffc)).toBe(0x04030201);
    expect(r.r32(0x5000)).toBe(0x08070605);
    r.mmu.write16(0x1fff, 0xeedd, false);
    expect(r.mmu.read16(0x1fff, false)).toBe(0xeedd);
  });

  it('non-split 64-bit accesses', () => {
    r.mmu.write64(0x1100, 0xdeadbeef, 0x01234567, true);
    expect(r.mmu.read64(0x1100, true)).toBe(0xdeadbeef);
    expect(r.mmu.hi).toBe(0x01234567);
    r.mmu.write64(0x3000, 1, 2, true);
    expect(r.mmu.fault).toBe(pf(7));
  });

  it('crosses into the next page of a negative canonical address in long mode', () => {
    const PML4 = 0x10000;
    r.w64(PML4 + 511 * 8, 0x11000 | P | RW);
    r.w64(0x11000 + 511 * 8, 0x12000 | P | RW);
    r.w64(0x12000 + 511 * 8, 0x13000 | P | RW);
    r.w64(0x13000 + 510 * 8, 0x9000 | P | RW); // -0x2000 -> 0x9000
    r.w64(0x13000 + 511 * 8, 0x5000 | P | RW); // -0x1000 -> 0x5000
    r.setRegs({ cr0: PG | PE, cr3: PML4, cr4: PAE, efer: LME | LMA });
    const lin = canonical(0xffffeffe, 0xffffffff); // -0x1002
    expect(lin).toBe(-0x1002);
    expect(r.mmu.read32(lin, false)).toBe(0xb1b0a7a6);
    r.w64(0x13000 + 511 * 8, 0);
    r.mmu.flushPage(-0x1000);
    r.mmu.read32(lin, false);
    expect(r.mmu.fault).toBe(pf(0));
    expect(r.faultAddr()).toBe('fffffffffffff000');
  });
});
