// Without paging (real and protected mode, CR0.PG = 0): linear = physical, every access allowed,
// through the same TLB; unaligned accesses on the fast path; MMU state after reset-like flushes.
import { beforeEach, describe, expect, it } from 'vitest';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE } from '../../src/mmu/mmu.js';
import { makeRig, P, PE, PG, RW, type Rig } from './harness.js';

let r: Rig;
beforeEach(() => {
  r = makeRig();
  r.setRegs({ cr0: PE, cr4: 0, efer: 0 });
});

describe('no paging', () => {
  it('maps linear to physical for every access kind and privilege', () => {
    for (const user of [false, true]) {
      for (const acc of [ACCESS_READ, ACCESS_WRITE, ACCESS_FETCH]) {
        expect(r.mmu.translate(0x12345, acc, user)).toBe(0x12345);
        expect(r.mmu.translate(0x12345, acc, user)).toBe(0x12345); // second time from the TLB
      }
    }
    expect(r.mmu.fault).toBe(0);
  });

  it('reads and writes unaligned values within a page, little-endian', () => {
    const base = 0x30000;
    for (let i = 0; i < 16; i++) r.views.u8[0x100000 + base + i] = 0x10 + i;
    for (let pass = 0; pass < 2; pass++) {
      expect(r.mmu.read16(base + 1, pass === 1)).toBe(0x1211);
      expect(r.mmu.read32(base + 3, pass === 1)).toBe(0x16151413);
      expect(r.mmu.read32(base + 4, pass === 1)).toBe(0x17161514);
      expect(r.mmu.read8(base + 15, pass === 1)).toBe(0x1f);
      expect(r.mmu.fetch8(base + 14, pass === 1)).toBe(0x1e);
    }
    r.mmu.write16(base + 1, 0xaabb, false);
    r.mmu.write32(base + 5, 0x01020304, false);
    r.mmu.write16(base + 1, 0xaabb, false); // again, now through the fast write entry
    r.mmu.write32(base + 9, 0x05060708, false);
    const bytes = Array.from(r.views.u8.subarray(0x100000 + base, 0x100000 + base + 16));
    expect(bytes).toEqual([0x10, 0xbb, 0xaa, 0x13, 0x14, 0x04, 0x03, 0x02, 0x01, 0x08, 0x07, 0x06, 0x05, 0x1d, 0x1e, 0x1f]);
  });

  it('reads beyond RAM as open bus without a fault', () => {
    expect(r.mmu.read32(0xf0000000, false)).toBe(0xffffffff);
    expect(r.mmu.read8(0xf0000001, true)).toBe(0xff);
    expect(r.mmu.fault).toBe(0);
  });

  it('needs flushAll when paging is turned on (the system layer does it on CR0 writes)', () => {
    expect(r.mmu.translate(0x5000, ACCESS_READ, false)).toBe(0x5000);
    r.w32(0x1000, 0x2000 | P | RW);
    r.w32(0x2000 + 5 * 4, 0x9000 | P | RW);
    r.views.u32[0x230 >> 2] = 0x1000; // CR3
    r.views.u32[0x220 >> 2] = (PG | PE) >>> 0; // CR0, no flush yet: the old entry stays
    expect(r.mmu.translate(0x5000, ACCESS_READ, false)).toBe(0x5000);
    r.mmu.flushAll();
    expect(r.mmu.translate(0x5000, ACCESS_READ, false)).toBe(0x9000);
  });
});
