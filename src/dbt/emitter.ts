/**
 * The code generator behind backend.ts: one region's IR to the body of its wasm function. Keeps
 * the static state of translation (which guest registers sit in locals and which are dirty, the
 * tag of the lazy flags held in locals, the block being emitted and the control nesting) and
 * emits the micro-ops, the TLB fast paths and the links between blocks. The function's contract
 * (parameters, result codes, scratch words) is described in backend.ts.
 */
import { LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_SUB } from '../cpu/flags.js';
import { BASE_RIP } from '../cpu/decoded.js';
import {
  MODE_LONG64, OFF_EXIT_REQUEST, OFF_LF_AUX, OFF_LF_DST, OFF_LF_OP, OFF_LF_RES, OFF_LF_SRC, OFF_RFLAGS, OFF_RIP, TLB_BASE,
  gprOffset,
} from '../cpu/state.js';
import { TE_HOST, TE_READ, TE_WRITE, TLB_MASK, TLB_USER_WORDS } from '../mmu/tlb.js';
import {
  ALU_ADD, ALU_MOV, ALU_MUL, ALU_SAR, ALU_SEXT, ALU_SHL, ALU_SUB, FD_MUL, FD_MULU, FD_SHL, FD_SHR, IR_FLAGSD, IR_ALU, IR_CANON, IR_CONST, IR_EA, IR_EXITCC,
  IR_EXITHELPER, IR_EXITREL, IR_EXITT, IR_FLAGS, IR_GET, IR_HELPER, IR_INSN, IR_LOAD, IR_PUT, IR_RIPREL, IR_STORE,
} from './ir.js';
import { type FuncBody, I32, I64, OP, VOID } from './wasm/encoder.js';
import {
  CODE_GP, CODE_STOP, SCRATCH_CUR, SCRATCH_DONE, SCRATCH_ENTRY, SCRATCH_HI, SCRATCH_LO, type BackendBlock,
  type BackendRegion,
} from './backend.js';

/** Function indexes of the helpers every generated module imports (backend.ts declareImports). */
const H_EXEC = 0;
const H_LD = 1;
const H_ST = 2;
const H_COND = 3;
const H_LAZYCF = 4;

const P_START = 0;
const P_PAGEOFF = 1;
const P_BUDGET = 2;
/** Largest region whose RET targets are compared against every block entry. */
const MAX_DYN_LINKS = 24;

/**
 * pendTag of flags computed directly (FLAGSD): the six arithmetic bits sit in the lfAux local, as
 * the interpreter's setArith would store them (op field 0x40 matches no LF_* operation).
 */
const TAG_DIRECT = 0x100;
/** CF | PF | AF | ZF | SF | OF. */
const FLAGS_ARITH = 0x8d5;
const SEXT = [0, OP.i64Extend8S, OP.i64Extend16S, 0, OP.i64Extend32S, 0, 0, 0, 0];

const MASK_LO = [0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1];
const LOG2 = [0, 0, 1, 0, 2, 0, 0, 0, 3];

export class Emitter {
  private readonly base: number;
  private readonly entry: number;
  private readonly t: number[];
  private readonly reg: number[] = [];
  private readonly loaded = new Uint8Array(16);
  private readonly dirty = new Uint8Array(16);
  private readonly lfDst: number;
  private readonly lfSrc: number;
  private readonly lfRes: number;
  private readonly lfAux: number;
  private readonly r: number;
  private readonly stop: number;
  private readonly e: number;
  private readonly lo: number;
  private readonly cur: number;
  private readonly done: number;
  /** Scratch i64 for flag computations. */
  private readonly x64: number;
  /** The result code on the way to the shared epilogue. */
  private readonly res: number;
  /** Tag of the lazy-flags operation held in the lf locals; -1 = the memory copy is current. */
  private pendTag = -1;
  private lfDirty = false;
  private curInsn = 0;
  private stopPending = false;
  /** Registers the region reads or writes (held in locals across its blocks) and writes. */
  private readonly usedRegs = new Uint8Array(16);
  private readonly putRegs = new Uint8Array(16);
  /** Block index by page offset, for links inside the region (-1: not in the region). */
  private readonly blockAt = new Int16Array(4096).fill(-1);
  /** The block being emitted and how many structured-control levels enclose its code. */
  private bi = 0;
  private nest = 0;
  private readonly blocks: BackendBlock[];

