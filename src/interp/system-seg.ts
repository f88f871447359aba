/**
 * Handlers that load or store segment registers: MOV Sreg,Ew / MOV Ew,Sreg, POP Sreg,
 * LDS/LES/LFS/LGS/LSS, and the far transfers JMP far, CALL far, RET far (checks and loading in
 * src/system/segments.ts and far.ts). PUSH Sreg is the interpreter's (src/interp/stack.ts).
 * MOV SS and POP SS hold off interrupts for one instruction (OFF_INT_SHADOW = SHADOW_MOV_SS, which
 * also holds back a single-step trap; STI's shadow holds off interrupts only).
 */
import { MODE_REAL, OFF_CPL, OFF_INT_SHADOW, SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, segOffset, SEG_SELECTOR } from '../cpu/state.js';
import { FAULT_UD } from '../cpu/fault.js';
import { FAR_UNSUPPORTED, callFar, jmpFar, retFar } from '../system/far.js';
import { POLICY_LEAK } from '../system/context.js';
import { loadSegment } from '../system/segments.js';
import type { Cpu, Decoded, Handler } from './cpu.js';
import type { Registrar } from './dispatch.js';
import { SHADOW_MOV_SS, STOP_UNSUPPORTED, enterSystem, leaveSystem, offPlus } from './system-common.js';

const TWO32 = 4294967296;

/**
 * The selector MOV r/m, Sreg shows. Under the `leak` policy a guest kernel (CPL 0 in protected
 * mode) sees CS and SS with RPL 1, the ring a classic trap-and-emulate monitor runs it in.
 */
function selectorOf(cpu: Cpu, s: number): number {
  const sel = cpu.u32[(segOffset(s) + SEG_SELECTOR) >> 2] & 0xffff;
  if ((s === SEG_CS || s === SEG_SS) && cpu.ctx.policy === POLICY_LEAK && cpu.mode !== MODE_REAL &&
      (sel & 3) === 0 && cpu.u32[OFF_CPL >> 2] === 0) {
    return sel | 1;
  }
  return sel;
}

/** MOV Sreg, r/m16 (CS is #UD at decode). */
const movSwEw: Handler = (cpu, d) => {
  const s = d.reg & 7;
  if (s > SEG_GS || s === SEG_CS) return FAULT_UD; // Sreg 6, 7 and CS
  const sel = cpu.readRm(d, 2);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  const f = loadSegment(cpu.ctx, s, sel);
  if (f !== 0) return f;
  if (s === SEG_SS) cpu.u32[OFF_INT_SHADOW >> 2] = SHADOW_MOV_SS;
  cpu.refreshMode();
  return 0;
};

/** MOV m16, Sreg: always a 16-bit store. */
const movMwSw: Handler = (cpu, d) => {
  const s = d.reg & 7;
  if (s > SEG_GS) return FAULT_UD;
  cpu.wr16(d.seg, cpu.ea(d), selectorOf(cpu, s));
  return cpu.mmu.fault;
};

/** MOV r16/r32/r64, Sreg: the selector zero-extended to the operand size. */
const movRvSw: Handler = (cpu, d) => {
  const s = d.reg & 7;
  if (s > SEG_GS) return FAULT_UD;
  cpu.setReg(d.rm, d.opSize, selectorOf(cpu, s), 0);
  return 0;
};

function popSreg(s: number): Handler {
  return (cpu, d) => {
    const size = d.opSize;
    const sel = cpu.peek(size, 0) & 0xffff;
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const f = loadSegment(cpu.ctx, s, sel);
    if (f !== 0) return f;
    cpu.addSp(size);
    if (s === SEG_SS) cpu.u32[OFF_INT_SHADOW >> 2] = SHADOW_MOV_SS;
    return 0;
  };
}

/** LDS/LES/LFS/LGS/LSS r, m16:16/32/64: the segment first, so a failed load leaves r unchanged. */
function loadFarPointer(s: number): Handler {
  return (cpu, d) => {
    const size = d.opSize;
    const ea = cpu.ea(d);
    const off = cpu.rd(d.seg, ea, size);
    const offHi = size === 8 ? cpu.hi : 0;
    const sel = cpu.rd16(d.seg, offPlus(d.adSize, ea, size));
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const f = loadSegment(cpu.ctx, s, sel);
    if (f !== 0) return f;
    cpu.setReg(d.reg, size, off, offHi);
    return 0;
  };
}

/** Reads a far pointer m16:16/32/64 into farSel / farLo / farHi; returns a fault or 0. */
let farSel = 0;
let farLo = 0;
let farHi = 0;
function readFarPointer(cpu: Cpu, d: Decoded): number {
  const size = d.opSize;
  const ea = cpu.ea(d);
  farLo = cpu.rd(d.seg, ea, size);
  farHi = size === 8 ? cpu.hi : 0;
  farSel = cpu.rd16(d.seg, offPlus(d.adSize, ea, size));
  return cpu.mmu.fault;
}

function finish(cpu: Cpu, f: number): number {
  if (f === FAR_UNSUPPORTED) return STOP_UNSUPPORTED;
  if (f !== 0) return f;
  leaveSystem(cpu);
  return 0;
}

const jmpfAp: Handler = (cpu, d) => {
  enterSystem(cpu); // a task switch saves the next instruction's address
  return finish(cpu, jmpFar(cpu.ctx, d.imm2, d.imm, 0, d.opSize));
};
const jmpfMp: Handler = (cpu, d) => {
  const f = readFarPointer(cpu, d);
  if (f !== 0) return f;
  enterSystem(cpu);
  return finish(cpu, jmpFar(cpu.ctx, farSel, farLo, farHi, d.opSize));
};

const retLo = (cpu: Cpu): number => cpu.nextRip >>> 0;
const retHi = (cpu: Cpu): number => Math.floor(cpu.nextRip / TWO32) >>> 0;

const callfAp: Handler = (cpu, d) =>
  finish(cpu, callFar(cpu.ctx, d.imm2, d.imm, 0, d.opSize, retLo(cpu), retHi(cpu)));
const callfMp: Handler = (cpu, d) => {
  const f = readFarPointer(cpu, d);
  if (f !== 0) return f;
  return finish(cpu, callFar(cpu.ctx, farSel, farLo, farHi, d.opSize, retLo(cpu), retHi(cpu)));
};

const retf: Handler = (cpu, d) => finish(cpu, retFar(cpu.ctx, d.opSize, 0));
const retfIw: Handler = (cpu, d) => finish(cpu, retFar(cpu.ctx, d.opSize, d.imm & 0xffff));

export const registerSystemSeg: Registrar = (h) => {
  h.set('movSwEw', movSwEw);
  h.set('movMwSw', movMwSw);
  h.set('movRvSw', movRvSw);
  h.set('popES', popSreg(SEG_ES));
  h.set('popSS', popSreg(SEG_SS));
  h.set('popDS', popSreg(SEG_DS));
  h.set('popFS', popSreg(SEG_FS));
  h.set('popGS', popSreg(SEG_GS));
  h.set('lesGzMp', loadFarPointer(SEG_ES));
  h.set('ldsGzMp', loadFarPointer(SEG_DS));
  h.set('lssGvMp', loadFarPointer(SEG_SS));
  h.set('lfsGvMp', loadFarPointer(SEG_FS));
  h.set('lgsGvMp', loadFarPointer(SEG_GS));
  h.set('jmpfAp', jmpfAp);
  h.set('jmpfMp', jmpfMp);
  h.set('callfAp', callfAp);
  h.set('callfMp', callfMp);
  h.set('retf', retf);
  h.set('retfIw', retfIw);
};
