/**
 * The system-instruction handlers run through the interpreter (decoder, dispatch by table name,
 * central privilege check) one instruction at a time with `stepRaw`: user-mode privilege and IOPL
 * faults, the sensitive-instruction policies, LAR/LSL/VERR/VERW verdicts, MOV Sreg.
 * Instruction bytes are written out by hand from the SDM encodings (each line says which).
 */
import { describe, expect, it } from 'vitest';
import {
  CR4_UMIP, FLAG_IF, FLAG_IOPL, FLAG_ZF, OFF_CPL, OFF_CR4, OFF_GDTR_BASE, OFF_HALTED, OFF_RFLAGS, OFF_RIP,
  REG_RAX, REG_RCX, SEG_CS, SEG_DS, SEG_SS, gprOffset,
} from '../../src/cpu/state.js';
import { FAULT_GP0, FAULT_UD, VEC_GP, faultWithCode } from '../../src/cpu/fault.js';
import { STOP_HALT } from '../../src/interp/cpu.js';
import { GP_REGISTRARS } from '../../src/interp/dispatch.js';
import { Interpreter } from '../../src/interp/interpreter.js';
import { SYSTEM_REGISTRARS } from '../../src/interp/system-register.js';
import { POLICY_LEAK, POLICY_UMIP } from '../../src/system/context.js';
import { GDT, makeCtx, prot32, seg, setSeg } from './helpers.js';

const CODE = 0x7000;
type Ctx = ReturnType<typeof makeCtx>;

function machine(user: boolean): { ctx: Ctx; run: (bytes: number[]) => number } {
  const ctx = makeCtx();
  prot32(ctx);
  if (user) {
    setSeg(ctx, SEG_CS, 0x1b, 0xc0fb, 0xffffffff, 0);
    setSeg(ctx, SEG_SS, 0x23, 0xc0f3, 0xffffffff, 0);
    setSeg(ctx, SEG_DS, 0x23, 0xc0f3, 0xffffffff, 0);
    ctx.views.u32[OFF_CPL >>> 2] = 3;
  }
  ctx.views.set64(gprOffset(4), 0x8000, 0);
  const interp = new Interpreter(ctx, [...GP_REGISTRARS, ...SYSTEM_REGISTRARS]);
  return {
    ctx,
    run(bytes: number[]): number {
      ctx.phys.writeBytes(CODE, Uint8Array.from(bytes));
      interp.flush();
      ctx.views.set64(OFF_RIP, CODE, 0);
      return interp.stepRaw();
    },
  };
}

const eax = (ctx: Ctx) => ctx.views.u32[gprOffset(REG_RAX) >>> 2];
const zf = (ctx: Ctx) => (ctx.views.u32[OFF_RFLAGS >>> 2] & FLAG_ZF) !== 0;