  constructor(private readonly f: FuncBody, private readonly rg: BackendRegion) {
    this.blocks = rg.blocks;
    this.base = f.local(I64);
    this.entry = f.local(I64);
    this.t = [f.local(I64), f.local(I64), f.local(I64), f.local(I64)];
    for (let i = 0; i < 16; i++) this.reg.push(f.local(I64));
    this.lfDst = f.local(I64);
    this.lfSrc = f.local(I64);
    this.lfRes = f.local(I64);
    this.lfAux = f.local(I32);
    this.r = f.local(I32);
    this.stop = f.local(I32);
    this.e = f.local(I32);
    this.lo = f.local(I32);
    this.cur = f.local(I32);
    this.done = f.local(I32);
    this.x64 = f.local(I64);
    this.res = f.local(I32);
  }

  run(): void {
    const f = this.f;
    const blocks = this.blocks;
    const k = blocks.length;
    blocks.forEach((b, j) => {
      if (this.rg.link) this.blockAt[b.pageOff] = j;
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
    f.begin(OP.block, VOID);
    f.begin(OP.loop, VOID);
    for (let j = k - 1; j >= 0; j--) f.begin(OP.block, VOID);
    f.get(this.cur);
    f.code.u8(OP.brTable).uleb(k);
    for (let j = 0; j < k; j++) f.code.uleb(j);
    f.code.uleb(k - 1);
    for (let j = 0; j < k; j++) {
      f.end(); // leaves block j: its code follows
      this.bi = j;
      this.nest = k - 1 - j; // enclosing `block`s of the later blocks
      this.headState();
      const b = blocks[j];
      f.get(this.base).i64(b.pageOff, 0).op(OP.i64Add);
      this.wrapRip();
      f.set(this.entry);
      f.i32(0).get(this.entry).mem(OP.i64Store, 3, SCRATCH_ENTRY);
      f.i32(0).get(this.done).mem(OP.i32Store, 2, SCRATCH_DONE);
      f.i32(0).i32(j).mem(OP.i32Store, 2, SCRATCH_CUR);
      for (const op of b.ir.ops) this.op(op);
    }
    f.end(); // loop
    f.op(OP.unreachable);
    f.end(); // epilogue block
    for (let r = 0; r < 16; r++) if (this.putRegs[r] !== 0) f.i32(0).get(this.reg[r]).mem(OP.i64Store, 3, gprOffset(r));
    f.get(this.res);
  }

  /** The static state every block starts from: used registers in locals, flags in memory. */
  private headState(): void {
    this.loaded.set(this.usedRegs);
    this.dirty.set(this.putRegs);
    this.pendTag = -1;
    this.lfDirty = false;
    this.stopPending = false;
  }

  // ---- registers and flags ------------------------------------------------------------------

  private load(r: number): void {
    if (this.loaded[r] !== 0) return;
    this.f.i32(0).mem(OP.i64Load, 3, gprOffset(r)).set(this.reg[r]);
    this.loaded[r] = 1;
  }

  /** Writes dirty registers and pending flags to memory; `forget` makes that the static state. */
  private sync(forget: boolean): void {
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

  /** The lazy-flags half of sync. */
  private syncFlags(forget: boolean): void {
    const f = this.f;
    if (this.lfDirty && this.pendTag === TAG_DIRECT) {
      f.i32(0).i32(0).mem(OP.i32Load, 2, OFF_RFLAGS).i32(~FLAGS_ARITH).op(OP.i32And).get(this.lfAux).op(OP.i32Or)
        .mem(OP.i32Store, 2, OFF_RFLAGS);
      f.i32(0).i32(0).mem(OP.i32Store, 2, OFF_LF_OP);
      if (forget) this.lfDirty = false;
    } else if (this.lfDirty) {
      const tag = this.pendTag;
      const sz = tag & 3;
      f.i32(0).i32(tag).mem(OP.i32Store, 2, OFF_LF_OP);
      const st = sz === 3 ? OP.i64Store : OP.i64Store32;
      f.i32(0).get(this.lfDst).mem(st, 2, OFF_LF_DST);
      f.i32(0).get(this.lfSrc).mem(st, 2, OFF_LF_SRC);
      f.i32(0).get(this.lfRes).mem(st, 2, OFF_LF_RES);
      const op = tag >> 2;
      if (op === LF_INC || op === LF_DEC) f.i32(0).get(this.lfAux).mem(OP.i32Store, 2, OFF_LF_AUX);
      if (forget) this.lfDirty = false;
    }
  }

  /** After a helper ran, the memory copy is authoritative for everything. */
  private forgetAll(): void {
    this.loaded.fill(0);
    this.dirty.fill(0);
    this.pendTag = -1;
    this.lfDirty = false;
  }

  /** Stores RIP = entry + rel (wrapped to the mode's width). */
  private storeRipRel(rel: number): void {
    const f = this.f;
    f.i32(0).get(this.entry).i64(rel, rel < 0 ? -1 : 0).op(OP.i64Add);
    this.wrapRip();
    f.mem(OP.i64Store, 3, OFF_RIP);
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
        if (this.stopPending) {
          // A store of the previous instruction hit translated code: stop before this one.
          f.get(this.stop).begin(OP.if, VOID);
          this.storeRipRel(b);
          this.leave(1, 0, this.stop);
          f.end();
          this.stopPending = false;
        }
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
        if (a === LF_INC || a === LF_DEC) {
          this.cf(); // the preserved CF of the operation before
          f.set(this.lfAux);
        }
        f.get(t[c]).set(this.lfDst);
        f.get(t[d]).set(this.lfSrc);
        f.get(t[e]).set(this.lfRes);
        this.pendTag = tag;
        this.lfDirty = true;
        break;
      }
      case IR_FLAGSD:
        this.flagsDirect(a, b, t[c], d, t[e]);
        break;
      case IR_EA:
        this.ea(t[a], b, c, d, e);
        break;
      case IR_LOAD:
        this.access(false, t[a], t[b], c, d, e);
        break;
      case IR_STORE:
        this.access(true, t[b], t[a], c, d, e);
        break;
      case IR_HELPER:
        this.sync(true);
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
      case IR_EXITREL:
        this.goTo(this.blocks[this.bi].pageOff + a);
        break;
      case IR_EXITCC: {
        this.cond(a);
        f.set(this.r);
        // flags to memory on both paths (a block starts with them there), registers stay
        this.flushFlags();
        const off = this.blocks[this.bi].pageOff;
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
   * an exit request or a code-page store says stop, RIP is stored and the function returns.
   * Emits code that ends in a branch or a return (the static state is left unchanged).
   */
  private goTo(target: number): void {
    const f = this.f;
    const savedLoaded = Uint8Array.from(this.loaded);
    const savedDirty = Uint8Array.from(this.dirty);
    const savedTag = this.pendTag;
    const savedLf = this.lfDirty;
    const k = target >= 0 && target < 4096 ? this.blockAt[target] : -1;
    if (k >= 0) {
      this.flushFlags();
      for (let r = 0; r < 16; r++) if (this.usedRegs[r] !== 0 && this.loaded[r] === 0) this.load(r);
      const n = this.blocks[this.bi].insns.length;
      const nk = this.blocks[k].insns.length;
      f.get(this.done).i32(n + nk).op(OP.i32Add).get(P_BUDGET).op(OP.i32LeU);
      f.i32(0).mem(OP.i32Load, 2, OFF_EXIT_REQUEST).op(OP.i32Eqz).op(OP.i32And);
      f.get(this.stop).op(OP.i32Eqz).op(OP.i32And);
      f.begin(OP.if, VOID);
      f.get(this.done).i32(n).op(OP.i32Add).set(this.done);
      f.i32(k).set(this.cur);
      f.br(OP.br, this.nest + 1);
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
  }

  /**
   * Leaves for the RIP in local `t` (RET): when it is the start of a block of the region (compared
   * against each entry, at most MAX_DYN_LINKS of them), go there directly as goTo does.
   */
  private goToDynamic(t: number): void {
    const f = this.f;
    const savedLoaded = Uint8Array.from(this.loaded);
    const savedDirty = Uint8Array.from(this.dirty);
    const savedTag = this.pendTag;
    const savedLf = this.lfDirty;
    if (this.rg.link && this.blocks.length <= MAX_DYN_LINKS) {
      this.flushFlags();
      for (let r = 0; r < 16; r++) if (this.usedRegs[r] !== 0 && this.loaded[r] === 0) this.load(r);
      const n = this.blocks[this.bi].insns.length;
      f.get(this.done).i32(n).op(OP.i32Add).set(this.lo); // lo = done after this block
      // e = 1 when the loop may go on at all
      f.i32(0).mem(OP.i32Load, 2, OFF_EXIT_REQUEST).get(this.stop).op(OP.i32Or).op(OP.i32Eqz).set(this.e);
      this.blocks.forEach((b, k) => {
        f.get(t).get(this.base).op(OP.i64Sub).i64(b.pageOff, 0).op(OP.i64Eq);
        f.get(this.lo).i32(b.insns.length).op(OP.i32Add).get(P_BUDGET).op(OP.i32LeU).op(OP.i32And);
        f.get(this.e).op(OP.i32And);
        f.begin(OP.if, VOID);
        f.get(this.lo).set(this.done);
        f.i32(k).set(this.cur);
        f.br(OP.br, this.nest + 1);
        f.end();
      });
    }
    f.i32(0).get(t).mem(OP.i64Store, 3, OFF_RIP);
    this.leave(0, 0);
    this.loaded.set(savedLoaded);
    this.dirty.set(savedDirty);
    this.pendTag = savedTag;
    this.lfDirty = savedLf;
  }

  // ---- conditions -----------------------------------------------------------------------------

  /** Pushes CF (i32 0/1) of the pending operation. */
  private cf(): void {
    const f = this.f;
    const tag = this.pendTag;
    if (tag < 0) {
      f.call(H_LAZYCF);
      return;
    }
    if (tag === TAG_DIRECT) {
      f.get(this.lfAux).i32(1).op(OP.i32And);
      return;
    }
    const op = tag >> 2;
    if (op === LF_ADD) f.get(this.lfRes).get(this.lfDst).op(OP.i64LtU);
    else if (op === LF_SUB) f.get(this.lfDst).get(this.lfSrc).op(OP.i64LtU);
    else if (op === LF_INC || op === LF_DEC) f.get(this.lfAux);
    else f.i32(0);
  }

  private bits(): number {
    return 8 << (this.pendTag & 3);
  }

  private zf(): void {
    this.f.get(this.lfRes).op(OP.i64Eqz);
  }
  private sf(): void {
    this.f.get(this.lfRes).i64(this.bits() - 1, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(1).op(OP.i32And);
  }
  private of(): void {
    const f = this.f;
    const op = this.pendTag >> 2;
    if (op === LF_LOGIC) {
      f.i32(0);
      return;
    }
    if (op === LF_ADD || op === LF_INC) {
      f.get(this.lfDst).get(this.lfRes).op(OP.i64Xor).get(this.lfSrc).get(this.lfRes).op(OP.i64Xor).op(OP.i64And);
    } else {
      f.get(this.lfDst).get(this.lfSrc).op(OP.i64Xor).get(this.lfDst).get(this.lfRes).op(OP.i64Xor).op(OP.i64And);
    }
    f.i64(this.bits() - 1, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(1).op(OP.i32And);
  }
  private pf(): void {
    this.f.get(this.lfRes).op(OP.i32WrapI64).i32(0xff).op(OP.i32And).op(0x69 /* i32.popcnt */).i32(1).op(OP.i32And)
      .op(OP.i32Eqz);
  }

  /** Pushes condition cc (0..15) as i32 0/1. */
  private cond(cc: number): void {
    const f = this.f;
    const op = this.pendTag >> 2;
    if (this.pendTag === TAG_DIRECT) {
      // bits of RFLAGS: CF 0, PF 2, ZF 6, SF 7, OF 11
      const bit = (n: number): void => {
        f.get(this.lfAux).i32(n).op(OP.i32ShrU).i32(1).op(OP.i32And);
      };
      switch (cc >> 1) {
        case 0: bit(11); break;
        case 1: bit(0); break;
        case 2: bit(6); break;
        case 3: f.get(this.lfAux).i32(0x41).op(OP.i32And).i32(0).op(OP.i32Ne); break;
        case 4: bit(7); break;
        case 5: bit(2); break;
        case 6: bit(7); bit(11); f.op(OP.i32Xor); break;
        default: bit(6); bit(7); bit(11); f.op(OP.i32Xor); f.op(OP.i32Or); break;
      }
      if ((cc & 1) !== 0) f.op(OP.i32Eqz);
      return;
    }
    if (this.pendTag < 0 || !(op === LF_ADD || op === LF_SUB || op === LF_LOGIC || op === LF_INC || op === LF_DEC)) {
      this.sync(true);
      f.i32(cc).call(H_COND);
      return;
    }
    switch (cc >> 1) {
      case 0: this.of(); break;
      case 1: this.cf(); break;
      case 2: this.zf(); break;
      case 3: this.cf(); this.zf(); f.op(OP.i32Or); break;
      case 4: this.sf(); break;
      case 5: this.pf(); break;
      case 6: this.sf(); this.of(); f.op(OP.i32Xor); break;
      default: this.zf(); this.sf(); this.of(); f.op(OP.i32Xor); f.op(OP.i32Or); break;
    }
    if ((cc & 1) !== 0) f.op(OP.i32Eqz);
  }

  /**
   * FLAGSD: the arithmetic flags of MUL or a shift by a constant count into lfAux, exactly as the
   * interpreter's muldiv.ts / shift.ts compute them (SF, ZF, PF from the result, AF = 0).
   */
  private flagsDirect(kind: number, size: number, ta: number, b: number, tres: number): void {
    const f = this.f;
    const bits = size * 8;
    const msb = (t: number): void => {
      f.get(t).i64(bits - 1, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(1).op(OP.i32And);
    };
    // SF | ZF | PF (MULU: of the low half of the full product)
    if (kind === FD_MULU) f.get(tres).op(OP.i32WrapI64).op(OP.i32Eqz).i32(6).op(OP.i32Shl);
    else f.get(tres).op(OP.i64Eqz).i32(6).op(OP.i32Shl);
    msb(tres);
    f.i32(7).op(OP.i32Shl).op(OP.i32Or);
    f.get(tres).op(OP.i32WrapI64).i32(0xff).op(OP.i32And).op(0x69 /* i32.popcnt */).i32(1).op(OP.i32And).op(OP.i32Eqz)
      .i32(2).op(OP.i32Shl).op(OP.i32Or);
    if (kind === FD_MULU) {
      f.get(ta).i64(32, 0).op(OP.i64ShrU).op(OP.i64Eqz).op(OP.i32Eqz).i32(0x801).op(OP.i32Mul).op(OP.i32Or);
    } else if (kind === FD_MUL) {
      const tb = this.t[b];
      if (size !== 8) {
        // the exact product fits in i64: it fits the size when sign-extending its low part gives it back
        f.get(ta).op(SEXT[size]).get(tb).op(SEXT[size]).op(OP.i64Mul).tee(this.x64);
        f.get(this.x64).op(SEXT[size]).op(OP.i64Ne);
      } else {
        // 64 x 64: overflow iff a != 0 and res / a != b; a = -1 only overflows for b = MIN (the
        // division would trap, so it divides by 1 there and by 1 for a = 0)
        f.get(tb).i64(0, 0x80000000 | 0).op(OP.i64Eq);
        f.get(tres);
        f.i64(1, 0).get(ta).get(ta).op(OP.i64Eqz).get(ta).i64(-1, -1).op(OP.i64Eq).op(OP.i32Or).op(OP.select);
        f.op(OP.i64DivS).get(tb).op(OP.i64Ne).get(ta).op(OP.i64Eqz).op(OP.i32Eqz).op(OP.i32And);
        f.get(ta).i64(-1, -1).op(OP.i64Eq).op(OP.select);
      }
      f.i32(0x801).op(OP.i32Mul).op(OP.i32Or);
    } else {
      // CF: the last bit shifted out; OF: SHL msb(res) ^ CF, SHR msb(operand), SAR 0
      if (kind === FD_SHL) f.get(ta).i64(bits - b, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(1).op(OP.i32And).tee(this.r);
      else f.get(ta).i64(b - 1, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(1).op(OP.i32And);
      f.op(OP.i32Or);
      if (kind === FD_SHL) {
        msb(tres);
        f.get(this.r).op(OP.i32Xor).i32(11).op(OP.i32Shl).op(OP.i32Or);
      } else if (kind === FD_SHR) {
        msb(ta);
        f.i32(11).op(OP.i32Shl).op(OP.i32Or);
      }
    }
    f.set(this.lfAux);
    this.pendTag = TAG_DIRECT;
    this.lfDirty = true;
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
   * in local `addr`, segment `seg`, for instruction i. Fast path: canonical, TLB tag hit for the
   * access kind, not crossing the page. Slow path: sync, call the helper, leave on a fault.
   */
  private access(write: boolean, val: number, addr: number, size: number, i: number, seg: number): void {
    const f = this.f;
    const lo = this.lo;
    const e = this.e;
    f.get(addr).op(OP.i32WrapI64).tee(lo);
    f.i32(12).op(OP.i32ShrU).i32(TLB_MASK).op(OP.i32And).i32(5).op(OP.i32Shl);
    f.i32(TLB_BASE + (this.rg.user ? TLB_USER_WORDS * 4 : 0)).op(OP.i32Add).set(e);
    this.canonical(addr);
    f.get(e).mem(OP.i32Load, 2, (write ? TE_WRITE : TE_READ) * 4);
    f.get(addr).i64(24, 0).op(OP.i64ShrS).op(OP.i32WrapI64).op(OP.i32Eq).op(OP.i32And);
    f.get(lo).i32(0xfff).op(OP.i32And).i32(4096 - size).op(OP.i32LeU).op(OP.i32And);
    const host = (): void => {
      f.get(e).mem(OP.i32Load, 2, TE_HOST * 4).get(lo).i32(0xfff).op(OP.i32And).op(OP.i32Add);
    };
    const gi = this.blocks[this.bi].gidBase + i;
    if (!write) {
      f.begin(OP.if, I64);
      host();
      f.mem(size === 1 ? OP.i64Load8u : size === 2 ? OP.i64Load16u : size === 4 ? OP.i64Load32u : OP.i64Load,
        0, 0);
      f.op(OP.else);
      // the slow path needs no registers in memory (cpu.rd reads none); a fault leaves through
      // the epilogue, which writes them back for the delivery
      f.i32(gi).i32(size).get(lo).get(addr).i64(32, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(seg).call(H_LD);
      f.tee(this.r).begin(OP.if, VOID);
      this.leave(2, 0, this.r);
      f.end();
      f.i32(0).mem(OP.i64Load32u, 2, SCRATCH_LO);
      if (size === 8) f.i32(0).mem(OP.i64Load32u, 2, SCRATCH_HI).i64(32, 0).op(OP.i64Shl).op(OP.i64Or);
      f.end().set(val);
      return;
    }
    f.begin(OP.if, VOID);
    host();
    f.get(val);
    f.mem(size === 1 ? OP.i64Store8 : size === 2 ? OP.i64Store16 : size === 4 ? OP.i64Store32 : OP.i64Store, 0, 0);
    f.op(OP.else);
    f.i32(gi).i32(size).get(lo).get(addr).i64(32, 0).op(OP.i64ShrU).op(OP.i32WrapI64);
    f.get(val).op(OP.i32WrapI64).get(val).i64(32, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(seg).call(H_ST);
    f.tee(this.r).i32(15).op(OP.i32And).i32(CODE_STOP).op(OP.i32Eq).begin(OP.if, VOID);
    f.get(this.r).set(this.stop);
    f.op(OP.else).get(this.r).begin(OP.if, VOID);
    this.leave(3, 0, this.r);
    f.end();
    f.end();
    f.end();
    this.stopPending = true;
  }
}

