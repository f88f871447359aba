/**
 * The run loop's inline kinds (prep.ts) executed: 32/64-bit register ALU operations with
 * makeAlu's short-path semantics (alu.ts: same results, same lazy-flag words) and TEST with
 * makeTest's (an AND that writes nothing and clears LF_AUX), register MOVs, and
 * 32/64-bit MOVs between a register and memory in 64-bit mode through the TLB's RAM fast path
 * (cpu.ea's 64-bit sum in halves, the canonical check and the probe of rd32/rd64/wr32/wr64). It
 * lives apart from the loop so the loop stays small: TurboFan recompiles the loop whenever a path
 * in it meets code without type feedback, and each recompile of a big function is expensive.
 */
import { IX_LF_AUX, IX_LF_DST, IX_LF_DST_HI, IX_LF_OP, IX_LF_RES, IX_LF_RES_HI, IX_LF_SRC, IX_LF_SRC_HI } from '../cpu/flags.js';
import { BASE_RIP, type Decoded } from '../cpu/decoded.js';
import { TE_HOST, TE_READ, TE_WRITE, tlbEntryWord } from '../mmu/tlb.js';
import { OP_ADD, OP_AND, OP_CMP, OP_OR, OP_XOR } from './alu.js';
import type { Cpu } from './cpu.js';
import { K_ALU32, K_ALU64, K_LD32, K_LD64, K_MOV32, K_MOV64, K_ST32, K_ST64, W_IMM, W_TEST } from './prep.js';

/** A memory kind that missed the fast path: the caller runs the handler (and must not chain). */
export const INLINE_MISS = -1;
const TWO32 = 4294967296;

/** Executes prep.ts kind `kind` with operand word `word`; returns 0 or INLINE_MISS. */
export function execInline(cpu: Cpu, d: Decoded, kind: number, word: number, user: boolean): number {
  const m = cpu.m;
  switch (kind) {
    case K_ALU32: {
      const dst = word & 15;
      const a = m[dst << 1];
      const b = (word & W_IMM) !== 0 ? d.imm : m[((word >> 4) & 15) << 1];
      const op = (word >> 8) & 7;
      let r: number;
      switch (op) {
        case OP_ADD: r = (a + b) | 0; break;
        case OP_OR: r = a | b; break;
        case OP_AND: r = a & b; break;
        case OP_XOR: r = a ^ b; break;
        default: r = (a - b) | 0; break;
      }
      if (op !== OP_CMP && (word & W_TEST) === 0) {
        m[dst << 1] = r;
        m[(dst << 1) + 1] = 0;
      }
      m[IX_LF_OP] = (word >> 12) & 0xff;
      if ((word & W_TEST) !== 0) m[IX_LF_AUX] = 0;
      m[IX_LF_DST] = a;
      m[IX_LF_SRC] = b;
      m[IX_LF_RES] = r;
      return 0;
    }
    case K_ALU64: {
      const dst = word & 15;
      const a = m[dst << 1];
      const aHi = m[(dst << 1) + 1];
      let b: number, bHi: number;
      if ((word & W_IMM) !== 0) {
        b = d.imm;
        bHi = b >> 31;
      } else {
        const src = (word >> 4) & 15;
        b = m[src << 1];
        bHi = m[(src << 1) + 1];
      }
      const op = (word >> 8) & 7;
      let r: number, rHi: number;
      switch (op) {
        case OP_ADD: {
          const lo = (a >>> 0) + (b >>> 0);
          r = lo | 0;
          rHi = (aHi + bHi + (lo > 0xffffffff ? 1 : 0)) | 0;
          break;
        }
        case OP_OR: r = a | b; rHi = aHi | bHi; break;
        case OP_AND: r = a & b; rHi = aHi & bHi; break;
        case OP_XOR: r = a ^ b; rHi = aHi ^ bHi; break;
        default: {
          const lo = (a >>> 0) - (b >>> 0);
          r = lo | 0;
          rHi = (aHi - bHi - (lo < 0 ? 1 : 0)) | 0;
          break;
        }
      }
      if (op !== OP_CMP && (word & W_TEST) === 0) {
        m[dst << 1] = r;
        m[(dst << 1) + 1] = rHi;
      }
      m[IX_LF_OP] = (word >> 12) & 0xff;
      if ((word & W_TEST) !== 0) {
        m[IX_LF_AUX] = 0;
        cpu.hi = aHi; // makeTest's readRm(d, 8) leaves it there (stale-word parity)
      }
      m[IX_LF_DST] = a;
      m[IX_LF_DST_HI] = aHi;
      m[IX_LF_SRC] = b;
      m[IX_LF_SRC_HI] = bHi;
      m[IX_LF_RES] = r;
      m[IX_LF_RES_HI] = rHi;
      return 0;
    }
    case K_LD32: case K_LD64: case K_ST32: case K_ST64: {
      // cpu.ea's 64-bit sum in halves, the canonical check, and the TLB probe of
      // rd32/rd64/wr32/wr64; anything else (miss, unaligned, non-canonical) is the handler's
      let lo: number, hi: number;
      const b = d.base;
      if (b === BASE_RIP) {
        const n = cpu.nextRip + d.disp;
        lo = n >>> 0;
        hi = Math.floor(n / TWO32);
      } else {
        lo = d.disp >>> 0;
        hi = d.dispHi | 0;
        if (b >= 0) {
          lo += m[b << 1] >>> 0;
          hi += m[(b << 1) + 1];
        }
        const x = d.index;
        if (x >= 0) {
          const sc = d.scale;
          lo += (m[x << 1] >>> 0) * (1 << sc);
          hi += sc === 0 ? m[(x << 1) + 1] : (m[(x << 1) + 1] << sc) | 0;
        }
      }
      hi = (hi + Math.floor(lo / TWO32)) | 0;
      const a = lo | 0;
      const e = tlbEntryWord(a, user);
      const tag = (a >>> 24) | (hi << 8);
      const wide = kind === K_LD64 || kind === K_ST64;
      const load = kind <= K_LD64;
      if (
        (hi >> 15 === 0 || hi >> 15 === -1) && (a & (wide ? 7 : 3)) === 0 &&
        m[e + (load ? TE_READ : TE_WRITE)] === tag
      ) {
        const w = (cpu.u32[e + TE_HOST] + (a & 0xfff)) >>> 2;
        const r = word << 1;
        if (load) {
          m[r] = m[w];
          m[r + 1] = wide ? m[w + 1] : 0;
          if (wide) cpu.hi = m[w + 1]; // rd64 leaves the high half there (stale-word parity)
        } else {
          m[w] = m[r];
          if (wide) m[w + 1] = m[r + 1];
        }
        return 0;
      }
      return INLINE_MISS;
    }
    case K_MOV32: {
      const dst = word & 15;
      m[dst << 1] = m[((word >> 4) & 15) << 1];
      m[(dst << 1) + 1] = 0;
      return 0;
    }
    case K_MOV64: {
      const dst = word & 15;
      const src = (word >> 4) & 15;
      m[dst << 1] = m[src << 1];
      m[(dst << 1) + 1] = m[(src << 1) + 1];
      return 0;
    }
    default:
      return INLINE_MISS;
  }
}
