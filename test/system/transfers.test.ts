/**
 * Privilege-changing transfers: IRET in its forms, far JMP/CALL/RET with call gates, SYSCALL/
 * SYSRET, SYSENTER/SYSEXIT, and the I/O permission bitmap. Stacks are built by hand in the layout
 * the SDM gives for each instruction; expectations follow the SDM pseudo-code.
 */
import { describe, expect, it } from 'vitest';
import {
  EFER_SCE, FLAG_IF, FLAG_IOPL, MODE_LONG64, MODE_PROT32, MODE_REAL, OFF_CPL, OFF_EFER, OFF_MODE, OFF_MSR_LSTAR,
  OFF_MSR_SFMASK, OFF_MSR_STAR, OFF_MSR_SYSENTER_CS, OFF_MSR_SYSENTER_EIP, OFF_MSR_SYSENTER_ESP, OFF_RFLAGS,
  OFF_RIP, REG_RCX, REG_RDX, SEG_CS, SEG_DS, SEG_SS, SEG_TR, gprOffset,
} from '../../src/cpu/state.js';
import { FAULT_GP0, FAULT_UD, VEC_GP, faultWithCode } from '../../src/cpu/fault.js';
import { callFar, jmpFar, retFar } from '../../src/system/far.js';
import { syscall, sysenter, sysexit, sysret } from '../../src/system/fastcall.js';
import { EV_SOFTWARE, deliver } from '../../src/system/interrupts.js';
import { checkIoPermission } from '../../src/system/io.js';
import { iret } from '../../src/system/iret.js';
import { updateMode } from '../../src/system/mode.js';
import {
  GDT, IDT, TSS, gate32, long64, makeCtx, prot32, put, rd32, rsp, seg, setIdt, setRsp, setSeg,
} from './helpers.js';

type Ctx = ReturnType<typeof makeCtx>;
const u32 = (ctx: Ctx, off: number) => ctx.views.u32[off >>> 2];
const rip = (ctx: Ctx) => ctx.views.getNum(OFF_RIP);
const q = (ctx: Ctx, pa: number, lo: number, hi = 0) => put(ctx, pa, [lo, hi]);

