// 32-bit paging: 4 KiB and 4 MiB pages, U/S, R/W, CR0.WP, SMEP, A/D write-back and #PF codes.
import { beforeEach, describe, expect, it } from 'vitest';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE } from '../../src/mmu/mmu.js';
import { A, D, G, makeRig, P, PE, pf, PG, PS, PSE, RW, SMEP, US, WP, type Rig } from './harness.js';

const PD = 0x1000;
const PT = 0x2000;
const FRAME = 0x7000;
const LIN = 0x00405000; // PDE 1, PTE 5

let r: Rig;
beforeEach(() => {
  r = makeRig();
  r.w32(PD + 1 * 4, PT | P | RW | US);
  r.w32(PT + 5 * 4, FRAME | P | RW | US);
  r.setRegs({ cr0: PG | PE, cr3: PD, cr4: 0 });
});

describe('32-bit paging', () => {
  it('translates through PDE and PTE and sets accessed bits, dirty only on write', () => {
    r.w32(FRAME + 0x123, 0xcafebabe);
    expect(r.mmu.read32(LIN + 0x123, false)).toBe(0xcafebabe);
    expect(r.mmu.fault).toBe(0);
    expect(r.mmu.translate(LIN + 0xfff, ACCESS_READ, true)).toBe(FRAME + 0xfff);
    expect(r.r32(PD + 4)).toBe(PT | P | RW | US | A);
    expect(r.r32(PT + 20)).toBe(FRAME | P | RW | US | A);
    r.mmu.write16(LIN + 0x10, 0xbeef, true);
    expect(r.r32(FRAME + 0x10) & 0xffff).toBe(0xbeef);
    expect(r.r32(PT + 20)).toBe(FRAME | P | RW | US | A | D);
    expect(r.r32(PD + 4) & D).toBe(0); // D is only set in the leaf
  });

  it('reports not-present faults with W and U bits and CR2', () => {
    const cases: [number, boolean, number][] = [
      [ACCESS_READ, false, 0],
      [ACCESS_READ, true, 4],
      [ACCESS_WRITE, false, 2],
      [ACCESS_WRITE, true, 6],
      [ACCESS_FETCH, false, 0], // no NX, no SMEP: the I/D bit stays clear
      [ACCESS_FETCH, true, 4],
    ];
    for (const [acc, user, err] of cases) {
      r.mmu.fault = 0;
      expect(r.mmu.translate(0x00406abc, acc, user)).toBe(-1); // PTE 6 absent
      expect(r.mmu.fault).toBe(pf(err));
      expect(r.faultAddr()).toBe('406abc');
      r.mmu.fault = 0;
      expect(r.mmu.translate(0x00c00001, acc, user)).toBe(-1); // PDE 3 absent
      expect(r.mmu.fault).toBe(pf(err));
      expect(r.faultAddr()).toBe('c00001');
    }
  });

  it('reads return 0 and writes do nothing on a fault', () => {
    expect(r.mmu.read8(0x00406000, false)).toBe(0);
    expect(r.mmu.fault).toBe(pf(0));
    r.mmu.fault = 0;
    r.w32(PT + 5 * 4, FRAME | P | US); // read-only
    r.mmu.flushAll();
    r.mmu.write32(LIN, 0x11223344, true);
    expect(r.mmu.fault).toBe(pf(7));
    expect(r.r32(FRAME)).toBe(0);
    expect(r.r32(PT + 20) & D).toBe(0);
  });

  it('U/S is combined over both levels', () => {
    r.w32(PD + 4, PT | P | RW); // supervisor-only directory entry
    r.mmu.flushAll();
    expect(r.mmu.translate(LIN, ACCESS_READ, true)).toBe(-1);
    expect(r.mmu.fault).toBe(pf(5));
    r.mmu.fault = 0;
    expect(r.mmu.translate(LIN, ACCESS_WRITE, true)).toBe(-1);
    expect(r.mmu.fault).toBe(pf(7));
    r.mmu.fault = 0;
    expect(r.mmu.translate(LIN, ACCESS_WRITE, false)).toBe(FRAME);
    expect(r.mmu.fault).toBe(0);
  });

  it('R/W is combined over both levels and CR0.WP guards supervisor writes', () => {
    r.w32(PD + 4, PT | P | US); // read-only directory entry, writable PTE
    r.mmu.flushAll();
    expect(r.mmu.translate(LIN, ACCESS_WRITE, true)).toBe(-1);
    expect(r.mmu.fault).toBe(pf(7));
    r.mmu.fault = 0;
    expect(r.mmu.translate(LIN, ACCESS_WRITE, false)).toBe(FRAME); // WP = 0
    expect(r.r32(PT + 20) & D).toBe(D);
    r.setRegs({ cr0: PG | PE | WP });
    expect(r.mmu.translate(LIN, ACCESS_WRITE, false)).toBe(-1);
    expect(r.mmu.fault).toBe(pf(3));
    r.mmu.fault = 0;
    expect(r.mmu.translate(LIN, ACCESS_READ, true)).toBe(FRAME);
  });

  it('maps 4 MiB pages only with CR4.PSE, with PSE-36 address bits and bit 21 reserved', () => {
    r.w32(PD + 2 * 4, 0x00c00000 | PS | P | RW | G);
    r.setRegs({ cr4: PSE });
    expect(r.mmu.translate(0x00812345, ACCESS_READ, false)).toBe(0x00c12345);
    expect(r.r32(PD + 8)).toBe(0x00c00000 | PS | P | RW | G | A);
    r.mmu.write8(0x00bfffff, 0x5a, false);
    expect(r.views.u8[0x100000 + 0x00ffffff]).toBe(0x5a);
    expect(r.r32(PD + 8) & D).toBe(D);
    // bits 20:13 are physical address bits 39:32
    r.w32(PD + 2 * 4, 0x00c00000 | (3 << 13) | PS | P);
    r.mmu.flushAll();
    expect(r.mmu.translate(0x00812345, ACCESS_READ, false)).toBe(3 * 2 ** 32 + 0x00c12345);
    expect(r.mmu.read32(0x00812344, false)).toBe(0xffffffff); // outside RAM: open bus, no fault
    expect(r.mmu.fault).toBe(0);
    // bit 21 is reserved: RSVD | P, for a user write too
    r.w32(PD + 2 * 4, 0x00c00000 | (1 << 21) | PS | P | RW | US);
    r.mmu.flushAll();
    expect(r.mmu.translate(0x00812345, ACCESS_WRITE, true)).toBe(-1);
    expect(r.mmu.fault).toBe(pf(8 | 1 | 2 | 4));
    // without PSE the PS bit is ignored: the entry names a page table at 0x00c00000
    r.w32(PD + 2 * 4, 0x00c00000 | PS | P | RW);
    r.w32(0x00c00000 + 0x12 * 4, 0x9000 | P);
    r.setRegs({ cr4: 0 });
    r.mmu.fault = 0;
    expect(r.mmu.translate(0x00812345, ACCESS_READ, false)).toBe(0x9345);
  });

  it('SMEP forbids supervisor fetches from user pages and sets I/D on fetch faults', () => {
    r.setRegs({ cr4: SMEP });
    expect(r.mmu.translate(LIN, ACCESS_FETCH, false)).toBe(-1);
    expect(r.mmu.fault).toBe(pf(0x10 | 1));
    r.mmu.fault = 0;
    expect(r.mmu.translate(LIN, ACCESS_FETCH, true)).toBe(FRAME);
    expect(r.mmu.translate(LIN, ACCESS_READ, false)).toBe(FRAME); // data access is fine
    expect(r.mmu.translate(0x00406000, ACCESS_FETCH, true)).toBe(-1);
    expect(r.mmu.fault).toBe(pf(0x10 | 4));
  });

  it('fetch8 reads through the fetch entry', () => {
    r.views.u8[0x100000 + FRAME + 7] = 0x90;
    expect(r.mmu.fetch8(LIN + 7, true)).toBe(0x90);
    expect(r.mmu.fetch8(LIN + 7, true)).toBe(0x90);
    expect(r.mmu.fault).toBe(0);
  });

  it('wraps linear addresses at 4 GiB outside long mode', () => {
    r.w32(PD + 0, PT | P | RW);
    r.w32(PT + 0, 0x8000 | P | RW);
    r.w32(PD + 1023 * 4, 0x3000 | P | RW);
    r.w32(0x3000 + 1023 * 4, 0xa000 | P | RW);
    r.w32(0xaffc, 0x44332211);
    r.w32(0x8000, 0x88776655);
    expect(r.mmu.read64(0xfffffffc, false)).toBe(0x44332211);
    expect(r.mmu.hi).toBe(0x88776655);
    expect(r.mmu.read32(0xfffffffe, false)).toBe(0x66554433);
  });
});
