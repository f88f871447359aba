/**
 * The exits half of the code generator (emitter.ts extends it; it extends emit-flags.ts): the
 * region function's locals and the static state of translation (which guest registers sit in
 * locals and which are dirty, the block being emitted and the control nesting), and the ways out
 * of a block: a link straight to a block of the region (goTo) or, for a dynamic target, the
 * dispatch case that finds one (goToDynamic, emitDispatch), both while the budget allows; else the
 * shared epilogue (leave). The function's contract (parameters, result codes, scratch words) is
 * described in backend.ts.
 */
import { MODE_LONG64, OFF_RIP, gprOffset } from '../cpu/state.js';
import { type FuncBody, I32, I64, OP, VOID } from './wasm/encoder.js';
import { SCRATCH_CUR, SCRATCH_DONE, SCRATCH_ENTRY, SCRATCH_REGION, type BackendBlock, type BackendRegion } from './backend.js';
import { FlagEmitter } from './emit-flags.js';

/** The region function's parameters (backend.ts). */
export const P_START = 0;
export const P_PAGEOFF = 1;
export const P_BUDGET = 2;
/** Instructions done before the entry block (the `done` counter starts there). */
export const P_DONE = 3;

/** A snapshot of ExitEmitter's static state (saveState). */
interface EmitState {
  loaded: Uint8Array;
  dirty: Uint8Array;
  tag: number;
  lf: boolean;
  aux: boolean;
}

export abstract class ExitEmitter extends FlagEmitter {
  protected readonly base: number;
  protected readonly entry: number;
  protected readonly t: number[];
  protected readonly reg: number[] = [];
  protected readonly loaded = new Uint8Array(16);
  protected readonly dirty = new Uint8Array(16);
  protected readonly r: number;
  protected readonly e: number;
  protected readonly lo: number;
  protected readonly cur: number;
  protected readonly done: number;
  /** The result code on the way to the shared epilogue. */
  protected readonly res: number;
  /** The index of the block running (cur is also the br_table selector, which the dispatch reuses). */
  protected readonly blk: number;
  /** The running block's length, and a TLB entry address (the chain lookup). */
  protected readonly blkN: number;
  protected readonly te: number;
  /** Dynamic targets (RET, indirect JMP/CALL): page offset, instructions done after the leaving block, target length. */
  private readonly dynOff: number;
  private readonly dynDone: number;
  private readonly dynN: number;
  /** br_table index of the dispatch case that finds a dynamic target among the blocks (-1: none). */
  protected dispatch = -1;
  /** Registers the region reads or writes (held in locals across its blocks) and writes. */
  protected readonly usedRegs = new Uint8Array(16);
  protected readonly putRegs = new Uint8Array(16);
  /** Block index by page offset, for links inside the region (-1: not in the region). */
  protected readonly blockAt = new Int16Array(4096).fill(-1);
  /** The block being emitted and how many structured-control levels enclose its code. */
  protected bi = 0;
  protected nest = 0;
  /** `nest` at the statement level of a block wrapped in its own loop (-1: not wrapped). */
  protected selfNest = -1;
  /** `nest` where the running block's code starts (outside its own loop). */
  protected caseNest = 0;
  protected readonly blocks: BackendBlock[];
  /** Per block: 1 when it overwrites every arithmetic flag before anything can observe them. */
  protected readonly killsFlags: Uint8Array;

  constructor(f: FuncBody, protected readonly rg: BackendRegion) {
    super(f);
    // the locals in a fixed order after the flag locals: their indexes show in the generated code
    // (ringvm translate, the golden tests)
    this.blocks = rg.blocks;
    this.killsFlags = new Uint8Array(rg.blocks.length);
    this.base = f.local(I64);
    this.entry = f.local(I64);
    this.t = [f.local(I64), f.local(I64), f.local(I64), f.local(I64)];
    for (let i = 0; i < 16; i++) this.reg.push(f.local(I64));
    this.r = f.local(I32);
    this.e = f.local(I32);
    this.lo = f.local(I32);
    this.cur = f.local(I32);
    this.done = P_DONE;
    this.res = f.local(I32);
    this.blk = f.local(I32);
    this.dynOff = f.local(I32);
    this.dynDone = f.local(I32);
    this.dynN = f.local(I32);
    this.blkN = f.local(I32);
    this.te = f.local(I32);
  }

