/**
 * Linear-address access: paging, the software TLB and the faults they raise.
 *
 * Linear addresses are JS numbers. In 16/32-bit modes they are 0 .. 2^32-1; in long mode they
 * are the canonical address as a *signed* number in [-2^47, 2^47) (so 0xFFFF8000_00001000 is
 * -2^47 + 0x1000), which every double holds exactly. Callers check canonicality (#GP/#SS)
 * before they get here; `canonical(lo, hi)` builds such a number from two 32-bit halves.
 *
 * Every access names the privilege it is made at: `user` true for CPL 3 data and fetch accesses,
 * false for supervisor ones (CPL 0-2, and the implicit supervisor accesses of the system layer:
 * descriptor tables, the TSS, interrupt stacks). Accesses return their value; a failing access
 * returns 0 (or -1 from translate), records the fault value in `this.fault` (see cpu/fault.ts) and
 * the linear address in OFF_FAULT_ADDR. Callers test `mmu.fault !== 0` after an access sequence
 * and clear it with `mmu.fault = 0` before the next instruction.
 *
 * This first version implements the no-paging case only; paging and the TLB fill it in with the
 * same signatures.
 */
import { OFF_FAULT_ADDR, type StateViews } from '../cpu/state.js';
import type { PhysicalMemory } from './physmem.js';

export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_FETCH = 2;

/** A canonical 64-bit linear address from its halves, as a signed number (exact). */
export const canonical = (lo: number, hi: number): number => (hi | 0) * 4294967296 + (lo >>> 0);

export class Mmu {
  /** 0, or the fault raised by the last failing access. */
  fault = 0;

  constructor(
    readonly views: StateViews,
    readonly phys: PhysicalMemory,
  ) {}

  /**
   * Linear → physical for an access of one byte at `lin` (callers split accesses that cross a
   * page). Returns the physical address, or -1 with `fault` set.
   */
  translate(lin: number, access: number, user: boolean): number {
    void access;
    void user;
    return lin >>> 0;
  }

  read8(lin: number, user: boolean): number {
    const pa = this.translate(lin, ACCESS_READ, user);
    return pa < 0 ? 0 : this.phys.read8(pa);
  }

  read16(lin: number, user: boolean): number {
    if ((lin & 0xfff) > 0xffe) return this.read8(lin, user) | (this.read8(lin + 1, user) << 8);
    const pa = this.translate(lin, ACCESS_READ, user);
    return pa < 0 ? 0 : this.phys.read16(pa);
  }

  read32(lin: number, user: boolean): number {
    if ((lin & 0xfff) > 0xffc) return (this.read16(lin, user) | (this.read16(lin + 2, user) << 16)) >>> 0;
    const pa = this.translate(lin, ACCESS_READ, user);
    return pa < 0 ? 0 : this.phys.read32(pa);
  }

  fetch8(lin: number, user: boolean): number {
    const pa = this.translate(lin, ACCESS_FETCH, user);
    return pa < 0 ? 0 : this.phys.read8(pa);
  }

  write8(lin: number, v: number, user: boolean): void {
    const pa = this.translate(lin, ACCESS_WRITE, user);
    if (pa >= 0) this.phys.write8(pa, v);
  }

  write16(lin: number, v: number, user: boolean): void {
    if ((lin & 0xfff) > 0xffe) {
      // A split store must not write its first half if the second half faults.
      if (this.translate(lin + 1, ACCESS_WRITE, user) < 0) return;
      this.write8(lin, v & 0xff, user);
      this.write8(lin + 1, (v >>> 8) & 0xff, user);
      return;
    }
    const pa = this.translate(lin, ACCESS_WRITE, user);
    if (pa >= 0) this.phys.write16(pa, v);
  }

  write32(lin: number, v: number, user: boolean): void {
    if ((lin & 0xfff) > 0xffc) {
      if (this.translate(lin + 3, ACCESS_WRITE, user) < 0) return;
      if (this.translate(lin, ACCESS_WRITE, user) < 0) return;
      this.write16(lin, v & 0xffff, user);
      this.write16(lin + 2, (v >>> 16) & 0xffff, user);
      return;
    }
    const pa = this.translate(lin, ACCESS_WRITE, user);
    if (pa >= 0) this.phys.write32(pa, v);
  }

  /** Records a fault and the address it happened at; returns -1 for translate's convenience. */
  protected raise(f: number, lin: number): number {
    this.fault = f;
    this.views.setNum(OFF_FAULT_ADDR, lin); // halves of a negative (canonical) number come out right
    return -1;
  }

  /** Drops every cached translation (CR3 write without PGE, CR0/CR4 paging changes). */
  flushAll(): void {}
  /** Drops non-global translations (CR3 write with CR4.PGE set). */
  flushNonGlobal(): void {}
  /** Drops the translation of one page (INVLPG). */
  flushPage(lin: number): void {
    void lin;
  }
}
