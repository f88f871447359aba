/**
 * The Cpu seen by instruction handlers: one handler signature, `(cpu, d) => number`, and the
 * operand helpers every handler (general-purpose here, system ones in src/interp/system-*.ts)
 * builds on: registers by number and size, effective addresses, segment-checked memory access,
 * the stack, and the instruction pointer.
 *
 * A handler returns 0 when the instruction completed, a fault value (cpu/fault.ts) when it did not
 * (then it must have changed nothing: RIP, registers and flags stay as before the instruction, so
 * the fault is restartable), or a STOP_* code when it completed but the run loop must stop after it.
 *
 * Instruction pointer: while the interpreter runs, `cpu.rip` (this instruction's offset) and
 * `cpu.nextRip` (the next one's: rip + length, a jump overwrites it) are authoritative and the
 * CPU block's OFF_RIP is stale. The interpreter stores OFF_RIP whenever control leaves it (end of a
 * run, exception and interrupt delivery). A handler that calls system code which reads or writes
 * OFF_RIP does `cpu.storeRip(cpu.nextRip)` before and `cpu.nextRip = cpu.loadRip()` after.
 *
 * Offsets and RIP are JS numbers: 0 .. 2^32-1 outside 64-bit mode, the canonical value as a signed
 * number in 64-bit mode (as the MMU's linear addresses, see mmu/mmu.ts). Memory helpers return the
 * value (64-bit reads: low half, high half in `cpu.hi`) and on a fault set `mmu.fault` (the one
 * fault register of an instruction) and return 0; a handler tests `cpu.mmu.fault` before it commits.
 */
import {
  ATTR_DB, ATTR_P, MODE_LONG64, MODE_PROT16, MODE_PROT32, OFF_CPL, OFF_MODE, OFF_RIP, SEG_BASE, SEG_CS,
  SEG_FS, SEG_LIMIT, SEG_SS, SEG_ATTR, segOffset, type StateViews,
} from '../cpu/state.js';
import { FAULT_GP0, FAULT_SS0 } from '../cpu/fault.js';
import type { Mmu } from '../mmu/mmu.js';
import { TAG_SHIFT, TE_HOST, TE_READ, TE_WRITE, tlbEntryWord } from '../mmu/tlb.js';
import type { SystemContext } from '../system/context.js';
import { BASE_RIP, type Decoded } from '../cpu/decoded.js';

export type { Decoded };

/** Handler result: the instruction completed and the CPU is now halted (HLT). */
export const STOP_HALT = 1;
/** Handler result: the instruction completed; return to the run loop (mode change, exit request). */
export const STOP_BREAK = 2;

export type Handler = (cpu: Cpu, d: Decoded) => number;

/** Int32 index of segment s's fields. */
const segIx = (s: number, field: number): number => (segOffset(s) + field) >> 2;
const TWO32 = 4294967296;
const CANON = 0x800000000000; // 2^47
/** Linear address / TAG_DIV, floored, is a TLB tag (mmu/tlb.ts). */
const TAG_DIV = 2 ** TAG_SHIFT;

export class Cpu {
  readonly views: StateViews;
  /** The CPU block as int32 words: GPR r low half at m[2r], high half at m[2r+1]. */
  readonly m: Int32Array;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly mmu: Mmu;

  /** This instruction's offset in CS (see the header for the representation). */
  rip = 0;
  /** The next instruction's offset; jumps, calls and returns set it. */
  nextRip = 0;
  /** OFF_MODE for the current instruction (MODE_*), refreshed by the interpreter before each one. */
  mode = 0;
  /** CPL === 3 for the current instruction: accesses are made at user privilege. */
  user = false;
  /** High half of the last 64-bit read (rd64, pop64, ...) or effective address. */
  hi = 0;
  /** Exact halves of the last 64-bit effective address computed by `ea` (for LEA). */
  eaLo = 0;
  eaHi = 0;