describe('IRET', () => {
  it('IRETQ from ring 0 to ring 3: pops RIP, CS, RFLAGS, RSP, SS and nulls ring-0 DS', () => {
    const ctx = makeCtx();
    long64(ctx);
    setRsp(ctx, 0x8000);
    q(ctx, 0x8000, 0x401000);
    q(ctx, 0x8008, 0x33);
    q(ctx, 0x8010, 0x202 | FLAG_IOPL); // IOPL requested: allowed at CPL 0
    q(ctx, 0x8018, 0x7000);
    q(ctx, 0x8020, 0x23);
    expect(iret(ctx, 8)).toBe(0);
    expect(rip(ctx)).toBe(0x401000);
    expect(seg(ctx, SEG_CS).sel).toBe(0x33);
    expect(seg(ctx, SEG_SS).sel).toBe(0x23);
    expect(rsp(ctx)).toBe(0x7000);
    expect(u32(ctx, OFF_CPL)).toBe(3);
    expect(u32(ctx, OFF_MODE)).toBe(MODE_LONG64);
    expect(u32(ctx, OFF_RFLAGS)).toBe(0x202 | FLAG_IOPL);
    expect(seg(ctx, SEG_DS).sel).toBe(0);
  });

  it('at CPL 3 with IOPL 0, IRET keeps IF and IOPL', () => {
    const ctx = makeCtx();
    prot32(ctx);
    setSeg(ctx, SEG_CS, 0x1b, 0xc0fb, 0xffffffff, 0);
    setSeg(ctx, SEG_SS, 0x23, 0xc0f3, 0xffffffff, 0);
    ctx.views.u32[OFF_CPL >>> 2] = 3;
    ctx.views.u32[OFF_RFLAGS >>> 2] = 0x202;
    setRsp(ctx, 0x8000);
    put(ctx, 0x8000, [0x1234, 0x1b, 0x2 | FLAG_IOPL | 0x1 /* CF */]);
    expect(iret(ctx, 4)).toBe(0);
    expect(u32(ctx, OFF_RFLAGS)).toBe(0x203);
    expect(rsp(ctx)).toBe(0x800c);
  });

  it('refuses a return to a more privileged level: #GP(selector)', () => {
    const ctx = makeCtx();
    prot32(ctx);
    setSeg(ctx, SEG_CS, 0x1b, 0xc0fb, 0xffffffff, 0);
    setSeg(ctx, SEG_SS, 0x23, 0xc0f3, 0xffffffff, 0);
    ctx.views.u32[OFF_CPL >>> 2] = 3;
    setRsp(ctx, 0x8000);
    put(ctx, 0x8000, [0x1234, 0x08, 0x2]);
    expect(iret(ctx, 4)).toBe(faultWithCode(VEC_GP, 0x08));
    expect(rsp(ctx)).toBe(0x8000); // nothing committed
  });

  it('real mode: 16-bit IRET pops IP, CS, FLAGS', () => {
    const ctx = makeCtx();
    setSeg(ctx, SEG_CS, 0, 0x9b, 0xffff, 0);
    setSeg(ctx, SEG_SS, 0, 0x93, 0xffff, 0);
    setRsp(ctx, 0x7000);
    ctx.phys.write16(0x7000, 0x0100);
    ctx.phys.write16(0x7002, 0x07c0);
    ctx.phys.write16(0x7004, 0x0203);
    expect(u32(ctx, OFF_MODE)).toBe(MODE_REAL);
    expect(iret(ctx, 2)).toBe(0);
    expect(seg(ctx, SEG_CS).base).toBe(0x7c00);
    expect(rip(ctx)).toBe(0x100);
    expect(u32(ctx, OFF_RFLAGS)).toBe(0x203);
    expect(rsp(ctx)).toBe(0x7006);
  });

  it('INT 0x80 from ring 3 and IRET back restore the interrupted state exactly', () => {
    const ctx = makeCtx();
    prot32(ctx);
    setIdt(ctx, 0x7ff);
    put(ctx, IDT + 0x80 * 8, gate32(0x08, 0x00402000, 0xe, 3));
    put(ctx, TSS + 4, [0x9000, 0x10]);
    setSeg(ctx, SEG_CS, 0x1b, 0xc0fb, 0xffffffff, 0);
    setSeg(ctx, SEG_SS, 0x23, 0xc0f3, 0xffffffff, 0);
    setSeg(ctx, SEG_DS, 0x23, 0xc0f3, 0xffffffff, 0);
    ctx.views.u32[OFF_CPL >>> 2] = 3;
    setRsp(ctx, 0x5000);
    ctx.views.set64(OFF_RIP, 0x1234, 0);
    ctx.views.u32[OFF_RFLAGS >>> 2] = 0x2 | FLAG_IF | 0x80;
    expect(deliver(ctx, 0x80, -1, EV_SOFTWARE)).toBe(0);
    expect(u32(ctx, OFF_CPL)).toBe(0);
    expect(iret(ctx, 4)).toBe(0);
    expect([rip(ctx), rsp(ctx), seg(ctx, SEG_CS).sel, seg(ctx, SEG_SS).sel, u32(ctx, OFF_CPL)])
      .toEqual([0x1234, 0x5000, 0x1b, 0x23, 3]);
    expect(u32(ctx, OFF_RFLAGS)).toBe(0x2 | FLAG_IF | 0x80);
    expect(seg(ctx, SEG_DS).sel).toBe(0x23); // DPL 3 data survives
  });
});

