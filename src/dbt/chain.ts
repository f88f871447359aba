/**
 * Chaining across regions: a jump cache in the shared memory that translated code probes itself
 * (ARCHITECTURE.md §4, "indirect jumps and returns resolved by a hash lookup in wasm"). A region
 * function that leaves for a RIP outside its own blocks (a branch into another page, a RET or an
 * indirect jump to another page, a link the budget refused) looks the RIP up here and, on a hit,
 * tail-calls the target's region function through the shared WebAssembly.Table
 * (`return_call_indirect`) instead of returning to the JavaScript run loop.
 *
 * The engine fills an entry whenever its run loop enters a translated block, and empties every
 * entry of a region when its blocks are invalidated or flushed. An entry is only taken while the target's
 * translation still holds: same linear address and mode key, and the software TLB's FETCH entry
 * for that address (so the page is still mapped and executable at this privilege) pointing to the
 * physical page the block was translated from. A miss costs nothing but a return to the run loop.
 *
 * Entry (JC_BYTES, at JC_BASE + hash(lin) * JC_BYTES), 32-bit words:
 *   0, 1  linear address of the block (u64)
 *   2     region id + 1 (its table index + 1); 0 = empty
 *   3     the block's index in its region (the function's `start`)
 *   4     the block's length in instructions (the budget test)
 *   5, 6  physical address of its page (u64, as the TLB's PA words)
 *   7     the mode key it was translated under
 */
import { OFF_RIP, TC_INDEX_BASE, TLB_BASE } from '../cpu/state.js';
import { TE_FETCH, TE_PA_HI, TE_PA_LO, TLB_MASK, TLB_USER_WORDS } from '../mmu/tlb.js';
import { type FuncBody, OP, VOID } from './wasm/encoder.js';

export const JC_BASE = TC_INDEX_BASE + 0x100;
export const JC_ENTRIES = 4096;
export const JC_BYTES = 32;

/** Entry of linear address lin (low word lo): the same hash in JavaScript and in wasm. */
export function jcSlot(lo: number): number {
  return ((lo ^ (lo >>> 12)) & (JC_ENTRIES - 1)) >>> 0;
}

/**
 * The engine's side: fills entries and clears every entry of a region before its function is
 * dropped from the table (a tail call through an empty table slot would trap): each region keeps
 * the list of slots that were filled for it.
 */
export class ChainCache {
  private readonly slotsOf = new Map<number, number[]>();

  constructor(private readonly u32: Uint32Array) {}

  /** Records block `start` of region `regionId` (length n, physical page of pa) at `lin`. */
  fill(lin: number, regionId: number, start: number, n: number, pa: number, modeKey: number): void {
    const lo = lin >>> 0;
    const hi = Math.floor(lin / 4294967296) >>> 0;
    const slot = jcSlot(lo);
    const w = (JC_BASE + slot * JC_BYTES) >> 2;
    const u32 = this.u32;
    if (u32[w] === lo && u32[w + 1] === hi && u32[w + 2] === regionId + 1 && u32[w + 3] === start) return;
    u32[w] = lo;
    u32[w + 1] = hi;
    u32[w + 2] = regionId + 1;
    u32[w + 3] = start;
    u32[w + 4] = n;
    const page = pa - (pa % 4096);
    u32[w + 5] = page >>> 0;
    u32[w + 6] = Math.floor(page / 4294967296);
    u32[w + 7] = modeKey;
    let list = this.slotsOf.get(regionId);
    if (list === undefined) this.slotsOf.set(regionId, (list = []));
    list.push(slot);
  }

  /** Empties every entry that leads into region `regionId`. */
  dropRegion(regionId: number): void {
    const list = this.slotsOf.get(regionId);
    if (list === undefined) return;
    this.slotsOf.delete(regionId);
    for (const slot of list) {
      const w = (JC_BASE + slot * JC_BYTES) >> 2;
      if (this.u32[w + 2] === regionId + 1) this.u32[w + 2] = 0;
    }
  }

