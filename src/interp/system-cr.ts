/**
 * Control, debug and model-specific registers and the other CPL-0 housekeeping instructions:
 * MOV to/from CR0/2/3/4/8 and DR0-7, CLTS, INVLPG, INVD/WBINVD, RDMSR/WRMSR, SWAPGS, HLT; and
 * the unprivileged CPUID, RDTSC/RDTSCP (#GP(0) at CPL > 0 when CR4.TSD) and RDPID.
 * The checks and side effects live in src/system/mode.ts, msr.ts and cpuid.ts. Writes to DR7 and
 * CR0 may turn on breakpoints or alignment checking: they call system/debug.ts's requestCheck.
 *
 * Virtual time: the TSC reads the instruction count at OFF_INSN_COUNT (ARCHITECTURE.md §7), so
 * the interpreter keeps that slot current when it runs these handlers (see docs/system.md).
 */
import {
  CR0_TS, CR4_TSD, FLAG_RF, MODE_LONG64, OFF_CR0, OFF_CR2, OFF_CR3, OFF_CR4, OFF_DR0,
  OFF_HALTED, OFF_MSR_KERNEL_GS_BASE, OFF_MSR_TSC_AUX, REG_RAX, REG_RCX, REG_RDX, SEG_BASE, SEG_GS,
  segOffset, SEG_FS,
} from '../cpu/state.js';
import { FAULT_GP0, FAULT_UD, VEC_DB, fault } from '../cpu/fault.js';
import { IX_FLAGS } from '../cpu/flags.js';
import { DR6_BD, DR7_GD, IX_DR6, IX_DR7, requestCheck } from '../system/debug.js';
import { execCpuid } from '../system/cpuid.js';
import { readCr8, writeCr0, writeCr3, writeCr4, writeCr8 } from '../system/mode.js';
import { blockInsnCount, msrOut, rdmsr, readTsc, wrmsr } from '../system/msr.js';
import { STOP_HALT, type Cpu, type Decoded, type Handler } from './cpu.js';
import type { Registrar } from './dispatch.js';
import { cplOf, privileged } from './system-common.js';

/** The GPR operand of MOV CR/DR: ModRM.rm with REX.B, whatever ModRM.mod says. */
const gprOf = (d: Decoded): number => (d.modrm & 7) | ((d.rex & 1) << 3);

const movRyCy: Handler = (cpu, d) => {
  if (!privileged(cpu)) return FAULT_GP0;
  let off: number;
  switch (d.reg) {
    case 0: off = OFF_CR0; break;
    case 2: off = OFF_CR2; break;
    case 3: off = OFF_CR3; break;
    case 4: off = OFF_CR4; break;
    case 8:
      cpu.setR64(gprOf(d), readCr8(cpu.ctx), 0);
      return 0;
    default: return FAULT_UD;
  }
  const r = gprOf(d);
  if (cpu.mode === MODE_LONG64) cpu.setR64(r, cpu.views.lo(off), cpu.views.hi(off));
  else cpu.setR32(r, cpu.views.lo(off));
  return 0;
};

const movCyRy: Handler = (cpu, d) => {
  if (!privileged(cpu)) return FAULT_GP0;
  const r = gprOf(d);
  const lo = cpu.r32(r) >>> 0;
  const hi = cpu.mode === MODE_LONG64 ? cpu.rHi(r) >>> 0 : 0;
  const ctx = cpu.ctx;
  let f: number;
  switch (d.reg) {
    case 0: f = writeCr0(ctx, lo, hi); break;
    case 2: cpu.views.set64(OFF_CR2, lo, hi); f = 0; break;
    case 3: f = writeCr3(ctx, lo, hi); break;
    case 4: f = writeCr4(ctx, lo, hi); break;
    case 8: f = writeCr8(ctx, lo, hi); break;
    default: return FAULT_UD;
  }
  if (f !== 0) return f;
  cpu.refreshMode();
  if (d.reg === 0) afterDebugWrite(cpu);
  return 0;
};

/** After a write that may turn the checked mode on: RF ends with the instruction, then re-check. */
function afterDebugWrite(cpu: Cpu): void {
  cpu.m[IX_FLAGS] &= ~FLAG_RF;
  requestCheck(cpu.views);
}

/**
 * DR7.GD (general detect): any MOV DR is a #DB fault with DR6.BD set; GD is cleared so the
 * handler can use the debug registers (SDM Vol. 3 17.2.4). Returns the fault, or 0.
 */
function generalDetect(cpu: Cpu): number {
  const u32 = cpu.u32;
  if ((u32[IX_DR7] & DR7_GD) === 0) return 0;
  u32[IX_DR7] &= ~DR7_GD;
  u32[IX_DR6] |= DR6_BD;
  return fault(VEC_DB);
}

/** DR4/DR5 alias DR6/DR7 (CR4.DE is not supported, so they always do). */
const drSlot = (n: number): number => OFF_DR0 + (n === 4 ? 6 : n === 5 ? 7 : n) * 8;

const movRyDy: Handler = (cpu, d) => {
  if (!privileged(cpu)) return FAULT_GP0;
  if (d.reg > 7) return FAULT_UD;
  const gd = generalDetect(cpu);
  if (gd !== 0) return gd;
  const off = drSlot(d.reg);
  const r = gprOf(d);
  if (cpu.mode === MODE_LONG64) cpu.setR64(r, cpu.views.lo(off), cpu.views.hi(off));
  else cpu.setR32(r, cpu.views.lo(off));
  return 0;
};