  /**
   * The running block's RIP, its index and the instructions done before it, for the engine (after
   * the function returns) and the helpers (liveCount, a helper's own RIP). Kept in locals while the
   * region runs and stored only where someone reads them: the epilogue and before helper calls.
   */
  protected storeScratch(): void {
    const f = this.f;
    f.i32(0).get(this.entry).mem(OP.i64Store, 3, SCRATCH_ENTRY);
    f.i32(0).get(this.done).mem(OP.i32Store, 2, SCRATCH_DONE);
    f.i32(0).get(this.blk).mem(OP.i32Store, 2, SCRATCH_CUR);
    f.i32(0).i32(this.rg.id).mem(OP.i32Store, 2, SCRATCH_REGION);
  }

  /** The static state every block starts from: used registers in locals, flags in memory. */
  protected headState(): void {
    this.loaded.set(this.usedRegs);
    this.dirty.set(this.putRegs);
    this.pendTag = -1;
    this.lfDirty = false;
    this.auxDeferred = false;
  }

  // ---- registers and flags ------------------------------------------------------------------

  protected load(r: number): void {
    if (this.loaded[r] !== 0) return;
    this.f.i32(0).mem(OP.i64Load, 3, gprOffset(r)).set(this.reg[r]);
    this.loaded[r] = 1;
  }

  /** Writes dirty registers and pending flags to memory; `forget` makes that the static state. */
  protected sync(forget: boolean): void {
    const f = this.f;
    for (let r = 0; r < 16; r++) {
      if (this.dirty[r] === 0) continue;
      f.i32(0).get(this.reg[r]).mem(OP.i64Store, 3, gprOffset(r));
      if (forget) this.dirty[r] = 0;
    }
    this.syncFlags(forget);
  }

  /**
   * Leaves through the epilogue with result `code` (or the i32 local `codeLocal`), `depth` control
   * levels below the block's statement level: pending flags go to memory here, registers there.
   */
  protected leave(depth: number, code: number, codeLocal = -1): void {
    const f = this.f;
    this.syncFlags(false);
    if (codeLocal >= 0) f.get(codeLocal);
    else f.i32(code);
    f.set(this.res).br(OP.br, this.nest + 1 + depth);
  }

  /** After a helper ran, the memory copy is authoritative for everything. */
  protected forgetAll(): void {
    this.loaded.fill(0);
    this.dirty.fill(0);
    this.pendTag = -1;
    this.lfDirty = false;
    this.auxDeferred = false;
  }

  protected wrapRip(): void {
    const mode = this.rg.mode;
    if (mode === MODE_LONG64) return;
    this.f.i64(mode === 2 ? -1 : 0xffff, 0).op(OP.i64And);
  }

  /** Leaves the function with `code` (an i32 already on the stack is not used). */
  protected ret(code: number): void {
    this.f.i32(code).op(OP.return);
  }

  // ---- the ways out of a block ----------------------------------------------------------------

  /**
   * The static state of translation (registers in locals and dirty, pending flags): an exit path
   * changes it while it is emitted, and the code after the exit continues from the state before.
   */
  private saveState(): EmitState {
    return { loaded: Uint8Array.from(this.loaded), dirty: Uint8Array.from(this.dirty), tag: this.pendTag, lf: this.lfDirty, aux: this.auxDeferred };
  }

  private restoreState(s: EmitState): void {
    this.loaded.set(s.loaded);
    this.dirty.set(s.dirty);
    this.pendTag = s.tag;
    this.lfDirty = s.lf;
    this.auxDeferred = s.aux;
  }

  /** Writes the pending flags to memory and forgets them; registers stay as they are. */
  protected flushFlags(): void {
    const snap = Uint8Array.from(this.dirty);
    this.dirty.fill(0);
    this.sync(true);
    this.dirty.set(snap);
    this.pendTag = -1;
  }

  /** True when `target` (a page offset) starts a block of the region that kills the flags first. */
  protected kills(target: number): boolean {
    const k = target >= 0 && target < 4096 ? this.blockAt[target] : -1;
    return k >= 0 && this.killsFlags[k] !== 0;
  }

