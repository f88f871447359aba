/**
 * Interrupt and exception delivery: the frames are checked byte by byte against the layouts of
 * SDM Vol. 3 Figures 6-4 (protected mode), 6-9 (IA-32e) and the real-mode IVT description (§20.1.4).
 */
import { describe, expect, it } from 'vitest';
import {
  FLAG_CF, FLAG_IF, FLAG_TF, MODE_LONG64, MODE_PROT32, OFF_CPL, OFF_CR2, OFF_FAULT_ADDR, OFF_MODE,
  OFF_RFLAGS, OFF_RIP, SEG_CS, SEG_SS, SEG_TR,
} from '../../src/cpu/state.js';
import { VEC_GP, VEC_PF } from '../../src/cpu/fault.js';
import { DELIVER_OK, DELIVER_TRIPLE_FAULT } from '../../src/system/context.js';
import { EV_EXCEPTION, EV_EXTERNAL, EV_SOFTWARE, deliver } from '../../src/system/interrupts.js';
import {
  GDT, IDT, TSS, gate32, long64, makeCtx, prot32, put, rd32, rsp, seg, setIdt, setRsp, setSeg,
} from './helpers.js';

const INTGATE = 0xe;
const TRAPGATE = 0xf;
const flags = (ctx: ReturnType<typeof makeCtx>) => ctx.views.u32[OFF_RFLAGS >>> 2];
const rip = (ctx: ReturnType<typeof makeCtx>) => ctx.views.getNum(OFF_RIP);

describe('real mode', () => {
  it('pushes FLAGS, CS, IP and jumps through the IVT, clearing IF and TF', () => {
    const ctx = makeCtx();
    const v = ctx.views;
    setIdt(ctx, 0x3ff);
    ctx.views.set64(0x210, 0, 0); // IDTR base 0 (the IVT)
    ctx.phys.write16(0x10 * 4, 0x1234);
    ctx.phys.write16(0x10 * 4 + 2, 0xf000);
    setSeg(ctx, SEG_CS, 0x07c0, 0x9b, 0xffff, 0x7c00);
    setSeg(ctx, SEG_SS, 0, 0x93, 0xffff, 0);
    setRsp(ctx, 0x7000);
    v.set64(OFF_RIP, 0x0100, 0);
    v.u32[OFF_RFLAGS >>> 2] = 2 | FLAG_IF | FLAG_TF | FLAG_CF;
    expect(deliver(ctx, 0x10, -1, EV_SOFTWARE)).toBe(DELIVER_OK);
    expect(rsp(ctx)).toBe(0x6ffa);
    expect(ctx.phys.read16(0x6ffa)).toBe(0x0100);
    expect(ctx.phys.read16(0x6ffc)).toBe(0x07c0);
    expect(ctx.phys.read16(0x6ffe)).toBe(2 | FLAG_IF | FLAG_TF | FLAG_CF);
    expect(seg(ctx, SEG_CS).sel).toBe(0xf000);
    expect(seg(ctx, SEG_CS).base).toBe(0xf0000);
    expect(rip(ctx)).toBe(0x1234);
    expect(flags(ctx)).toBe(2 | FLAG_CF);
  });
});

function idt32(ctx: ReturnType<typeof makeCtx>, vector: number, sel: number, off: number, type: number, dpl: number) {
  put(ctx, IDT + vector * 8, gate32(sel, off, type, dpl));
}

