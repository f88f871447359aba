/**
 * Linear-address access: paging, the software TLB and the faults they raise.
 *
 * Linear addresses are JS numbers. In 16/32-bit modes they are 0 .. 2^32-1 (anything else is
 * wrapped to 32 bits, on the slow path); in long mode they are the canonical address as a *signed*
 * number in [-2^47, 2^47) (so 0xFFFF8000_00001000 is -2^47 + 0x1000), which every double holds
 * exactly. Callers check canonicality (#GP/#SS) before they get here; `canonical(lo, hi)` builds
 * such a number from two 32-bit halves.
 *
 * Every access names the privilege it is made at: `user` true for CPL 3 data and fetch accesses,
 * false for supervisor ones (CPL 0-2, and the implicit supervisor accesses of the system layer:
 * descriptor tables, the TSS, interrupt stacks). Accesses return their value; a failing access
 * returns 0 (or -1 from translate), records the fault value in `this.fault` (see cpu/fault.ts) and
 * the linear address in OFF_FAULT_ADDR. Callers test `mmu.fault !== 0` after an access sequence
 * and clear it with `mmu.fault = 0` before the next instruction.
 *
 * Each access first probes the software TLB (tlb.ts: one tag compare and an add on a hit, the same
 * probe translated code inlines); a miss re-checks the entry's full rights, then walks the page
 * tables (paging.ts) and fills the entry. An access that crosses a page translates both pages,
 * lower first, before touching memory, so a fault on the second page reports that page's first
 * byte and a split store writes nothing. CR0, CR3, CR4 and EFER are read from the CPU block on
 * every walk; the system layer calls flushAll / flushNonGlobal / flushPage when it changes them.
 *
 * The checked mode (system/debug.ts, machine/checked.ts) sets `checked`: the TLB then keeps no
 * fast read/write tags, so every data access reaches the slow paths below, which call
 * `checkAccess` first: the alignment check (#AC(0), when `alignCheck` is on and the access is a
 * user one) and the match against the DR0-DR3 data watches (`watchHits`). The fast paths carry
 * no test for either.
 */
import { faultWithCode, VEC_AC, VEC_PF } from '../cpu/fault.js';
import {
  CR0_PG, CR4_PAE, EFER_LMA, OFF_CR0, OFF_CR3, OFF_CR4, OFF_EFER, OFF_FAULT_ADDR, RAM_BASE, type StateViews,
} from '../cpu/state.js';
import { PageWalker } from './paging.js';
import type { PhysicalMemory } from './physmem.js';
import {
  PERM_R, PERM_W, PERM_X, TAG_SHIFT, TE_FETCH, TE_HOST, TE_READ, TE_PA_HI, TE_PA_LO, TE_PERM, TE_TAG, TE_WRITE, Tlb,
  TLB_MASK, TLB_USER_WORDS, TLB_WORD,
} from './tlb.js';

export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_FETCH = 2;

/** A canonical 64-bit linear address from its halves, as a signed number (exact). */
export const canonical = (lo: number, hi: number): number => (hi | 0) * 4294967296 + (lo >>> 0);

if (TE_READ !== ACCESS_READ || TE_WRITE !== ACCESS_WRITE || TE_FETCH !== ACCESS_FETCH) {
  throw new Error('TLB fast-tag words must be indexed by the access kind');
}

const TWO32 = 4294967296;
/** 2^-TAG_SHIFT: on the fast path the tag is floor(lin / 2^24), exact for canonical addresses. */
const TAG_SCALE = 1 / (1 << TAG_SHIFT);
const IX_CR0 = OFF_CR0 >> 2;
const IX_CR3 = OFF_CR3 >> 2;
const IX_CR4 = OFF_CR4 >> 2;
const IX_EFER = OFF_EFER >> 2;
const FAULT_AC0 = faultWithCode(VEC_AC, 0);

