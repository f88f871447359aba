import { describe, expect, it } from 'vitest';
import {
  MODE_REAL, OFF_CPL, OFF_MODE, SEG_DS, SEG_ES, SEG_FS, SEG_LDTR, SEG_SS, SEG_TR,
} from '../../src/cpu/state.js';
import { FAULT_GP0, VEC_GP, VEC_NP, VEC_SS, faultWithCode } from '../../src/cpu/fault.js';
import { loadLdtr, loadSegment, loadTr } from '../../src/system/segments.js';
import { GDT, makeCtx, prot32, rd32, seg, segDesc, setGdt, setSeg } from './helpers.js';

const gp = (c: number) => faultWithCode(VEC_GP, c);

function gdtForLoads(ctx: ReturnType<typeof makeCtx>): void {
  setGdt(ctx, [
    [0, 0],
    segDesc(0, 0xfffff, 0x9b, 0xc), // 0x08 code, ring 0
    segDesc(0x12345678, 0x0abcd, 0x92, 0x4), // 0x10 data, ring 0, byte granular, not yet accessed
    segDesc(0, 0xfffff, 0xf3, 0xc), // 0x18 data ring 3
    segDesc(0, 0xfffff, 0x12, 0xc), // 0x20 data, not present
    segDesc(0, 0xfffff, 0x98, 0xc), // 0x28 execute-only code
    segDesc(0, 0xfffff, 0x9a, 0xc), // 0x30 readable code ring 0
    segDesc(0x8000, 0x27, 0x82, 0), // 0x38 LDT
    segDesc(0x9000, 0x67, 0x89, 0), // 0x40 available 32-bit TSS
    segDesc(0, 0xfffff, 0xd2, 0xc), // 0x48 data ring 2
  ]);
}

describe('segment loads in protected mode', () => {
  it('loads a data segment: base, byte-granular limit, attributes, accessed bit written back', () => {
    const ctx = makeCtx();
    prot32(ctx);
    gdtForLoads(ctx);
    expect(loadSegment(ctx, SEG_DS, 0x10)).toBe(0);
    const s = seg(ctx, SEG_DS);
    expect(s).toEqual({ sel: 0x10, attr: 0x4093, limit: 0xabcd, base: 0x12345678 });
    expect((rd32(ctx, GDT + 0x10 + 4) >>> 8) & 0xff).toBe(0x93);
  });

  it('scales the limit by G', () => {
    const ctx = makeCtx();
    prot32(ctx);
    gdtForLoads(ctx);
    expect(loadSegment(ctx, SEG_ES, 0x30)).toBe(0);
    expect(seg(ctx, SEG_ES).limit).toBe(0xffffffff);
  });

  it('gives the SDM error codes', () => {
    const ctx = makeCtx();
    prot32(ctx);
    gdtForLoads(ctx);
    expect(loadSegment(ctx, SEG_DS, 0x53)).toBe(gp(0x50)); // beyond the GDT limit
    expect(loadSegment(ctx, SEG_DS, 0x20)).toBe(faultWithCode(VEC_NP, 0x20));
    expect(loadSegment(ctx, SEG_DS, 0x28)).toBe(gp(0x28)); // execute-only code
    expect(loadSegment(ctx, SEG_DS, 0x38)).toBe(gp(0x38)); // system descriptor
    expect(loadSegment(ctx, SEG_DS, 0x0c)).toBe(gp(0x08 | 4)); // LDT unusable → TI kept
    expect(loadSegment(ctx, SEG_SS, 0)).toBe(FAULT_GP0);
    expect(loadSegment(ctx, SEG_SS, 0x08)).toBe(gp(0x08)); // code as a stack
    expect(loadSegment(ctx, SEG_SS, 0x18)).toBe(gp(0x18)); // RPL 0 ≠ ... DPL 3 ≠ CPL 0
    expect(loadSegment(ctx, SEG_SS, 0x11)).toBe(gp(0x10)); // RPL 1 ≠ CPL 0
    setGdt(ctx, [[0, 0], segDesc(0, 0xfffff, 0x12, 0xc)]);
    expect(loadSegment(ctx, SEG_SS, 0x08)).toBe(faultWithCode(VEC_SS, 0x08)); // not present → #SS
  });

  it('checks RPL and CPL against a data segment DPL', () => {
    const ctx = makeCtx();
    prot32(ctx);
    gdtForLoads(ctx);
    ctx.views.u32[OFF_CPL >>> 2] = 3;
    expect(loadSegment(ctx, SEG_DS, 0x13)).toBe(gp(0x10));
    expect(loadSegment(ctx, SEG_DS, 0x1b)).toBe(0);
    ctx.views.u32[OFF_CPL >>> 2] = 0;
    expect(loadSegment(ctx, SEG_DS, 0x4b)).toBe(gp(0x48)); // RPL 3 > DPL 2
    expect(loadSegment(ctx, SEG_DS, 0x4a)).toBe(0);
  });

  it('a null selector makes DS unusable without a fault', () => {
    const ctx = makeCtx();
    prot32(ctx);
    expect(loadSegment(ctx, SEG_FS, 3)).toBe(0);
    expect(seg(ctx, SEG_FS)).toEqual({ sel: 3, attr: 0, limit: 0, base: 0 });
  });
});

describe('real-mode loads', () => {
  it('sets base = selector << 4 and keeps the cached limit (unreal mode)', () => {
    const ctx = makeCtx();
    expect(ctx.views.u32[OFF_MODE >>> 2]).toBe(MODE_REAL);
    setSeg(ctx, SEG_DS, 0, 0x93, 0xffffffff, 0);
    expect(loadSegment(ctx, SEG_DS, 0xb800)).toBe(0);
    expect(seg(ctx, SEG_DS)).toEqual({ sel: 0xb800, attr: 0x93, limit: 0xffffffff, base: 0xb8000 });
  });
});

describe('LLDT and LTR', () => {
  it('LLDT loads the LDT, which then serves TI=1 selectors', () => {
    const ctx = makeCtx();
    prot32(ctx);
    gdtForLoads(ctx);
    expect(loadLdtr(ctx, 0x38)).toBe(0);
    expect(seg(ctx, SEG_LDTR)).toEqual({ sel: 0x38, attr: 0x82, limit: 0x27, base: 0x8000 });
    const [lo, hi] = segDesc(0x4000, 0xffff, 0x93, 0);
    ctx.phys.write32(0x8000 + 8, lo);
    ctx.phys.write32(0x8000 + 12, hi);
    expect(loadSegment(ctx, SEG_DS, 0x0c)).toBe(0);
    expect(seg(ctx, SEG_DS).base).toBe(0x4000);
    expect(loadSegment(ctx, SEG_DS, 0x2c)).toBe(gp(0x2c)); // beyond the LDT limit 0x27
    expect(loadLdtr(ctx, 0x10)).toBe(gp(0x10)); // not an LDT descriptor
  });

  it('LTR marks the TSS busy, and a busy TSS cannot be loaded again', () => {
    const ctx = makeCtx();
    prot32(ctx);
    gdtForLoads(ctx);
    expect(loadTr(ctx, 0x40)).toBe(0);
    expect((rd32(ctx, GDT + 0x40 + 4) >>> 8) & 0xf).toBe(0xb);
    expect(seg(ctx, SEG_TR)).toEqual({ sel: 0x40, attr: 0x8b, limit: 0x67, base: 0x9000 });
    expect(loadTr(ctx, 0x40)).toBe(gp(0x40));
    expect(loadTr(ctx, 0)).toBe(FAULT_GP0);
  });
});