  /**
   * Leaves the current block for page offset `target` (relative to the page's base RIP). A target
   * that starts a block of the region is entered directly while the budget allows (flags go to
   * memory, used registers are reloaded where a helper dropped them); otherwise, or when the budget
   * is spent, RIP is stored and the function returns.
   * Emits code that ends in a branch or a return (the static state is left unchanged).
   */
  protected goTo(target: number): void {
    const f = this.f;
    const saved = this.saveState();
    const k = target >= 0 && target < 4096 ? this.blockAt[target] : -1;
    if (k >= 0) {
      this.rg.links = (this.rg.links ?? 0) + 1;
      // a target that sets the flags before anything can read them gets no flag stores on the
      // link (its memory copy is stale until then); the exit path below still stores them
      if (this.killsFlags[k] === 0) this.flushFlags();
      for (let r = 0; r < 16; r++) if (this.usedRegs[r] !== 0 && this.loaded[r] === 0) this.load(r);
      const n = this.blocks[this.bi].insns.length;
      const nk = this.blocks[k].insns.length;
      // Only the budget is tested: the run loop checks the exit request before it enters a
      // region, and inside one only a helper call can set it (a timer armed by a port or MMIO
      // access), and the helper then ends the block (exec() returns CODE_STOP).
      f.begin(OP.block, VOID);
      f.get(this.done).i32(n + nk).op(OP.i32Add).get(P_BUDGET).op(OP.i32GtU).br(OP.brIf, 0);
      f.get(this.done).i32(n).op(OP.i32Add).set(this.done);
      if (k === this.bi && this.selfNest >= 0) f.br(OP.br, this.nest - this.selfNest + 1); // its own loop (cur is k)
      // a later block: its code starts right after the end of the k - bi - 1'th enclosing case
      // `block`, so a plain forward `br` enters it (no trip through the br_table)
      else if (k > this.bi) f.br(OP.br, this.nest - this.caseNest + k - this.bi - 1 + 1);
      else f.i32(k).set(this.cur).br(OP.br, this.nest + 1);
      f.end();
    }
    f.i32(0).get(this.base).i64(target, target < 0 ? -1 : 0).op(OP.i64Add);
    this.wrapRip();
    f.mem(OP.i64Store, 3, OFF_RIP);
    this.leave(0, 0);
    this.restoreState(saved);
  }

  /**
   * Leaves for the RIP in local `t` (RET, indirect JMP/CALL). RIP is stored first; a target inside
   * the region's page goes to the dispatch case, which enters the block there when there is one
   * (and the budget allows), else leaves through the epilogue.
   */
  protected goToDynamic(t: number): void {
    const f = this.f;
    const saved = this.saveState();
    f.i32(0).get(t).mem(OP.i64Store, 3, OFF_RIP);
    if (this.dispatch >= 0) {
      this.flushFlags();
      for (let r = 0; r < 16; r++) if (this.usedRegs[r] !== 0 && this.loaded[r] === 0) this.load(r);
      f.get(t).get(this.base).op(OP.i64Sub).tee(this.t[3]).i64(4096, 0).op(OP.i64LtU);
      f.begin(OP.if, VOID);
      f.get(this.t[3]).op(OP.i32WrapI64).set(this.dynOff);
      f.get(this.done).i32(this.blocks[this.bi].insns.length).op(OP.i32Add).set(this.dynDone);
      f.i32(this.dispatch).set(this.cur);
      f.br(OP.br, this.nest + 1);
      f.end();
    }
    this.leave(0, 0);
    this.restoreState(saved);
  }

  /**
   * The dispatch case: cur = the block starting at page offset dynOff, found by one br_table over
   * the offsets from the first block's to the last's (a binary search before: RET-heavy code
   * spent its time there), entered when found and the budget allows; otherwise the epilogue (RIP
   * is already stored, SCRATCH_CUR/DONE still describe the block that left).
   */
  protected emitDispatch(): void {
    const f = this.f;
    const sorted = this.blocks.map((b, j) => ({ off: b.pageOff, j, n: b.insns.length })).sort((a, b) => a.off - b.off);
    const m = sorted.length;
    const first = sorted[0].off;
    const span = sorted[m - 1].off - first + 1;
    f.begin(OP.block, VOID); // found: cur and dynN set
    f.begin(OP.block, VOID); // miss
    for (let i = m - 1; i >= 0; i--) f.begin(OP.block, VOID); // one per block, the first innermost
    f.get(this.dynOff).i32(first).op(OP.i32Sub); // below the first block: a huge unsigned index
    f.code.u8(OP.brTable).uleb(span);
    for (let x = 0, i = 0; x < span; x++) {
      if (sorted[i].off === first + x) f.code.uleb(i++);
      else f.code.uleb(m); // no block starts there: miss
    }
    f.code.uleb(m);
    for (let i = 0; i < m; i++) {
      f.end(); // block i's case: m - 1 - i case blocks, then miss, then found enclose it
      f.i32(sorted[i].j).set(this.cur).i32(sorted[i].n).set(this.dynN).br(OP.br, m - i);
    }
    f.end(); // miss
    this.leave(1, 0);
    f.end(); // found
    f.get(this.dynDone).get(this.dynN).op(OP.i32Add).get(P_BUDGET).op(OP.i32LeU);
    f.begin(OP.if, VOID);
    f.get(this.dynDone).set(this.done);
    f.br(OP.br, 1);
    f.end();
    this.leave(0, 0);
  }
}
