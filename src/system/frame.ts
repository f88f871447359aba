/**
 * A stack that system code pushes frames onto or pops them from: interrupt and exception delivery
 * (possibly onto a new stack taken from the TSS), far CALL/RET through call gates, IRET. It is one
 * reusable object (no allocation per event) that knows the stack segment's base, the width of the
 * stack pointer (SP, ESP or RSP: 2, 4 or 8 bytes), the segment limit and type for the checks
 * outside 64-bit mode, and the privilege the accesses are made at.
 *
 * Pushes and pops go straight to memory through the MMU but move only `ptr`: nothing in the CPU
 * block changes until the caller commits `ptr` with `commitSp`, so an event whose frame faults
 * halfway leaves the guest state as it was (memory below the stack pointer may have been written,
 * as on hardware). After the first fault every further access is skipped and `fault` keeps it.
 */
import { ATTR_DB, OFF_GPR, REG_RSP, SEG_SS, type StateViews } from '../cpu/state.js';
import { VEC_SS, faultWithCode } from '../cpu/fault.js';
import type { SystemContext } from './context.js';
import { segAttr, segBaseLo, segLimit, takeMmuFault } from './segments.js';
import { MODE_LONG64, OFF_MODE } from '../cpu/state.js';

const TWO32 = 4294967296;
const CANON = 0x800000000000;
const IX_RSP = (OFF_GPR >>> 2) + REG_RSP * 2;

export class StackFrame {
  /** Linear base of the stack segment (0 in 64-bit mode). */
  base = 0;
  /** The stack pointer as an offset: unsigned outside 64-bit mode, canonical signed number in it. */
  ptr = 0;
  /** Stack-pointer width in bytes: 2 (SP), 4 (ESP), 8 (RSP, no limit checks). */
  width = 4;
  limit = 0xffffffff;
  attr = 0;
  /** Check the segment limit (protected mode; off in real mode, VM86 and 64-bit mode). */
  checkLimit = false;
  user = false;
  /** Error code for #SS when the limit or canonical check fails. */
  ssCode = 0;
  fault = 0;
  /** High half of the last pop64. */
  hi = 0;

  constructor(private readonly ctx: SystemContext) {}

  /** A frame on the stack the CPU is using now (current SS and rSP). */
  useCurrent(user: boolean, ssCode: number): void {
    const v = this.ctx.views;
    const long = v.u32[OFF_MODE >>> 2] === MODE_LONG64;
    const attr = segAttr(v, SEG_SS);
    const width = long ? 8 : (attr & ATTR_DB) !== 0 ? 4 : 2;
    const sp = width === 8 ? v.i32[IX_RSP + 1] * TWO32 + v.u32[IX_RSP] : width === 4 ? v.u32[IX_RSP] : v.u16[IX_RSP * 2];
    this.use(long ? 0 : segBaseLo(v, SEG_SS), sp, width, segLimit(v, SEG_SS), attr, !long, user, ssCode);
  }

  use(base: number, ptr: number, width: number, limit: number, attr: number, checkLimit: boolean,
      user: boolean, ssCode: number): void {
    this.base = base;
    this.ptr = ptr;
    this.width = width;
    this.limit = limit;
    this.attr = attr;
    this.checkLimit = checkLimit;
    this.user = user;
    this.ssCode = ssCode;
    this.fault = 0;
  }

  /** Linear address of n bytes at offset `off`, or NaN with `fault` set. */
  private address(off: number, n: number): number {
    if (this.width === 8) {
      if (off < -CANON || off + n > CANON) {
        this.fault = faultWithCode(VEC_SS, this.ssCode);
        return NaN;
      }
      return off;
    }
    if (this.checkLimit) {
      const end = off + n - 1;
      let ok: boolean;
      if ((this.attr & 0x0c) === 0x04) ok = off > this.limit && end <= ((this.attr & ATTR_DB) !== 0 ? 0xffffffff : 0xffff);
      else ok = end <= this.limit;
      if (!ok) {
        this.fault = faultWithCode(VEC_SS, this.ssCode);
        return NaN;
      }
    }
    return (this.base + off) >>> 0;
  }

  private wrap(p: number): number {
    return this.width === 2 ? p & 0xffff : this.width === 4 ? p >>> 0 : p;
  }

  private step(n: number): number {
    if (this.fault !== 0) return NaN;
    const p = this.wrap(this.ptr - n);
    const a = this.address(p, n);
    if (a !== a) return NaN;
    this.ptr = p;
    return a;
  }

  push16(v: number): void {
    const a = this.step(2);
    if (a !== a) return;
    this.ctx.mmu.write16(a, v & 0xffff, this.user);
    this.fault = takeMmuFault(this.ctx);
  }
  push32(v: number): void {
    const a = this.step(4);
    if (a !== a) return;
    this.ctx.mmu.write32(a, v >>> 0, this.user);
    this.fault = takeMmuFault(this.ctx);
  }
  push64(lo: number, hi: number): void {
    const a = this.step(8);
    if (a !== a) return;
    // One 8-byte store: a #PF reports its first byte (or, when it crosses a page, the first byte
    // of the page that faulted), and nothing is written unless all of it can be.
    this.ctx.mmu.write64(a, lo >>> 0, hi >>> 0, this.user);
    this.fault = takeMmuFault(this.ctx);
  }
  /** Pushes `size` (2, 4 or 8) bytes. */
  push(size: number, lo: number, hi: number): void {
    if (size === 2) this.push16(lo);
    else if (size === 4) this.push32(lo);
    else this.push64(lo, hi);
  }

  private take(n: number): number {
    if (this.fault !== 0) return NaN;
    const a = this.address(this.ptr, n);
    if (a !== a) return NaN;
    this.ptr = this.wrap(this.ptr + n);
    return a;
  }

  pop16(): number {
    const a = this.take(2);
    if (a !== a) return 0;
    const v = this.ctx.mmu.read16(a, this.user);
    this.fault = takeMmuFault(this.ctx);
    return v;
  }
  pop32(): number {
    const a = this.take(4);
    if (a !== a) return 0;
    const v = this.ctx.mmu.read32(a, this.user);
    this.fault = takeMmuFault(this.ctx);
    return v >>> 0;
  }
  pop64(): number {
    const a = this.take(8);
    if (a !== a) return 0;
    const lo = this.ctx.mmu.read32(a, this.user);
    this.hi = this.ctx.mmu.read32(a + 4, this.user) >>> 0;
    this.fault = takeMmuFault(this.ctx);
    return lo >>> 0;
  }
  /** Pops `size` bytes; the high half of an 8-byte pop is in `hi` (0 for smaller pops). */
  pop(size: number): number {
    if (size === 8) return this.pop64();
    this.hi = 0;
    return size === 2 ? this.pop16() : this.pop32();
  }
  /** Moves the pointer up by n bytes without reading (RET imm16). */
  skip(n: number): void {
    this.ptr = this.wrap(this.ptr + n);
  }

  /** Writes `ptr` into rSP with the frame's width (SP keeps RSP 63:16, ESP zeroes 63:32). */
  commitSp(v: StateViews): void {
    if (this.width === 2) v.u16[IX_RSP * 2] = this.ptr;
    else if (this.width === 4) v.set64(OFF_GPR + REG_RSP * 8, this.ptr >>> 0, 0);
    else v.set64(OFF_GPR + REG_RSP * 8, this.ptr >>> 0, Math.floor(this.ptr / TWO32) >>> 0);
  }
}
