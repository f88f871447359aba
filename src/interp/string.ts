/**
 * String instructions MOVS, CMPS, SCAS, LODS, STOS (byte and v-sized) with REP/REPE/REPNE, in all
 * three address sizes. The source is seg:[rSI] (DS unless overridden), the destination ES:[rDI].
 *
 * Counting (docs/interpreter.md): every iteration of a REP instruction is one instruction retired,
 * as the SDM's REP loop, its single-step rule and QEMU's -icount treat it; a REP whose count is
 * already zero retires once. One execution runs at most SLICE iterations and never past the
 * running engine's stop (OFF_REP_STOP: `--max-insns`, the next timer deadline), one only under TF;
 * if the count is not exhausted it leaves rIP on itself (nextRip = rip), so interrupts are taken
 * between slices. The engine counts the execution as one and adds the iterations beyond the first,
 * which the handler leaves at OFF_REP_EXTRA (after a fault: the iterations completed before it,
 * the fault itself counting one). The live instruction count advances with each iteration, so a
 * device read in the middle sees the exact virtual time. Registers are exact after every
 * iteration, so a fault or a stop in the middle restarts correctly with the remaining count.
 *
 * REP in progress: a cut REP records itself (repCut: the Decoded it runs as, where and at which
 * count it stopped) and the interpreter's next fetch resumes that Decoded instead of decoding
 * memory again when rIP, CS, mode, CPL and the count still match (repTake). Hardware fetches a
 * REP's bytes again only after delivering an event between iterations; our cuts are not events,
 * and the engines cut at different iterations, so a REP that stores over its own bytes must not
 * see them before it ends (docs/robustness.md, seed 6023691). Every event delivery counts one
 * instruction and every other instruction counts too, so the count test alone drops a stale record.
 */
import {
  FLAG_DF, FLAG_TF, FLAG_ZF, OFF_CPL, OFF_INSN_COUNT, OFF_MODE, OFF_REP_EXTRA, OFF_REP_STOP, SEG_BASE, SEG_CS, SEG_ES,
  SEG_SELECTOR, segOffset,
} from '../cpu/state.js';
import { IX_FLAGS, getFlags } from '../cpu/flags.js';
import { OP_CMP, aluCompute, aluFlags } from './alu.js';
import type { Cpu, Decoded, Handler } from './cpu.js';

const TWO32 = 4294967296;
const SLICE = 4096;
const IX_COUNT = OFF_INSN_COUNT >> 2;
const IX_REP_STOP = OFF_REP_STOP >> 2;
const IX_REP_EXTRA = OFF_REP_EXTRA >> 2;
const IX_MODE = OFF_MODE >> 2;
const IX_CPL = OFF_CPL >> 2;
const IX_CS_SEL = (segOffset(SEG_CS) + SEG_SELECTOR) >> 2;
const IX_CS_BASE = (segOffset(SEG_CS) + SEG_BASE) >> 2;

/**
 * Iterations a REP string instruction may run in this execution: up to `max`, no further than the
 * engine's stop (the live count at OFF_INSN_COUNT is the instructions retired before this one),
 * one under TF (the single-step trap follows each iteration), and always at least one.
 */
export function repBudget(cpu: Cpu, max: number): number {
  const u32 = cpu.u32;
  if ((u32[IX_FLAGS] & FLAG_TF) !== 0) return 1;
  const left = (u32[IX_REP_STOP + 1] - u32[IX_COUNT + 1]) * TWO32 + (u32[IX_REP_STOP] - u32[IX_COUNT]);
  return left <= 1 ? 1 : left < max ? left : max;
}

/** Moves the live instruction count to `base` + n (n iterations of this execution retired). */
export function repLiveCount(cpu: Cpu, base: number, n: number): void {
  const v = base + n;
  cpu.u32[IX_COUNT] = v >>> 0;
  cpu.u32[IX_COUNT + 1] = (v / TWO32) >>> 0;
}

/** The live instruction count when a REP execution starts (REP INS/OUTS). */
export function repBase(cpu: Cpu): number {
  return cpu.u32[IX_COUNT + 1] * TWO32 + cpu.u32[IX_COUNT];
}

/**
 * Reports the iterations a REP execution retired to the engine, which counts the execution as
 * one: `done` completed iterations, `faulted` when the next one raised a fault (that counts one).
 */
export function repRetired(cpu: Cpu, done: number, faulted: boolean): void {
  cpu.u32[IX_REP_EXTRA] = faulted ? done : done > 1 ? done - 1 : 0;
}

