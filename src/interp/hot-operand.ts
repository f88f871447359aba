/**
 * The hot loop's operands (hot.ts): a LEA's 64-bit effective address, and Jcc/SETcc/CMOVcc
 * conditions answered from a pending SUB or LOGIC without materialising the flags. (Memory
 * operands' TLB probe is written in runHot itself, once before its kind switch.)
 * Constants are local copies of the imports (see hot.ts: imported bindings are not folded).
 */
import * as F from '../cpu/flags.js';
import * as P from './hot-prep.js';

const { IX_LF_DST, IX_LF_DST_HI, IX_LF_OP, IX_LF_RES, IX_LF_RES_HI, IX_LF_SRC, IX_LF_SRC_HI, LF_LOGIC, LF_SUB,
  testCond } = F;
const { HB_NONE, HB_RIP } = P;
const TWO32 = 4294967296;

/** The linear base of the page the hot loop runs in (a module variable: passing a double boxes it). */
let pageBase = 0;

export function setHotPage(lin: number): void {
  pageBase = lin;
}

/** The high half of the last `ea64`. */
let eaHi = 0;

export function eaHigh(): number {
  return eaHi;
}
/** The effective address of a LEA (low half returned, high half in eaHi; 64-bit addressing). */
export function ea64(m: Int32Array, a: number, disp: number, offNext: number): number {
  const b = (a >> 12) & 31;
  const x = (a >> 17) & 31;
  let l: number, h: number;
  if (b === HB_RIP) {
    const n = pageBase + offNext + disp;
    l = n - Math.floor(n / TWO32) * TWO32;
    h = Math.floor(n / TWO32);
  } else {
    l = disp >>> 0;
    h = disp >> 31;
    if (b !== HB_NONE) {
      l += m[b << 1] >>> 0;
      h += m[(b << 1) + 1];
    }
  }
  if (x !== HB_NONE) {
    const sc = (a >> 22) & 3;
    l += (m[x << 1] >>> 0) * (1 << sc);
    h += sc === 0 ? m[(x << 1) + 1] : m[(x << 1) + 1] << sc;
  }
  eaHi = (h + Math.floor(l / TWO32)) | 0;
  return l | 0;
}

/** Condition cc from a pending 8/16/32-bit SUB or LOGIC (or 64-bit), else testCond (flags.ts). */
export function cond(m: Int32Array, cc: number): boolean {
  const tag = m[IX_LF_OP];
  const op = tag >> 2;
  const sz = tag & 3;
  let r: boolean;
  if (sz !== 3 && (op === LF_SUB || op === LF_LOGIC)) {
    // operands shifted to the top of the word: unsigned and signed order, sign and zero are exact
    const sh = sz === 0 ? 24 : sz === 1 ? 16 : 0;
    const res = m[IX_LF_RES] << sh;
    if (op === LF_SUB) {
      const x = m[IX_LF_DST] << sh, y = m[IX_LF_SRC] << sh;
      switch (cc >> 1) {
        case 0: r = ((x ^ y) & (x ^ res)) < 0; break;
        case 1: r = x >>> 0 < y >>> 0; break;
        case 2: r = res === 0; break;
        case 3: r = x >>> 0 <= y >>> 0; break;
        case 4: r = res < 0; break;
        case 5: return testCond(m, cc);
        case 6: r = x < y; break;
        default: r = x <= y; break;
      }
    } else {
      switch (cc >> 1) {
        case 0: case 1: r = false; break;
        case 2: case 3: r = res === 0; break;
        case 4: case 6: r = res < 0; break;
        case 5: return testCond(m, cc);
        default: r = res <= 0; break;
      }
    }
    return (cc & 1) !== 0 ? !r : r;
  }
  if (sz === 3 && (op === LF_SUB || op === LF_LOGIC)) {
    const rHi = m[IX_LF_RES_HI];
    const z = (m[IX_LF_RES] | rHi) === 0;
    if (op === LF_SUB) {
      const xHi = m[IX_LF_DST_HI], yHi = m[IX_LF_SRC_HI];
      const lt = xHi === yHi ? m[IX_LF_DST] >>> 0 < m[IX_LF_SRC] >>> 0 : false;
      switch (cc >> 1) {
        case 0: r = ((xHi ^ yHi) & (xHi ^ rHi)) < 0; break;
        case 1: r = xHi === yHi ? lt : xHi >>> 0 < yHi >>> 0; break;
        case 2: r = z; break;
        case 3: r = z || (xHi === yHi ? lt : xHi >>> 0 < yHi >>> 0); break;
        case 4: r = rHi < 0; break;
        case 5: return testCond(m, cc);
        case 6: r = xHi === yHi ? lt : xHi < yHi; break;
        default: r = z || (xHi === yHi ? lt : xHi < yHi); break;
      }
    } else {
      switch (cc >> 1) {
        case 0: case 1: r = false; break;
        case 2: case 3: r = z; break;
        case 4: case 6: r = rHi < 0; break;
        case 5: return testCond(m, cc);
        default: r = z || rHi < 0; break;
      }
    }
    return (cc & 1) !== 0 ? !r : r;
  }
  return testCond(m, cc);
}

