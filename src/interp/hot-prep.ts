/**
 * Hot kinds: when an instruction enters the decode cache (decode-cache.ts's PageCache), `hotKind`
 * decides whether the hot loop (hot.ts) can run it without its handler, and packs its operands
 * into three int32 words, so the loop reads typed arrays instead of the Decoded object. The set
 * is the ~40 forms that make up nearly all of compiled integer code (bench64/bench32
 * histograms): 32/64-bit ALU operations on registers, immediates and memory, MOV and its
 * immediate/byte/zero-extending forms, LEA, Jcc/JMP/CALL/RET, PUSH/POP, IMUL, shifts by an
 * immediate, INC/DEC, SETcc/CMOVcc. Anything else (16-bit operands, FS/GS, 16-bit addressing,
 * LOCK, REP...) keeps kind 0 and goes through its handler.
 *
 * Rows are recognised by their handler names; the caller only asks when the registered handlers
 * are the standard ones (GP_REGISTRARS), whose semantics hot.ts repeats exactly.
 *
 * Word A: bits 0-3 first register (destination / ModRM.reg), 4-7 second (source / ModRM.rm),
 * 8-11 operation, condition or shift, 12-16 base (0-15, 16 none, 17 RIP), 17-21 index (16 none),
 * 22-23 scale, 24-27 instruction length, 28 "immediate source", 29 "64-bit mode addressing",
 * 30 "memory operand" (HA_MEM), 31 "writes it" (HA_WR).
 * IMM: the immediate (or a byte register's offset in the CPU block, or a shift count).
 * DISP: the displacement (or the high half of a 64-bit immediate). Memory operands go through
 * DS/ES/SS/CS in 64-bit mode (bases 0) and through DS or SS in 32-bit code (flat there).
 */
import { BASE_RIP, type Decoded } from '../cpu/decoded.js';
import { tableRows } from '../cpu/table.js';
import { SEG_DS, SEG_FS, SEG_SS } from '../cpu/state.js';
import { OP_ADC, OP_CMP, OP_SBB } from './alu.js';

export const H_ALU_RR32 = 1;
export const H_ALU_RR64 = 2;
export const H_ALU_RI32 = 3;
export const H_ALU_RI64 = 4;
export const H_MOV_RR32 = 5;
export const H_MOV_RR64 = 6;
export const H_MOV_RI32 = 7;
export const H_MOV_RI64 = 8;
export const H_LD32 = 9;
export const H_LD64 = 10;
export const H_ST32 = 11;
export const H_ST64 = 12;
export const H_STI32 = 13;
export const H_STI64 = 14;
export const H_STI8 = 15;
export const H_ST8 = 16;
export const H_LDZX8 = 17;
export const H_ZX8 = 18;
export const H_LEA32 = 19;
export const H_LEA64 = 20;
export const H_ALU_RM32 = 21;
export const H_ALU_RM64 = 22;
export const H_ALU_MR32 = 23;
export const H_ALU_MR64 = 24;
export const H_ALU_MI32 = 25;
export const H_ALU_MI64 = 26;
export const H_ALU_M8R = 27;
export const H_ALU_M8I = 28;
export const H_JCC = 29;
export const H_JMP = 30;
export const H_IMUL_RR32 = 31;
export const H_IMUL_RM32 = 32;
export const H_SHIFT32 = 33;
export const H_SHIFT64 = 34;
export const H_INCDEC32 = 35;
export const H_INCDEC64 = 36;
export const H_PUSH = 37;
export const H_POP = 38;
export const H_CALL = 39;
export const H_RET = 40;
export const H_MOVSXD = 41;
export const H_LD8 = 42;
export const H_SETCC = 43;
export const H_CMOV32 = 44;
export const H_LDSXD = 45;

/** Operation field: OP_ADD..OP_CMP of alu.ts, or TEST. */
export const HOP_TEST = 8;
/** Shift field: SHL, SHR, SAR. */
export const HSH_SHL = 0;
export const HSH_SHR = 1;
export const HSH_SAR = 2;
export const HA_IMM = 1 << 28;
export const HA_LONG = 1 << 29;
/** The kind has a memory operand the hot loop probes through the TLB (not LEA); HA_WR: it writes it. */
export const HA_MEM = 1 << 30;
export const HA_WR = 1 << 31;
export const HB_NONE = 16;
export const HB_RIP = 17;