  /**
   * REP in progress (string.ts repCut): a REP string instruction that an engine-internal stop cut
   * before its count ran out, kept as decoded so the next fetch at the same place and count runs it
   * again without reading its bytes (it may have stored over them). null: none. The rest say where
   * and when it was cut: rIP, CS selector and base, mode, CPL, the instruction count after the cut.
   */
  repD: Decoded | null = null;
  repRip = 0;
  repCs = 0;
  repCsBase = 0;
  repMode = 0;
  repCpl = 0;
  repCount = 0;

  constructor(readonly ctx: SystemContext) {
    this.views = ctx.views;
    this.m = ctx.views.i32;
    this.u8 = ctx.views.u8;
    this.u16 = ctx.views.u16;
    this.u32 = ctx.views.u32;
    this.mmu = ctx.mmu;
    this.refreshMode();
  }

  /** Re-reads OFF_MODE and CPL from the CPU block (after the system layer changed them). */
  refreshMode(): void {
    this.mode = this.u32[OFF_MODE >> 2];
    this.user = this.u32[OFF_CPL >> 2] === 3;
  }

  loadRip(): number {
    const lo = this.u32[OFF_RIP >> 2];
    return this.mode === MODE_LONG64 ? (this.m[(OFF_RIP >> 2) + 1] | 0) * TWO32 + lo : lo;
  }

  storeRip(rip: number): void {
    this.u32[OFF_RIP >> 2] = rip >>> 0;
    this.u32[(OFF_RIP >> 2) + 1] = Math.floor(rip / TWO32) >>> 0;
  }

  // ---- registers ---------------------------------------------------------------------------

  /** 8-bit register r as encoded: 0..3 AL..BL, 4..7 AH..BH without REX or SPL..DIL with it. */
  r8(r: number, rex: number): number {
    return rex === 0 && r >= 4 && r < 8 ? this.u8[((r - 4) << 3) + 1] : this.u8[r << 3];
  }
  setR8(r: number, rex: number, v: number): void {
    if (rex === 0 && r >= 4 && r < 8) this.u8[((r - 4) << 3) + 1] = v;
    else this.u8[r << 3] = v;
  }
  r16(r: number): number {
    return this.u16[r << 2];
  }
  setR16(r: number, v: number): void {
    this.u16[r << 2] = v;
  }
  /** Low 32 bits as int32. */
  r32(r: number): number {
    return this.m[r << 1];
  }
  /** 32-bit writes zero the upper half (64-bit mode rule; harmless elsewhere). */
  setR32(r: number, v: number): void {
    this.m[r << 1] = v;
    this.m[(r << 1) + 1] = 0;
  }
  rHi(r: number): number {
    return this.m[(r << 1) + 1];
  }
  setR64(r: number, lo: number, hi: number): void {
    this.m[r << 1] = lo;
    this.m[(r << 1) + 1] = hi;
  }
  /** Register r of `size` bytes (2/4/8) as an int32 (low half; 8-byte callers read rHi too). */
  reg(r: number, size: number): number {
    return size === 2 ? this.u16[r << 2] : this.m[r << 1];
  }
  /** Writes register r of `size` bytes (2/4/8), hi used only for 8. */
  setReg(r: number, size: number, lo: number, hi: number): void {
    if (size === 2) this.u16[r << 2] = lo;
    else {
      this.m[r << 1] = lo;
      this.m[(r << 1) + 1] = size === 8 ? hi : 0;
    }
  }

  // ---- segments and addresses --------------------------------------------------------------

  segBase(s: number): number {
    const ix = segIx(s, SEG_BASE);
    return this.mode === MODE_LONG64 ? (this.m[ix + 1] | 0) * TWO32 + this.u32[ix] : this.u32[ix];
  }

  /** Size in bytes of the stack pointer: 8 in long mode, else 4 or 2 by SS.B. */
  stackSize(): number {
    if (this.mode === MODE_LONG64) return 8;
    return (this.u32[segIx(SEG_SS, SEG_ATTR)] & ATTR_DB) !== 0 ? 4 : 2;
  }

