/**
 * The hot loop: runs a straight stretch of pre-resolved instructions (hot-prep.ts's kinds) of one
 * cached code page with the instruction pointer held as an offset in that page, no per-
 * instruction event, mode or fetch checks, and operands read from packed typed arrays. It is what
 * makes the interpreter fast on compiled integer code (docs/interpreter.md, "Speed").
 *
 * Why the checks can go: the run loop enters only when nothing is pending (no exit request,
 * interrupt shadow, TF, HLT, and the interrupt test passed), in 64-bit mode or in 32-bit code
 * with flat CS/DS/SS, and every hot kind touches only registers, flags, rIP and RAM through the
 * software TLB's fast entries. Those cannot raise an interrupt, change the mode, CPL, segments or
 * TLB, or write a code page (a fast write entry is never installed for one), so what the run loop
 * checked before the first instruction still holds before each next one. Virtual time: the loop
 * stops after `left` instructions, so timers fire at the exact count.
 *
 * Exactness: each kind repeats its handler's semantics (alu.ts, mov.ts, control.ts, stack.ts,
 * shift.ts, muldiv.ts): same registers, memory and flags. Anything a kind cannot finish without
 * the slow path (a TLB miss, an unaligned access, a non-canonical address, an instruction not yet
 * decoded for this bitness) stops the loop *before* the instruction changed anything; the run loop
 * then runs it through its handler, which also raises any fault. test/interp/hotpath.test.ts
 * compares this loop with the handlers on random instruction sequences.
 */
import * as F from '../cpu/flags.js';
import * as S from '../cpu/state.js';
import * as T from '../mmu/tlb.js';
import * as A from './alu.js';
import * as P from './hot-prep.js';
import type { Cpu } from './cpu.js';
import { cond, ea64, eaHigh, setHotPage } from './hot-operand.js';

// Local copies of the imported constants. An imported binding is live: V8 loads it from its
// module cell at every use and cannot fold it, so a `switch` over imported case labels became a
// chain of loads and compares and every flag-word index a load (bench/interp.ts: 58 MIPS per CPU
// second with the imports used directly, 105 with these copies).
const { IX_FLAGS, IX_LF_AUX, IX_LF_DST, IX_LF_DST_HI, IX_LF_OP, IX_LF_RES, IX_LF_RES_HI, IX_LF_SRC, IX_LF_SRC_HI,
  LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_SUB, PARITY, lazyCF } = F;
const { FLAG_CF, FLAG_OF, FLAG_SF, FLAG_ZF, FLAGS_ARITH } = S;
const { TE_HOST, TE_READ, TE_WRITE, TLB_MASK, TLB_USER_WORDS, TLB_WORD } = T;
const { OP_ADD, OP_CMP, OP_OR, OP_SUB, OP_XOR } = A;
const { HA_IMM, HA_MEM, HB_NONE, HB_RIP, HSH_SHL, HSH_SHR, H_ALU_M8I, H_ALU_M8R, H_ALU_MI32, H_ALU_MI64, H_ALU_MR32,
  H_ALU_MR64, H_ALU_RI32, H_ALU_RI64, H_ALU_RM32, H_ALU_RM64, H_ALU_RR32, H_ALU_RR64, H_CALL, H_CMOV32,
  H_IMUL_RM32, H_IMUL_RR32, H_INCDEC32, H_INCDEC64, H_JCC, H_JMP, H_LD32, H_LD64, H_LD8, H_LDSXD, H_LDZX8, H_LEA32,
  H_LEA64, H_MOVSXD, H_MOV_RI32, H_MOV_RI64, H_MOV_RR32, H_MOV_RR64, H_POP, H_PUSH, H_RET, H_SETCC, H_SHIFT32,
  H_SHIFT64, H_ST32, H_ST64, H_ST8, H_STI32, H_STI64, H_STI8, H_ZX8 } = P;

