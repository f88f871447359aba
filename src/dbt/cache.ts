/**
 * The translation cache: translated blocks by key, the blocks of each guest-physical page (for
 * page-indexed invalidation), and the code-page bitmap marks (ARCHITECTURE.md §5).
 *
 * Key (--tc-index): `phys` uses the guest-physical address of the block's first byte, `virt` and
 * `virt-noflush` its linear address; both are combined with the mode bits that change the
 * translation (MODE_*, CPL, SS.B, flat 32-bit segments) as key = address * 128 + modeKey (exact in
 * a double: addresses are below 2^47). A block is entered only while `valid`; invalidation and flushes clear it, so a
 * stale reference held by the dispatcher cannot run.
 */
import { CODE_BITMAP_BASE } from '../cpu/state.js';
import type { Decoded } from '../cpu/decoded.js';

export const INDEX_PHYS = 0;
export const INDEX_VIRT = 1;
export const INDEX_VIRT_NOFLUSH = 2;
export const INDEX_NAMES = ['phys', 'virt', 'virt-noflush'];

export class Block {
  valid = true;
  /** Times entered before translation (hotness). */
  hits = 0;
  /** The compiled region function holding this block, once translated, its id (table index) and
   *  the block's index in it. */
  fn: ((start: number, pageOff: number, budget: number, done: number) => number) | null = null;
  regionId = 0;
  regionIdx = 0;
  /** The blocks of that region, by index. */
  region: Block[] = [];
  /** A module holding this block is being compiled in the background (do not start another). */
  compiling = false;
  /** Sequence number of the module that gave `fn`: an older module landing later does not replace it. */
  seq = 0;
  /** Direct links between blocks compiled into that region (chains), counted once per region. */
  regionLinks = 0;
  /** An empty block: the row of the sensitive or privileged instruction at its address, else -1. */
  trapRow = -1;
  /** An empty block standing for a demoted page (code and hot data share it): interpreted. */
  demoted = false;
  constructor(
    readonly key: number,
    readonly pa: number,
    /** Linear address and RIP the block was decoded at (outside 64-bit mode RIP must match). */
    readonly lin: number,
    readonly rip: number,
    readonly mode: number,
    readonly user: boolean,
    readonly insns: Decoded[],
    readonly offs: number[],
    readonly bytes: number,
    readonly endsBranch: boolean,
    /** Global helper number of instruction 0. */
    readonly gidBase: number,
    /** CS base and limit it was decoded under (checked outside 64-bit mode). */
    readonly csBase: number,
    readonly csLimit: number,
    /** MODE_* | CPL << 3 | SS.B << 5 | flat-segments << 6. */
    readonly modeKey: number,
  ) {}
  get n(): number {
    return this.insns.length;
  }
}

export class TranslationCache {
  readonly map = new Map<number, Block>();
  /** Physical page number -> blocks decoded from it. */
  readonly pages = new Map<number, Block[]>();
  count = 0;

  constructor(private readonly u8: Uint8Array) {}

  get(key: number): Block | undefined {
    return this.map.get(key);
  }

  /** Adds a block and marks its page as holding code; returns true when the page is newly marked. */
  add(b: Block): boolean {
    this.map.set(b.key, b);
    this.count++;
    const page = Math.floor(b.pa / 4096);
    let list = this.pages.get(page);
    let fresh = false;
    if (list === undefined) {
      list = [];
      this.pages.set(page, list);
      fresh = true;
    }
    list.push(b);
    this.u8[CODE_BITMAP_BASE + (page >>> 3)] |= 1 << (page & 7);
    return fresh;
  }

  /** Drops every block of physical page `page`; returns how many. */
  invalidatePage(page: number): number {
    const list = this.pages.get(page);
    if (list === undefined) return 0;
    this.pages.delete(page);
    for (const b of list) {
      b.valid = false;
      if (this.map.get(b.key) === b) this.map.delete(b.key);
      this.count--;
    }
    this.u8[CODE_BITMAP_BASE + (page >>> 3)] &= ~(1 << (page & 7));
    return list.length;
  }

  /** Drops everything (size limit reached, CR3 write under virtual indexing). */
  flush(): void {
    for (const page of [...this.pages.keys()]) this.invalidatePage(page);
    this.map.clear();
    this.count = 0;
  }
}