/** The immediate and displacement words of the last `hotKind` (word A is its return value >> 8). */
export const hotOut = new Int32Array(3);

// row -> class of handler names
const C_ALU = 1; // op Ev,Gv / Gv,Ev / Ev,Iz / Ev,Ibs / rAX,Iz
const C_TEST = 2;
const C_MOV = 3;
const C_MOVI = 4; // movEvIz, movZvIv
const C_MOVB = 5; // movEbIb, movEbGb, movGbEb
const C_ALUB = 6; // op Eb,Gb / Eb,Ib (memory only)
const C_MOVZX8 = 7;
const C_LEA = 8;
const C_JCC = 9;
const C_JMP = 10;
const C_IMUL = 11;
const C_SHIFT = 12;
const C_INCDEC = 13;
const C_PUSH = 14;
const C_POP = 15;
const C_CALL = 16;
const C_RET = 17;
const C_MOVSXD = 18;
const C_SETCC = 19;
const C_CMOV = 20;

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];

/** Per row: class << 8 | form/op detail. */
export function hotRows(): Int32Array {
  return Int32Array.from(tableRows, (row) => {
    const n = row.name;
    let m = /^(add|or|adc|sbb|and|sub|xor|cmp)(EvGv|GvEv|EvIz|EvIbs|EvIb|rAXIz|EbGb|EbIb)$/.exec(n);
    if (m !== null) {
      const op = ALU.indexOf(m[1]);
      if (op === OP_ADC || op === OP_SBB) return 0;
      const form = ['EvGv', 'GvEv', 'EvIz', 'EvIbs', 'EvIb', 'rAXIz', 'EbGb', 'EbIb'].indexOf(m[2]);
      if (form >= 6) return (C_ALUB << 8) | (op << 4) | (form - 6);
      return (C_ALU << 8) | (op << 4) | form;
    }
    m = /^test(EvGv|EvIz|rAXIz)$/.exec(n);
    if (m !== null) return (C_TEST << 8) | (HOP_TEST << 4) | ['EvGv', 'EvIz', 'rAXIz'].indexOf(m[1]);
    switch (n) {
      case 'movEvGv': return (C_MOV << 8) | 0;
      case 'movGvEv': return (C_MOV << 8) | 1;
      case 'movEvIz': return (C_MOVI << 8) | 0;
      case 'movZvIv': return (C_MOVI << 8) | 1;
      case 'movEbIb': return (C_MOVB << 8) | 0;
      case 'movEbGb': return (C_MOVB << 8) | 1;
      case 'movGbEb': return (C_MOVB << 8) | 2;
      case 'movzxGvEb': return C_MOVZX8 << 8;
      case 'leaGvM': return C_LEA << 8;
      case 'jccJb': case 'jccJz': return C_JCC << 8;
      case 'jmpJb': case 'jmpJz': return C_JMP << 8;
      case 'imulGvEv': return C_IMUL << 8;
      case 'imulGvEvIz': case 'imulGvEvIbs': case 'imulGvEvIb': return (C_IMUL << 8) | 1;
      case 'shlEvIb': case 'salEvIb': return (C_SHIFT << 8) | HSH_SHL;
      case 'shrEvIb': return (C_SHIFT << 8) | HSH_SHR;
      case 'sarEvIb': return (C_SHIFT << 8) | HSH_SAR;
      case 'incEv': return (C_INCDEC << 8) | 0;
      case 'decEv': return (C_INCDEC << 8) | 1;
      case 'pushZv': return C_PUSH << 8;
      case 'popZv': return C_POP << 8;
      case 'callJz': return C_CALL << 8;
      case 'ret': return C_RET << 8;
      case 'movsxdGvEd': return C_MOVSXD << 8;
      case 'setccEb': return C_SETCC << 8;
      case 'cmovccGvEv': return C_CMOV << 8;
      default: return 0;
    }
  });
}

