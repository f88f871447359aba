/**
 * String instructions MOVS, CMPS, SCAS, LODS, STOS (byte and v-sized) with REP/REPE/REPNE, in all
 * three address sizes. The source is seg:[rSI] (DS unless overridden), the destination ES:[rDI].
 *
 * A REP instruction runs at most SLICE iterations per execution; if the count is not exhausted it
 * leaves rIP on itself (nextRip = rip), so the run loop counts one instruction per slice and can take
 * interrupts between slices. Registers are exact after every iteration, so a fault in the middle
 * restarts correctly with the remaining count.
 */
import { FLAG_DF, FLAG_ZF, SEG_ES } from '../cpu/state.js';
import { IX_FLAGS, getFlags } from '../cpu/flags.js';
import { OP_CMP, aluCompute, aluFlags } from './alu.js';
import type { Cpu, Decoded, Handler } from './cpu.js';

const TWO32 = 4294967296;
const SLICE = 4096;

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
  return (cpu: Cpu, d: Decoded): number => {
    const size = byte ? 1 : d.opSize;
    const as = d.adSize;
    const m = cpu.m;
    const step = (m[IX_FLAGS] & FLAG_DF) !== 0 ? -size : size;
    const rep = d.rep;
    const seg = d.seg;
    // the count in halves: a 64-bit RCX need not fit a double exactly
    let cLo = as === 2 ? cpu.u16[4] : m[2];
    let cHi = as === 8 ? m[3] : 0;
    for (let i = 0; i < SLICE; i++) {
      if (rep !== 0 && (cLo | cHi) === 0) return 0;
      let si = getIdx(cpu, 6, as);
      let di = getIdx(cpu, 7, as);
      switch (kind) {
        case S_MOVS: {
          const v = cpu.rd(seg, si, size);
          if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
          cpu.wr(SEG_ES, di, size, v, cpu.hi);
          if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
          si = adv(si, step, as);
          di = adv(di, step, as);
          setIdx(cpu, 6, as, si);
          setIdx(cpu, 7, as, di);
          break;
        }
        case S_STOS:
          cpu.wr(SEG_ES, di, size, size === 1 ? cpu.u8[0] : m[0], m[1]);
          if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
          setIdx(cpu, 7, as, adv(di, step, as));
          break;
        case S_LODS: {
          const v = cpu.rd(seg, si, size);
          if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
          if (size === 1) cpu.u8[0] = v;
          else cpu.setReg(0, size, v, cpu.hi);
          setIdx(cpu, 6, as, adv(si, step, as));
          break;
        }
        case S_CMPS: {
          // The host oracle (AMD) reads ES:[rDI] first, so a fault on both operands reports that one.
          const b = cpu.rd(SEG_ES, di, size);
          if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
          const bHi = cpu.hi;
          const a = cpu.rd(seg, si, size);
          if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
          const aHi = cpu.hi;
          const r = aluCompute(cpu, OP_CMP, size, a, aHi, b, bHi, 0);
          aluFlags(m, OP_CMP, size, a, aHi, b, bHi, r, cpu.hi, 0);
          setIdx(cpu, 6, as, adv(si, step, as));
          setIdx(cpu, 7, as, adv(di, step, as));
          break;
        }
        default: {
          // SCAS: compare the accumulator with ES:[rDI]
          const b = cpu.rd(SEG_ES, di, size);
          if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
          const bHi = cpu.hi;
          const a = size === 1 ? cpu.u8[0] : cpu.reg(0, size);
          const r = aluCompute(cpu, OP_CMP, size, a, m[1], b, bHi, 0);
          aluFlags(m, OP_CMP, size, a, m[1], b, bHi, r, cpu.hi, 0);
          setIdx(cpu, 7, as, adv(di, step, as));
          break;
        }
      }
      if (rep === 0) return 0;
      if (as === 2) {
        cLo = (cLo - 1) & 0xffff;
        cpu.u16[4] = cLo;
      } else {
        if (as === 8 && cLo === 0) cHi = (cHi - 1) | 0;
        cLo = (cLo - 1) | 0;
        m[2] = cLo;
        m[3] = cHi;
      }
      if ((cLo | cHi) === 0) return 0;
      if (kind === S_CMPS || kind === S_SCAS) {
        const zf = (getFlags(m) & FLAG_ZF) !== 0;
        if (rep === 1 ? !zf : zf) return 0; // REPE stops on a difference, REPNE on a match
      }
    }
    cpu.nextRip = cpu.rip; // more to do: run this instruction again
    return 0;
  };
}

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