  /**
   * The effective address (offset) of d's memory operand, before the segment: masked to the
   * address size; in 64-bit mode a signed number (exact when canonical; a non-canonical value
   * stays outside ±2^47, which `linear` rejects).
   */
  ea(d: Decoded): number {
    const m = this.m;
    let lo = d.disp | 0;
    if (d.adSize === 8) {
      let hi = d.dispHi | 0;
      lo >>>= 0;
      const b = d.base;
      if (b >= 0) {
        if (b === BASE_RIP) {
          const n = this.nextRip + d.disp;
          this.eaLo = n | 0;
          this.eaHi = Math.floor(n / TWO32) | 0;
          return n;
        }
        lo += m[b << 1] >>> 0;
        hi += m[(b << 1) + 1];
      }
      const x = d.index;
      if (x >= 0) {
        const s = d.scale;
        lo += (m[x << 1] >>> 0) * (1 << s);
        hi += s === 0 ? m[(x << 1) + 1] : (m[(x << 1) + 1] << s) | 0;
      }
      hi = (hi + Math.floor(lo / TWO32)) | 0;
      this.eaLo = lo | 0;
      this.eaHi = hi;
      return hi * TWO32 + (lo >>> 0);
    }
    const b = d.base;
    if (b >= 0) lo += b === BASE_RIP ? this.nextRip : m[b << 1];
    if (d.index >= 0) lo += m[d.index << 1] << d.scale;
    return d.adSize === 4 ? lo >>> 0 : lo & 0xffff;
  }

  /**
   * Linear address of `size` bytes at offset `off` of segment s, with the checks of the mode:
   * canonical form in 64-bit mode (#GP(0), #SS(0) for SS), presence, type and limit outside it.
   * Sets mmu.fault and returns 0 when a check fails.
   */
  linear(s: number, off: number, size: number, write: boolean): number {
    if (this.mode === MODE_LONG64) {
      const lin = s >= SEG_FS ? off + this.segBase(s) : off;
      if (lin < -CANON || lin >= CANON) {
        this.mmu.fault = s === SEG_SS ? FAULT_SS0 : FAULT_GP0;
        return 0;
      }
      return lin;
    }
    const u32 = this.u32;
    const attr = u32[segIx(s, SEG_ATTR)];
    const limit = u32[segIx(s, SEG_LIMIT)];
    const end = off + size - 1;
    if (this.mode === MODE_PROT32 || this.mode === MODE_PROT16) {
      // Unusable (null) segment, code segment written or execute-only read: #GP(0) (#SS for SS).
      const bad =
        (attr & ATTR_P) === 0 ||
        ((attr & 8) !== 0 ? write || (attr & 2) === 0 : write && (attr & 2) === 0);
      if (bad && s !== SEG_CS) return this.segFault(s);
      if (s === SEG_CS && (write || (attr & 2) === 0)) return this.segFault(s);
      if ((attr & 0x0c) === 0x04) {
        // Expand-down data segment: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF.
        const top = (attr & ATTR_DB) !== 0 ? 0xffffffff : 0xffff;
        if (off <= limit || end > top) return this.segFault(s);
        return (u32[segIx(s, SEG_BASE)] + off) >>> 0;
      }
    }
    // A 4 GiB segment never faults on its limit: accesses wrap around at 2^32.
    if (end > limit && limit !== 0xffffffff) return this.segFault(s);
    return (u32[segIx(s, SEG_BASE)] + off) >>> 0;
  }

  private segFault(s: number): number {
    this.mmu.fault = s === SEG_SS ? FAULT_SS0 : FAULT_GP0;
    return 0;
  }

  // ---- memory --------------------------------------------------------------------------------

