/**
 * Software interrupts and privilege-changing returns: INT n, INT3, INTO, INT1 (ICEBP), IRET,
 * SYSCALL/SYSRET, SYSENTER/SYSEXIT. The work is in src/system/ (interrupts.ts, iret.ts,
 * fastcall.ts); a handler stores the return RIP in the CPU block, calls it, and re-reads mode,
 * CPL and RIP. INT n in VM86 with IOPL < 3 is #GP(0) (no CR4.VME). INT1 is delivered as a
 * hardware #DB (no gate DPL check), INT3/INTO/INT n as software interrupts.
 */
import { FLAG_IOPL, FLAG_OF, MODE_VM86, OFF_RFLAGS } from '../cpu/state.js';
import { FAULT_GP0, VEC_BP, VEC_DB, VEC_OF } from '../cpu/fault.js';
import { getFlags } from '../cpu/flags.js';
import { EV_EXCEPTION, EV_SOFTWARE, deliver } from '../system/interrupts.js';
import { iret } from '../system/iret.js';
import { FAR_UNSUPPORTED } from '../system/far.js';
import { syscall, sysenter, sysexit, sysret } from '../system/fastcall.js';
import type { Cpu, Handler } from './cpu.js';
import type { Registrar } from './dispatch.js';
import { STOP_UNSUPPORTED, afterDeliver, enterSystem, leaveSystem } from './system-common.js';

function softInt(cpu: Cpu, vector: number, kind: number): number {
  enterSystem(cpu);
  return afterDeliver(cpu, deliver(cpu.ctx, vector, -1, kind));
}

const intIb: Handler = (cpu, d) => {
  if (cpu.mode === MODE_VM86 && (cpu.u32[OFF_RFLAGS >> 2] & FLAG_IOPL) !== FLAG_IOPL) return FAULT_GP0;
  return softInt(cpu, d.imm & 0xff, EV_SOFTWARE);
};
const int3: Handler = (cpu) => softInt(cpu, VEC_BP, EV_SOFTWARE);
const into: Handler = (cpu) => ((getFlags(cpu.m) & FLAG_OF) !== 0 ? softInt(cpu, VEC_OF, EV_SOFTWARE) : 0);
const int1: Handler = (cpu) => softInt(cpu, VEC_DB, EV_EXCEPTION);

/** Runs a system-layer transfer that sets OFF_RIP itself; maps its result to a handler result. */
function transfer(cpu: Cpu, f: number): number {
  if (f === FAR_UNSUPPORTED) return STOP_UNSUPPORTED;
  if (f !== 0) return f;
  leaveSystem(cpu);
  return 0;
}

const iretH: Handler = (cpu, d) => transfer(cpu, iret(cpu.ctx, d.opSize));

const syscallH: Handler = (cpu) => {
  enterSystem(cpu); // SYSCALL saves the next RIP in RCX from OFF_RIP
  return transfer(cpu, syscall(cpu.ctx));
};
const sysretH: Handler = (cpu, d) => transfer(cpu, sysret(cpu.ctx, d.opSize === 8 ? 8 : 4));
const sysenterH: Handler = (cpu) => transfer(cpu, sysenter(cpu.ctx));
const sysexitH: Handler = (cpu, d) => transfer(cpu, sysexit(cpu.ctx, d.opSize === 8 ? 8 : 4));

export const registerSystemInt: Registrar = (h) => {
  h.set('intIb', intIb);
  h.set('int3', int3);
  h.set('into', into);
  h.set('int1', int1);
  h.set('iret', iretH);
  h.set('syscall', syscallH);
  h.set('sysret', sysretH);
  h.set('sysenter', sysenterH);
  h.set('sysexit', sysexitH);
};
