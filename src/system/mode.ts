/**
 * Processor mode bookkeeping and the control-register writes that change it.
 *
 * OFF_MODE says how the interpreter decodes and addresses: real mode (CR0.PE = 0), virtual-8086
 * (RFLAGS.VM), 64-bit long mode (EFER.LMA and CS.L), otherwise 32- or 16-bit protected mode by
 * CS.D (compatibility mode is PROT32/PROT16 with EFER.LMA set). OFF_CPL is set by whoever loads
 * CS in protected mode (segments.ts, interrupts.ts, far transfers, SYSCALL ...); `updateMode`
 * forces it to 0 in real mode and 3 in VM86, where the SDM defines it that way.
 *
 * The writers (MOV CRn, LMSW, CLTS, WRMSR EFER) apply the SDM's checks (Vol. 3 §2.5, and the
 * MOV CR / WRMSR pages of Vol. 2) and return a fault value (0 = written). The MMU reads CR0, CR3,
 * CR4 and EFER straight from the CPU block on each walk, so after writing them we only flush its
 * TLB the way the hardware does: a CR3 write drops non-global entries (all of them without
 * CR4.PGE); changes to CR0.PG/WP/PE, to CR4.PGE/PAE/PSE/SMEP/SMAP or EFER.NXE drop everything.
 * All values are given as two 32-bit halves (lo, hi).
 */
import {
  ATTR_DB, ATTR_L, CR0_CD, CR0_NW, CR0_PE, CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE, CR4_SMAP, CR4_SMEP,
  EFER_LMA, EFER_LME, EFER_NXE, FLAG_VM, MODE_LONG64, MODE_PROT16, MODE_PROT32, MODE_REAL, MODE_VM86,
  OFF_CPL, OFF_CR0, OFF_CR3, OFF_CR4, OFF_CR8, OFF_EFER, OFF_MODE, OFF_MSR_APIC_BASE, OFF_RFLAGS, SEG_ATTR, SEG_CS,
  segOffset,
} from '../cpu/state.js';
import { FAULT_GP0 } from '../cpu/fault.js';
import type { SystemContext } from './context.js';
import { CR4_SUPPORTED, EFER_SUPPORTED } from './cpuid.js';

const IX_CR0 = OFF_CR0 >>> 2;
const IX_CR4 = OFF_CR4 >>> 2;
const IX_EFER = OFF_EFER >>> 2;
const IX_MODE = OFF_MODE >>> 2;
const IX_CPL = OFF_CPL >>> 2;
const IX_CS_ATTR = (segOffset(SEG_CS) + SEG_ATTR) >>> 2;

/** CR0 bits a write can change; the others read as 0 except ET, which is wired to 1. */
const CR0_WRITABLE = 0xe005003f | 0; // PE MP EM TS ET NE WP AM NW CD PG
const CR0_ET = 1 << 4;

/** Recomputes OFF_MODE from CR0.PE, RFLAGS.VM, EFER.LMA and the CS cache; fixes CPL where implied. */
export function updateMode(ctx: SystemContext): void {
  const u32 = ctx.views.u32;
  let mode: number;
  if ((u32[IX_CR0] & CR0_PE) === 0) {
    mode = MODE_REAL;
    u32[IX_CPL] = 0;
  } else if ((u32[OFF_RFLAGS >>> 2] & FLAG_VM) !== 0) {
    mode = MODE_VM86;
    u32[IX_CPL] = 3;
  } else {
    const attr = u32[IX_CS_ATTR];
    if ((u32[IX_EFER] & EFER_LMA) !== 0 && (attr & ATTR_L) !== 0) mode = MODE_LONG64;
    else mode = (attr & ATTR_DB) !== 0 ? MODE_PROT32 : MODE_PROT16;
  }
  u32[IX_MODE] = mode;
}

export const cpl = (ctx: SystemContext): number => ctx.views.u32[IX_CPL];
export const mode = (ctx: SystemContext): number => ctx.views.u32[IX_MODE];
export const longModeActive = (ctx: SystemContext): boolean => (ctx.views.u32[IX_EFER] & EFER_LMA) !== 0;

/** MOV CR0 (and LMSW/CLTS through it). */
export function writeCr0(ctx: SystemContext, lo: number, hi: number): number {
  const u32 = ctx.views.u32;
  if (hi !== 0) return FAULT_GP0; // bits 63:32 are reserved
  const v = ((lo & CR0_WRITABLE) | CR0_ET) | 0;
  if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) return FAULT_GP0;
  if ((v & CR0_NW) !== 0 && (v & CR0_CD) === 0) return FAULT_GP0;
  const old = u32[IX_CR0] | 0;
  let efer = u32[IX_EFER];
  const pgOn = (old & CR0_PG) === 0 && (v & CR0_PG) !== 0;
  const pgOff = (old & CR0_PG) !== 0 && (v & CR0_PG) === 0;
  if (pgOn && (efer & EFER_LME) !== 0) {
    // Entering IA-32e mode needs PAE, and cannot happen from code with CS.L set.
    if ((u32[IX_CR4] & CR4_PAE) === 0) return FAULT_GP0;
    if ((u32[IX_CS_ATTR] & ATTR_L) !== 0) return FAULT_GP0;
    efer |= EFER_LMA;
  }
  if (pgOff && (efer & EFER_LMA) !== 0) {
    // Leaving IA-32e mode is allowed from compatibility mode only.
    if (u32[IX_MODE] === MODE_LONG64) return FAULT_GP0;
    efer &= ~EFER_LMA;
  }
  u32[IX_CR0] = v;
  u32[IX_CR0 + 1] = 0;
  u32[IX_EFER] = efer;
  if (((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) !== 0) ctx.mmu.flushAll();
  updateMode(ctx);
  return 0;
}