  clearAll(): void {
    this.u32.fill(0, JC_BASE >> 2, (JC_BASE + JC_ENTRIES * JC_BYTES) >> 2);
    this.slotsOf.clear();
  }
}

/** Locals and facts the lookup needs from the region function being emitted. */
export interface ChainSite {
  /** i64 scratch local, and three i32 scratch locals. */
  t: number;
  lo: number;
  e: number;
  te: number;
  /** i32: instructions done before the block that left, and that block's length. */
  done: number;
  blkN: number;
  /** The function's budget parameter. */
  budget: number;
  user: boolean;
  modeKey: number;
  /** Type index of the region functions (for return_call_indirect). */
  typeIndex: number;
  /** Scratch word counting the tail calls taken. */
  counter: number;
}

/**
 * Emits, for a function whose block completed and stored the next RIP (registers, flags and
 * scratch words already in memory): look the RIP up and tail-call the region holding it when the
 * entry is valid and the budget allows; otherwise fall through (the function then returns 0).
 */
export function emitChainLookup(f: FuncBody, s: ChainSite): void {
  f.i32(0).mem(OP.i64Load, 3, OFF_RIP).set(s.t);
  f.get(s.t).op(OP.i32WrapI64).tee(s.lo);
  f.get(s.lo).i32(12).op(OP.i32ShrU).op(OP.i32Xor).i32(JC_ENTRIES - 1).op(OP.i32And).i32(5).op(OP.i32Shl)
    .i32(JC_BASE).op(OP.i32Add).set(s.e);
  f.begin(OP.block, VOID);
  // the entry: this address, filled, same mode key, and the target fits the budget
  f.get(s.e).mem(OP.i64Load, 3, 0).get(s.t).op(OP.i64Ne).br(OP.brIf, 0);
  f.get(s.e).mem(OP.i32Load, 2, 8).op(OP.i32Eqz).br(OP.brIf, 0);
  f.get(s.e).mem(OP.i32Load, 2, 28).i32(s.modeKey).op(OP.i32Ne).br(OP.brIf, 0);
  f.get(s.done).get(s.blkN).op(OP.i32Add).get(s.e).mem(OP.i32Load, 2, 16).op(OP.i32Add).get(s.budget).op(OP.i32GtU)
    .br(OP.brIf, 0);
  // the TLB still maps the address, executable here, to the page the block came from
  f.get(s.lo).i32(12).op(OP.i32ShrU).i32(TLB_MASK).op(OP.i32And).i32(5).op(OP.i32Shl);
  f.i32(TLB_BASE + (s.user ? TLB_USER_WORDS * 4 : 0)).op(OP.i32Add).set(s.te);
  f.get(s.te).mem(OP.i32Load, 2, TE_FETCH * 4).get(s.t).i64(24, 0).op(OP.i64ShrS).op(OP.i32WrapI64).op(OP.i32Ne)
    .br(OP.brIf, 0);
  f.get(s.te).mem(OP.i32Load, 2, TE_PA_LO * 4).get(s.e).mem(OP.i32Load, 2, 20).op(OP.i32Ne).br(OP.brIf, 0);
  f.get(s.te).mem(OP.i32Load, 2, TE_PA_HI * 4).get(s.e).mem(OP.i32Load, 2, 24).op(OP.i32Ne).br(OP.brIf, 0);
  f.i32(0).i32(0).mem(OP.i32Load, 2, s.counter).i32(1).op(OP.i32Add).mem(OP.i32Store, 2, s.counter);
  // (start, pageOff, budget, done) to the target's function
  f.get(s.e).mem(OP.i32Load, 2, 12);
  f.get(s.lo).i32(0xfff).op(OP.i32And);
  f.get(s.budget);
  f.get(s.done).get(s.blkN).op(OP.i32Add);
  f.get(s.e).mem(OP.i32Load, 2, 8).i32(1).op(OP.i32Sub);
  f.returnCallIndirect(s.typeIndex);
  f.end();
}