const movDyRy: Handler = (cpu, d) => {
  if (!privileged(cpu)) return FAULT_GP0;
  if (d.reg > 7) return FAULT_UD;
  const gd = generalDetect(cpu);
  if (gd !== 0) return gd;
  const r = gprOf(d);
  const n = d.reg === 4 ? 6 : d.reg === 5 ? 7 : d.reg;
  let lo = cpu.r32(r) >>> 0;
  const hi = cpu.mode === MODE_LONG64 ? cpu.rHi(r) >>> 0 : 0;
  if (n >= 6 && hi !== 0) return FAULT_GP0; // DR6/DR7 bits 63:32 are reserved
  if (n === 6) lo = (lo | 0xffff0ff0) >>> 0; // reserved-as-1 bits
  else if (n === 7) lo = ((lo | 0x400) & ~0xd000) >>> 0;
  cpu.views.set64(drSlot(n), lo, hi);
  if (n === 7) afterDebugWrite(cpu);
  return 0;
};

const clts: Handler = (cpu) => {
  if (!privileged(cpu)) return FAULT_GP0;
  cpu.u32[OFF_CR0 >> 2] &= ~CR0_TS;
  return 0;
};

const invlpgMb: Handler = (cpu, d) => {
  if (!privileged(cpu)) return FAULT_GP0;
  const ea = cpu.ea(d);
  const lin = cpu.mode === MODE_LONG64 ? (d.seg >= SEG_FS ? ea + cpu.segBase(d.seg) : ea)
    : (cpu.segBase(d.seg) + ea) >>> 0;
  cpu.mmu.flushPage(lin);
  return 0;
};

/** INVD / WBINVD: there are no caches to flush. */
const cacheFlush: Handler = (cpu) => (privileged(cpu) ? 0 : FAULT_GP0);

const hlt: Handler = (cpu) => {
  if (!privileged(cpu)) return FAULT_GP0;
  cpu.u32[OFF_HALTED >> 2] = 1;
  return STOP_HALT;
};

// ---- MSRs, CPUID, time ------------------------------------------------------------------------

const rdmsrH: Handler = (cpu) => {
  if (!privileged(cpu)) return FAULT_GP0;
  const f = rdmsr(cpu.ctx, cpu.r32(REG_RCX), blockInsnCount(cpu.ctx));
  if (f !== 0) return f;
  cpu.setR32(REG_RAX, msrOut[0]);
  cpu.setR32(REG_RDX, msrOut[1]);
  return 0;
};

const wrmsrH: Handler = (cpu) => {
  if (!privileged(cpu)) return FAULT_GP0;
  const f = wrmsr(cpu.ctx, cpu.r32(REG_RCX), cpu.r32(REG_RAX), cpu.r32(REG_RDX), blockInsnCount(cpu.ctx));
  if (f !== 0) return f;
  cpu.refreshMode();
  return 0;
};

const cpuid: Handler = (cpu) => {
  execCpuid(cpu.ctx);
  return 0;
};

function tscAllowed(cpu: Cpu): boolean {
  return (cpu.u32[OFF_CR4 >> 2] & CR4_TSD) === 0 || privileged(cpu);
}

const rdtsc: Handler = (cpu) => {
  if (!tscAllowed(cpu)) return FAULT_GP0;
  readTsc(cpu.ctx, blockInsnCount(cpu.ctx));
  cpu.setR32(REG_RAX, msrOut[0]);
  cpu.setR32(REG_RDX, msrOut[1]);
  return 0;
};

const rdtscp: Handler = (cpu) => {
  if (!tscAllowed(cpu)) return FAULT_GP0;
  readTsc(cpu.ctx, blockInsnCount(cpu.ctx));
  cpu.setR32(REG_RAX, msrOut[0]);
  cpu.setR32(REG_RDX, msrOut[1]);
  cpu.setR32(REG_RCX, cpu.views.lo(OFF_MSR_TSC_AUX));
  return 0;
};

/** RDPID r64 (r32 outside 64-bit mode): IA32_TSC_AUX. Not reported by CPUID: #UD until it is. */
const rdpidRq: Handler = () => FAULT_UD;

/** SWAPGS: exchanges GS.base with IA32_KERNEL_GS_BASE; 64-bit mode only. */
const swapgs: Handler = (cpu) => {
  if (cpu.mode !== MODE_LONG64) return FAULT_UD;
  if (cplOf(cpu) !== 0) return FAULT_GP0;
  const v = cpu.views;
  const gsOff = segOffset(SEG_GS) + SEG_BASE;
  const lo = v.lo(gsOff);
  const hi = v.hi(gsOff);
  v.set64(gsOff, v.lo(OFF_MSR_KERNEL_GS_BASE), v.hi(OFF_MSR_KERNEL_GS_BASE));
  v.set64(OFF_MSR_KERNEL_GS_BASE, lo, hi);
  return 0;
};

export const registerSystemCr: Registrar = (h) => {
  h.set('movRyCy', movRyCy);
  h.set('movCyRy', movCyRy);
  h.set('movRyDy', movRyDy);
  h.set('movDyRy', movDyRy);
  h.set('clts', clts);
  h.set('invlpgMb', invlpgMb);
  h.set('invd', cacheFlush);
  h.set('wbinvd', cacheFlush);
  h.set('hlt', hlt);
  h.set('rdmsr', rdmsrH);
  h.set('wrmsr', wrmsrH);
  h.set('cpuid', cpuid);
  h.set('rdtsc', rdtsc);
  h.set('rdtscp', rdtscp);
  h.set('rdpidRq', rdpidRq);
  h.set('swapgs', swapgs);
};

