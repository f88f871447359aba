/**
 * Shared pieces of the system-instruction handlers (src/interp/system-*.ts): how a handler hands
 * control to the system layer (src/system/) and takes it back, the privilege checks, and the stop
 * codes for what the system layer cannot do.
 *
 * The system layer works on the CPU block: it reads the return/next RIP from OFF_RIP and leaves
 * the new RIP there, and it may change CS, CPL and OFF_MODE. So a handler that calls it does
 * `enterSystem(cpu)` (stores nextRip) before and `leaveSystem(cpu)` (re-reads mode, CPL and
 * nextRip) after a successful call. A failed call changed nothing, so the handler just returns the
 * fault. A result the run loop must see: STOP_UNSUPPORTED (ctx.stopReason says why), which the
 * interpreter maps to RUN_UNSUPPORTED. STOP_TRIPLE_FAULT is reserved for the same purpose.
 */
import { FLAG_IOPL, MODE_REAL, MODE_VM86, OFF_CPL, OFF_RFLAGS } from '../cpu/state.js';
import { VEC_DF, faultWithCode } from '../cpu/fault.js';
import { DELIVER_OK, DELIVER_TRIPLE_FAULT } from '../system/context.js';
import type { Cpu } from './cpu.js';

/** Handler result: delivering an event shut the CPU down (triple fault). */
export const STOP_TRIPLE_FAULT = 3;
/** Handler result: the guest asked for something ringvm does not implement (task switch ...). */
export const STOP_UNSUPPORTED = 4;

/** OFF_INT_SHADOW after MOV SS / POP SS: interrupts and the single-step trap wait one instruction
 * (SDM Vol. 3 6.8.3); after STI the value is 1 and only maskable interrupts wait. */
export const SHADOW_MOV_SS = 2;

export function enterSystem(cpu: Cpu): void {
  cpu.storeRip(cpu.nextRip);
}

export function leaveSystem(cpu: Cpu): void {
  cpu.refreshMode();
  cpu.nextRip = cpu.loadRip();
}

/**
 * Maps a DELIVER_* result to a handler result (0 after a successful delivery). A triple fault is
 * returned as #DF(0): nothing was committed, so the run loop's own delivery of that #DF fails the
 * same way and ends the run with RUN_TRIPLE_FAULT (the loop needs no extra stop code for it).
 */
export function afterDeliver(cpu: Cpu, r: number): number {
  if (r === DELIVER_OK) {
    leaveSystem(cpu);
    return 0;
  }
  return r === DELIVER_TRIPLE_FAULT ? FAULT_DF0 : STOP_UNSUPPORTED;
}

const FAULT_DF0 = faultWithCode(VEC_DF, 0);

export const cplOf = (cpu: Cpu): number => cpu.u32[OFF_CPL >> 2];
export const ioplOf = (cpu: Cpu): number => (cpu.u32[OFF_RFLAGS >> 2] & FLAG_IOPL) >>> 12;

/** True when a CPL-0-only instruction may run: real mode, or protected mode at CPL 0 (not VM86). */
export function privileged(cpu: Cpu): boolean {
  if (cpu.mode === MODE_REAL) return true;
  return cpu.mode !== MODE_VM86 && cplOf(cpu) === 0;
}

/** Adds n to an offset within the address size (for multi-part memory operands). */
export function offPlus(adSize: number, off: number, n: number): number {
  if (adSize === 8) return off + n;
  return adSize === 4 ? (off + n) >>> 0 : (off + n) & 0xffff;
}