describe('far JMP / CALL / RET', () => {
  it('JMP far from compatibility mode to a 64-bit code segment enters 64-bit mode', () => {
    const ctx = makeCtx();
    long64(ctx);
    setSeg(ctx, SEG_CS, 0x08, 0xc09b, 0xffffffff, 0);
    updateMode(ctx);
    expect(u32(ctx, OFF_MODE)).toBe(MODE_PROT32);
    expect(jmpFar(ctx, 0x28, 0x100000, 0, 4)).toBe(0);
    expect(u32(ctx, OFF_MODE)).toBe(MODE_LONG64);
    expect(rip(ctx)).toBe(0x100000);
    expect(seg(ctx, SEG_CS).sel).toBe(0x28);
  });

  it('JMP far checks: null #GP(0), other-privilege code #GP(sel), offset beyond the limit #GP(0)', () => {
    const ctx = makeCtx();
    prot32(ctx);
    expect(jmpFar(ctx, 0, 0, 0, 4)).toBe(FAULT_GP0);
    expect(jmpFar(ctx, 0x1b, 0, 0, 4)).toBe(faultWithCode(VEC_GP, 0x18));
    expect(jmpFar(ctx, 0x10, 0, 0, 4)).toBe(faultWithCode(VEC_GP, 0x10)); // data segment
    setSeg(ctx, SEG_CS, 0x08, 0xc09b, 0xffffffff, 0);
    put(ctx, GDT + 0x08, [0x0000ffff, 0x00009a00]); // 64 KiB code
    expect(jmpFar(ctx, 0x08, 0x10000, 0, 4)).toBe(FAULT_GP0);
    expect(jmpFar(ctx, 0x08, 0xfff0, 0, 4)).toBe(0);
    expect(u32(ctx, OFF_MODE)).toBe(1); // 16-bit protected mode now
  });

  it('CALL far and RET far at the same level', () => {
    const ctx = makeCtx();
    prot32(ctx);
    setRsp(ctx, 0x8000);
    expect(callFar(ctx, 0x08, 0x5000, 0, 4, 0x1234, 0)).toBe(0);
    expect([rd32(ctx, 0x7ff8), rd32(ctx, 0x7ffc)]).toEqual([0x1234, 0x08]);
    expect(rip(ctx)).toBe(0x5000);
    expect(retFar(ctx, 4, 0)).toBe(0);
    expect(rip(ctx)).toBe(0x1234);
    expect(rsp(ctx)).toBe(0x8000);
  });

  it('CALL through a call gate from ring 3 to ring 0 copies parameters; RET imm returns to ring 3', () => {
    const ctx = makeCtx();
    prot32(ctx);
    put(ctx, GDT + 0x40, gate32(0x08, 0x6000, 0xc, 3, 2)); // 32-bit call gate, 2 parameters, selector 0x40
    put(ctx, GDT + 0x48, [0, 0]);
    ctx.views.u32[0x208 >>> 2] = 0x4f; // GDTR limit covers the gate
    put(ctx, TSS + 4, [0x9000, 0x10]);
    setSeg(ctx, SEG_CS, 0x1b, 0xc0fb, 0xffffffff, 0);
    setSeg(ctx, SEG_SS, 0x23, 0xc0f3, 0xffffffff, 0);
    ctx.views.u32[OFF_CPL >>> 2] = 3;
    setRsp(ctx, 0x5000 - 8);
    put(ctx, 0x5000 - 8, [0xaaaa, 0xbbbb]); // the caller pushed bbbb then aaaa
    expect(callFar(ctx, 0x43, 0, 0, 4, 0x1234, 0)).toBe(0);
    expect(u32(ctx, OFF_CPL)).toBe(0);
    expect(rip(ctx)).toBe(0x6000);
    const sp = 0x9000 - 24;
    expect(rsp(ctx)).toBe(sp);
    expect([0, 4, 8, 12, 16, 20].map((o) => rd32(ctx, sp + o))).toEqual([0x1234, 0x1b, 0xaaaa, 0xbbbb, 0x4ff8, 0x23]);
    expect(retFar(ctx, 4, 8)).toBe(0);
    expect([rip(ctx), rsp(ctx), seg(ctx, SEG_CS).sel, seg(ctx, SEG_SS).sel, u32(ctx, OFF_CPL)])
      .toEqual([0x1234, 0x5000, 0x1b, 0x23, 3]);
  });
});