/**
 * A REP execution stops before its count ran out (`after`: the instruction count once its
 * iterations are retired): it runs again (nextRip = rip), and the next fetch here resumes `d`.
 */
export function repCut(cpu: Cpu, d: Decoded, after: number): void {
  const u32 = cpu.u32;
  cpu.nextRip = cpu.rip;
  cpu.repD = d;
  cpu.repRip = cpu.rip;
  cpu.repCount = after;
  cpu.repMode = u32[IX_MODE];
  cpu.repCpl = u32[IX_CPL];
  cpu.repCs = u32[IX_CS_SEL];
  cpu.repCsBase = u32[IX_CS_BASE];
}

/** Whether the recorded cut REP is the instruction at `rip` now, `count` instructions retired. */
export function repMatches(cpu: Cpu, rip: number, count: number): boolean {
  const u32 = cpu.u32;
  return cpu.repD !== null && cpu.repRip === rip && cpu.repCount === count && cpu.repMode === u32[IX_MODE] &&
    cpu.repCpl === u32[IX_CPL] && cpu.repCs === u32[IX_CS_SEL] && cpu.repCsBase === u32[IX_CS_BASE];
}

/**
 * Whether the next instruction, at OFF_RIP with `count` instructions retired (the engine's own
 * count: OFF_INSN_COUNT may lag it), is a cut REP that the interpreter's `run` resumes as decoded:
 * an engine about to decode the bytes there itself (the translator) hands it to `run` instead.
 */
export function repPending(cpu: Cpu, count: number): boolean {
  if (cpu.repD === null) return false;
  cpu.refreshMode();
  return repMatches(cpu, cpu.loadRip(), count);
}

/**
 * The fetch at `rip` with `count` retired takes the record: the cut REP's Decoded when it is the
 * instruction there, else null (the record is dropped either way: it is good for one fetch only).
 */
export function repTake(cpu: Cpu, rip: number, count: number): Decoded | null {
  const d = repMatches(cpu, rip, count) ? cpu.repD : null;
  cpu.repD = null;
  return d;
}

const S_MOVS = 0;
const S_CMPS = 1;
const S_SCAS = 2;
const S_LODS = 3;
const S_STOS = 4;

function getIdx(cpu: Cpu, r: number, as: number): number {
  const m = cpu.m;
  if (as === 8) return m[(r << 1) + 1] * TWO32 + (m[r << 1] >>> 0);
  return as === 4 ? m[r << 1] >>> 0 : cpu.u16[r << 2];
}

function setIdx(cpu: Cpu, r: number, as: number, v: number): void {
  const m = cpu.m;
  if (as === 8) {
    m[r << 1] = v | 0;
    m[(r << 1) + 1] = Math.floor(v / TWO32) | 0;
  } else if (as === 4) {
    m[r << 1] = v | 0;
    m[(r << 1) + 1] = 0;
  } else cpu.u16[r << 2] = v;
}

/** Index advanced by delta, wrapped to the address size. */
function adv(v: number, delta: number, as: number): number {
  const n = v + delta;
  return as === 8 ? n : as === 4 ? n >>> 0 : n & 0xffff;
}

function makeString(kind: number, byte: boolean): Handler {
  const iter = ITERS[kind];
  return (cpu: Cpu, d: Decoded): number => {
    const size = byte ? 1 : d.opSize;
    const as = d.adSize;
    const m = cpu.m;
    const step = (m[IX_FLAGS] & FLAG_DF) !== 0 ? -size : size;
    const rep = d.rep;
    const seg = d.seg;
    if (rep === 0) return iter(cpu, size, as, step, seg);
    // the count in halves: a 64-bit RCX need not fit a double exactly
    let cLo = as === 2 ? cpu.u16[4] : m[2];
    let cHi = as === 8 ? m[3] : 0;
    const limit = repBudget(cpu, SLICE);
    const u32 = cpu.u32;
    const baseLo = u32[IX_COUNT];
    const noCarry = baseLo + limit < TWO32; // the live count's low word alone can advance
    let n = 0; // iterations completed in this execution
    for (;;) {
      if ((cLo | cHi) === 0) break;
      if (n !== 0) {
        if (noCarry) u32[IX_COUNT] = baseLo + n;
        else repLiveCount(cpu, u32[IX_COUNT + 1] * TWO32 + baseLo, n);
      }
      const f = iter(cpu, size, as, step, seg);
      if (f !== 0) {
        repRetired(cpu, n, true);
        return f;
      }
      n++;
      if (as === 2) {
        cLo = (cLo - 1) & 0xffff;
        cpu.u16[4] = cLo;
      } else {
        if (as === 8 && cLo === 0) cHi = (cHi - 1) | 0;
        cLo = (cLo - 1) | 0;
        m[2] = cLo;
        m[3] = cHi;
      }
      if ((cLo | cHi) === 0) break;
      if (kind === S_CMPS || kind === S_SCAS) {
        const zf = (getFlags(m) & FLAG_ZF) !== 0;
        if (rep === 1 ? !zf : zf) break; // REPE stops on a difference, REPNE on a match
      }
      if (n === limit) {
        // more to do: run this instruction again (the live count is base + n - 1 here)
        repCut(cpu, d, repBase(cpu) + 1);
        break;
      }
    }
    repRetired(cpu, n, false);
    return 0;
  };
}

