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
import { DELIVER_OK, DELIVER_UNSUPPORTED } from '../system/context.js';
import { EV_EXCEPTION, deliver, deliverSoftware } from '../system/interrupts.js';
import { iret } from '../system/iret.js';
import { FAR_UNSUPPORTED } from '../system/far.js';
import { syscall, sysenter, sysexit, sysret } from '../system/fastcall.js';
import type { Cpu, Handler } from './cpu.js';
import type { Registrar } from './dispatch.js';
import { STOP_UNSUPPORTED, afterDeliver, enterSystem, leaveSystem } from './system-common.js';

/** INT n/INT3/INTO: a fault while delivering is the INT instruction's own fault (see deliverSoftware). */
function softInt(cpu: Cpu, vector: number): number {
  enterSystem(cpu);
  const r = deliverSoftware(cpu.ctx, vector);
  if (r === DELIVER_OK) {
    leaveSystem(cpu);
    return 0;
  }
  return r === DELIVER_UNSUPPORTED ? STOP_UNSUPPORTED : r;
}

/** INT1 (ICEBP) raises #DB as a trap, without the gate DPL check. */
function icebp(cpu: Cpu): number {
  enterSystem(cpu);
  return afterDeliver(cpu, deliver(cpu.ctx, VEC_DB, -1, EV_EXCEPTION));
}

const intIb: Handler = (cpu, d) => {
  if (cpu.mode === MODE_VM86 && (cpu.u32[OFF_RFLAGS >> 2] & FLAG_IOPL) !== FLAG_IOPL) return FAULT_GP0;
  return softInt(cpu, d.imm & 0xff);
};
const int3: Handler = (cpu) => softInt(cpu, VEC_BP);
const into: Handler = (cpu) => ((getFlags(cpu.m) & FLAG_OF) !== 0 ? softInt(cpu, VEC_OF) : 0);
const int1: Handler = (cpu) => icebp(cpu);

/** Runs a system-layer transfer that sets OFF_RIP itself; maps its result to a handler result. */
function transfer(cpu: Cpu, f: number): number {
  if (f === FAR_UNSUPPORTED) return STOP_UNSUPPORTED;
  if (f !== 0) return f;
  leaveSystem(cpu);
  return 0;
}

const iretH: Handler = (cpu, d) => {
  enterSystem(cpu); // a task return saves the next instruction's address
  return transfer(cpu, iret(cpu.ctx, d.opSize));
};

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
