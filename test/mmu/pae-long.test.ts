// PAE and 4-level paging: 2 MiB / 1 GiB pages, NX, reserved bits, physical addresses above 4 GiB,
// canonical high-half addresses and their fault address.
import { beforeEach, describe, expect, it } from 'vitest';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, canonical } from '../../src/mmu/mmu.js';
import {
  A, D, LMA, LME, makeRig, NX_HI, NXE, P, PAE, PE, pf, PG, PS, RW, SMEP, US, type Rig,
} from './harness.js';

describe('PAE paging', () => {
  const PDPT = 0x3020; // 32-byte aligned, not page aligned
  const PD = 0x4000;
  const PT = 0x5000;
  let r: Rig;
  beforeEach(() => {
    r = makeRig();
    r.w64(PDPT + 1 * 8, PD | P); // lin 0x40000000..0x7fffffff
    r.w64(PD + 3 * 8, PT | P | RW | US); // 0x40600000
    r.w64(PT + 4 * 8, 0x9000 | P | RW | US); // 0x40604000
    r.w64(PD + 4 * 8, 0x00e00000 | PS | P | RW | US); // 2 MiB page at 0x40800000
    r.setRegs({ cr0: PG | PE, cr3: PDPT, cr4: PAE, efer: 0 });
  });

  it('walks PDPTE, PDE, PTE; sets A on PDE/PTE but never on the PDPTE', () => {
    expect(r.mmu.translate(0x40604abc, ACCESS_READ, true)).toBe(0x9abc);
    expect(r.r32(PDPT + 8)).toBe(PD | P);
    expect(r.r32(PD + 24)).toBe(PT | P | RW | US | A);
    expect(r.r32(PT + 32)).toBe(0x9000 | P | RW | US | A);
  });

  it('maps 2 MiB pages and sets A/D in the PDE', () => {
    expect(r.mmu.translate(0x409abcde, ACCESS_WRITE, true)).toBe(0x00e00000 + 0x1abcde);
    expect(r.r32(PD + 32)).toBe(0x00e00000 | PS | P | RW | US | A | D);
  });

  it('treats bit 63 as reserved without EFER.NXE and as no-execute with it', () => {
    r.w64(PT + 4 * 8, 0x9000 | P | RW | US, NX_HI);
    r.mmu.flushAll();
    expect(r.mmu.translate(0x40604000, ACCESS_READ, false)).toBe(-1);
    expect(r.mmu.fault).toBe(pf(8 | 1));
    r.mmu.fault = 0;
    expect(r.mmu.translate(0x40604000, ACCESS_FETCH, true)).toBe(-1);
    expect(r.mmu.fault).toBe(pf(8 | 1 | 4)); // no I/D without NXE or SMEP
    r.setRegs({ efer: NXE });
    r.mmu.fault = 0;
    expect(r.mmu.translate(0x40604000, ACCESS_READ, true)).toBe(0x9000);
    expect(r.mmu.translate(0x40604000, ACCESS_FETCH, true)).toBe(-1);
    expect(r.mmu.fault).toBe(pf(0x10 | 4 | 1));
    r.mmu.fault = 0;
    // NX in a non-leaf entry forbids fetches from the whole region, at CPL 0 too
    r.w64(PT + 4 * 8, 0x9000 | P | RW | US);
    r.w64(PD + 3 * 8, PT | P | RW | US, NX_HI);
    r.mmu.flushAll();
    expect(r.mmu.translate(0x40604000, ACCESS_FETCH, false)).toBe(-1);
    expect(r.mmu.fault).toBe(pf(0x10 | 1));
    r.mmu.fault = 0;
    // with NXE, a not-present fetch reports I/D
    expect(r.mmu.translate(0x40605000, ACCESS_FETCH, false)).toBe(-1);
    expect(r.mmu.fault).toBe(pf(0x10));
  });

  it('flags reserved bits in PDPTEs, 2 MiB PDEs and above MAXPHYADDR', () => {
    const probe = (): number => {
      r.mmu.flushAll();
      r.mmu.fault = 0;
      r.mmu.translate(0x40604000, ACCESS_READ, false);
      return r.mmu.fault;
    };
    r.w64(PDPT + 8, PD | P | RW); // R/W is reserved in a PAE PDPTE
    expect(probe()).toBe(pf(9));
    expect(r.mmu.checkPdptes()).toBe(0x100 | 0x200 | 13);
    r.w64(PDPT + 8, PD | P);
    expect(r.mmu.checkPdptes()).toBe(0);
    expect(probe()).toBe(0);
    r.w64(PT + 4 * 8, 0x9000 | P, 0x100); // physical address bit 40
    expect(probe()).toBe(pf(9));
    r.w64(PT + 4 * 8, 0x9000 | P, 0x40000000); // bit 62: reserved in PAE paging
    expect(probe()).toBe(pf(9));
    r.w64(PT + 4 * 8, 0x9000 | P, 0xff); // bits 39:32: a valid address above 4 GiB
    expect(probe()).toBe(0);
    expect(r.mmu.translate(0x40604008, ACCESS_READ, false)).toBe(0xff * 2 ** 32 + 0x9008);
    r.w64(PD + 4 * 8, 0x00e00000 | (1 << 13) | PS | P);
    r.mmu.flushAll();
    r.mmu.translate(0x40800000, ACCESS_READ, false);
    expect(r.mmu.fault).toBe(pf(9));
    // a not-present PDPTE is not present whatever its other bits
    r.w64(PDPT + 8, 0xfffffffe, 0xffffffff);
    expect(probe()).toBe(pf(0));
  });
});