describe('protected mode', () => {
  it('same privilege: EFLAGS, CS, EIP and the error code on the current stack', () => {
    const ctx = makeCtx();
    prot32(ctx);
    setIdt(ctx, 0xff);
    idt32(ctx, VEC_GP, 0x08, 0x00401000, INTGATE, 0);
    setRsp(ctx, 0x8000);
    ctx.views.set64(OFF_RIP, 0x2345, 0);
    ctx.views.u32[OFF_RFLAGS >>> 2] = 2 | FLAG_IF;
    expect(deliver(ctx, VEC_GP, 0x10, EV_EXCEPTION)).toBe(DELIVER_OK);
    expect(rsp(ctx)).toBe(0x7ff0);
    expect([rd32(ctx, 0x7ff0), rd32(ctx, 0x7ff4), rd32(ctx, 0x7ff8), rd32(ctx, 0x7ffc)])
      .toEqual([0x10, 0x2345, 0x08, 2 | FLAG_IF]);
    expect(rip(ctx)).toBe(0x00401000);
    expect(flags(ctx) & FLAG_IF).toBe(0);
    expect(ctx.views.u32[OFF_MODE >>> 2]).toBe(MODE_PROT32);
  });

  it('ring 3 → ring 0 through a trap gate: stack from the TSS, old SS:ESP pushed, IF kept', () => {
    const ctx = makeCtx();
    prot32(ctx);
    setIdt(ctx, 0x7ff);
    idt32(ctx, 0x80, 0x08, 0x00402000, TRAPGATE, 3);
    put(ctx, TSS + 4, [0x9000, 0x10]); // ESP0, SS0
    ctx.phys.write8(GDT + 0x10 + 5, 0x92); // ring-0 data not yet accessed
    setSeg(ctx, SEG_CS, 0x1b, 0xc0fb, 0xffffffff, 0);
    setSeg(ctx, SEG_SS, 0x23, 0xc0f3, 0xffffffff, 0);
    ctx.views.u32[OFF_CPL >>> 2] = 3;
    setRsp(ctx, 0x5000);
    ctx.views.set64(OFF_RIP, 0x1234, 0);
    ctx.views.u32[OFF_RFLAGS >>> 2] = 2 | FLAG_IF;
    expect(deliver(ctx, 0x80, -1, EV_SOFTWARE)).toBe(DELIVER_OK);
    expect(rsp(ctx)).toBe(0x9000 - 20);
    const frame = [0, 4, 8, 12, 16].map((o) => rd32(ctx, 0x9000 - 20 + o));
    expect(frame).toEqual([0x1234, 0x1b, 2 | FLAG_IF, 0x5000, 0x23]);
    expect(seg(ctx, SEG_CS).sel).toBe(0x08);
    expect(seg(ctx, SEG_SS).sel).toBe(0x10);
    expect(ctx.phys.read8(GDT + 0x10 + 5)).toBe(0x93); // the new SS was marked accessed
    expect(ctx.views.u32[OFF_CPL >>> 2]).toBe(0);
    expect(flags(ctx) & FLAG_IF).toBe(FLAG_IF);
  });

  it('INT n through a DPL-0 gate from ring 3 is #GP(n*8+2)', () => {
    const ctx = makeCtx();
    prot32(ctx);
    setIdt(ctx, 0x7ff);
    idt32(ctx, 0x80, 0x08, 0x00402000, INTGATE, 0);
    idt32(ctx, VEC_GP, 0x08, 0x00403000, INTGATE, 0);
    put(ctx, TSS + 4, [0x9000, 0x10]);
    setSeg(ctx, SEG_CS, 0x1b, 0xc0fb, 0xffffffff, 0);
    setSeg(ctx, SEG_SS, 0x23, 0xc0f3, 0xffffffff, 0);
    ctx.views.u32[OFF_CPL >>> 2] = 3;
    setRsp(ctx, 0x5000);
    expect(deliver(ctx, 0x80, -1, EV_SOFTWARE)).toBe(DELIVER_OK);
    expect(rip(ctx)).toBe(0x00403000);
    expect(rd32(ctx, 0x9000 - 24)).toBe(0x80 * 8 + 2); // the error code, EXT = 0
  });

  it('a fault while delivering a contributory fault becomes #DF(0)', () => {
    const ctx = makeCtx();
    prot32(ctx);
    setIdt(ctx, 0xff);
    idt32(ctx, 8, 0x08, 0x00408000, INTGATE, 0);
    // vector 13's gate is not present → #NP(13*8+2+EXT) → contributory + contributory = #DF
    setRsp(ctx, 0x8000);
    expect(deliver(ctx, VEC_GP, 0, EV_EXCEPTION)).toBe(DELIVER_OK);
    expect(rip(ctx)).toBe(0x00408000);
    expect(rd32(ctx, 0x7ff0)).toBe(0); // #DF's error code
    expect(ctx.vectorCounts[8]).toBe(1);
  });

  it('a benign event whose gate faults delivers the fault instead (EXT set for external events)', () => {
    const ctx = makeCtx();
    prot32(ctx);
    setIdt(ctx, 0x7ff);
    idt32(ctx, 11, 0x08, 0x0040b000, INTGATE, 0);
    const [lo, hi] = gate32(0x08, 0x1000, INTGATE, 0);
    put(ctx, IDT + 0x20 * 8, [lo, hi & ~0x8000]); // valid type, not present → #NP
    setRsp(ctx, 0x8000);
    expect(deliver(ctx, 0x20, -1, EV_EXTERNAL)).toBe(DELIVER_OK);
    expect(rip(ctx)).toBe(0x0040b000);
    expect(rd32(ctx, 0x7ff0)).toBe(0x20 * 8 + 2 + 1);
  });

  it('an empty IDT ends in a triple fault', () => {
    const ctx = makeCtx();
    prot32(ctx);
    setIdt(ctx, 0);
    expect(deliver(ctx, 3, -1, EV_SOFTWARE)).toBe(DELIVER_TRIPLE_FAULT);
    expect(ctx.stopReason).toMatch(/triple fault/);
  });

  it('#PF copies the fault address into CR2', () => {
    const ctx = makeCtx();
    prot32(ctx);
    setIdt(ctx, 0xff);
    idt32(ctx, VEC_PF, 0x08, 0x0040e000, INTGATE, 0);
    setRsp(ctx, 0x8000);
    ctx.views.set64(OFF_FAULT_ADDR, 0xdeadb000, 0);
    expect(deliver(ctx, VEC_PF, 6, EV_EXCEPTION)).toBe(DELIVER_OK);
    expect(ctx.views.getNum(OFF_CR2)).toBe(0xdeadb000);
  });
});