describe('64-bit returns to outer privilege', () => {
  it('RETF with REX.W (8-byte pops) from ring 0 to 64-bit ring 3, releasing imm16 bytes on both stacks', () => {
    const ctx = makeCtx();
    long64(ctx);
    setRsp(ctx, 0x8000);
    q(ctx, 0x8000, 0x401000);
    q(ctx, 0x8008, 0x33);
    q(ctx, 0x8010 + 16, 0x7000); // after 16 bytes of parameters
    q(ctx, 0x8018 + 16, 0x23);
    expect(retFar(ctx, 8, 16)).toBe(0);
    expect([rip(ctx), rsp(ctx), seg(ctx, SEG_CS).sel, seg(ctx, SEG_SS).sel, u32(ctx, OFF_CPL)])
      .toEqual([0x401000, 0x7010, 0x33, 0x23, 3]);
    expect(u32(ctx, OFF_MODE)).toBe(MODE_LONG64);
  });

  it('IRETQ to 32-bit ring-3 code enters compatibility mode and takes ESP from the frame', () => {
    const ctx = makeCtx();
    long64(ctx);
    setRsp(ctx, 0x8000);
    q(ctx, 0x8000, 0x2000);
    q(ctx, 0x8008, 0x1b);
    q(ctx, 0x8010, 0x2);
    q(ctx, 0x8018, 0x6000);
    q(ctx, 0x8020, 0x23);
    expect(iret(ctx, 8)).toBe(0);
    expect(u32(ctx, OFF_MODE)).toBe(MODE_PROT32);
    expect([rip(ctx), rsp(ctx), seg(ctx, SEG_CS).sel, u32(ctx, OFF_CPL)]).toEqual([0x2000, 0x6000, 0x1b, 3]);
  });

  it('IRETQ at the same level in 64-bit mode still pops SS:RSP (null SS allowed at CPL 0)', () => {
    const ctx = makeCtx();
    long64(ctx);
    setRsp(ctx, 0x8000);
    q(ctx, 0x8000, 0x3000);
    q(ctx, 0x8008, 0x28);
    q(ctx, 0x8010, 0x2);
    q(ctx, 0x8018, 0x5008);
    q(ctx, 0x8020, 0);
    expect(iret(ctx, 8)).toBe(0);
    expect([rip(ctx), rsp(ctx), seg(ctx, SEG_SS).sel, u32(ctx, OFF_CPL)]).toEqual([0x3000, 0x5008, 0, 0]);
    // The same null SS going back to ring 3 is #GP(0).
    setRsp(ctx, 0x8000);
    q(ctx, 0x8008, 0x33);
    q(ctx, 0x8020, 3);
    expect(iret(ctx, 8)).toBe(FAULT_GP0);
  });
});

