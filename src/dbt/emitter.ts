/**
 * The code generator behind backend.ts: one region's IR to the body of its wasm function. Keeps
 * the static state of translation (which guest registers sit in locals and which are dirty, the
 * block being emitted and the control nesting) and emits the micro-ops, the TLB fast paths, the
 * links between blocks and the shared exit epilogue; the flags half (lazy flags in locals,
 * conditions) is emit-flags.ts, which this class extends. The function's contract (parameters,
 * result codes, scratch words) is described in backend.ts.
 */
import { LF_ADC, LF_DEC, LF_INC, LF_SBB } from '../cpu/flags.js';
import { BASE_RIP } from '../cpu/decoded.js';
import {
  MODE_LONG64, OFF_RIP, TLB_BASE,
  gprOffset,
} from '../cpu/state.js';
import { TE_HOST, TE_READ, TE_WRITE, TLB_MASK, TLB_USER_WORDS } from '../mmu/tlb.js';
import {
  ALU_ADD, ALU_MOV, ALU_MUL, ALU_ROL, ALU_ROR, ALU_SAR, ALU_SEXT, ALU_SHL, ALU_SUB, FD_MUL, FD_SHLV, IR_BSWAP, IR_CMOV, IR_COND, IR_DIV, IR_FLAGSD, IR_ALU, IR_CANON, IR_CONST, IR_EA, IR_EXITCC,
  IR_EXITHELPER, IR_EXITREL, IR_EXITT, IR_FLAGS, IR_GET, IR_HELPER, IR_INSN, IR_LOAD, IR_PUT, IR_RIPREL, IR_STORE,
} from './ir.js';
import { type FuncBody, I32, I64, OP, VOID } from './wasm/encoder.js';
import {
  CODE_GP, CODE_SLOW, REGION_TYPE, SCRATCH_CHAINS, SCRATCH_CUR, SCRATCH_DONE, SCRATCH_ENTRY, SCRATCH_REGION, type BackendBlock,
  type BackendRegion,
} from './backend.js';
import { FlagEmitter, SEXT } from './emit-flags.js';
import { emitChainLookup } from './chain.js';

/** Function indexes of the helpers every generated module imports (backend.ts declareImports). */
const H_EXEC = 0;

const P_START = 0;
const P_PAGEOFF = 1;
const P_BUDGET = 2;
/** Instructions done before the entry block (the `done` counter starts there). */
const P_DONE = 3;


const MASK_LO = [0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1];
const LOG2 = [0, 0, 1, 0, 2, 0, 0, 0, 3];

export class Emitter extends FlagEmitter {
  private readonly base: number;
  private readonly entry: number;
  private readonly t: number[];
  private readonly reg: number[] = [];
  private readonly loaded = new Uint8Array(16);
  private readonly dirty = new Uint8Array(16);
  private readonly r: number;
  private readonly e: number;
  private readonly lo: number;
  private readonly cur: number;
  private readonly done: number;
  /** The result code on the way to the shared epilogue. */
  private readonly res: number;
  /** The index of the block running (cur is also the br_table selector, which the dispatch reuses). */
  private readonly blk: number;
  /** The running block's length, and a TLB entry address (the chain lookup). */
  private readonly blkN: number;
  private readonly te: number;
  /** Dynamic targets (RET, indirect JMP/CALL): page offset, instructions done after the leaving block, target length. */
  private readonly dynOff: number;
  private readonly dynDone: number;
  private readonly dynN: number;
  /** br_table index of the dispatch case that finds a dynamic target among the blocks (-1: none). */
  private dispatch = -1;
  private curInsn = 0;
  /** Registers the region reads or writes (held in locals across its blocks) and writes. */
  private readonly usedRegs = new Uint8Array(16);
  private readonly putRegs = new Uint8Array(16);
  /** Block index by page offset, for links inside the region (-1: not in the region). */
  private readonly blockAt = new Int16Array(4096).fill(-1);
  /** The block being emitted and how many structured-control levels enclose its code. */
  private bi = 0;
  private nest = 0;
  /** `nest` at the statement level of a block wrapped in its own loop (-1: not wrapped). */
  private selfNest = -1;
  /** `nest` where the running block's code starts (outside its own loop). */
  private caseNest = 0;
  private readonly blocks: BackendBlock[];
  /** Per block: 1 when it overwrites every arithmetic flag before anything can observe them. */
  private readonly killsFlags: Uint8Array;