  rd8(s: number, off: number): number {
    const l = this.linear(s, off, 1, false);
    return this.mmu.fault !== 0 ? 0 : this.mmu.read8(l, this.user);
  }
  rd16(s: number, off: number): number {
    const l = this.linear(s, off, 2, false);
    return this.mmu.fault !== 0 ? 0 : this.mmu.read16(l, this.user);
  }
  /**
   * int32. An aligned hit in the software TLB is read here directly (the same probe translated
   * code inlines; it also avoids boxing values above 2^31 on the way back from the MMU).
   */
  rd32(s: number, off: number): number {
    const l = this.linear(s, off, 4, false);
    if (this.mmu.fault !== 0) return 0;
    const lo = l | 0;
    const e = tlbEntryWord(lo, this.user);
    if ((lo & 3) === 0 && this.m[e + TE_READ] === (Math.floor(l / TAG_DIV) | 0)) {
      return this.m[(this.u32[e + TE_HOST] + (lo & 0xfff)) >>> 2];
    }
    return this.mmu.read32(l, this.user) | 0;
  }
  /** Low half returned, high half in `hi`. */
  rd64(s: number, off: number): number {
    const l = this.linear(s, off, 8, false);
    if (this.mmu.fault !== 0) return 0;
    const a = l | 0;
    const e = tlbEntryWord(a, this.user);
    if ((a & 7) === 0 && this.m[e + TE_READ] === (Math.floor(l / TAG_DIV) | 0)) {
      const w = (this.u32[e + TE_HOST] + (a & 0xfff)) >>> 2;
      this.hi = this.m[w + 1];
      return this.m[w];
    }
    const lo = this.mmu.read64(l, this.user) | 0;
    this.hi = this.mmu.hi | 0;
    return lo;
  }
  wr8(s: number, off: number, v: number): void {
    const l = this.linear(s, off, 1, true);
    if (this.mmu.fault === 0) this.mmu.write8(l, v & 0xff, this.user);
  }
  wr16(s: number, off: number, v: number): void {
    const l = this.linear(s, off, 2, true);
    if (this.mmu.fault === 0) this.mmu.write16(l, v & 0xffff, this.user);
  }
  wr32(s: number, off: number, v: number): void {
    const l = this.linear(s, off, 4, true);
    if (this.mmu.fault !== 0) return;
    const lo = l | 0;
    const e = tlbEntryWord(lo, this.user);
    // a fast write entry exists only for RAM pages without code (mmu/tlb.ts)
    if ((lo & 3) === 0 && this.m[e + TE_WRITE] === (Math.floor(l / TAG_DIV) | 0)) {
      this.m[(this.u32[e + TE_HOST] + (lo & 0xfff)) >>> 2] = v;
      return;
    }
    this.mmu.write32(l, v >>> 0, this.user);
  }
  /** An 8-byte store that writes nothing if either half faults. */
  wr64(s: number, off: number, lo: number, hi: number): void {
    const l = this.linear(s, off, 8, true);
    if (this.mmu.fault !== 0) return;
    const a = l | 0;
    const e = tlbEntryWord(a, this.user);
    if ((a & 7) === 0 && this.m[e + TE_WRITE] === (Math.floor(l / TAG_DIV) | 0)) {
      const w = (this.u32[e + TE_HOST] + (a & 0xfff)) >>> 2;
      this.m[w] = lo;
      this.m[w + 1] = hi;
      return;
    }
    this.mmu.write64(l, lo >>> 0, hi >>> 0, this.user);
  }
  /** A read of `size` bytes (1/2/4/8) at offset off of segment s. */
  rd(s: number, off: number, size: number): number {
    switch (size) {
      case 1: return this.rd8(s, off);
      case 2: return this.rd16(s, off);
      case 4: return this.rd32(s, off);
      default: return this.rd64(s, off);
    }
  }
  wr(s: number, off: number, size: number, lo: number, hi: number): void {
    switch (size) {
      case 1: this.wr8(s, off, lo); break;
      case 2: this.wr16(s, off, lo); break;
      case 4: this.wr32(s, off, lo); break;
      default: this.wr64(s, off, lo, hi); break;
    }
  }
  /** Checks that a later write of `n` bytes at s:off would not fault (read-modify-write operands). */
  probeWrite(s: number, off: number, n: number): void {
    const l = this.linear(s, off, n, true);
    if (this.mmu.fault !== 0) return;
    this.mmu.translate(l, 1, this.user);
    if (this.mmu.fault === 0 && n > 1) this.mmu.translate(l + n - 1, 1, this.user);
  }