export class Mmu {
  /** 0, or the fault raised by the last failing access. */
  fault = 0;
  /** High 32 bits of the value read by the last read64. */
  hi = 0;
  readonly tlb: Tlb;
  readonly walker: PageWalker;
  /** Checked mode: every data access takes the slow path through checkAccess (setChecked). */
  checked = false;
  /** #AC(0) for misaligned user (CPL 3) data accesses; set per instruction by the checked mode. */
  alignCheck = false;
  /** Data watches (system/debug.ts loadWatches): B-bit masks, and base and length of DR0-DR3. */
  watchReads = 0;
  watchWrites = 0;
  readonly watchBase = new Float64Array(4);
  readonly watchLen = new Int32Array(4);
  /** B0-B3 bits of the watches the accesses since the last reset touched. */
  watchHits = 0;
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  private readonly u16: Uint16Array;
  private readonly u8: Uint8Array;
  private readonly dv: DataView;

  constructor(
    readonly views: StateViews,
    readonly phys: PhysicalMemory,
  ) {
    this.i32 = views.i32;
    this.u32 = views.u32;
    this.u16 = views.u16;
    this.u8 = views.u8;
    this.dv = views.dv;
    this.tlb = new Tlb(views, phys.ramSize);
    this.walker = new PageWalker(phys);
  }

  /**
   * Linear → physical for an access of one byte at `lin` (callers split accesses that cross a
   * page). Returns the physical address, or -1 with `fault` set. A write sets the dirty bit.
   */
  translate(lin: number, access: number, user: boolean): number {
    // Fast tags sit at word `access` of an entry (TE_READ/TE_WRITE/TE_FETCH = ACCESS_*).
    const lo = lin | 0;
    const e = TLB_WORD + (((lo >>> 12) & TLB_MASK) << 3) + (user ? TLB_USER_WORDS : 0);
    if (this.i32[e + access] === (Math.floor(lin * TAG_SCALE) | 0)) return this.u32[e + TE_HOST] - RAM_BASE + (lo & 0xfff);
    return this.translateSlow(lin, access, user);
  }

  private translateSlow(lin: number, access: number, user: boolean): number {
    const u32 = this.u32;
    if ((u32[IX_EFER] & EFER_LMA) === 0) lin = lin >>> 0;
    const lo = lin | 0;
    const hi = (lin - (lin >>> 0)) / TWO32;
    const e = TLB_WORD + (((lo >>> 12) & TLB_MASK) << 3) + (user ? TLB_USER_WORDS : 0);
    const tag = (lo >>> 24) | (hi << 8);
    const i32 = this.i32;
    if (i32[e + TE_TAG] === tag) {
      const need = access === ACCESS_READ ? PERM_R : access === ACCESS_WRITE ? PERM_W : PERM_X;
      if ((i32[e + TE_PERM] & need) !== 0) {
        // A slow-path store to a page that stopped holding code can go fast again.
        if (access === ACCESS_WRITE && i32[e + TE_WRITE] !== tag) this.tlb.allowFastWrite(e);
        return u32[e + TE_PA_HI] * TWO32 + u32[e + TE_PA_LO] + (lo & 0xfff);
      }
    }
    return this.miss(lin, lo, hi, access, user, e, tag);
  }

  /** Walks the page tables (or maps 1:1 without paging) and fills TLB slot `e`. */
  private miss(lin: number, lo: number, hi: number, access: number, user: boolean, e: number, tag: number): number {
    const u32 = this.u32;
    const cr0 = u32[IX_CR0];
    let pa: number;
    let perm: number;
    if ((cr0 & CR0_PG) === 0) {
      pa = (lo & 0xfffff000) >>> 0;
      perm = PERM_R | PERM_W | PERM_X;
    } else {
      const cr4 = u32[IX_CR4];
      const efer = u32[IX_EFER];
      const mode = (efer & EFER_LMA) !== 0 ? 3 : (cr4 & CR4_PAE) !== 0 ? 2 : 1;
      const w = this.walker;
      const f = w.walk(mode, lo, hi, access, user, cr0, u32[IX_CR3], u32[IX_CR3 + 1], cr4, efer);
      if (f !== 0) return this.raise(f, lin);
      pa = w.pa;
      perm = w.perm;
    }
    this.tlb.install(e, tag, perm, pa);
    return pa + (lo & 0xfff);
  }

