/**
 * Near control transfers: JMP, Jcc, CALL and RET (relative and indirect), LOOP/LOOPE/LOOPNE and
 * JCXZ/JECXZ/JRCXZ. Far forms belong to the system handlers. Targets go through `cpu.jumpTo`, which
 * wraps them to the operand size and checks the CS limit (or canonical form in 64-bit mode), so a
 * bad target faults before anything (the return address push included) is committed.
 */
import { testCond } from '../cpu/flags.js';
import type { Cpu, Decoded, Handler } from './cpu.js';

const TWO32 = 4294967296;

export const jcc: Handler = (cpu, d) => (testCond(cpu.m, d.cond) ? cpu.jumpTo(cpu.nextRip + d.imm, d.opSize) : 0);

export const jmpRel: Handler = (cpu, d) => cpu.jumpTo(cpu.nextRip + d.imm, d.opSize);

/** The target held in an Ev operand (register or memory), as a number; NaN-free, faults in mmu. */
function targetOf(cpu: Cpu, d: Decoded): number {
  const size = d.opSize;
  const lo = cpu.readRm(d, size);
  if (size === 8) return cpu.hi * TWO32 + (lo >>> 0);
  return size === 4 ? lo >>> 0 : lo & 0xffff;
}

const jmpEv: Handler = (cpu, d) => {
  const t = targetOf(cpu, d);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  return cpu.jumpTo(t, d.opSize);
};

function pushReturn(cpu: Cpu, size: number, ret: number): number {
  return cpu.push(size, ret | 0, size === 8 ? Math.floor(ret / TWO32) | 0 : 0);
}

const callRel: Handler = (cpu, d) => {
  const ret = cpu.nextRip;
  const f = cpu.jumpTo(ret + d.imm, d.opSize);
  if (f !== 0) return f;
  return pushReturn(cpu, d.opSize, ret);
};

const callEv: Handler = (cpu, d) => {
  const ret = cpu.nextRip;
  const t = targetOf(cpu, d);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  const f = cpu.jumpTo(t, d.opSize);
  if (f !== 0) return f;
  return pushReturn(cpu, d.opSize, ret);
};

function ret(withImm: boolean): Handler {
  return (cpu, d) => {
    const size = d.opSize;
    const lo = cpu.peek(size, 0);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const t = size === 8 ? cpu.hi * TWO32 + (lo >>> 0) : size === 4 ? lo >>> 0 : lo & 0xffff;
    const f = cpu.jumpTo(t, size);
    if (f !== 0) return f;
    cpu.addSp(withImm ? size + (d.imm & 0xffff) : size);
    return 0;
  };
}

/**
 * LOOP family: decrement the count register of the address size (CX, ECX or RCX) without touching
 * flags, then branch if it is nonzero (and ZF matches for LOOPE/LOOPNE). kind 0 LOOPNE, 1 LOOPE, 2 LOOP.
 */
function loop(kind: number): Handler {
  return (cpu, d) => {
    const m = cpu.m;
    const as = d.adSize;
    let nz: boolean;
    let lo: number, hi = 0;
    if (as === 2) {
      lo = (cpu.u16[4] - 1) & 0xffff;
      nz = lo !== 0;
    } else {
      lo = (m[2] - 1) | 0;
      if (as === 8) hi = lo === -1 ? (m[3] - 1) | 0 : m[3];
      nz = lo !== 0 || hi !== 0;
    }
    let taken = nz;
    if (kind === 0) taken = nz && !testCond(m, 4);
    else if (kind === 1) taken = nz && testCond(m, 4);
    if (taken) {
      const f = cpu.jumpTo(cpu.nextRip + d.imm, d.opSize);
      if (f !== 0) return f;
    }
    if (as === 2) cpu.u16[4] = lo;
    else if (as === 4) cpu.setR32(1, lo);
    else cpu.setR64(1, lo, hi);
    return 0;
  };
}

const jcxz: Handler = (cpu, d) => {
  const m = cpu.m;
  const as = d.adSize;
  const z = as === 2 ? cpu.u16[4] === 0 : as === 4 ? m[2] === 0 : (m[2] | m[3]) === 0;
  return z ? cpu.jumpTo(cpu.nextRip + d.imm, d.opSize) : 0;
};

export function registerControl(h: Map<string, Handler>): void {
  h.set('jccJb', jcc);
  h.set('jccJz', jcc);
  h.set('jmpJb', jmpRel);
  h.set('jmpJz', jmpRel);
  h.set('jmpEv', jmpEv);
  h.set('callJz', callRel);
  h.set('callEv', callEv);
  h.set('ret', ret(false));
  h.set('retIw', ret(true));
  h.set('loopneJb', loop(0));
  h.set('loopeJb', loop(1));
  h.set('loopJb', loop(2));
  h.set('jcxzJb', jcxz);
}
