/**
 * The software TLB: cached linear → physical translations in the one WebAssembly.Memory at
 * TLB_BASE, so the interpreter (through typed arrays) and translated code (through i32.load) probe
 * the same entries. Only the walker in mmu.ts fills it; the system layer flushes it through Mmu.
 *
 * Two direct-mapped tables of TLB_ENTRIES entries, supervisor first, then user (CPL 3). An entry
 * is 8 little-endian 32-bit words (32 bytes) at TLB_BASE + (priv * TLB_ENTRIES + index) * 32:
 *
 *   +0  READ   tag if a read may take the fast path, else TLB_INVALID
 *   +4  WRITE  tag if a write may take the fast path (writable, dirty, plain RAM, not a code page)
 *   +8  FETCH  tag if an instruction fetch may take the fast path
 *   +12 HOST   byte offset in the memory of the 4 KiB page (RAM_BASE + physical page address), u32
 *   +16 TAG    tag of the translation whatever its fast-path rights, else TLB_INVALID
 *   +20 PERM   PERM_* bits: what the page allows at this privilege (W only once the page is dirty)
 *   +24 PA_LO  physical page address, low 32 bits
 *   +28 PA_HI  physical page address, high bits (physical addresses reach 2^52 under PAE)
 *
 *   index = (lin >> 12) & TLB_MASK
 *   tag   = low 32 bits of (lin >> TAG_SHIFT)   (arithmetic shift of the 64-bit address)
 *         = (lo >>> 24) | (hi << 8)             (from 32-bit halves; hi = 0 outside long mode)
 *         = Math.floor(lin / 2^24) | 0          (from the JS number: what mmu.ts's fast path does)
 *
 * A tag never equals TLB_INVALID for a canonical address (|lin >> 24| < 2^24). The fast path is a
 * compare of one tag word and one add; a miss (or a page that is MMIO, ROM, a code page, or not yet
 * dirty) goes to the slow path, which first re-checks TAG/PERM before walking the page tables.
 * Entries hold 4 KiB pages; a large page fills one entry per 4 KiB piece used (marked PERM_LARGE
 * so INVLPG of any address drops them all). A list of the slots in use keeps flushes cheap.
 *
 * While `checked` is set (the checked mode of system/debug.ts), entries get no READ/WRITE fast
 * tags, so every data access takes the MMU's slow path where the #AC and data-breakpoint checks
 * live; FETCH stays fast. Mmu.setChecked flushes the table on entry and exit.
 */
import { CODE_BITMAP_BASE, RAM_BASE, TLB_BASE, TLB_SIZE, type StateViews } from '../cpu/state.js';
import { ROM_END, ROM_START } from './physmem.js';

export const TLB_BITS = 12;
/** Entries per privilege table. */
export const TLB_ENTRIES = 1 << TLB_BITS;
export const TLB_MASK = TLB_ENTRIES - 1;
export const TLB_ENTRY_BYTES = 32;
/** Bytes of the TLB region this layout uses (the rest of TLB_SIZE is free). */
export const TLB_USED_BYTES = 2 * TLB_ENTRIES * TLB_ENTRY_BYTES;
/** Word offset of the first user-privilege entry from the first supervisor one. */
export const TLB_USER_WORDS = (TLB_ENTRIES * TLB_ENTRY_BYTES) >> 2;
/** Word index (into a Uint32Array/Int32Array over the memory) of the first entry. */
export const TLB_WORD = TLB_BASE >> 2;
/** Bits of the linear address below the tag: page offset plus index. */
export const TAG_SHIFT = 12 + TLB_BITS;

// word offsets inside one entry
export const TE_READ = 0;
export const TE_WRITE = 1;
export const TE_FETCH = 2;
export const TE_HOST = 3;
export const TE_TAG = 4;
export const TE_PERM = 5;
export const TE_PA_LO = 6;
export const TE_PA_HI = 7;

export const TLB_INVALID = -0x80000000;

export const PERM_R = 1;
export const PERM_W = 2; // write allowed at this privilege *and* the dirty bit is already set
export const PERM_X = 4;
export const PERM_GLOBAL = 8; // CR4.PGE and G in the leaf: survives flushNonGlobal
export const PERM_LARGE = 16; // came from a 2 MiB / 4 MiB / 1 GiB page

/** The tag of a linear address from its halves (hi = 0 outside long mode). */
export const tlbTag = (lo: number, hi: number): number => (lo >>> TAG_SHIFT) | (hi << (32 - TAG_SHIFT));
/** Word index of the entry for a linear address's low half at a privilege. */
export const tlbEntryWord = (lo: number, user: boolean): number =>
  TLB_WORD + (((lo >>> 12) & TLB_MASK) << 3) + (user ? TLB_USER_WORDS : 0);

if (TLB_USED_BYTES > TLB_SIZE) throw new Error('TLB layout does not fit its region');

export class Tlb {
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  private readonly u8: Uint8Array;
  /** Slots (entry word indexes) that may hold a valid entry, and whether each is listed. */
  private readonly used = new Int32Array(2 * TLB_ENTRIES);
  private readonly listed = new Uint8Array(2 * TLB_ENTRIES);
  private usedCount = 0;
  /** Entries filled from large pages since the last full flush. */
  private largeCount = 0;
  /** Checked mode: install no fast read/write tags (see the header). */
  checked = false;
  /** Statistics: fills and flushes (for --stats). */
  fills = 0;
  flushes = 0;

  constructor(
    views: StateViews,
    private readonly ramSize: number,
  ) {
    this.i32 = views.i32;
    this.u32 = views.u32;
    this.u8 = views.u8;
    this.reset();
  }

