/**
 * Lazy flags: the last flag-setting operation is remembered (a tag, its operands and result) in the
 * CPU block at OFF_LF_*, and the six arithmetic flags are computed only when something reads them.
 * Both engines use the same fields (ARCHITECTURE.md §3), so the authoritative copy is always in the
 * shared memory: while OFF_LF_OP is nonzero the arithmetic bits of RFLAGS are stale and the others
 * (DF, IF, TF, ...) are current.
 *
 * Tag = (op << 2) | size, size 0..3 for 8/16/32/64 bits. Operands are stored masked to the size;
 * 64-bit operations store both halves. Only the common operations are lazy (ADD, ADC, SUB, SBB,
 * the logic ops, INC, DEC); everything else writes RFLAGS directly with `setArith`.
 */
import {
  FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF, FLAGS_ARITH, OFF_LF_AUX, OFF_LF_DST, OFF_LF_OP,
  OFF_LF_RES, OFF_LF_SRC, OFF_RFLAGS,
} from './state.js';

export const LF_ADD = 1;
export const LF_ADC = 2; // AUX = carry in
export const LF_SUB = 3; // also CMP and NEG (DST = 0)
export const LF_SBB = 4; // AUX = borrow in
export const LF_LOGIC = 5; // AND OR XOR TEST: CF = OF = AF = 0
export const LF_INC = 6; // SRC = 1, AUX = the preserved CF
export const LF_DEC = 7; // SRC = 1, AUX = the preserved CF

export const SZ8 = 0;
export const SZ16 = 1;
export const SZ32 = 2;
export const SZ64 = 3;

/** Int32Array indices of the fields (offset / 4). */
export const IX_FLAGS = OFF_RFLAGS >> 2;
export const IX_LF_OP = OFF_LF_OP >> 2;
export const IX_LF_RES = OFF_LF_RES >> 2;
export const IX_LF_RES_HI = IX_LF_RES + 1;
export const IX_LF_SRC = OFF_LF_SRC >> 2;
export const IX_LF_SRC_HI = IX_LF_SRC + 1;
export const IX_LF_DST = OFF_LF_DST >> 2;
export const IX_LF_DST_HI = IX_LF_DST + 1;
export const IX_LF_AUX = OFF_LF_AUX >> 2;

/** PF for every byte value (1 = even number of set bits). */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i;
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  PARITY[i] = (b & 1) === 0 ? FLAG_PF : 0;
}

/** Sign bit of the low word for each size (64-bit looks at the high word). */
const SIGN = [0x80, 0x8000, 0x80000000 | 0, 0x80000000 | 0];
const MASK = [0xff, 0xffff, -1, -1];

/** a < b unsigned, for values of the tag's size (64-bit compares the high halves first). */
function below(aLo: number, aHi: number, bLo: number, bHi: number, sz: number): boolean {
  if (sz === SZ64 && aHi !== bHi) return aHi >>> 0 < bHi >>> 0;
  return aLo >>> 0 < bLo >>> 0;
}

/** CF of the pending operation (or of RFLAGS when nothing is pending), as 0 or 1. */
export function lazyCF(m: Int32Array): number {
  const tag = m[IX_LF_OP];
  if (tag === 0) return m[IX_FLAGS] & FLAG_CF;
  const sz = tag & 3;
  switch (tag >> 2) {
    case LF_ADD:
      return below(m[IX_LF_RES], m[IX_LF_RES_HI], m[IX_LF_DST], m[IX_LF_DST_HI], sz) ? 1 : 0;
    case LF_ADC:
      if ((m[IX_LF_AUX] & 1) === 0) return below(m[IX_LF_RES], m[IX_LF_RES_HI], m[IX_LF_DST], m[IX_LF_DST_HI], sz) ? 1 : 0;
      return below(m[IX_LF_DST], m[IX_LF_DST_HI], m[IX_LF_RES], m[IX_LF_RES_HI], sz) ? 0 : 1; // res <= dst
    case LF_SUB:
      return below(m[IX_LF_DST], m[IX_LF_DST_HI], m[IX_LF_SRC], m[IX_LF_SRC_HI], sz) ? 1 : 0;
    case LF_SBB:
      if ((m[IX_LF_AUX] & 1) === 0) return below(m[IX_LF_DST], m[IX_LF_DST_HI], m[IX_LF_SRC], m[IX_LF_SRC_HI], sz) ? 1 : 0;
      return below(m[IX_LF_SRC], m[IX_LF_SRC_HI], m[IX_LF_DST], m[IX_LF_DST_HI], sz) ? 0 : 1; // dst <= src
    case LF_INC:
    case LF_DEC:
      return m[IX_LF_AUX] & 1;
    default:
      return 0;
  }
}

/** The six arithmetic flags of the pending operation (tag != 0). */
function lazyArith(m: Int32Array, tag: number): number {
  const sz = tag & 3;
  const op = tag >> 2;
  const res = m[IX_LF_RES];
  const top = sz === SZ64 ? m[IX_LF_RES_HI] : res;
  const sign = SIGN[sz];
  let f = PARITY[res & 0xff];
  if (sz === SZ64 ? (res | m[IX_LF_RES_HI]) === 0 : (res & MASK[sz]) === 0) f |= FLAG_ZF;
  if ((top & sign) !== 0) f |= FLAG_SF;
  if (op === LF_LOGIC) return f;
  f |= lazyCF(m);
  const dst = m[IX_LF_DST];
  const src = m[IX_LF_SRC];
  f |= (dst ^ src ^ res) & FLAG_AF;
  const dtop = sz === SZ64 ? m[IX_LF_DST_HI] : dst;
  const stop = sz === SZ64 ? m[IX_LF_SRC_HI] : src;
  let of: number;
  if (op === LF_ADD || op === LF_ADC || op === LF_INC) of = (dtop ^ top) & (stop ^ top);
  else of = (dtop ^ stop) & (dtop ^ top);
  if ((of & sign) !== 0) f |= FLAG_OF;
  return f;
}