/** The packed arrays of one cached page (decode-cache.ts's PageCache). */
export interface HotPage {
  readonly bits: Uint8Array;
  readonly hk: Uint8Array;
  readonly ha: Int32Array;
  readonly himm: Int32Array;
  readonly hdisp: Int32Array;
}

const TWO32 = 4294967296;
const CANON = 0x800000000000; // 2^47
/** Lazy-flag tag of an ALU operation (OP_* of alu.ts, 8 = TEST) at 32 bits; +1 for 64. */
const TAG32 = Int32Array.of(
  (LF_ADD << 2) | 2, (LF_LOGIC << 2) | 2, 0, 0, (LF_LOGIC << 2) | 2, (LF_SUB << 2) | 2, (LF_LOGIC << 2) | 2,
  (LF_SUB << 2) | 2, (LF_LOGIC << 2) | 2,
);
const NOT_ARITH = ~FLAGS_ARITH;

/**
 * Alignment mask of each kind's memory access (wider accesses that straddle an alignment unit
 * leave the loop). Word A's HA_MEM bit says whether there is a memory operand, HA_WR whether it
 * is written: the loop computes the host address once, before the kind switch, instead of
 * calling a helper from each memory case (runHot is too big for V8 to inline more than a few).
 */
const HALIGN = new Uint8Array(64);
for (const k of [H_ALU_RM32, H_ALU_MR32, H_ALU_MI32, H_LD32, H_LDSXD, H_IMUL_RM32, H_ST32, H_STI32]) HALIGN[k] = 3;
for (const k of [H_ALU_RM64, H_ALU_MR64, H_ALU_MI64, H_LD64, H_ST64, H_STI64]) HALIGN[k] = 7;

/** SF, ZF, PF of a 32-bit result (shift.ts's szp). */
const szp32 = (r: number): number => PARITY[r & 0xff] | (r === 0 ? FLAG_ZF : 0) | (r < 0 ? FLAG_SF : 0);

/**
 * Runs hot kinds from offset `off` of page p (linear base pageLin) for at most `left`
 * instructions; returns how many ran and leaves cpu.rip at the next one.
 */