describe('privilege and IOPL checks at CPL 3', () => {
  it('CPL-0 instructions and IOPL-checked ones are #GP(0)', () => {
    const { ctx, run } = machine(true);
    ctx.phys.write16(0x3000 + 0x66, 0x68); // I/O bitmap base at the TSS limit: no bitmap
    expect(run([0xf4])).toBe(FAULT_GP0); // HLT
    expect(run([0x0f, 0x22, 0xc0])).toBe(FAULT_GP0); // MOV CR0, EAX
    expect(run([0x0f, 0x32])).toBe(FAULT_GP0); // RDMSR
    expect(run([0x0f, 0x01, 0x15, 0, 5, 0, 0])).toBe(FAULT_GP0); // LGDT [0x500]
    expect(run([0xfa])).toBe(FAULT_GP0); // CLI with IOPL 0
    expect(run([0xec])).toBe(FAULT_GP0); // IN AL, DX without an I/O bitmap
  });

  it('SYSRET checks its #UD conditions before the privilege level (SDM: #UD outside 64-bit mode, then #GP(0) at CPL > 0)', () => {
    const { run } = machine(true);
    expect(run([0x0f, 0x07])).toBe(FAULT_UD); // SYSRET in 32-bit code at CPL 3
    expect(run([0x0f, 0x35])).toBe(FAULT_GP0); // SYSEXIT: #GP(0) at CPL 3 (no #UD case)
  });

  it('with IOPL 3, CLI/STI and port I/O are allowed', () => {
    const { ctx, run } = machine(true);
    ctx.views.u32[OFF_RFLAGS >>> 2] = 0x2 | FLAG_IOPL | FLAG_IF;
    expect(run([0xfa])).toBe(0);
    expect(ctx.views.u32[OFF_RFLAGS >>> 2] & FLAG_IF).toBe(0);
    expect(run([0xec])).toBe(0);
    expect(eax(ctx) & 0xff).toBe(0xff); // nothing on the port: all ones
  });

  it('HLT at CPL 0 halts', () => {
    const { ctx, run } = machine(false);
    expect(run([0xf4])).toBe(STOP_HALT);
    expect(ctx.views.u32[OFF_HALTED >>> 2]).toBe(1);
  });
});

describe('sensitive stores: SGDT/SIDT/SLDT/STR/SMSW', () => {
  const SGDT = [0x0f, 0x01, 0x05, 0x00, 0x05, 0x00, 0x00]; // SGDT [0x500] (0F 01 /0, disp32)
  const SMSW = [0x0f, 0x01, 0xe0]; // SMSW EAX (0F 01 /4, mod 3)
  const STR = [0x0f, 0x00, 0xc8]; // STR EAX (0F 00 /1)

  it('emulate: user code sees the guest kernel\'s own tables', () => {
    const { ctx, run } = machine(true);
    expect(run(SGDT)).toBe(0);
    expect(ctx.phys.read16(0x500)).toBe(ctx.views.u32[0x208 >>> 2]);
    expect(ctx.phys.read32(0x502)).toBe(ctx.views.u32[OFF_GDTR_BASE >>> 2]);
    expect(ctx.phys.read32(0x502)).toBe(GDT);
    expect(run(STR)).toBe(0);
    expect(eax(ctx)).toBe(0x38);
    expect(run(SMSW)).toBe(0);
    expect(eax(ctx)).toBe(0x11); // PE | ET
  });

  it('umip (the policy or CR4.UMIP): #GP(0) at CPL 3, allowed at CPL 0', () => {
    const u = machine(true);
    u.ctx.policy = POLICY_UMIP;
    expect(u.run(SGDT)).toBe(FAULT_GP0);
    expect(u.run(SMSW)).toBe(FAULT_GP0);
    expect(u.run(STR)).toBe(FAULT_GP0);
    const c = machine(true);
    c.ctx.views.u32[OFF_CR4 >>> 2] = CR4_UMIP;
    expect(c.run(SGDT)).toBe(FAULT_GP0);
    const k = machine(false);
    k.ctx.policy = POLICY_UMIP;
    expect(k.run(SGDT)).toBe(0);
  });

  it('leak: user code sees the monitor\'s tables instead (Red Pill)', () => {
    const { ctx, run } = machine(true);
    ctx.policy = POLICY_LEAK;
    expect(run(SGDT)).toBe(0);
    expect(ctx.phys.read32(0x502)).not.toBe(GDT);
    expect(ctx.phys.read32(0x502) >>> 24).toBe(0xff);
  });
});