/** One iteration (or the unprefixed instruction): 0 or a fault, the index registers advanced. */
type Iter = (cpu: Cpu, size: number, as: number, step: number, seg: number) => number;

const movs: Iter = (cpu, size, as, step, seg) => {
  const si = getIdx(cpu, 6, as);
  const di = getIdx(cpu, 7, as);
  const v = cpu.rd(seg, si, size);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  cpu.wr(SEG_ES, di, size, v, cpu.hi);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  setIdx(cpu, 6, as, adv(si, step, as));
  setIdx(cpu, 7, as, adv(di, step, as));
  return 0;
};

const stos: Iter = (cpu, size, as, step) => {
  const di = getIdx(cpu, 7, as);
  cpu.wr(SEG_ES, di, size, size === 1 ? cpu.u8[0] : cpu.m[0], cpu.m[1]);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  setIdx(cpu, 7, as, adv(di, step, as));
  return 0;
};

const lods: Iter = (cpu, size, as, step, seg) => {
  const si = getIdx(cpu, 6, as);
  const v = cpu.rd(seg, si, size);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  if (size === 1) cpu.u8[0] = v;
  else cpu.setReg(0, size, v, cpu.hi);
  setIdx(cpu, 6, as, adv(si, step, as));
  return 0;
};

const cmps: Iter = (cpu, size, as, step, seg) => {
  const si = getIdx(cpu, 6, as);
  const di = getIdx(cpu, 7, as);
  // The host oracle (AMD) reads ES:[rDI] first, so a fault on both operands reports that one.
  const b = cpu.rd(SEG_ES, di, size);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  const bHi = cpu.hi;
  const a = cpu.rd(seg, si, size);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  const aHi = cpu.hi;
  const r = aluCompute(cpu, OP_CMP, size, a, aHi, b, bHi, 0);
  aluFlags(cpu.m, OP_CMP, size, a, aHi, b, bHi, r, cpu.hi, 0);
  setIdx(cpu, 6, as, adv(si, step, as));
  setIdx(cpu, 7, as, adv(di, step, as));
  return 0;
};

/** SCAS: compare the accumulator with ES:[rDI]. */
const scas: Iter = (cpu, size, as, step) => {
  const m = cpu.m;
  const di = getIdx(cpu, 7, as);
  const b = cpu.rd(SEG_ES, di, size);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  const bHi = cpu.hi;
  const a = size === 1 ? cpu.u8[0] : cpu.reg(0, size);
  const r = aluCompute(cpu, OP_CMP, size, a, m[1], b, bHi, 0);
  aluFlags(m, OP_CMP, size, a, m[1], b, bHi, r, cpu.hi, 0);
  setIdx(cpu, 7, as, adv(di, step, as));
  return 0;
};

/** By S_* kind. */
const ITERS: Iter[] = [movs, cmps, scas, lods, stos];

export function registerString(h: Map<string, Handler>): void {
  h.set('movsb', makeString(S_MOVS, true));
  h.set('movsv', makeString(S_MOVS, false));
  h.set('cmpsb', makeString(S_CMPS, true));
  h.set('cmpsv', makeString(S_CMPS, false));
  h.set('scasb', makeString(S_SCAS, true));
  h.set('scasv', makeString(S_SCAS, false));
  h.set('lodsb', makeString(S_LODS, true));
  h.set('lodsv', makeString(S_LODS, false));
  h.set('stosb', makeString(S_STOS, true));
  h.set('stosv', makeString(S_STOS, false));
}