/** Low 32 bits of RFLAGS with the arithmetic flags brought up to date (and stored back). */
export function getFlags(m: Int32Array): number {
  const tag = m[IX_LF_OP];
  if (tag === 0) return m[IX_FLAGS];
  const f = (m[IX_FLAGS] & ~FLAGS_ARITH) | lazyArith(m, tag);
  m[IX_FLAGS] = f;
  m[IX_LF_OP] = 0;
  return f;
}

/** Replaces the six arithmetic flags (the others are kept) and drops any pending operation. */
export function setArith(m: Int32Array, arith: number): void {
  m[IX_FLAGS] = (m[IX_FLAGS] & ~FLAGS_ARITH) | (arith & FLAGS_ARITH);
  m[IX_LF_OP] = 0;
}

/** Writes the low 32 bits of RFLAGS (caller keeps reserved bits right) and drops any pending operation. */
export function setFlags(m: Int32Array, f: number): void {
  m[IX_FLAGS] = f;
  m[IX_LF_OP] = 0;
}

/** Records a lazy 8/16/32-bit operation (values already masked to the size). */
export function setLazy(m: Int32Array, tag: number, dst: number, src: number, res: number): void {
  m[IX_LF_OP] = tag;
  m[IX_LF_DST] = dst;
  m[IX_LF_SRC] = src;
  m[IX_LF_RES] = res;
}

/** Records a lazy 64-bit operation. */
export function setLazy64(
  m: Int32Array, tag: number, dLo: number, dHi: number, sLo: number, sHi: number, rLo: number, rHi: number,
): void {
  m[IX_LF_OP] = tag;
  m[IX_LF_DST] = dLo;
  m[IX_LF_DST_HI] = dHi;
  m[IX_LF_SRC] = sLo;
  m[IX_LF_SRC_HI] = sHi;
  m[IX_LF_RES] = rLo;
  m[IX_LF_RES_HI] = rHi;
}

/**
 * Evaluates condition code cc (0..15, the low nibble of Jcc/SETcc/CMOVcc) against the current
 * flags. The common compare-and-branch cases are answered from the pending SUB/LOGIC without
 * materialising RFLAGS.
 */
export function testCond(m: Int32Array, cc: number): boolean {
  const tag = m[IX_LF_OP];
  const op = tag >> 2;
  if (op === LF_SUB && (tag & 3) === SZ64 && cc >= 2 && cc <= 7) {
    // 64-bit compare: unsigned below and zero from the halves
    const dHi = m[IX_LF_DST_HI], sHi = m[IX_LF_SRC_HI];
    const b = dHi !== sHi ? dHi >>> 0 < sHi >>> 0 : m[IX_LF_DST] >>> 0 < m[IX_LF_SRC] >>> 0;
    const z = (m[IX_LF_RES] | m[IX_LF_RES_HI]) === 0;
    switch (cc) {
      case 2: return b;
      case 3: return !b;
      case 4: return z;
      case 5: return !z;
      case 6: return b || z;
      default: return !b && !z;
    }
  }
  if ((op === LF_SUB || op === LF_LOGIC) && (tag & 3) !== SZ64) {
    const sz = tag & 3;
    const res = m[IX_LF_RES] & MASK[sz];
    switch (cc) {
      case 2: // B
        return op === LF_SUB && m[IX_LF_DST] >>> 0 < m[IX_LF_SRC] >>> 0;
      case 3: // AE
        return op !== LF_SUB || m[IX_LF_DST] >>> 0 >= m[IX_LF_SRC] >>> 0;
      case 4:
        return res === 0;
      case 5:
        return res !== 0;
      case 6: // BE
        return res === 0 || (op === LF_SUB && m[IX_LF_DST] >>> 0 < m[IX_LF_SRC] >>> 0);
      case 7: // A
        return res !== 0 && (op !== LF_SUB || m[IX_LF_DST] >>> 0 >= m[IX_LF_SRC] >>> 0);
      default:
        break;
    }
  }
  const f = getFlags(m);
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = (f & FLAG_OF) !== 0; break;
    case 1: r = (f & FLAG_CF) !== 0; break;
    case 2: r = (f & FLAG_ZF) !== 0; break;
    case 3: r = (f & (FLAG_CF | FLAG_ZF)) !== 0; break;
    case 4: r = (f & FLAG_SF) !== 0; break;
    case 5: r = (f & FLAG_PF) !== 0; break;
    case 6: r = ((f & FLAG_SF) !== 0) !== ((f & FLAG_OF) !== 0); break;
    default: r = (f & FLAG_ZF) !== 0 || ((f & FLAG_SF) !== 0) !== ((f & FLAG_OF) !== 0); break;
  }
  return (cc & 1) !== 0 ? !r : r;
}