  // ---- reads: TLB hit inline, everything else in readSlow ------------------------------------

  read8(lin: number, user: boolean): number {
    const lo = lin | 0;
    const e = TLB_WORD + (((lo >>> 12) & TLB_MASK) << 3) + (user ? TLB_USER_WORDS : 0);
    if (this.i32[e] === (Math.floor(lin * TAG_SCALE) | 0)) {
      return this.u8[this.u32[e + TE_HOST] + (lo & 0xfff)];
    }
    return this.readSlow(lin, 1, user);
  }

  read16(lin: number, user: boolean): number {
    const lo = lin | 0;
    const e = TLB_WORD + (((lo >>> 12) & TLB_MASK) << 3) + (user ? TLB_USER_WORDS : 0);
    if ((lo & 0xfff) <= 0xffe && this.i32[e] === (Math.floor(lin * TAG_SCALE) | 0)) {
      const a = this.u32[e + TE_HOST] + (lo & 0xfff);
      return (a & 1) === 0 ? this.u16[a >>> 1] : this.dv.getUint16(a, true);
    }
    return this.readSlow(lin, 2, user);
  }

  read32(lin: number, user: boolean): number {
    const lo = lin | 0;
    const e = TLB_WORD + (((lo >>> 12) & TLB_MASK) << 3) + (user ? TLB_USER_WORDS : 0);
    if ((lo & 0xfff) <= 0xffc && this.i32[e] === (Math.floor(lin * TAG_SCALE) | 0)) {
      const a = this.u32[e + TE_HOST] + (lo & 0xfff);
      return (a & 3) === 0 ? this.u32[a >>> 2] : this.dv.getUint32(a, true);
    }
    return this.readSlow(lin, 4, user);
  }

  /** A 64-bit read: returns the low half, leaves the high half in `this.hi`. */
  read64(lin: number, user: boolean): number {
    if (this.checked && !this.checkAccess(lin, 8, ACCESS_READ, user)) return (this.hi = 0);
    if ((lin & 0xfff) > 0xff8) return this.split(lin, 8, ACCESS_READ, 0, 0, user);
    const pa = this.translate(lin, ACCESS_READ, user);
    if (pa < 0) return (this.hi = 0);
    this.hi = this.phys.read32(pa + 4);
    return this.phys.read32(pa);
  }

  fetch8(lin: number, user: boolean): number {
    const lo = lin | 0;
    const e = TLB_WORD + (((lo >>> 12) & TLB_MASK) << 3) + (user ? TLB_USER_WORDS : 0);
    if (this.i32[e + TE_FETCH] === (Math.floor(lin * TAG_SCALE) | 0)) {
      return this.u8[this.u32[e + TE_HOST] + (lo & 0xfff)];
    }
    const pa = this.translate(lin, ACCESS_FETCH, user);
    return pa < 0 ? 0 : this.phys.read8(pa);
  }

  private readSlow(lin: number, size: number, user: boolean): number {
    if (this.checked && !this.checkAccess(lin, size, ACCESS_READ, user)) return 0;
    if ((lin & 0xfff) + size > 4096) return this.split(lin, size, ACCESS_READ, 0, 0, user);
    const pa = this.translate(lin, ACCESS_READ, user);
    if (pa < 0) return 0;
    return size === 1 ? this.phys.read8(pa) : size === 2 ? this.phys.read16(pa) : this.phys.read32(pa);
  }

  // ---- writes ---------------------------------------------------------------------------------