  constructor(f: FuncBody, private readonly rg: BackendRegion) {
    super(f);
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

  run(): void {
    const f = this.f;
    const blocks = this.blocks;
    const k = blocks.length;
    blocks.forEach((b, j) => {
      if (this.rg.link) this.blockAt[b.pageOff] = j;
      this.killsFlags[j] = killsFlagsFirst(b.ir.ops) ? 1 : 0;
      for (const op of b.ir.ops) {
        if (op[0] === IR_GET) this.usedRegs[op[2]] = 1;
        if (op[0] === IR_PUT) this.usedRegs[op[1]] = this.putRegs[op[1]] = 1;
        if (op[0] === IR_EA) {
          if (op[2] >= 0 && op[2] < 16) this.usedRegs[op[2]] = 1;
          if (op[3] >= 0) this.usedRegs[op[3]] = 1;
        }
      }
    });
    // base = RIP of the page's first byte (the entry block's RIP less its page offset)
    f.i32(0).mem(OP.i64Load, 3, OFF_RIP).get(P_PAGEOFF).op(OP.i64ExtendI32U).op(OP.i64Sub).set(this.base);
    f.get(P_START).set(this.cur);
    // Registers the region touches live in locals across its blocks: load them once.
    for (let r = 0; r < 16; r++) if (this.usedRegs[r] !== 0) this.load(r);
    // Exits branch to one shared epilogue after the loop, which writes back every register the
    // region writes (locals of used registers are always current: a helper call reloads them), so
    // each exit site carries only its flags and RIP, not up to 16 register stores.
    // With links, one more case after the blocks: the dispatch for dynamic targets (RET, indirect
    // jumps), a binary search over the blocks' page offsets shared by every such exit.
    const cases = this.rg.link ? k + 1 : k;
    if (this.rg.link) this.dispatch = k;
    f.begin(OP.block, VOID);
    f.begin(OP.loop, VOID);
    for (let j = cases - 1; j >= 0; j--) f.begin(OP.block, VOID);
    f.get(this.cur);
    f.code.u8(OP.brTable).uleb(cases);
    for (let j = 0; j < cases; j++) f.code.uleb(j);
    f.code.uleb(cases - 1);
    for (let j = 0; j < k; j++) {
      f.end(); // leaves block j: its code follows
      this.bi = j;
      this.nest = cases - 1 - j; // enclosing `block`s of the later cases
      this.caseNest = this.nest;
      this.headState();
      const b = blocks[j];
      // A block that branches to its own start (the inner loops of most hot code) runs inside a
      // wasm `loop` of its own: the back edge is one `br`, not a trip through the br_table.
      this.selfNest = -1;
      if (this.rg.link && branchesToItself(b.ir.ops)) {
        f.begin(OP.loop, VOID);
        this.nest++;
        this.selfNest = this.nest;
      }
      f.get(this.base).i64(b.pageOff, 0).op(OP.i64Add);
      this.wrapRip();
      f.set(this.entry);
      f.i32(j).set(this.blk);
      if (this.rg.chain) f.i32(b.insns.length).set(this.blkN);
      for (const op of b.ir.ops) this.op(op);
      if (this.selfNest >= 0) f.end();
    }
    if (this.dispatch >= 0) {
      f.end();
      this.nest = 0;
      this.headState();
      this.emitDispatch();
    }
    f.end(); // loop
    f.op(OP.unreachable);
    f.end(); // epilogue block
    for (let r = 0; r < 16; r++) if (this.putRegs[r] !== 0) f.i32(0).get(this.reg[r]).mem(OP.i64Store, 3, gprOffset(r));
    this.storeScratch();
    if (this.rg.chain) {
      // a completed block left for a RIP outside the region's blocks: try the jump cache
      f.get(this.res).op(OP.i32Eqz).begin(OP.if, VOID);
      emitChainLookup(f, {
        t: this.t[3], lo: this.lo, e: this.e, te: this.te, done: this.done, blkN: this.blkN, budget: P_BUDGET,
        user: this.rg.user, modeKey: this.rg.modeKey, typeIndex: REGION_TYPE, counter: SCRATCH_CHAINS,
      });
      f.end();
    }
    f.get(this.res);
  }

  /**
   * The running block's RIP, its index and the instructions done before it, for the engine (after
   * the function returns) and the helpers (liveCount, a helper's own RIP). Kept in locals while the
   * region runs and stored only where someone reads them: the epilogue and before helper calls.
   */
  private storeScratch(): void {
    const f = this.f;
    f.i32(0).get(this.entry).mem(OP.i64Store, 3, SCRATCH_ENTRY);
    f.i32(0).get(this.done).mem(OP.i32Store, 2, SCRATCH_DONE);
    f.i32(0).get(this.blk).mem(OP.i32Store, 2, SCRATCH_CUR);
    f.i32(0).i32(this.rg.id).mem(OP.i32Store, 2, SCRATCH_REGION);
  }

  /** The static state every block starts from: used registers in locals, flags in memory. */
  private headState(): void {
    this.loaded.set(this.usedRegs);
    this.dirty.set(this.putRegs);
    this.pendTag = -1;
    this.lfDirty = false;
    this.auxDeferred = false;
  }

  // ---- registers and flags ------------------------------------------------------------------

  private load(r: number): void {
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
  private leave(depth: number, code: number, codeLocal = -1): void {
    const f = this.f;
    this.syncFlags(false);
    if (codeLocal >= 0) f.get(codeLocal);
    else f.i32(code);
    f.set(this.res).br(OP.br, this.nest + 1 + depth);
  }

  /** After a helper ran, the memory copy is authoritative for everything. */
  private forgetAll(): void {
    this.loaded.fill(0);
    this.dirty.fill(0);
    this.pendTag = -1;
    this.lfDirty = false;
    this.auxDeferred = false;
  }

  private wrapRip(): void {
    const mode = this.rg.mode;
    if (mode === MODE_LONG64) return;
    this.f.i64(mode === 2 ? -1 : 0xffff, 0).op(OP.i64And);
  }

  /** Leaves the function with `code` (an i32 already on the stack is not used). */
  private ret(code: number): void {
    this.f.i32(code).op(OP.return);
  }

  // ---- one micro-op --------------------------------------------------------------------------

  private op(o: number[]): void {
    const f = this.f;
    const [k, a, b, c, d, e] = o;
    const t = this.t;
    switch (k) {
      case IR_INSN:
        this.curInsn = a;
        break;
      case IR_GET: {
        this.load(b);
        f.get(this.reg[b]);
        if (d !== 0) f.i64(8, 0).op(OP.i64ShrU);
        if (c !== 8) f.i64(MASK_LO[c], 0).op(OP.i64And);
        f.set(t[a]);
        break;
      }
      case IR_PUT: {
        const r = this.reg[a];
        if (b === 8) f.get(t[d]).set(r);
        else if (b === 4) f.get(t[d]).i64(-1, 0).op(OP.i64And).set(r);
        else {
          this.load(a);
          const shift = c !== 0 ? 8 : 0;
          const m = b === 2 ? 0xffff : 0xff;
          f.get(r).i64(~(m << shift), -1).op(OP.i64And);
          f.get(t[d]).i64(m, 0).op(OP.i64And);
          if (shift !== 0) f.i64(8, 0).op(OP.i64Shl);
          f.op(OP.i64Or).set(r);
        }
        this.loaded[a] = 1;
        this.dirty[a] = 1;
        break;
      }
      case IR_CONST:
        f.i64(b, c).set(t[a]);
        break;
      case IR_ALU: {
        // a = op, b = size, c = dst, d, e = operands
        if (a === ALU_SEXT) {
          f.get(t[d]).op(b === 1 ? OP.i64Extend8S : b === 2 ? OP.i64Extend16S : OP.i64Extend32S).set(t[c]);
          break;
        }
        if (a === ALU_ROL || a === ALU_ROR) {
          this.rotate(a === ALU_ROL, b, t[d], t[e]);
          f.set(t[c]);
          break;
        }
        if (a === ALU_MOV) f.get(t[e]);
        else if (a === ALU_SAR) {
          f.get(t[d]);
          if (b !== 8) f.op(SEXT[b]);
          f.get(t[e]).op(OP.i64ShrS);
        } else if (a >= ALU_MUL) f.get(t[d]).get(t[e]).op(a === ALU_MUL ? OP.i64Mul : a === ALU_SHL ? OP.i64Shl : OP.i64ShrU);
        else {
          f.get(t[d]).get(t[e]);
          f.op([OP.i64Add, OP.i64Sub, OP.i64And, OP.i64Or, OP.i64Xor][a]);
        }
        if (b !== 8 && (a === ALU_ADD || a === ALU_SUB || a === ALU_MOV || a === ALU_MUL || a === ALU_SHL || a === ALU_SAR)) f.i64(MASK_LO[b], 0).op(OP.i64And);
        f.set(t[c]);
        break;
      }
      case IR_FLAGS: {
        const tag = (a << 2) | LOG2[b];
        const prev = this.pendTag >> 2;
        if ((a === LF_INC || a === LF_DEC) && (this.pendTag < 0 || ((prev === LF_INC || prev === LF_DEC) && this.auxDeferred))) {
          this.auxDeferred = true; // the CF it keeps is still memory's (emit-flags.ts auxDeferred)
        } else if (a === LF_INC || a === LF_DEC || a === LF_ADC || a === LF_SBB) {
          this.cf(); // the preserved CF (INC/DEC) or the carry in (ADC/SBB) of the operation before
          f.set(this.lfAux);
          this.auxDeferred = false;
        } else this.auxDeferred = false;
        f.get(t[c]).set(this.lfDst);
        f.get(t[d]).set(this.lfSrc);
        f.get(t[e]).set(this.lfRes);
        this.pendTag = tag;
        this.lfDirty = true;
        break;
      }
      case IR_FLAGSD:
        this.flagsDirect(a, b, t[c], a === FD_MUL || a >= FD_SHLV ? t[d] : d, t[e]);
        break;
      case IR_EA:
        this.ea(t[a], b, c, d, e);
        break;
      case IR_LOAD:
        this.access(false, t[a], t[b], c, d);
        break;
      case IR_STORE:
        this.access(true, t[b], t[a], c, d);
        break;
      case IR_HELPER:
        this.sync(true);
        this.storeScratch();
        f.i32(this.blocks[this.bi].gidBase + a).call(H_EXEC).tee(this.r).begin(OP.if, VOID).get(this.r).op(OP.return).end();
        this.forgetAll();
        // reload now: the epilogue relies on every used register's local being current
        for (let r = 0; r < 16; r++) if (this.usedRegs[r] !== 0) this.load(r);
        break;
      case IR_RIPREL:
        f.get(this.entry).i64(b, 0).op(OP.i64Add);
        this.wrapRip();
        f.set(t[a]);
        break;
      case IR_CANON:
        this.canonical(t[a]);
        f.op(OP.i32Eqz).begin(OP.if, VOID);
        this.leave(1, (this.curInsn << 4) | CODE_GP);
        f.end();
        break;
      case IR_DIV:
        this.divide(a !== 0, b, c);
        break;
      case IR_BSWAP: {
        // the i32 on the stack byte-reversed (through the i32 local lo)
        const sw = (): void => {
          f.tee(this.lo).i32(24).op(OP.i32ShrU);
          f.get(this.lo).i32(8).op(OP.i32ShrU).i32(0xff00).op(OP.i32And).op(OP.i32Or);
          f.get(this.lo).i32(8).op(OP.i32Shl).i32(0xff0000).op(OP.i32And).op(OP.i32Or);
          f.get(this.lo).i32(24).op(OP.i32Shl).op(OP.i32Or);
        };
        f.get(t[a]).op(OP.i32WrapI64);
        sw();
        f.op(OP.i64ExtendI32U);
        if (b === 8) {
          f.i64(32, 0).op(OP.i64Shl);
          f.get(t[a]).i64(32, 0).op(OP.i64ShrU).op(OP.i32WrapI64);
          sw();
          f.op(OP.i64ExtendI32U).op(OP.i64Or);
        }
        f.set(t[a]);
        break;
      }
      case IR_COND:
        this.cond(b);
        f.op(OP.i64ExtendI32U).set(t[a]);
        break;
      case IR_CMOV:
        f.get(t[c]).get(t[b]);
        this.cond(a);
        f.op(OP.select).set(t[b]);
        break;
      case IR_EXITREL:
        this.goTo(this.blocks[this.bi].pageOff + a);
        break;
      case IR_EXITCC: {
        this.cond(a);
        f.set(this.r);
        const off = this.blocks[this.bi].pageOff;
        // flags to memory on both paths (a block starts with them there) unless a target in the
        // region overwrites them before reading them: goTo then flushes on its own paths
        if (!this.kills(off + b) && !this.kills(off + c)) this.flushFlags();
        f.get(this.r).begin(OP.if, VOID);
        this.nest++;
        this.goTo(off + b);
        f.op(OP.else);
        this.goTo(off + c);
        this.nest--;
        f.end();
        break;
      }
      case IR_EXITT:
        this.goToDynamic(t[a]);
        break;
      case IR_EXITHELPER:
        this.ret(0);
        break;
      default:
        throw new Error(`backend: unknown micro-op ${k}`);
    }
  }

  private flushFlags(): void {
    const snap = Uint8Array.from(this.dirty);
    this.dirty.fill(0);
    this.sync(true);
    this.dirty.set(snap);
    this.pendTag = -1;
  }

  /**
   * Leaves the current block for page offset `target` (relative to the page's base RIP). A target
   * that starts a block of the region is entered directly while the budget allows (flags go to
   * memory, used registers are reloaded where a helper dropped them); otherwise, or when the budget,
   * says stop, RIP is stored and the function returns.
   * Emits code that ends in a branch or a return (the static state is left unchanged).
   */
  /** True when `target` (a page offset) starts a block of the region that kills the flags first. */
  private kills(target: number): boolean {
    const k = target >= 0 && target < 4096 ? this.blockAt[target] : -1;
    return k >= 0 && this.killsFlags[k] !== 0;
  }

  private goTo(target: number): void {
    const f = this.f;
    const savedLoaded = Uint8Array.from(this.loaded);
    const savedDirty = Uint8Array.from(this.dirty);
    const savedTag = this.pendTag;
    const savedLf = this.lfDirty;
    const savedAux = this.auxDeferred;
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
    this.loaded.set(savedLoaded);
    this.dirty.set(savedDirty);
    this.pendTag = savedTag;
    this.lfDirty = savedLf;
    this.auxDeferred = savedAux;
  }

  /**
   * Leaves for the RIP in local `t` (RET, indirect JMP/CALL). RIP is stored first; a target inside
   * the region's page goes to the dispatch case, which enters the block there when there is one
   * (and the budget allows), else leaves through the epilogue.
   */
  private goToDynamic(t: number): void {
    const f = this.f;
    const savedLoaded = Uint8Array.from(this.loaded);
    const savedDirty = Uint8Array.from(this.dirty);
    const savedTag = this.pendTag;
    const savedLf = this.lfDirty;
    const savedAux = this.auxDeferred;
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
    this.loaded.set(savedLoaded);
    this.dirty.set(savedDirty);
    this.pendTag = savedTag;
    this.lfDirty = savedLf;
    this.auxDeferred = savedAux;
  }

  /**
   * The dispatch case: cur = the block starting at page offset dynOff (a binary search over the
   * blocks' offsets), entered when found and the budget
   * allow; otherwise the epilogue (RIP is already stored, SCRATCH_CUR/DONE still describe the
   * block that left).
   */
  private emitDispatch(): void {
    const f = this.f;
    const sorted = this.blocks.map((b, j) => ({ off: b.pageOff, j, n: b.insns.length })).sort((a, b) => a.off - b.off);
    f.i32(-1).set(this.cur);
    const search = (lo: number, hi: number): void => {
      if (hi - lo <= 4) {
        for (let i = lo; i < hi; i++) {
          f.get(this.dynOff).i32(sorted[i].off).op(OP.i32Eq).begin(OP.if, VOID);
          f.i32(sorted[i].j).set(this.cur).i32(sorted[i].n).set(this.dynN);
          f.end();
        }
        return;
      }
      const mid = (lo + hi) >> 1;
      f.get(this.dynOff).i32(sorted[mid].off).op(OP.i32LtU).begin(OP.if, VOID);
      search(lo, mid);
      f.op(OP.else);
      search(mid, hi);
      f.end();
    };
    search(0, sorted.length);
    f.get(this.cur).i32(0).op(OP.i32GeS);
    f.get(this.dynDone).get(this.dynN).op(OP.i32Add).get(P_BUDGET).op(OP.i32LeU).op(OP.i32And);
    f.begin(OP.if, VOID);
    f.get(this.dynDone).set(this.done);
    f.br(OP.br, 1);
    f.end();
    this.leave(0, 0);
  }

  /**
   * IR_DIV: T0 = quotient, T1 = remainder of T1:T0 / T2 when that is the common case, which cannot
   * fault: DIV r32 with EDX below the divisor; IDIV r32 with EDX the sign of EAX (CDQ), a divisor
   * not 0 and not -1 over INT32_MIN; the 64-bit forms with rDX the zero or sign extension of rAX
   * (no 128-bit dividend), likewise. Otherwise the helper runs the instruction (its #DE, its wide
   * division) and rAX/rDX are read back. Registers and flags go to memory on that path only.
   */
  private divide(signed: boolean, size: number, i: number): void {
    const f = this.f;
    const [t0, t1, t2] = this.t;
    const x = this.x64;
    // its helper path writes the flags to memory before the paths merge: resolve first, so both
    // paths leave the same state behind
    this.resolveAux(true);
    if (size === 4) {
      if (!signed) {
        f.get(t2).op(OP.i64Eqz).op(OP.i32Eqz).get(t1).get(t2).op(OP.i64LtU).op(OP.i32And);
        f.get(t1).i64(32, 0).op(OP.i64Shl).get(t0).op(OP.i64Or).set(x); // EDX:EAX
      } else {
        f.get(t0).op(OP.i64Extend32S).set(x); // the dividend when EDX is its sign
        f.get(t1).get(x).i64(32, 0).op(OP.i64ShrU).op(OP.i64Eq); // EDX == upper half of sext(EAX)
        f.get(t2).op(OP.i64Extend32S).set(t2);
        f.get(t2).op(OP.i64Eqz).op(OP.i32Eqz).op(OP.i32And);
        f.get(t2).i64(-1, -1).op(OP.i64Eq).get(x).i64(0x80000000 | 0, -1).op(OP.i64Eq).op(OP.i32And).op(OP.i32Eqz).op(OP.i32And);
      }
    } else if (!signed) {
      f.get(t1).op(OP.i64Eqz).get(t2).op(OP.i64Eqz).op(OP.i32Eqz).op(OP.i32And);
      f.get(t0).set(x);
    } else {
      f.get(t1).get(t0).i64(63, 0).op(OP.i64ShrS).op(OP.i64Eq);
      f.get(t2).op(OP.i64Eqz).op(OP.i32Eqz).op(OP.i32And);
      f.get(t2).i64(-1, -1).op(OP.i64Eq).get(t0).i64(0, 0x80000000 | 0).op(OP.i64Eq).op(OP.i32And).op(OP.i32Eqz).op(OP.i32And);
      f.get(t0).set(x);
    }
    f.begin(OP.if, VOID);
    f.get(x).get(t2).op(signed ? OP.i64DivS : OP.i64DivU);
    f.get(x).get(t2).op(signed ? OP.i64RemS : OP.i64RemU).set(t1);
    f.set(t0);
    f.op(OP.else);
    // the helper: the current registers and flags to memory (the static state stays), run the
    // instruction, leave on its fault, read rAX and rDX back
    this.sync(false);
    this.storeScratch();
    f.i32(this.blocks[this.bi].gidBase + i).call(H_EXEC).tee(this.r).begin(OP.if, VOID).get(this.r).op(OP.return).end();
    f.i32(0).mem(OP.i64Load, 3, gprOffset(0)).set(t0);
    f.i32(0).mem(OP.i64Load, 3, gprOffset(2)).set(t1);
    f.end();
  }

  // ---- addresses and memory -------------------------------------------------------------------

  private ea(dst: number, base: number, index: number, scale: number, i: number): void {
    const f = this.f;
    const d = this.blocks[this.bi].insns[i];
    f.i64(d.disp, d.disp < 0 ? -1 : 0);
    if (base === BASE_RIP) {
      f.get(this.entry).i64(this.blocks[this.bi].offs[i] + d.length, 0).op(OP.i64Add).op(OP.i64Add);
    } else if (base >= 0) {
      this.load(base);
      f.get(this.reg[base]).op(OP.i64Add);
    }
    if (index >= 0) {
      this.load(index);
      f.get(this.reg[index]);
      if (scale !== 0) f.i64(scale, 0).op(OP.i64Shl);
      f.op(OP.i64Add);
    }
    if (d.adSize === 4) f.i64(-1, 0).op(OP.i64And);
    else if (d.adSize === 2) f.i64(0xffff, 0).op(OP.i64And);
    f.set(dst);
  }

  /** Pushes i32 1 when the i64 in local `a` is canonical (bits 63..47 all equal). */
  private canonical(a: number): void {
    this.f.get(a).i64(47, 0).op(OP.i64ShrS).i64(1, 0).op(OP.i64Add).i64(2, 0).op(OP.i64LtU);
  }

  /**
   * A load into `val` (write=false) or a store of `val` (write=true) of `size` bytes at the address
   * in local `addr`, for instruction i. Fast path: canonical, TLB tag hit for the access kind, not
   * crossing the page. Anything else (a TLB miss, a page-crossing or MMIO access, a store into a
   * page that holds translated code, a fault) leaves the function with CODE_SLOW before instruction
   * i has changed anything (its register and flag updates come after its accesses, as for precise
   * faults), and the engine runs that one instruction in the interpreter. An earlier slow path
   * called the interpreter's access path from inside the function: every value live across that
   * call was spilled to the stack on the fast path as well (bench32 steady state ~+50 % without).
   */
  private access(write: boolean, val: number, addr: number, size: number, i: number): void {
    const f = this.f;
    const lo = this.lo;
    const e = this.e;
    f.get(addr).op(OP.i32WrapI64).tee(lo);
    f.i32(12).op(OP.i32ShrU).i32(TLB_MASK).op(OP.i32And).i32(5).op(OP.i32Shl);
    f.i32(TLB_BASE + (this.rg.user ? TLB_USER_WORDS * 4 : 0)).op(OP.i32Add).set(e);
    f.begin(OP.block, write ? VOID : I64); // the access done (a load's value)
    f.begin(OP.block, VOID); // a miss: each test branches here
    // 16/32-bit code computes addresses below 2^32: always canonical
    if (this.rg.mode === MODE_LONG64) {
      this.canonical(addr);
      f.op(OP.i32Eqz).br(OP.brIf, 0);
    }
    f.get(e).mem(OP.i32Load, 2, (write ? TE_WRITE : TE_READ) * 4);
    f.get(addr).i64(24, 0).op(OP.i64ShrS).op(OP.i32WrapI64).op(OP.i32Ne).br(OP.brIf, 0);
    if (size > 1) f.get(lo).i32(0xfff).op(OP.i32And).i32(4096 - size).op(OP.i32GtU).br(OP.brIf, 0);
    f.get(e).mem(OP.i32Load, 2, TE_HOST * 4).get(lo).i32(0xfff).op(OP.i32And).op(OP.i32Add);
    if (write) {
      f.get(val);
      f.mem(size === 1 ? OP.i64Store8 : size === 2 ? OP.i64Store16 : size === 4 ? OP.i64Store32 : OP.i64Store, 0, 0);
    } else {
      f.mem(size === 1 ? OP.i64Load8u : size === 2 ? OP.i64Load16u : size === 4 ? OP.i64Load32u : OP.i64Load, 0, 0);
    }
    f.br(OP.br, 1);
    f.end();
    this.leave(1, (i << 4) | CODE_SLOW);
    f.end();
    if (!write) f.set(val);
  }
}

/** True when a block has a direct branch (taken or not) to its own first instruction. */
function branchesToItself(ops: number[][]): boolean {
  for (const o of ops) {
    if (o[0] === IR_EXITREL && o[1] === 0) return true;
    if (o[0] === IR_EXITCC && (o[2] === 0 || o[3] === 0)) return true;
  }
  return false;
}

/**
 * True when a block's micro-ops set all the lazy or direct flags (FLAGS other than INC/DEC, which
 * keep CF; FLAGSD) before any op that could observe the flags in memory: a load or store (its slow
 * path may fault, and the fault is delivered with the flags in memory), a helper, a canonical
 * check, an exit, a condition.
 */
function killsFlagsFirst(ops: number[][]): boolean {
  for (const o of ops) {
    switch (o[0]) {
      case IR_FLAGS:
        return o[1] !== LF_INC && o[1] !== LF_DEC;
      case IR_FLAGSD:
        return o[1] < FD_SHLV; // a variable shift by 0 keeps the flags
      case IR_INSN: case IR_GET: case IR_PUT: case IR_CONST: case IR_ALU: case IR_EA: case IR_RIPREL:
        break;
      default:
        return false;
    }
  }
  return false;
}