export function runHot(cpu: Cpu, p: HotPage, off: number, pageLin: number, long: boolean, user: boolean, left: number): number {
  const m = cpu.m;
  const u8 = cpu.u8;
  const u32 = cpu.u32;
  const { bits, hk, ha, himm, hdisp } = p;
  const B = long ? 64 : 32;
  const uo = user ? TLB_USER_WORDS : 0;
  setHotPage(pageLin);
  let n = 0;
  loop: while (n < left && bits[off] === B) {
    const a = ha[off];
    const len = (a >>> 24) & 15;
    const k = hk[off];
    // the memory operand's host byte offset; a TLB miss, misalignment or non-canonical address
    // leaves the loop before the instruction (its handler then runs it)
    let h = 0;
    if ((a & HA_MEM) !== 0) {
      const disp = hdisp[off];
      const b = (a >> 12) & 31;
      const x = (a >> 17) & 31;
      let lo: number, tag: number;
      if (long) {
        // 64-bit addressing in int32 halves with explicit carries, then the canonical check
        let l: number, hi: number;
        if (b === HB_RIP) {
          const s = pageLin + off + len + disp;
          const sh = Math.floor(s / TWO32);
          l = (s - sh * TWO32) | 0;
          hi = sh | 0;
        } else {
          l = disp;
          hi = disp >> 31;
          if (b !== HB_NONE) {
            const bl = m[b << 1];
            const t = (l + bl) | 0;
            hi = (hi + m[(b << 1) + 1] + ((t >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
            l = t;
          }
        }
        if (x !== HB_NONE) {
          const sc = (a >> 22) & 3;
          const xl = m[x << 1];
          const xs = xl << sc;
          const xh = sc === 0 ? m[(x << 1) + 1] : (m[(x << 1) + 1] << sc) | (xl >>> (32 - sc));
          const t = (l + xs) | 0;
          hi = (hi + xh + ((t >>> 0) < (xs >>> 0) ? 1 : 0)) | 0;
          l = t;
        }
        if (((hi + 0x8000) >>> 16) !== 0) break loop;
        lo = l;
        tag = (lo >>> 24) | (hi << 8);
      } else {
        // 32-bit addressing in flat 32-bit code
        let l = disp;
        if (b !== HB_NONE) l += m[b << 1];
        if (x !== HB_NONE) l += m[x << 1] << ((a >> 22) & 3);
        lo = l | 0;
        tag = lo >>> 24;
      }
      if ((lo & HALIGN[k]) !== 0) break loop;
      const e = TLB_WORD + (((lo >>> 12) & TLB_MASK) << 3) + uo;
      if (m[e + (a < 0 ? TE_WRITE : TE_READ)] !== tag) break loop; // a < 0: HA_WR
      h = u32[e + TE_HOST] + (lo & 0xfff);
    }
    switch (k) {
      case H_ALU_RR32: case H_ALU_RI32: {
        const dst = (a & 15) << 1;
        const x = m[dst];
        const y = (a & HA_IMM) !== 0 ? himm[off] : m[((a >> 4) & 15) << 1];
        const op = (a >> 8) & 15;
        let r: number;
        switch (op) {
          case OP_ADD: r = (x + y) | 0; break;
          case OP_OR: r = x | y; break;
          case OP_XOR: r = x ^ y; break;
          case OP_SUB: case OP_CMP: r = (x - y) | 0; break;
          default: r = x & y; break; // AND, TEST
        }
        if (op < OP_CMP) {
          m[dst] = r;
          m[dst + 1] = 0;
        }
        m[IX_LF_OP] = TAG32[op];
        m[IX_LF_DST] = x;
        m[IX_LF_SRC] = y;
        m[IX_LF_RES] = r;
        break;
      }
      case H_ALU_RR64: case H_ALU_RI64: {
        const dst = (a & 15) << 1;
        const x = m[dst], xHi = m[dst + 1];
        let y: number, yHi: number;
        if ((a & HA_IMM) !== 0) {
          y = himm[off];
          yHi = y >> 31;
        } else {
          const src = ((a >> 4) & 15) << 1;
          y = m[src];
          yHi = m[src + 1];
        }
        const op = (a >> 8) & 15;
        let r: number, rHi: number;
        switch (op) {
          case OP_ADD: {
            const s = (x >>> 0) + (y >>> 0);
            r = s | 0;
            rHi = (xHi + yHi + (s > 0xffffffff ? 1 : 0)) | 0;
            break;
          }
          case OP_OR: r = x | y; rHi = xHi | yHi; break;
          case OP_XOR: r = x ^ y; rHi = xHi ^ yHi; break;
          case OP_SUB: case OP_CMP: {
            const s = (x >>> 0) - (y >>> 0);
            r = s | 0;
            rHi = (xHi - yHi - (s < 0 ? 1 : 0)) | 0;
            break;
          }
          default: r = x & y; rHi = xHi & yHi; break;
        }
        if (op < OP_CMP) {
          m[dst] = r;
          m[dst + 1] = rHi;
        }
        m[IX_LF_OP] = TAG32[op] + 1;
        m[IX_LF_DST] = x;
        m[IX_LF_DST_HI] = xHi;
        m[IX_LF_SRC] = y;
        m[IX_LF_SRC_HI] = yHi;
        m[IX_LF_RES] = r;
        m[IX_LF_RES_HI] = rHi;
        break;
      }
      case H_ALU_RM32: case H_ALU_MR32: case H_ALU_MI32: {
        const op = (a >> 8) & 15;
        const w = h >>> 2;
        let x: number, y: number;
        if (k === H_ALU_RM32) {
          x = m[(a & 15) << 1];
          y = m[w];
        } else {
          x = m[w];
          y = k === H_ALU_MI32 ? himm[off] : m[((a >> 4) & 15) << 1];
        }
        let r: number;
        switch (op) {
          case OP_ADD: r = (x + y) | 0; break;
          case OP_OR: r = x | y; break;
          case OP_XOR: r = x ^ y; break;
          case OP_SUB: case OP_CMP: r = (x - y) | 0; break;
          default: r = x & y; break;
        }
        if (op < OP_CMP) {
          if (k === H_ALU_RM32) {
            const dst = (a & 15) << 1;
            m[dst] = r;
            m[dst + 1] = 0;
          } else m[w] = r;
        }
        m[IX_LF_OP] = TAG32[op];
        m[IX_LF_DST] = x;
        m[IX_LF_SRC] = y;
        m[IX_LF_RES] = r;
        m[IX_LF_AUX] = 0;
        break;
      }
      case H_ALU_RM64: case H_ALU_MR64: case H_ALU_MI64: {
        const op = (a >> 8) & 15;
        const w = h >>> 2;
        let x: number, xHi: number, y: number, yHi: number;
        if (k === H_ALU_RM64) {
          const dst = (a & 15) << 1;
          x = m[dst];
          xHi = m[dst + 1];
          y = m[w];
          yHi = m[w + 1];
        } else {
          x = m[w];
          xHi = m[w + 1];
          if (k === H_ALU_MI64) {
            y = himm[off];
            yHi = y >> 31;
          } else {
            const src = ((a >> 4) & 15) << 1;
            y = m[src];
            yHi = m[src + 1];
          }
        }
        let r: number, rHi: number;
        switch (op) {
          case OP_ADD: {
            const s = (x >>> 0) + (y >>> 0);
            r = s | 0;
            rHi = (xHi + yHi + (s > 0xffffffff ? 1 : 0)) | 0;
            break;
          }
          case OP_OR: r = x | y; rHi = xHi | yHi; break;
          case OP_XOR: r = x ^ y; rHi = xHi ^ yHi; break;
          case OP_SUB: case OP_CMP: {
            const s = (x >>> 0) - (y >>> 0);
            r = s | 0;
            rHi = (xHi - yHi - (s < 0 ? 1 : 0)) | 0;
            break;
          }
          default: r = x & y; rHi = xHi & yHi; break;
        }
        if (op < OP_CMP) {
          if (k === H_ALU_RM64) {
            const dst = (a & 15) << 1;
            m[dst] = r;
            m[dst + 1] = rHi;
          } else {
            m[w] = r;
            m[w + 1] = rHi;
          }
        }
        m[IX_LF_OP] = TAG32[op] + 1;
        m[IX_LF_DST] = x;
        m[IX_LF_DST_HI] = xHi;
        m[IX_LF_SRC] = y;
        m[IX_LF_SRC_HI] = yHi;
        m[IX_LF_RES] = r;
        m[IX_LF_RES_HI] = rHi;
        m[IX_LF_AUX] = 0;
        break;
      }
      case H_ALU_M8R: case H_ALU_M8I: {
        const op = (a >> 8) & 15;
        const x = u8[h];
        const y = (a & HA_IMM) !== 0 ? himm[off] : u8[himm[off]];
        let r: number;
        switch (op) {
          case OP_ADD: r = (x + y) & 0xff; break;
          case OP_OR: r = x | y; break;
          case OP_XOR: r = x ^ y; break;
          case OP_SUB: case OP_CMP: r = (x - y) & 0xff; break;
          default: r = x & y; break;
        }
        if (op < OP_CMP) u8[h] = r;
        m[IX_LF_OP] = TAG32[op] - 2;
        m[IX_LF_DST] = x;
        m[IX_LF_SRC] = y;
        m[IX_LF_RES] = r;
        m[IX_LF_AUX] = 0;
        break;
      }
      case H_MOV_RR32: {
        const dst = (a & 15) << 1;
        m[dst] = m[((a >> 4) & 15) << 1];
        m[dst + 1] = 0;
        break;
      }
      case H_MOV_RR64: {
        const dst = (a & 15) << 1;
        const src = ((a >> 4) & 15) << 1;
        m[dst] = m[src];
        m[dst + 1] = m[src + 1];
        break;
      }
      case H_MOV_RI32: case H_MOV_RI64: {
        const dst = (a & 15) << 1;
        m[dst] = himm[off];
        m[dst + 1] = hdisp[off];
        break;
      }
      case H_LD32: case H_LD64: case H_LDSXD: {
        const wide = hk[off] === H_LD64;
        const w = h >>> 2;
        const dst = (a & 15) << 1;
        const v = m[w];
        m[dst + 1] = wide ? m[w + 1] : hk[off] === H_LDSXD ? v >> 31 : 0;
        m[dst] = v;
        break;
      }
      case H_ST32: case H_ST64: {
        const wide = hk[off] === H_ST64;
        const w = h >>> 2;
        const src = (a & 15) << 1;
        m[w] = m[src];
        if (wide) m[w + 1] = m[src + 1];
        break;
      }
      case H_STI32: case H_STI64: {
        const wide = hk[off] === H_STI64;
        const w = h >>> 2;
        const v = himm[off];
        m[w] = v;
        if (wide) m[w + 1] = v >> 31;
        break;
      }
      case H_STI8: case H_ST8: {
        u8[h] = hk[off] === H_STI8 ? himm[off] : u8[himm[off]];
        break;
      }
      case H_LD8: case H_LDZX8: {
        if (hk[off] === H_LD8) u8[himm[off]] = u8[h];
        else {
          const dst = (a & 15) << 1;
          m[dst] = u8[h];
          m[dst + 1] = 0;
        }
        break;
      }
      case H_ZX8: {
        const dst = (a & 15) << 1;
        m[dst] = u8[himm[off]];
        m[dst + 1] = 0;
        break;
      }
      case H_MOVSXD: {
        const dst = (a & 15) << 1;
        const v = m[((a >> 4) & 15) << 1];
        m[dst] = v;
        m[dst + 1] = v >> 31;
        break;
      }
      case H_LEA32: case H_LEA64: {
        const dst = (a & 15) << 1;
        let lo: number, hi = 0;
        if (long) {
          lo = ea64(m, a, hdisp[off], off + len);
          hi = eaHigh();
        } else {
          const b = (a >> 12) & 31;
          const x = (a >> 17) & 31;
          let l = hdisp[off];
          if (b !== HB_NONE) l += m[b << 1];
          if (x !== HB_NONE) l += m[x << 1] << ((a >> 22) & 3);
          lo = l | 0;
        }
        m[dst] = lo;
        m[dst + 1] = hk[off] === H_LEA64 ? hi : 0;
        break;
      }
      case H_JCC: case H_JMP: {
        if (hk[off] === H_JCC && !cond(m, (a >> 8) & 15)) break;
        const t = off + len + himm[off];
        if (t >= 0 && t < 4096) {
          off = t;
          n++;
          continue loop;
        }
        if (long) {
          const target = pageLin + t;
          if (target < -CANON || target >= CANON) break loop; // the handler raises #GP
        }
        off = t;
        n++;
        break loop;
      }
      case H_CALL: case H_PUSH: {
        // push the return address / the register; CALL then jumps
        const call = hk[off] === H_CALL;
        let vLo: number, vHi: number;
        if (call) {
          const next = pageLin + off + len;
          if (long) {
            const target = next + himm[off];
            if (target < -CANON || target >= CANON) break loop;
          }
          vLo = next | 0;
          vHi = Math.floor(next / TWO32) | 0;
        } else {
          const r = (a & 15) << 1;
          vLo = m[r];
          vHi = m[r + 1];
        }
        let lo: number, hi: number, tag: number;
        if (long) {
          lo = (m[8] - 8) | 0;
          hi = (m[9] - ((lo >>> 0) > (m[8] >>> 0) ? 1 : 0)) | 0;
          if (((hi + 0x8000) >>> 16) !== 0) break loop;
          tag = (lo >>> 24) | (hi << 8);
        } else {
          lo = (m[8] - 4) | 0;
          hi = 0;
          tag = lo >>> 24;
        }
        if ((lo & (long ? 7 : 3)) !== 0) break loop;
        const e = TLB_WORD + (((lo >>> 12) & TLB_MASK) << 3) + uo;
        if (m[e + TE_WRITE] !== tag) break loop;
        const w = (u32[e + TE_HOST] + (lo & 0xfff)) >>> 2;
        m[w] = vLo;
        if (long) {
          m[w + 1] = vHi;
          m[9] = hi;
        } else m[9] = 0;
        m[8] = lo;
        if (call) {
          const t = off + len + himm[off];
          n++;
          off = t;
          if (t >= 0 && t < 4096) continue loop;
          break loop;
        }
        break;
      }
      case H_POP: case H_RET: {
        let lo: number, hi: number, tag: number;
        if (long) {
          lo = m[8];
          hi = m[9];
          if (((hi + 0x8000) >>> 16) !== 0) break loop;
          tag = (lo >>> 24) | (hi << 8);
        } else {
          lo = m[8];
          hi = 0;
          tag = lo >>> 24;
        }
        if ((lo & (long ? 7 : 3)) !== 0) break loop;
        const e = TLB_WORD + (((lo >>> 12) & TLB_MASK) << 3) + uo;
        if (m[e + TE_READ] !== tag) break loop;
        const w = (u32[e + TE_HOST] + (lo & 0xfff)) >>> 2;
        const vLo = m[w];
        const vHi = long ? m[w + 1] : 0;
        let target = 0;
        if (hk[off] === H_RET) {
          target = long ? vHi * TWO32 + (vLo >>> 0) : vLo >>> 0;
          if (long && (target < -CANON || target >= CANON)) break loop;
        }
        // rSP + 8 (or ESP + 4, zero-extended), then the destination: POP rSP keeps the value
        if (long) {
          const s = (lo >>> 0) + 8;
          m[8] = s | 0;
          m[9] = (hi + (s > 0xffffffff ? 1 : 0)) | 0;
        } else {
          m[8] = (lo + 4) | 0;
          m[9] = 0;
        }
        if (hk[off] === H_RET) {
          n++;
          const t = target - pageLin;
          if (t >= 0 && t < 4096) {
            off = t | 0; // keep `off` a small integer for the compiler
            continue loop;
          }
          cpu.rip = target;
          return n;
        }
        const r = (a & 15) << 1;
        m[r] = vLo;
        m[r + 1] = vHi;
        break;
      }
      case H_IMUL_RR32: case H_IMUL_RM32: {
        let x: number;
        if (hk[off] === H_IMUL_RM32) {
          x = m[h >>> 2];
        } else x = m[((a >> 4) & 15) << 1];
        const dst = (a & 15) << 1;
        const y = (a & HA_IMM) !== 0 ? himm[off] : m[dst];
        const r = Math.imul(x, y);
        m[dst] = r;
        m[dst + 1] = 0;
        m[IX_FLAGS] = (m[IX_FLAGS] & NOT_ARITH) | szp32(r) | (x * y !== r ? FLAG_CF | FLAG_OF : 0);
        m[IX_LF_OP] = 0;
        break;
      }
      case H_SHIFT32: {
        const dst = (a & 15) << 1;
        const x = m[dst];
        const c = himm[off];
        const kind = (a >> 8) & 15;
        let r: number, cf: number, of: number;
        if (kind === HSH_SHL) {
          cf = (x >>> (32 - c)) & 1;
          r = x << c;
          of = ((r >>> 31) ^ cf) & 1;
        } else if (kind === HSH_SHR) {
          cf = (x >>> (c - 1)) & 1;
          of = x >>> 31;
          r = (x >>> c) | 0;
        } else {
          cf = (x >> (c - 1)) & 1;
          of = 0;
          r = x >> c;
        }
        m[dst] = r;
        m[dst + 1] = 0;
        m[IX_FLAGS] = (m[IX_FLAGS] & NOT_ARITH) | szp32(r) | cf | (of << 11);
        m[IX_LF_OP] = 0;
        break;
      }
      case H_SHIFT64: {
        const dst = (a & 15) << 1;
        const x = m[dst], xHi = m[dst + 1];
        const c = himm[off];
        const kind = (a >> 8) & 15;
        let r: number, rHi: number, cf: number, of: number;
        if (kind === HSH_SHL) {
          const k = 64 - c;
          cf = k < 32 ? (x >>> k) & 1 : (xHi >>> (k - 32)) & 1;
          if (c < 32) {
            rHi = (xHi << c) | (x >>> (32 - c));
            r = x << c;
          } else {
            rHi = x << (c - 32);
            r = 0;
          }
          of = ((rHi >>> 31) ^ cf) & 1;
        } else {
          const k = c - 1;
          cf = k < 32 ? (x >>> k) & 1 : (xHi >>> (k - 32)) & 1;
          if (kind === HSH_SHR) {
            of = xHi >>> 31;
            if (c < 32) {
              r = (x >>> c) | (xHi << (32 - c));
              rHi = xHi >>> c;
            } else {
              r = xHi >>> (c - 32);
              rHi = 0;
            }
          } else {
            of = 0;
            if (c < 32) {
              r = (x >>> c) | (xHi << (32 - c));
              rHi = xHi >> c;
            } else {
              r = xHi >> (c - 32);
              rHi = xHi >> 31;
            }
          }
        }
        r |= 0;
        rHi |= 0;
        m[dst] = r;
        m[dst + 1] = rHi;
        m[IX_FLAGS] = (m[IX_FLAGS] & NOT_ARITH) | PARITY[r & 0xff] | ((r | rHi) === 0 ? FLAG_ZF : 0) |
          (rHi < 0 ? FLAG_SF : 0) | cf | (of << 11);
        m[IX_LF_OP] = 0;
        break;
      }
      case H_INCDEC32: case H_INCDEC64: {
        const dst = (a & 15) << 1;
        const dec = ((a >> 8) & 15) !== 0;
        const x = m[dst], xHi = m[dst + 1];
        const cf = lazyCF(m);
        let r: number, rHi = 0;
        if (hk[off] === H_INCDEC32) r = dec ? (x - 1) | 0 : (x + 1) | 0;
        else if (dec) {
          r = (x - 1) | 0;
          rHi = x === 0 ? (xHi - 1) | 0 : xHi;
        } else {
          r = (x + 1) | 0;
          rHi = r === 0 ? (xHi + 1) | 0 : xHi;
        }
        const wide = hk[off] === H_INCDEC64;
        m[dst] = r;
        m[dst + 1] = rHi;
        m[IX_LF_OP] = ((dec ? LF_DEC : LF_INC) << 2) | (wide ? 3 : 2);
        m[IX_LF_DST] = x;
        m[IX_LF_DST_HI] = wide ? xHi : 0;
        m[IX_LF_SRC] = 1;
        m[IX_LF_SRC_HI] = 0;
        m[IX_LF_RES] = r;
        m[IX_LF_RES_HI] = rHi;
        m[IX_LF_AUX] = cf;
        break;
      }
      case H_SETCC:
        u8[himm[off]] = cond(m, (a >> 8) & 15) ? 1 : 0;
        break;
      case H_CMOV32: {
        const dst = (a & 15) << 1;
        if (cond(m, (a >> 8) & 15)) m[dst] = m[((a >> 4) & 15) << 1];
        m[dst + 1] = 0;
        break;
      }
      default:
        break loop;
    }
    n++;
    off += len;
    if (off >= 4096) break;
  }
  cpu.rip = long ? pageLin + off : (pageLin + off) >>> 0;
  return n;
}