describe('SYSCALL / SYSRET / SYSENTER / SYSEXIT', () => {
  function sysCtx(): Ctx {
    const ctx = makeCtx();
    long64(ctx);
    const v = ctx.views;
    v.u32[OFF_EFER >>> 2] |= EFER_SCE;
    v.set64(OFF_MSR_STAR, 0, 0x00130008); // kernel CS 0x08 (SS 0x10), user base 0x13 → CS 0x23+... per SDM
    v.set64(OFF_MSR_LSTAR, 0x00401000, 0);
    v.set64(OFF_MSR_SFMASK, FLAG_IF | 0x100, 0);
    return ctx;
  }

  it('SYSCALL saves RIP in RCX and RFLAGS in R11, masks with SFMASK, enters CPL 0', () => {
    const ctx = sysCtx();
    setSeg(ctx, SEG_CS, 0x33, 0xa0fb, 0xffffffff, 0);
    ctx.views.u32[OFF_CPL >>> 2] = 3;
    ctx.views.set64(OFF_RIP, 0x2000, 0);
    ctx.views.u32[OFF_RFLAGS >>> 2] = 0x2 | FLAG_IF | 0x1;
    expect(syscall(ctx)).toBe(0);
    expect(ctx.views.getNum(gprOffset(REG_RCX))).toBe(0x2000);
    expect(ctx.views.getNum(gprOffset(11))).toBe(0x2 | FLAG_IF | 0x1);
    expect(u32(ctx, OFF_RFLAGS)).toBe(0x3);
    expect([seg(ctx, SEG_CS).sel, seg(ctx, SEG_SS).sel, u32(ctx, OFF_CPL), rip(ctx)]).toEqual([0x08, 0x10, 0, 0x401000]);
    expect(u32(ctx, OFF_MODE)).toBe(MODE_LONG64);
  });

  it('SYSRET to 64-bit code: CS = STAR[63:48] + 16 | 3, SS = + 8 | 3, RFLAGS from R11 & 0x3C7FD7', () => {
    const ctx = sysCtx();
    ctx.views.set64(gprOffset(REG_RCX), 0x2000, 0);
    ctx.views.set64(gprOffset(11), 0xffffffff, 0);
    expect(sysret(ctx, 8)).toBe(0);
    expect([seg(ctx, SEG_CS).sel, seg(ctx, SEG_SS).sel, u32(ctx, OFF_CPL), rip(ctx)]).toEqual([0x23, 0x1b, 3, 0x2000]);
    expect(u32(ctx, OFF_RFLAGS)).toBe(0x3c7fd7 | 2);
    expect(u32(ctx, OFF_MODE)).toBe(MODE_LONG64);
    expect(sysret(ctx, 8)).toBe(FAULT_GP0); // now at CPL 3
  });

  it('SYSRET to a non-canonical RCX is #GP(0); SYSCALL without EFER.SCE or outside 64-bit mode is #UD', () => {
    const ctx = sysCtx();
    ctx.views.set64(gprOffset(REG_RCX), 0, 0x00800000);
    expect(sysret(ctx, 8)).toBe(FAULT_GP0);
    ctx.views.u32[OFF_EFER >>> 2] &= ~EFER_SCE;
    expect(syscall(ctx)).toBe(FAULT_UD);
    const p = makeCtx();
    prot32(p);
    expect(syscall(p)).toBe(FAULT_UD);
  });

  it('SYSENTER and SYSEXIT (32-bit)', () => {
    const ctx = makeCtx();
    prot32(ctx);
    const v = ctx.views;
    v.set64(OFF_MSR_SYSENTER_CS, 0x08, 0);
    v.set64(OFF_MSR_SYSENTER_ESP, 0x9000, 0);
    v.set64(OFF_MSR_SYSENTER_EIP, 0x401000, 0);
    v.set64(gprOffset(REG_RCX), 0x5000, 0);
    v.set64(gprOffset(REG_RDX), 0x1234, 0);
    expect(sysexit(ctx, 4)).toBe(0);
    expect([seg(ctx, SEG_CS).sel, seg(ctx, SEG_SS).sel, u32(ctx, OFF_CPL), rip(ctx), rsp(ctx)])
      .toEqual([0x1b, 0x23, 3, 0x1234, 0x5000]);
    expect(u32(ctx, OFF_MODE)).toBe(MODE_PROT32);
    v.u32[OFF_RFLAGS >>> 2] = 0x202;
    expect(sysenter(ctx)).toBe(0);
    expect([seg(ctx, SEG_CS).sel, seg(ctx, SEG_SS).sel, u32(ctx, OFF_CPL), rip(ctx), rsp(ctx)])
      .toEqual([0x08, 0x10, 0, 0x401000, 0x9000]);
    expect(u32(ctx, OFF_RFLAGS) & FLAG_IF).toBe(0);
    v.set64(OFF_MSR_SYSENTER_CS, 0, 0);
    expect(sysenter(ctx)).toBe(FAULT_GP0);
  });
});

describe('I/O permission bitmap', () => {
  it('CPL > IOPL consults the TSS bitmap, every bit of a wide access counts', () => {
    const ctx = makeCtx();
    prot32(ctx);
    setSeg(ctx, SEG_TR, 0x38, 0x8b, 0x67 + 0x2000, TSS);
    ctx.phys.write16(TSS + 0x66, 0x68);
    ctx.phys.write8(TSS + 0x68 + (0x3f8 >>> 3), 0x00);
    ctx.phys.write8(TSS + 0x68 + (0x3f8 >>> 3) + 1, 0x00);
    ctx.phys.write8(TSS + 0x68 + (0x60 >>> 3), 0x01); // port 0x60 denied
    expect(checkIoPermission(ctx, 0x60, 1)).toBe(0); // CPL 0 <= IOPL 0
    ctx.views.u32[OFF_CPL >>> 2] = 3;
    expect(checkIoPermission(ctx, 0x3f8, 1)).toBe(0);
    expect(checkIoPermission(ctx, 0x60, 1)).toBe(FAULT_GP0);
    expect(checkIoPermission(ctx, 0x5f, 2)).toBe(FAULT_GP0); // 0x5F..0x60 touches 0x60
    expect(checkIoPermission(ctx, 0x61, 1)).toBe(0);
    setSeg(ctx, SEG_TR, 0x38, 0x8b, 0x67, TSS); // bitmap beyond the limit
    expect(checkIoPermission(ctx, 0x3f8, 1)).toBe(FAULT_GP0);
    ctx.views.u32[OFF_RFLAGS >>> 2] = 0x2 | FLAG_IOPL;
    expect(checkIoPermission(ctx, 0x3f8, 1)).toBe(0);
  });
});
