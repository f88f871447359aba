/**
 * Virtual-8086 mode entry and exit: IRETD with VM set (SDM "IRET": RETURN-TO-VIRTUAL-8086-MODE),
 * an interrupt from VM86 into a ring-0 gate (SDM Vol. 3 §20.3, interrupt from VM86: the
 * frame holds GS, FS, DS, ES, SS, ESP, EFLAGS, CS, EIP), and the IRET back.
 */
import { describe, expect, it } from 'vitest';
import {
  FLAG_IF, FLAG_IOPL, FLAG_VM, MODE_PROT32, MODE_VM86, OFF_CPL, OFF_MODE, OFF_RFLAGS, OFF_RIP, SEG_CS, SEG_DS,
  SEG_ES, SEG_FS, SEG_GS, SEG_SS,
} from '../../src/cpu/state.js';
import { EV_SOFTWARE, deliver } from '../../src/system/interrupts.js';
import { iret } from '../../src/system/iret.js';
import { IDT, TSS, gate32, makeCtx, prot32, put, rd32, rsp, seg, setIdt, setRsp } from './helpers.js';

describe('virtual-8086 mode', () => {
  it('IRETD to VM86, INT n to ring 0 and IRETD back', () => {
    const ctx = makeCtx();
    prot32(ctx);
    const v = ctx.views;
    const vmFlags = 0x2 | FLAG_VM | FLAG_IF | FLAG_IOPL;
    setRsp(ctx, 0x8000);
    put(ctx, 0x8000, [0x100, 0x2000, vmFlags, 0xfff0, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000]);
    expect(iret(ctx, 4)).toBe(0);
    expect(v.u32[OFF_MODE >>> 2]).toBe(MODE_VM86);
    expect(v.u32[OFF_CPL >>> 2]).toBe(3);
    expect(seg(ctx, SEG_CS)).toEqual({ sel: 0x2000, attr: 0xfb, limit: 0xffff, base: 0x20000 });
    expect([SEG_SS, SEG_ES, SEG_DS, SEG_FS, SEG_GS].map((s) => seg(ctx, s).base))
      .toEqual([0x30000, 0x40000, 0x50000, 0x60000, 0x70000]);
    expect(rsp(ctx)).toBe(0xfff0);
    expect(v.getNum(OFF_RIP)).toBe(0x100);

    setIdt(ctx, 0x7ff);
    put(ctx, IDT + 0x21 * 8, gate32(0x08, 0x00401000, 0xe, 3));
    put(ctx, TSS + 4, [0x9000, 0x10]);
    v.set64(OFF_RIP, 0x102, 0);
    expect(deliver(ctx, 0x21, -1, EV_SOFTWARE)).toBe(0);
    expect(v.u32[OFF_MODE >>> 2]).toBe(MODE_PROT32);
    expect(v.u32[OFF_CPL >>> 2]).toBe(0);
    const sp = 0x9000 - 36;
    expect(rsp(ctx)).toBe(sp);
    expect([0, 4, 8, 12, 16, 20, 24, 28, 32].map((o) => rd32(ctx, sp + o)))
      .toEqual([0x102, 0x2000, vmFlags, 0xfff0, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000]);
    expect([SEG_ES, SEG_DS, SEG_FS, SEG_GS].map((s) => seg(ctx, s).sel)).toEqual([0, 0, 0, 0]);
    expect(v.u32[OFF_RFLAGS >>> 2] & (FLAG_VM | FLAG_IF)).toBe(0);

    expect(iret(ctx, 4)).toBe(0);
    expect(v.u32[OFF_MODE >>> 2]).toBe(MODE_VM86);
    expect(seg(ctx, SEG_DS).base).toBe(0x50000);
    expect(v.getNum(OFF_RIP)).toBe(0x102);
    expect(rsp(ctx)).toBe(0xfff0);
  });

  it('INT n in VM86 through a gate to ring 3 code is #GP (the handler must be ring 0)', () => {
    const ctx = makeCtx();
    prot32(ctx);
    setRsp(ctx, 0x8000);
    put(ctx, 0x8000, [0x100, 0x2000, 0x2 | FLAG_VM | FLAG_IOPL, 0xfff0, 0x3000, 0, 0, 0, 0]);
    expect(iret(ctx, 4)).toBe(0);
    setIdt(ctx, 0x7ff);
    put(ctx, IDT + 0x21 * 8, gate32(0x1b, 0x00401000, 0xe, 3));
    put(ctx, IDT + 13 * 8, gate32(0x08, 0x00402000, 0xe, 0));
    put(ctx, TSS + 4, [0x9000, 0x10]);
    expect(deliver(ctx, 0x21, -1, EV_SOFTWARE)).toBe(0);
    expect(ctx.views.getNum(OFF_RIP)).toBe(0x00402000);
    expect(rd32(ctx, 0x9000 - 40)).toBe(0x18); // #GP(selector of the ring-3 code segment)
  });
});