  write8(lin: number, v: number, user: boolean): void {
    const lo = lin | 0;
    const e = TLB_WORD + (((lo >>> 12) & TLB_MASK) << 3) + (user ? TLB_USER_WORDS : 0);
    if (this.i32[e + TE_WRITE] === (Math.floor(lin * TAG_SCALE) | 0)) {
      this.u8[this.u32[e + TE_HOST] + (lo & 0xfff)] = v;
      return;
    }
    this.writeSlow(lin, v, 1, user);
  }

  write16(lin: number, v: number, user: boolean): void {
    const lo = lin | 0;
    const e = TLB_WORD + (((lo >>> 12) & TLB_MASK) << 3) + (user ? TLB_USER_WORDS : 0);
    if ((lo & 0xfff) <= 0xffe && this.i32[e + TE_WRITE] === (Math.floor(lin * TAG_SCALE) | 0)) {
      const a = this.u32[e + TE_HOST] + (lo & 0xfff);
      if ((a & 1) === 0) this.u16[a >>> 1] = v;
      else this.dv.setUint16(a, v, true);
      return;
    }
    this.writeSlow(lin, v, 2, user);
  }

  write32(lin: number, v: number, user: boolean): void {
    const lo = lin | 0;
    const e = TLB_WORD + (((lo >>> 12) & TLB_MASK) << 3) + (user ? TLB_USER_WORDS : 0);
    if ((lo & 0xfff) <= 0xffc && this.i32[e + TE_WRITE] === (Math.floor(lin * TAG_SCALE) | 0)) {
      const a = this.u32[e + TE_HOST] + (lo & 0xfff);
      if ((a & 3) === 0) this.u32[a >>> 2] = v;
      else this.dv.setUint32(a, v >>> 0, true);
      return;
    }
    this.writeSlow(lin, v, 4, user);
  }

  /** A 64-bit write of (lo, hi); nothing is written if any byte's page faults. */
  write64(lin: number, lo: number, hi: number, user: boolean): void {
    if (this.checked && !this.checkAccess(lin, 8, ACCESS_WRITE, user)) return;
    if ((lin & 0xfff) > 0xff8) {
      this.split(lin, 8, ACCESS_WRITE, lo, hi, user);
      return;
    }
    const pa = this.translate(lin, ACCESS_WRITE, user);
    if (pa < 0) return;
    this.phys.write32(pa, lo);
    this.phys.write32(pa + 4, hi);
  }

  private writeSlow(lin: number, v: number, size: number, user: boolean): void {
    if (this.checked && !this.checkAccess(lin, size, ACCESS_WRITE, user)) return;
    if ((lin & 0xfff) + size > 4096) {
      this.split(lin, size, ACCESS_WRITE, v, 0, user);
      return;
    }
    const pa = this.translate(lin, ACCESS_WRITE, user);
    if (pa < 0) return;
    if (size === 1) this.phys.write8(pa, v);
    else if (size === 2) this.phys.write16(pa, v);
    else this.phys.write32(pa, v);
  }

  /**
   * An access of `size` bytes (2..8) that crosses into the next page: translates the lower page,
   * then the upper one, and only then moves the bytes (little-endian; `lo`/`hi` hold the value of a
   * write). Reads return the low 32 bits and leave bits 63:32 in `this.hi`.
   */
  private split(lin: number, size: number, access: number, lo: number, hi: number, user: boolean): number {
    const off = lin & 0xfff;
    const pa1 = this.translate(lin, access, user);
    if (pa1 < 0) return (this.hi = 0);
    const pa2 = this.translate(lin - off + 4096, access, user);
    if (pa2 < 0) return (this.hi = 0);
    const n1 = 4096 - off;
    const phys = this.phys;
    if (access === ACCESS_WRITE) {
      for (let i = 0; i < size; i++) {
        const b = i < 4 ? lo >>> (i * 8) : hi >>> ((i - 4) * 8);
        if (i < n1) phys.write8(pa1 + i, b & 0xff);
        else phys.write8(pa2 + i - n1, b & 0xff);
      }
      return 0;
    }
    let rlo = 0;
    let rhi = 0;
    for (let i = 0; i < size; i++) {
      const b = i < n1 ? phys.read8(pa1 + i) : phys.read8(pa2 + i - n1);
      if (i < 4) rlo |= b << (i * 8);
      else rhi |= b << ((i - 4) * 8);
    }
    this.hi = rhi >>> 0;
    return rlo >>> 0;
  }