/** Offset in the CPU block of byte register n (AH..BH without REX). */
const byteReg = (d: Decoded, n: number): number => (d.rex === 0 && n >= 4 && n < 8 ? ((n - 4) << 3) + 1 : n << 3);

/**
 * The hot kind of decoded instruction d (row class `spec` from hotRows) in code of `bits`, or 0;
 * returns kind | wordA << 8 is not possible in 32 bits, so: the kind, with word A in hotOut[0],
 * the immediate in hotOut[1] and the displacement in hotOut[2].
 */
export function hotKind(spec: number, d: Decoded, bits: number): number {
  if (spec === 0 || d.lock !== 0 || (bits !== 64 && bits !== 32)) return 0;
  const long = bits === 64;
  const cls = spec >> 8;
  const os = d.opSize;
  const wide = os === 8;
  hotOut[1] = d.imm;
  hotOut[2] = d.disp;
  let a = (d.length << 24) | (long ? HA_LONG : 0);
  if (d.isMem !== 0) {
    // 64-bit addressing in 64-bit mode, 32-bit in 32-bit code; DS/ES/SS/CS only (flat bases)
    if (d.adSize !== (long ? 8 : 4) || d.seg >= SEG_FS || d.hasModrm === 0) return 0;
    // 32-bit code: DS and SS only (the hot loop checks that those two are flat)
    if (!long && d.seg !== SEG_DS && d.seg !== SEG_SS) return 0;
    const base = d.base < 0 ? HB_NONE : d.base === BASE_RIP ? HB_RIP : d.base;
    const index = d.index < 0 ? HB_NONE : d.index;
    a |= (base << 12) | (index << 17) | (d.scale << 22);
    if (!long && d.dispHi !== d.disp >> 31) return 0;
  }
  const mem = d.isMem !== 0;
  const reg = d.reg;
  const rm = d.rm;
  const set = (kind: number, word: number): number => {
    if (mem && kind !== H_LEA32 && kind !== H_LEA64) {
      const wr = kind === H_ST32 || kind === H_ST64 || kind === H_STI32 || kind === H_STI64 || kind === H_ST8 ||
        kind === H_STI8 || ((kind === H_ALU_MR32 || kind === H_ALU_MR64 || kind === H_ALU_MI32 ||
        kind === H_ALU_MI64 || kind === H_ALU_M8R || kind === H_ALU_M8I) && ((word >> 8) & 15) < OP_CMP);
      word |= HA_MEM | (wr ? HA_WR : 0);
    }
    hotOut[0] = word;
    return kind;
  };
  switch (cls) {
    case C_ALU:
    case C_TEST: {
      if (os !== 4 && os !== 8) return 0;
      const op = (spec >> 4) & 15;
      const form = spec & 15;
      // C_ALU forms: 0 EvGv 1 GvEv 2 EvIz 3 EvIbs 4 EvIb 5 rAXIz; C_TEST: 0 EvGv 1 EvIz 2 rAXIz
      const imm = cls === C_ALU ? form >= 2 : form >= 1;
      const acc = cls === C_ALU ? form === 5 : form === 2;
      a |= op << 8;
      if (acc) return set(wide ? H_ALU_RI64 : H_ALU_RI32, a | HA_IMM);
      if (cls === C_ALU && form === 1) {
        if (!mem) return set(wide ? H_ALU_RR64 : H_ALU_RR32, a | reg | (rm << 4));
        return set(wide ? H_ALU_RM64 : H_ALU_RM32, a | reg);
      }
      if (!mem) return set(imm ? (wide ? H_ALU_RI64 : H_ALU_RI32) : wide ? H_ALU_RR64 : H_ALU_RR32, a | rm | (reg << 4) | (imm ? HA_IMM : 0));
      return set(imm ? (wide ? H_ALU_MI64 : H_ALU_MI32) : wide ? H_ALU_MR64 : H_ALU_MR32, a | (reg << 4) | (imm ? HA_IMM : 0));
    }
    case C_ALUB: {
      if (!mem) return 0;
      a |= ((spec >> 4) & 15) << 8;
      if ((spec & 15) === 0) {
        hotOut[1] = byteReg(d, reg);
        return set(H_ALU_M8R, a);
      }
      hotOut[1] = d.imm & 0xff;
      return set(H_ALU_M8I, a | HA_IMM);
    }
    case C_MOV: {
      if (os !== 4 && os !== 8) return 0;
      const load = (spec & 15) === 1;
      if (!mem) return set(wide ? H_MOV_RR64 : H_MOV_RR32, a | (load ? reg | (rm << 4) : rm | (reg << 4)));
      if (load) return set(wide ? H_LD64 : H_LD32, a | reg);
      return set(wide ? H_ST64 : H_ST32, a | reg);
    }
    case C_MOVI: {
      if (os !== 4 && os !== 8) return 0;
      if ((spec & 15) === 1) {
        // B8+r: imm32 or imm64 (immHi)
        hotOut[2] = wide ? d.immHi : 0;
        return set(wide ? H_MOV_RI64 : H_MOV_RI32, a | rm);
      }
      if (!mem) {
        hotOut[2] = wide ? d.imm >> 31 : 0;
        return set(wide ? H_MOV_RI64 : H_MOV_RI32, a | rm);
      }
      return set(wide ? H_STI64 : H_STI32, a);
    }
    case C_MOVB: {
      if (!mem) return 0;
      switch (spec & 15) {
        case 0:
          hotOut[1] = d.imm & 0xff;
          return set(H_STI8, a);
        case 1:
          hotOut[1] = byteReg(d, reg);
          return set(H_ST8, a);
        default:
          hotOut[1] = byteReg(d, reg);
          return set(H_LD8, a);
      }
    }
    case C_MOVZX8:
      if (os !== 4 && os !== 8) return 0;
      if (mem) return set(H_LDZX8, a | reg);
      hotOut[1] = byteReg(d, rm);
      return set(H_ZX8, a | reg);
    case C_LEA:
      if (!mem || (os !== 4 && os !== 8)) return 0;
      return set(wide ? H_LEA64 : H_LEA32, a | reg);
    case C_JCC:
      if (os !== (long ? 8 : 4)) return 0;
      return set(H_JCC, a | (d.cond << 8));
    case C_JMP:
      if (os !== (long ? 8 : 4)) return 0;
      return set(H_JMP, a);
    case C_CALL:
      if (os !== (long ? 8 : 4)) return 0;
      return set(H_CALL, a);
    case C_RET:
      if (os !== (long ? 8 : 4)) return 0;
      return set(H_RET, a);
    case C_PUSH:
      if (os !== (long ? 8 : 4)) return 0;
      return set(H_PUSH, a | rm);
    case C_POP:
      if (os !== (long ? 8 : 4)) return 0;
      return set(H_POP, a | rm);
    case C_IMUL:
      if (os !== 4) return 0;
      if ((spec & 15) === 1) a |= HA_IMM;
      if (mem) return set(H_IMUL_RM32, a | reg);
      return set(H_IMUL_RR32, a | reg | (rm << 4));
    case C_SHIFT: {
      if (mem || (os !== 4 && os !== 8)) return 0;
      const count = d.imm & (wide ? 63 : 31);
      if (count === 0) return 0;
      hotOut[1] = count;
      return set(wide ? H_SHIFT64 : H_SHIFT32, a | rm | ((spec & 15) << 8));
    }
    case C_INCDEC:
      if (mem || (os !== 4 && os !== 8)) return 0;
      return set(wide ? H_INCDEC64 : H_INCDEC32, a | rm | ((spec & 15) << 8));
    case C_MOVSXD:
      if (os !== 8) return 0;
      if (mem) return set(H_LDSXD, a | reg);
      return set(H_MOVSXD, a | reg | (rm << 4));
    case C_SETCC:
      if (mem) return 0;
      hotOut[1] = byteReg(d, rm);
      return set(H_SETCC, a | (d.cond << 8));
    case C_CMOV:
      if (mem || os !== 4) return 0;
      return set(H_CMOV32, a | reg | (rm << 4) | (d.cond << 8));
    default:
      return 0;
  }
}