  /** Invalidates every entry by writing the whole table (the memory starts zeroed: tag 0 is valid). */
  reset(): void {
    this.i32.fill(TLB_INVALID, TLB_WORD, TLB_WORD + (TLB_USED_BYTES >> 2));
    this.listed.fill(0);
    this.usedCount = 0;
    this.largeCount = 0;
  }

  /** True when stores to physical page `pa` (4 KiB aligned) may go straight to the memory. */
  fastWritable(pa: number): boolean {
    if (pa + 4096 > this.ramSize || (pa < ROM_END && pa + 4096 > ROM_START)) return false;
    const page = pa / 4096;
    return (this.u8[CODE_BITMAP_BASE + (page >>> 3)] & (1 << (page & 7))) === 0;
  }

  /** Fills slot `e` (an entry word index) with a translation to physical page `pa`. */
  install(e: number, tag: number, perm: number, pa: number): void {
    const i32 = this.i32;
    const ram = pa + 4096 <= this.ramSize;
    const fast = !this.checked;
    i32[e + TE_READ] = fast && ram && (perm & PERM_R) !== 0 ? tag : TLB_INVALID;
    i32[e + TE_WRITE] = fast && (perm & PERM_W) !== 0 && this.fastWritable(pa) ? tag : TLB_INVALID;
    i32[e + TE_FETCH] = ram && (perm & PERM_X) !== 0 ? tag : TLB_INVALID;
    this.u32[e + TE_HOST] = ram ? RAM_BASE + pa : 0;
    i32[e + TE_TAG] = tag;
    i32[e + TE_PERM] = perm;
    this.u32[e + TE_PA_LO] = pa >>> 0;
    this.u32[e + TE_PA_HI] = Math.floor(pa / 4294967296);
    if ((perm & PERM_LARGE) !== 0) this.largeCount++;
    const slot = (e - TLB_WORD) >> 3;
    if (this.listed[slot] === 0) {
      this.listed[slot] = 1;
      this.used[this.usedCount++] = e;
    }
    this.fills++;
  }

  /** Re-allows fast stores through slot `e` once its page stopped being a code page. */
  allowFastWrite(e: number): void {
    if (this.checked) return;
    const pa = this.u32[e + TE_PA_HI] * 4294967296 + this.u32[e + TE_PA_LO];
    if ((this.i32[e + TE_PERM] & PERM_W) !== 0 && this.fastWritable(pa)) this.i32[e + TE_WRITE] = this.i32[e + TE_TAG];
  }

  private invalidate(e: number): void {
    const i32 = this.i32;
    i32[e + TE_READ] = TLB_INVALID;
    i32[e + TE_WRITE] = TLB_INVALID;
    i32[e + TE_FETCH] = TLB_INVALID;
    i32[e + TE_TAG] = TLB_INVALID;
    i32[e + TE_PERM] = 0;
  }

  /** Drops every entry (CR3 write without PGE, CR0.PG/WP and CR4 paging-bit changes). */
  flushAll(): void {
    const used = this.used;
    for (let i = 0; i < this.usedCount; i++) {
      const e = used[i];
      this.invalidate(e);
      this.listed[(e - TLB_WORD) >> 3] = 0;
    }
    this.usedCount = 0;
    this.largeCount = 0;
    this.flushes++;
  }

  /** Drops every entry not marked global (CR3 write with CR4.PGE). */
  flushNonGlobal(): void {
    const used = this.used;
    const i32 = this.i32;
    let keep = 0;
    let large = 0;
    for (let i = 0; i < this.usedCount; i++) {
      const e = used[i];
      const perm = i32[e + TE_PERM];
      if (i32[e + TE_TAG] !== TLB_INVALID && (perm & PERM_GLOBAL) !== 0) {
        used[keep++] = e;
        if ((perm & PERM_LARGE) !== 0) large++;
      } else {
        this.invalidate(e);
        this.listed[(e - TLB_WORD) >> 3] = 0;
      }
    }
    this.usedCount = keep;
    this.largeCount = large;
    this.flushes++;
  }

  /**
   * Drops the translations of the page holding the linear address (lo, hi) at both privileges,
   * global or not (INVLPG). When large pages are cached, drops every large-page entry too, since
   * any of them may belong to the large page INVLPG names.
   */
  flushPage(lo: number, hi: number): void {
    const tag = tlbTag(lo, hi);
    const e0 = tlbEntryWord(lo, false);
    const e1 = e0 + TLB_USER_WORDS;
    if (this.i32[e0 + TE_TAG] === tag) this.invalidate(e0);
    if (this.i32[e1 + TE_TAG] === tag) this.invalidate(e1);
    if (this.largeCount === 0) return;
    const used = this.used;
    for (let i = 0; i < this.usedCount; i++) {
      const e = used[i];
      if ((this.i32[e + TE_PERM] & PERM_LARGE) !== 0) this.invalidate(e);
    }
    this.largeCount = 0;
  }

  /**
   * Drops the fast-write right of every entry mapping physical page number `page`: call it when
   * a page becomes a code page (after setting its bit in the code-page bitmap). Reads and fetches
   * stay fast; stores then take the slow path through PhysicalMemory, which calls onCodeWrite.
   */
  invalidatePhysPage(page: number): void {
    const pa = page * 4096;
    const lo = pa >>> 0;
    const hi = Math.floor(pa / 4294967296);
    const used = this.used;
    const i32 = this.i32;
    const u32 = this.u32;
    for (let i = 0; i < this.usedCount; i++) {
      const e = used[i];
      if (u32[e + TE_PA_LO] === lo && u32[e + TE_PA_HI] === hi) i32[e + TE_WRITE] = TLB_INVALID;
    }
  }

  /** Number of slots that may hold an entry (for statistics and tests). */
  get size(): number {
    return this.usedCount;
  }
}
