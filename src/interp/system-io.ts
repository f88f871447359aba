/**
 * Port I/O and the interrupt flag: IN/OUT (immediate and DX forms), INS/OUTS with REP, CLI, STI.
 * Port accesses need CPL <= IOPL or a clear TSS I/O-bitmap bit (system/io.ts; VM86 always asks the
 * bitmap). CLI/STI need CPL <= IOPL (IOPL 3 in VM86; no VME/PVI). STI that sets IF holds off
 * interrupts for one more instruction (OFF_INT_SHADOW).
 *
 * REP INS/OUTS count one instruction per iteration, like the other string instructions
 * (string.ts: repBudget/repRetired); they run at most REP_CHUNK iterations per execution, never
 * past the engine's stop, and then re-execute themselves (string.ts repCut: nextRip = rip, resumed
 * as decoded, as a REP INS over its own bytes must be), so a long transfer is interruptible and
 * rCX/rSI/rDI are exact at each stop.
 * INS checks that the memory write can succeed before it reads the port, so a faulting INS has no
 * device side effect.
 */
import {
  FLAG_DF, FLAG_IF, FLAG_IOPL, MODE_REAL, MODE_VM86, OFF_INT_SHADOW, OFF_RFLAGS, REG_RAX, REG_RCX, REG_RDI,
  REG_RDX, REG_RSI, SEG_ES,
} from '../cpu/state.js';
import { FAULT_GP0 } from '../cpu/fault.js';
import { checkIoPermission } from '../system/io.js';
import type { Cpu, Decoded, Handler } from './cpu.js';
import type { Registrar } from './dispatch.js';
import { cplOf } from './system-common.js';
import { repBase, repBudget, repCut, repLiveCount, repRetired } from './string.js';

const REP_CHUNK = 1024;
const TWO32 = 4294967296;

function readPort(cpu: Cpu, port: number, size: number): number {
  return cpu.ctx.ports.read(port, size);
}

function setAcc(cpu: Cpu, size: number, v: number): void {
  if (size === 1) cpu.setR8(REG_RAX, 0, v & 0xff);
  else if (size === 2) cpu.setR16(REG_RAX, v & 0xffff);
  else cpu.setR32(REG_RAX, v | 0);
}

function acc(cpu: Cpu, size: number): number {
  if (size === 1) return cpu.r8(REG_RAX, 0);
  return size === 2 ? cpu.r16(REG_RAX) : cpu.r32(REG_RAX) >>> 0;
}

/** Accumulator size for the v-sized forms: 2 or 4 (REX.W does not make port I/O 64-bit). */
const vSize = (d: Decoded): number => (d.opSize === 2 ? 2 : 4);

function inH(byte: boolean, dx: boolean): Handler {
  return (cpu, d) => {
    const size = byte ? 1 : vSize(d);
    const port = dx ? cpu.r16(REG_RDX) : d.imm & 0xff;
    const f = checkIoPermission(cpu.ctx, port, size);
    if (f !== 0) return f;
    setAcc(cpu, size, readPort(cpu, port, size));
    return 0;
  };
}

function outH(byte: boolean, dx: boolean): Handler {
  return (cpu, d) => {
    const size = byte ? 1 : vSize(d);
    const port = dx ? cpu.r16(REG_RDX) : d.imm & 0xff;
    const f = checkIoPermission(cpu.ctx, port, size);
    if (f !== 0) return f;
    cpu.ctx.ports.write(port, size, acc(cpu, size));
    return 0;
  };
}

// ---- string forms ---------------------------------------------------------------------------

/** Index/count register r at address size a (2, 4, 8) as an offset number. */
function idx(cpu: Cpu, r: number, a: number): number {
  if (a === 2) return cpu.r16(r);
  if (a === 4) return cpu.r32(r) >>> 0;
  return cpu.rHi(r) * TWO32 + (cpu.r32(r) >>> 0);
}

function setIdx(cpu: Cpu, r: number, a: number, v: number): void {
  if (a === 2) cpu.setR16(r, v & 0xffff);
  else if (a === 4) cpu.setR32(r, v | 0);
  else cpu.setR64(r, v | 0, Math.floor(v / TWO32) | 0);
}

function wrapIdx(a: number, v: number): number {
  return a === 2 ? v & 0xffff : a === 4 ? v >>> 0 : v;
}