describe('4-level paging', () => {
  const PML4 = 0x10000;
  const PDPT = 0x11000;
  const PD = 0x12000;
  const PT = 0x13000;
  const HIGH = canonical(0x00201000, 0xffff8000); // PML4 256, PDPT 0, PD 1, PT 1
  let r: Rig;
  beforeEach(() => {
    r = makeRig();
    r.w64(PML4 + 256 * 8, PDPT | P | RW);
    r.w64(PDPT + 0, PD | P | RW);
    r.w64(PD + 8, PT | P | RW);
    r.w64(PT + 8, 0x20000 | P | RW);
    r.w64(PML4 + 0, PDPT | P | RW | US);
    r.w64(PDPT + 8, 0x40000000 | PS | P | RW | US); // 1 GiB page at lin 1 GiB -> phys 1 GiB
    r.w64(PDPT + 16, PD | P | RW | US); // 2 GiB..: PD shared; PDE 2 is a 2 MiB page
    r.w64(PD + 16, 0x00400000 | PS | P | RW | US);
    r.setRegs({ cr0: PG | PE, cr3: PML4, cr4: PAE, efer: LME | LMA | NXE });
  });

  it('translates a high-half canonical address and sets A on all four levels', () => {
    r.w32(0x20000 + 0x44, 0x12345678);
    expect(r.mmu.read32(HIGH + 0x44, false)).toBe(0x12345678);
    expect(r.r32(PML4 + 256 * 8)).toBe(PDPT | P | RW | A);
    expect(r.r32(PDPT)).toBe(PD | P | RW | A);
    expect(r.r32(PD + 8)).toBe(PT | P | RW | A);
    expect(r.r32(PT + 8)).toBe(0x20000 | P | RW | A);
  });

  it('records the 64-bit fault address of a high-half fault', () => {
    expect(r.mmu.read8(HIGH + 0x1000 + 0x5, true)).toBe(0);
    expect(r.mmu.fault).toBe(pf(4)); // PTE 2 absent
    expect(r.faultAddr()).toBe('ffff800000202005');
    r.mmu.fault = 0;
    r.mmu.read8(HIGH, true); // supervisor-only page
    expect(r.mmu.fault).toBe(pf(5));
    expect(r.faultAddr()).toBe('ffff800000201000');
    r.mmu.fault = 0;
    r.mmu.read8(canonical(0, 0xfffff000), false); // PML4 511 absent
    expect(r.mmu.fault).toBe(pf(0));
    expect(r.faultAddr()).toBe('fffff00000000000');
  });

  it('maps 1 GiB pages and 2 MiB pages', () => {
    r.mmu.fault = 0;
    expect(r.mmu.translate(0x40000000 + 0x12345678, ACCESS_WRITE, true)).toBe(0x40000000 + 0x12345678);
    expect(r.r32(PDPT + 8)).toBe(0x40000000 | PS | P | RW | US | A | D);
    expect(r.mmu.translate(0x80000000 + 0x412345, ACCESS_READ, true)).toBe(0x00400000 + 0x12345);
    expect(r.mmu.fault).toBe(0);
    // 1 GiB page bits 29:13 are reserved
    r.w64(PDPT + 8, 0x40000000 | 0x2000 | PS | P | RW | US);
    r.mmu.flushAll();
    r.mmu.translate(0x40000000, ACCESS_READ, true);
    expect(r.mmu.fault).toBe(pf(8 | 4 | 1));
    r.mmu.fault = 0;
    r.w64(PDPT + 8, 0x40000000 | 0x20000000 | PS | P | RW | US); // bit 29 too
    r.mmu.flushAll();
    r.mmu.translate(0x40000000, ACCESS_READ, true);
    expect(r.mmu.fault).toBe(pf(8 | 4 | 1));
  });

  it('reserves PS in a PML4E and bits 51:40, but ignores bits 62:52', () => {
    r.w64(PML4 + 256 * 8, PDPT | P | RW | PS);
    r.mmu.flushAll();
    r.mmu.translate(HIGH, ACCESS_WRITE, false);
    expect(r.mmu.fault).toBe(pf(8 | 2 | 1));
    r.mmu.fault = 0;
    r.w64(PML4 + 256 * 8, PDPT | P | RW, 0x7ff00000); // bits 62:52: ignored
    r.mmu.flushAll();
    expect(r.mmu.translate(HIGH, ACCESS_WRITE, false)).toBe(0x20000);
    r.w64(PT + 8, 0x20000 | P | RW, 0x00080000); // bit 51
    r.mmu.flushAll();
    r.mmu.translate(HIGH, ACCESS_READ, false);
    expect(r.mmu.fault).toBe(pf(9));
  });

  it('applies NX, SMEP and U/S across four levels', () => {
    r.w64(PD + 16, 0x00400000 | PS | P | RW | US, NX_HI);
    r.mmu.flushAll();
    r.mmu.translate(0x80400000, ACCESS_FETCH, true);
    expect(r.mmu.fault).toBe(pf(0x10 | 4 | 1));
    r.mmu.fault = 0;
    r.setRegs({ cr4: PAE | SMEP });
    r.mmu.translate(0x40000000, ACCESS_FETCH, false);
    expect(r.mmu.fault).toBe(pf(0x10 | 1));
    r.mmu.fault = 0;
    expect(r.mmu.translate(HIGH, ACCESS_FETCH, false)).toBe(0x20000); // supervisor page: fine
    r.mmu.translate(HIGH, ACCESS_FETCH, true);
    expect(r.mmu.fault).toBe(pf(0x10 | 4 | 1));
  });

  it('reads page tables and frames above 4 GiB as open bus without faulting on the frame', () => {
    r.w64(PT + 8, 0x20000 | P | RW, 0x1); // frame at 4 GiB + 0x20000
    r.mmu.flushAll();
    expect(r.mmu.read32(HIGH, false)).toBe(0xffffffff);
    expect(r.mmu.fault).toBe(0);
    r.mmu.write32(HIGH, 5, false); // ignored
    expect(r.mmu.fault).toBe(0);
    // a table above RAM reads all ones: present with reserved bits set
    r.w64(PD + 8, PT | P | RW, 0x2);
    r.mmu.flushAll();
    r.mmu.read32(HIGH, false);
    expect(r.mmu.fault).toBe(pf(9));
  });
});