/** MOV CR3. Bits above the physical-address width are reserved in long mode (PCIDs unsupported). */
export function writeCr3(ctx: SystemContext, lo: number, hi: number): number {
  const u32 = ctx.views.u32;
  if ((u32[IX_EFER] & EFER_LMA) !== 0) {
    if ((hi & ~((1 << (PHYS_ADDR_BITS - 32)) - 1)) !== 0) return FAULT_GP0;
  } else {
    hi = 0;
  }
  const oldLo = u32[OFF_CR3 >>> 2];
  const oldHi = u32[(OFF_CR3 >>> 2) + 1];
  u32[OFF_CR3 >>> 2] = lo;
  u32[(OFF_CR3 >>> 2) + 1] = hi;
  // PAE paging outside IA-32e mode loads the four PDPTEs with CR3: a reserved bit is #GP(0) and
  // CR3 keeps its old value (SDM Vol. 3 4.4.1).
  if ((u32[IX_EFER] & EFER_LMA) === 0 && (u32[IX_CR4] & CR4_PAE) !== 0 && (u32[OFF_CR0 >>> 2] & CR0_PG) !== 0) {
    const f = ctx.mmu.checkPdptes();
    if (f !== 0) {
      u32[OFF_CR3 >>> 2] = oldLo;
      u32[(OFF_CR3 >>> 2) + 1] = oldHi;
      return f;
    }
  }
  if ((u32[IX_CR4] & CR4_PGE) !== 0) ctx.mmu.flushNonGlobal();
  else ctx.mmu.flushAll();
  return 0;
}

/** Physical-address width reported by CPUID 0x80000008 and enforced on CR3 / paging entries. */
export const PHYS_ADDR_BITS = 40; // as QEMU TCG reports

/** MOV CR4: unsupported bits are reserved (#GP); PAE cannot be cleared in IA-32e mode. */
export function writeCr4(ctx: SystemContext, lo: number, hi: number): number {
  const u32 = ctx.views.u32;
  if (hi !== 0 || (lo & ~CR4_SUPPORTED) !== 0) return FAULT_GP0;
  if ((u32[IX_EFER] & EFER_LMA) !== 0 && (lo & CR4_PAE) === 0) return FAULT_GP0;
  const old = u32[IX_CR4];
  u32[IX_CR4] = lo;
  u32[IX_CR4 + 1] = 0;
  if (((old ^ lo) & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP)) !== 0) ctx.mmu.flushAll();
  return 0;
}

/**
 * Physical address of the local APIC's TPR when IA32_APIC_BASE enables the APIC, else -1.
 * CR8 is an alias of TPR bits 7:4 (SDM Vol. 3 §10.8.6.1), reached through the APIC's MMIO window
 * so the device stays the one owner of the register.
 */
function tprAddress(ctx: SystemContext): number {
  const base = ctx.views.lo(OFF_MSR_APIC_BASE);
  if ((base & (1 << 11)) === 0) return -1;
  return ctx.views.hi(OFF_MSR_APIC_BASE) * 4294967296 + ((base & 0xfffff000) >>> 0) + 0x80;
}

/** MOV CR8: the task-priority class; only bits 3:0 exist. Writes the APIC's TPR when enabled. */
export function writeCr8(ctx: SystemContext, lo: number, hi: number): number {
  if (hi !== 0 || (lo & ~0xf) !== 0) return FAULT_GP0;
  ctx.views.set64(OFF_CR8, lo, 0);
  const tpr = tprAddress(ctx);
  if (tpr >= 0) ctx.phys.write32(tpr, lo << 4);
  return 0;
}

/** MOV from CR8: TPR bits 7:4 when the APIC is enabled, else the value last written. */
export function readCr8(ctx: SystemContext): number {
  const tpr = tprAddress(ctx);
  if (tpr >= 0) {
    const v = (ctx.phys.read32(tpr) >>> 4) & 0xf;
    ctx.views.set64(OFF_CR8, v, 0);
    return v;
  }
  return ctx.views.lo(OFF_CR8) & 0xf;
}

/** WRMSR IA32_EFER: LMA is read-only; LME cannot change while paging is on. */
export function writeEfer(ctx: SystemContext, lo: number, hi: number): number {
  const u32 = ctx.views.u32;
  if (hi !== 0 || (lo & ~(EFER_SUPPORTED | EFER_LMA)) !== 0) return FAULT_GP0;
  const old = u32[IX_EFER];
  if (((old ^ lo) & EFER_LME) !== 0 && (u32[IX_CR0] & CR0_PG) !== 0) return FAULT_GP0;
  const v = (lo & ~EFER_LMA) | (old & EFER_LMA);
  u32[IX_EFER] = v;
  u32[IX_EFER + 1] = 0;
  if (((old ^ v) & EFER_NXE) !== 0) ctx.mmu.flushAll();
  return 0;
}