function stringIo(input: boolean, byte: boolean): Handler {
  return (cpu, d) => {
    const size = byte ? 1 : vSize(d);
    const port = cpu.r16(REG_RDX);
    const f = checkIoPermission(cpu.ctx, port, size);
    if (f !== 0) return f;
    const a = d.adSize;
    const step = (cpu.u32[OFF_RFLAGS >> 2] & FLAG_DF) !== 0 ? -size : size;
    const rep = d.rep !== 0;
    // the count in halves: a 64-bit RCX need not fit a double exactly
    let cLo = !rep ? 1 : a === 2 ? cpu.r16(REG_RCX) : cpu.r32(REG_RCX) | 0;
    let cHi = rep && a === 8 ? cpu.rHi(REG_RCX) | 0 : 0;
    if (rep) repRetired(cpu, 0, false);
    if ((cLo | cHi) === 0) return 0;
    const reg = input ? REG_RDI : REG_RSI;
    const limit = rep ? repBudget(cpu, REP_CHUNK) : 1;
    const base = rep ? repBase(cpu) : 0;
    let n = 0;
    while ((cLo | cHi) !== 0 && n < limit) {
      if (n !== 0) repLiveCount(cpu, base, n); // a device sees the exact virtual time
      const off = idx(cpu, reg, a);
      if (input) {
        cpu.probeWrite(SEG_ES, off, size);
        if (cpu.mmu.fault === 0) cpu.wr(SEG_ES, off, size, readPort(cpu, port, size), 0);
      } else {
        const v = cpu.rd(d.seg, off, size);
        if (cpu.mmu.fault === 0) cpu.ctx.ports.write(port, size, v >>> 0);
      }
      if (cpu.mmu.fault !== 0) {
        if (rep) repRetired(cpu, n, true);
        return cpu.mmu.fault;
      }
      setIdx(cpu, reg, a, wrapIdx(a, off + step));
      n++;
      if (a === 8 && cLo === 0) cHi = (cHi - 1) | 0;
      cLo = a === 2 ? (cLo - 1) & 0xffff : (cLo - 1) | 0;
      if (!rep) break;
      if (a === 2) cpu.setR16(REG_RCX, cLo);
      else if (a === 4) cpu.setR32(REG_RCX, cLo);
      else cpu.setR64(REG_RCX, cLo, cHi);
    }
    if (!rep) return 0;
    repRetired(cpu, n, false);
    if ((cLo | cHi) !== 0) repCut(cpu, d, base + n); // continue in the next execution, as decoded
    return 0;
  };
}

// ---- CLI / STI ------------------------------------------------------------------------------

function ifAllowed(cpu: Cpu): boolean {
  if (cpu.mode === MODE_REAL) return true;
  const iopl = (cpu.u32[OFF_RFLAGS >> 2] & FLAG_IOPL) >>> 12;
  if (cpu.mode === MODE_VM86) return iopl === 3;
  return cplOf(cpu) <= iopl;
}

const cli: Handler = (cpu) => {
  if (!ifAllowed(cpu)) return FAULT_GP0;
  cpu.u32[OFF_RFLAGS >> 2] &= ~FLAG_IF;
  return 0;
};

const sti: Handler = (cpu) => {
  if (!ifAllowed(cpu)) return FAULT_GP0;
  const ix = OFF_RFLAGS >> 2;
  if ((cpu.u32[ix] & FLAG_IF) === 0) {
    cpu.u32[ix] |= FLAG_IF;
    cpu.u32[OFF_INT_SHADOW >> 2] = 1;
  }
  return 0;
};

export const registerSystemIo: Registrar = (h) => {
  h.set('inALIb', inH(true, false));
  h.set('ineAXIb', inH(false, false));
  h.set('inALDX', inH(true, true));
  h.set('ineAXDX', inH(false, true));
  h.set('outIbAL', outH(true, false));
  h.set('outIbeAX', outH(false, false));
  h.set('outDXAL', outH(true, true));
  h.set('outDXeAX', outH(false, true));
  h.set('insbYbDX', stringIo(true, true));
  h.set('insz', stringIo(true, false));
  h.set('outsbDXXb', stringIo(false, true));
  h.set('outsz', stringIo(false, false));
  h.set('cli', cli);
  h.set('sti', sti);
};