describe('leak policy in the guest kernel (CPL 0)', () => {
  it('SGDT shows the monitor, MOV EAX, CS shows RPL 1, POPF keeps IF', () => {
    const { ctx, run } = machine(false);
    ctx.policy = POLICY_LEAK;
    expect(run([0x0f, 0x01, 0x05, 0x00, 0x05, 0x00, 0x00])).toBe(0); // SGDT [0x500]
    expect(ctx.phys.read32(0x502)).not.toBe(GDT);
    expect(run([0x8c, 0xc8])).toBe(0); // MOV EAX, CS (8C /1, mod 3)
    expect(eax(ctx)).toBe(0x09);
    ctx.views.u32[OFF_RFLAGS >>> 2] = 0x2;
    ctx.phys.write32(0x8000, 0x2 | FLAG_IF | 0x1);
    expect(run([0x9d])).toBe(0); // POPF
    expect(ctx.views.u32[OFF_RFLAGS >>> 2] & (FLAG_IF | 1)).toBe(1); // CF loaded, IF dropped
  });

  it('under emulate the same instructions tell the truth', () => {
    const { ctx, run } = machine(false);
    expect(run([0x8c, 0xc8])).toBe(0);
    expect(eax(ctx)).toBe(0x08);
    ctx.views.u32[OFF_RFLAGS >>> 2] = 0x2;
    ctx.phys.write32(0x8000, 0x2 | FLAG_IF);
    expect(run([0x9d])).toBe(0);
    expect(ctx.views.u32[OFF_RFLAGS >>> 2] & FLAG_IF).toBe(FLAG_IF);
  });
});

describe('LAR / LSL / VERR / VERW / MOV Sreg', () => {
  it('LAR gives the access rights of an accessible descriptor and clears ZF otherwise', () => {
    const { ctx, run } = machine(true);
    ctx.views.set64(gprOffset(REG_RCX), 0x1b, 0);
    expect(run([0x0f, 0x02, 0xc1])).toBe(0); // LAR EAX, ECX
    expect(zf(ctx)).toBe(true);
    expect(eax(ctx)).toBe(0x00cffb00 & 0x00f0ff00);
    ctx.views.set64(gprOffset(REG_RCX), 0x10, 0); // ring-0 data from CPL 3
    ctx.views.set64(gprOffset(REG_RAX), 0x1234, 0);
    expect(run([0x0f, 0x02, 0xc1])).toBe(0);
    expect(zf(ctx)).toBe(false);
    expect(eax(ctx)).toBe(0x1234);
    ctx.views.set64(gprOffset(REG_RCX), 0x23, 0);
    expect(run([0x0f, 0x03, 0xc1])).toBe(0); // LSL EAX, ECX
    expect(zf(ctx)).toBe(true);
    expect(eax(ctx)).toBe(0xffffffff);
  });

  it('VERR/VERW: code is readable not writable; beyond the GDT is ZF = 0, not a fault', () => {
    const { ctx, run } = machine(true);
    ctx.views.set64(gprOffset(REG_RCX), 0x1b, 0);
    expect(run([0x0f, 0x00, 0xe1])).toBe(0); // VERR CX
    expect(zf(ctx)).toBe(true);
    expect(run([0x0f, 0x00, 0xe9])).toBe(0); // VERW CX
    expect(zf(ctx)).toBe(false);
    ctx.views.set64(gprOffset(REG_RCX), 0x23, 0);
    expect(run([0x0f, 0x00, 0xe9])).toBe(0);
    expect(zf(ctx)).toBe(true);
    ctx.views.set64(gprOffset(REG_RCX), 0xfff3, 0);
    expect(run([0x0f, 0x00, 0xe1])).toBe(0);
    expect(zf(ctx)).toBe(false);
  });

  it('MOV DS, AX loads with checks; MOV SS holds off interrupts', () => {
    const { ctx, run } = machine(false);
    ctx.views.set64(gprOffset(REG_RAX), 0x13, 0); // RPL 3 on a DPL-0 data segment
    expect(run([0x8e, 0xd8])).toBe(faultWithCode(VEC_GP, 0x10));
    ctx.views.set64(gprOffset(REG_RAX), 0x23, 0);
    expect(run([0x8e, 0xd8])).toBe(0);
    expect(seg(ctx, SEG_DS).sel).toBe(0x23);
    ctx.views.set64(gprOffset(REG_RAX), 0x10, 0);
    expect(run([0x8e, 0xd0])).toBe(0); // MOV SS, AX
    expect(ctx.views.u32[0x2c0 >>> 2]).toBe(2); // SHADOW_MOV_SS: interrupts and single-step wait
    expect(seg(ctx, SEG_CS).sel).toBe(0x08);
  });
});