function idt64(ctx: ReturnType<typeof makeCtx>, vector: number, sel: number, off: number, type: number,
  dpl: number, ist = 0) {
  put(ctx, IDT + vector * 16, [((off & 0xffff) | (sel << 16)) >>> 0,
    ((off & 0xffff0000) | 0x8000 | (dpl << 13) | (type << 8) | ist) >>> 0, 0, 0]);
}

describe('IA-32e mode', () => {
  it('ring 3 → ring 0: RSP0 aligned to 16, SS:RSP always pushed, SS becomes null', () => {
    const ctx = makeCtx();
    long64(ctx);
    setSeg(ctx, SEG_TR, 0x38, 0x8b, 0x67, TSS);
    setIdt(ctx, 0xfff);
    idt64(ctx, VEC_GP, 0x28, 0x00405000, INTGATE, 0);
    put(ctx, TSS + 4, [0x9008, 0]); // RSP0, deliberately misaligned
    setSeg(ctx, SEG_CS, 0x33, 0xa0fb, 0xffffffff, 0);
    setSeg(ctx, SEG_SS, 0x23, 0xc0f3, 0xffffffff, 0);
    ctx.views.u32[OFF_CPL >>> 2] = 3;
    setRsp(ctx, 0x5008);
    ctx.views.set64(OFF_RIP, 0x1234, 0);
    ctx.views.u32[OFF_RFLAGS >>> 2] = 2 | FLAG_IF;
    expect(deliver(ctx, VEC_GP, 0x18, EV_EXCEPTION)).toBe(DELIVER_OK);
    expect(rsp(ctx)).toBe(0x9000 - 48);
    const q = (o: number) => ctx.views.dv.getBigUint64(0x100000 + 0x9000 - 48 + o, true);
    expect([0, 8, 16, 24, 32, 40].map(q)).toEqual([0x18n, 0x1234n, 0x33n, BigInt(2 | FLAG_IF), 0x5008n, 0x23n]);
    expect(seg(ctx, SEG_SS).sel).toBe(0);
    expect(seg(ctx, SEG_CS).sel).toBe(0x28);
    expect(ctx.views.u32[OFF_CPL >>> 2]).toBe(0);
    expect(ctx.views.u32[OFF_MODE >>> 2]).toBe(MODE_LONG64);
    expect(rip(ctx)).toBe(0x00405000);
  });

  it('an IST gate switches stacks even without a privilege change', () => {
    const ctx = makeCtx();
    long64(ctx);
    setSeg(ctx, SEG_TR, 0x38, 0x8b, 0x67, TSS);
    setIdt(ctx, 0xfff);
    idt64(ctx, 2, 0x28, 0x00406000, INTGATE, 0, 3);
    put(ctx, TSS + 0x24 + 2 * 8, [0xa000, 0]); // IST3
    setRsp(ctx, 0x7000);
    expect(deliver(ctx, 2, -1, EV_EXTERNAL)).toBe(DELIVER_OK);
    expect(rsp(ctx)).toBe(0xa000 - 40);
    expect(ctx.views.dv.getBigUint64(0x100000 + 0xa000 - 16, true)).toBe(0x7000n); // old RSP
  });

  it('a 32-bit-style gate type is #GP(vector*8+2+EXT)', () => {
    const ctx = makeCtx();
    long64(ctx);
    setIdt(ctx, 0xfff);
    put(ctx, IDT + 0x21 * 16, [0x00280000, 0x8600, 0, 0]); // 16-bit interrupt gate type: invalid here
    idt64(ctx, VEC_GP, 0x28, 0x00405000, INTGATE, 0);
    setRsp(ctx, 0x8000);
    expect(deliver(ctx, 0x21, -1, EV_EXTERNAL)).toBe(DELIVER_OK);
    expect(ctx.views.dv.getBigUint64(0x100000 + 0x8000 - 48, true)).toBe(BigInt(0x21 * 8 + 3));
  });
});