  // ---- the r/m operand -----------------------------------------------------------------------

  /** Reads the r/m operand of `size` bytes (int32 low half; 8 bytes: high half in `hi`). */
  readRm(d: Decoded, size: number): number {
    if (d.mod === 3) {
      if (size === 1) return this.r8(d.rm, d.rex);
      if (size === 8) this.hi = this.m[(d.rm << 1) + 1];
      return size === 2 ? this.u16[d.rm << 2] : this.m[d.rm << 1];
    }
    return this.rd(d.seg, this.ea(d), size);
  }

  /** Writes the r/m operand of `size` bytes; a memory destination may fault (mmu.fault). */
  writeRm(d: Decoded, size: number, lo: number, hi: number): void {
    if (d.mod === 3) {
      if (size === 1) this.setR8(d.rm, d.rex, lo);
      else this.setReg(d.rm, size, lo, hi);
      return;
    }
    this.wr(d.seg, this.ea(d), size, lo, hi);
  }

  // ---- the stack ------------------------------------------------------------------------------

  /** rSP as an offset in SS (16/32-bit: unsigned; 64-bit: signed number). */
  sp(): number {
    const ss = this.stackSize();
    if (ss === 8) return this.m[9] * TWO32 + (this.m[8] >>> 0);
    return ss === 4 ? this.m[8] >>> 0 : this.u16[16];
  }
  setSp(v: number): void {
    const ss = this.stackSize();
    if (ss === 8) {
      this.m[8] = v | 0;
      this.m[9] = Math.floor(v / TWO32) | 0;
    } else if (ss === 4) this.setR32(4, v | 0);
    else this.u16[16] = v;
  }
  /** Offset `delta` bytes from rSP, wrapped as the stack size wraps. */
  spPlus(delta: number): number {
    const ss = this.stackSize();
    if (ss === 8) return this.m[9] * TWO32 + (this.m[8] >>> 0) + delta;
    return ss === 4 ? ((this.m[8] + delta) >>> 0) : ((this.u16[16] + delta) & 0xffff);
  }

  /** Pushes `size` bytes (2/4/8) of lo/hi; returns a fault (nothing changed) or 0. */
  push(size: number, lo: number, hi: number): number {
    const off = this.spPlus(-size);
    this.wr(SEG_SS, off, size, lo, hi);
    if (this.mmu.fault !== 0) return this.mmu.fault;
    this.setSp(off);
    return 0;
  }

  /** Reads `size` bytes at rSP + delta without moving rSP (pop in two steps keeps faults restartable). */
  peek(size: number, delta: number): number {
    return this.rd(SEG_SS, this.spPlus(delta), size);
  }

  /** Moves rSP by `delta` bytes. */
  addSp(delta: number): void {
    this.setSp(this.spPlus(delta));
  }

  // ---- instruction pointer --------------------------------------------------------------------

  /**
   * Sets the next instruction pointer to `target` for an operand size of `size` bytes: 2-byte
   * targets wrap to 16 bits, 4-byte to 32; in 64-bit mode a non-canonical target is #GP(0).
   * Outside 64-bit mode a target beyond the CS limit is #GP(0). Returns a fault or 0.
   */
  jumpTo(target: number, size: number): number {
    if (this.mode === MODE_LONG64) {
      if (size === 2) target &= 0xffff;
      else if (size === 4) target >>>= 0;
      if (target < -CANON || target >= CANON) return FAULT_GP0;
    } else {
      target = size === 2 ? target & 0xffff : target >>> 0;
      if (target > this.u32[segIx(SEG_CS, SEG_LIMIT)]) return FAULT_GP0;
    }
    this.nextRip = target;
    return 0;
  }
}