  // ---- the checked mode ------------------------------------------------------------------------

  /** Enters or leaves the checked mode; the TLB is flushed either way (fast tags off, then on). */
  setChecked(on: boolean): void {
    this.checked = on;
    this.tlb.checked = on;
    this.tlb.flushAll();
    if (!on) {
      this.alignCheck = false;
      this.watchReads = 0;
      this.watchWrites = 0;
    }
  }

  /**
   * The checks of one data access of `size` bytes: false (with `fault` set) when it raises #AC(0),
   * else true after recording which data watches it touches. #AC needs CR0.AM, RFLAGS.AC (both
   * in `alignCheck`) and CPL 3: only user accesses are checked, so the implicit supervisor accesses
   * of the system layer (descriptor tables, the TSS, interrupt frames) never are, as the SDM says.
   * A page fault on the same access wins (SDM Table 6-2 ranks #PF above #AC): both pages are
   * translated before #AC is raised.
   */
  private checkAccess(lin: number, size: number, access: number, user: boolean): boolean {
    if ((this.u32[IX_EFER] & EFER_LMA) === 0) lin = lin >>> 0;
    if (this.alignCheck && user && (lin & (size - 1)) !== 0) {
      if (this.translate(lin, access, user) < 0) return false;
      const off = lin & 0xfff;
      if (off + size > 4096 && this.translate(lin - off + 4096, access, user) < 0) return false;
      this.fault = FAULT_AC0;
      return false;
    }
    const watch = access === ACCESS_WRITE ? this.watchWrites : this.watchReads;
    if (watch !== 0) {
      for (let n = 0; n < 4; n++) {
        if (((watch >>> n) & 1) !== 0 && lin < this.watchBase[n] + this.watchLen[n] && this.watchBase[n] < lin + size) {
          this.watchHits |= 1 << n;
        }
      }
    }
    return true;
  }

  /** Records a fault and the address it happened at; returns -1 for translate's convenience. */
  protected raise(f: number, lin: number): number {
    this.fault = f;
    this.views.setNum(OFF_FAULT_ADDR, lin); // halves of a negative (canonical) number come out right
    return -1;
  }

  // ---- flushes, called by the system layer and the translator ---------------------------------

  /** Drops every cached translation (CR3 write without PGE, CR0/CR4 paging changes). */
  flushAll(): void {
    this.tlb.flushAll();
  }
  /** Drops non-global translations (CR3 write with CR4.PGE set). */
  flushNonGlobal(): void {
    this.tlb.flushNonGlobal();
  }
  /** Drops the translation of one page (INVLPG), global or not, at every privilege. */
  flushPage(lin: number): void {
    if ((this.u32[IX_EFER] & EFER_LMA) === 0) lin = lin >>> 0;
    this.tlb.flushPage(lin | 0, (lin - (lin >>> 0)) / TWO32);
  }
  /** Forces stores to physical page number `page` onto the slow path (it now holds code). */
  invalidatePhysPage(page: number): void {
    this.tlb.invalidatePhysPage(page);
  }
  /** For MOV CR3 under PAE paging: 0, or #GP(0) when a present PDPTE has reserved bits set. */
  checkPdptes(): number {
    return this.walker.checkPdptes(this.u32[IX_CR3]);
  }
}

/** The #PF fault value for an error code (for tests and the system layer). */
export const pageFault = (errorCode: number): number => faultWithCode(VEC_PF, errorCode);