describe('INT n with a broken IDT', () => {
  it('ends the run in a triple fault through the interpreter', async () => {
    const { RUN_TRIPLE_FAULT } = await import('../../src/interp/interpreter.js');
    const ctx = makeCtx();
    prot32(ctx);
    ctx.views.u32[0x218 >>> 2] = 0; // IDT limit 0: every gate is out of bounds
    ctx.views.set64(gprOffset(4), 0x8000, 0);
    ctx.phys.writeBytes(CODE, Uint8Array.from([0xcd, 0x80])); // INT 0x80
    ctx.views.set64(OFF_RIP, CODE, 0);
    const interp = new Interpreter(ctx, [...GP_REGISTRARS, ...SYSTEM_REGISTRARS]);
    expect(interp.run(100)).toBe(RUN_TRIPLE_FAULT);
    expect(ctx.stopReason).toMatch(/triple fault/);
  });
});

describe('interrupt flag and time', () => {
  it('STI holds off a pending interrupt for one instruction', async () => {
    const { RUN_HALT } = await import('../../src/interp/interpreter.js');
    const ctx = makeCtx();
    prot32(ctx);
    ctx.views.set64(0x210, 0x2000, 0); // IDTR base
    ctx.views.u32[0x218 >>> 2] = 0x7ff;
    const h = 0x7100;
    ctx.phys.write32(0x2000 + 0x20 * 8, (0x08 << 16) | h);
    ctx.phys.write32(0x2000 + 0x20 * 8 + 4, 0x8e00);
    ctx.phys.writeBytes(h, Uint8Array.from([0xf4])); // the handler: HLT
    ctx.phys.writeBytes(CODE, Uint8Array.from([0xfb, 0x90, 0x90, 0xf4])); // STI; NOP; NOP; HLT
    ctx.views.set64(gprOffset(4), 0x8000, 0);
    ctx.views.set64(OFF_RIP, CODE, 0);
    let pending = true;
    ctx.intc = { hasInterrupt: () => pending, acknowledge: () => ((pending = false), 0x20) };
    const interp = new Interpreter(ctx, [...GP_REGISTRARS, ...SYSTEM_REGISTRARS]);
    expect(interp.run(100)).toBe(RUN_HALT);
    expect(ctx.phys.read32(0x8000 - 12)).toBe(CODE + 2); // interrupted after STI and one NOP
    expect(ctx.views.getNum(OFF_RIP)).toBe(h + 1);
    expect(ctx.vectorCounts[0x20]).toBe(1);
  });

  it('RDTSC counts instructions; CR4.TSD makes it CPL-0 only', () => {
    const { ctx, run } = machine(true);
    ctx.views.setNum(0x2a8, 12345); // OFF_INSN_COUNT
    expect(run([0x0f, 0x31])).toBe(0);
    expect(eax(ctx)).toBe(12345);
    ctx.views.u32[OFF_CR4 >>> 2] = 1 << 2; // TSD
    expect(run([0x0f, 0x31])).toBe(FAULT_GP0);
  });

  it('CPUID through the interpreter fills EAX, EBX, ECX, EDX', () => {
    const { ctx, run } = machine(true);
    ctx.views.set64(gprOffset(REG_RAX), 0x40000000, 0);
    expect(run([0x0f, 0xa2])).toBe(0);
    const b = ctx.views.u32[gprOffset(3) >>> 2];
    expect(String.fromCharCode(b & 0xff, (b >>> 8) & 0xff, (b >>> 16) & 0xff, b >>> 24)).toBe('ring');
  });
});
