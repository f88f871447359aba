/**
 * The translator's back end: IR micro-ops (ir.ts) to one WebAssembly function per block, through
 * our encoder (wasm/encoder.ts). The function is `(budget: i32) -> i32` and works on the one shared
 * memory at the cpu/state.ts offsets:
 *
 *   - guest registers live in i64 locals, loaded on first use and written back only at exits,
 *     before helper calls and on memory slow paths (anything that can fault or observe them);
 *   - the lazy flags of the last flag-setting operation stay in locals (its tag is known at
 *     translation time) and reach OFF_LF_* only at those same points; a Jcc after CMP/SUB/TEST/...
 *     evaluates its condition from the locals, else asks the `cond` helper;
 *   - loads and stores probe the software TLB inline (docs/mmu.md: one tag compare and an add);
 *     the slow path calls the `ld`/`st` helpers, which run the interpreter's own access path;
 *   - a block whose last branch jumps back to its own start becomes a wasm `loop` that runs up to
 *     `budget` iterations while the exit-request word stays 0 (ITERS counts them for the engine).
 *
 * Result: 0 when the block completed (RIP stored), else (i << 4) | code for instruction i of the
 * block: code 1 = the fault the helper recorded, 2 = stop after instruction i (it completed: a
 * store hit translated code, a helper's instruction jumped or changed the mode), 3 = #GP(0) at i.
 */
import { LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_SUB } from '../cpu/flags.js';
import { BASE_RIP, type Decoded } from '../cpu/decoded.js';
import {
  MODE_LONG64, OFF_EXIT_REQUEST, OFF_LF_AUX, OFF_LF_DST, OFF_LF_OP, OFF_LF_RES, OFF_LF_SRC, OFF_RIP, TC_INDEX_BASE,
  gprOffset,
} from '../cpu/state.js';
import { TE_HOST, TE_READ, TE_WRITE, TLB_MASK, TLB_USER_WORDS } from '../mmu/tlb.js';
import { TLB_BASE } from '../cpu/state.js';
import {
  ALU_ADD, ALU_MOV, ALU_SEXT, ALU_SUB, IR_ALU, IR_CANON, IR_CONST, IR_EA, IR_EXITCC,
  IR_EXITHELPER, IR_EXITREL, IR_EXITT, IR_FLAGS, IR_GET, IR_HELPER, IR_INSN, IR_LOAD, IR_PUT, IR_RIPREL, IR_STORE,
  type IrBlock,
} from './ir.js';
import { FuncBody, I32, I64, ModuleBuilder, OP, VOID } from './wasm/encoder.js';

/** Scratch words in the TC-index region: a slow load's value (lo, hi) and the loop counter. */
export const SCRATCH_LO = TC_INDEX_BASE;
export const SCRATCH_HI = TC_INDEX_BASE + 4;
export const SCRATCH_ITERS = TC_INDEX_BASE + 8;

export const CODE_FAULT = 1;
export const CODE_STOP = 2;
export const CODE_GP = 3;

/** Function indexes of the helpers every generated module imports, in this order. */
const H_EXEC = 0;
const H_LD = 1;
const H_ST = 2;
const H_COND = 3;
const H_LAZYCF = 4;

/** Declares the memory and helper imports; call first on a new module. */
export function declareImports(m: ModuleBuilder, memPages: number): void {
  m.importMemory(memPages, -1);
  m.importFunc('exec', [I32], [I32]);
  m.importFunc('ld', [I32, I32, I32, I32, I32], [I32]);
  m.importFunc('st', [I32, I32, I32, I32, I32, I32, I32], [I32]);
  m.importFunc('cond', [I32], [I32]);
  m.importFunc('lazycf', [], [I32]);
}

/** What the back end needs to know about a block besides its IR. */
export interface BackendBlock {
  ir: IrBlock;
  insns: Decoded[];
  offs: number[];
  /** Global helper number of instruction 0 (instruction i is gidBase + i). */
  gidBase: number;
  mode: number;
  user: boolean;
  /** The block's last branch targets its own start: compile as a loop. */
  loops: boolean;
}

const MASK_LO = [0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1];
const LOG2 = [0, 0, 1, 0, 2, 0, 0, 0, 3];

/** Emits one block as an exported function `name` of module m. */
export function emitBlock(m: ModuleBuilder, name: string, b: BackendBlock): void {
  const { body: f } = m.func(name, [I32], [I32]);
  new Emitter(f, b).run();
}

class Emitter {
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
  private readonly iters: number;
  /** Tag of the lazy-flags operation held in the lf locals; -1 = the memory copy is current. */
  private pendTag = -1;
  private lfDirty = false;
  private curInsn = 0;
  private stopPending = false;
  private usedRegs = new Uint8Array(16);

  constructor(private readonly f: FuncBody, private readonly b: BackendBlock) {
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
    this.iters = f.local(I32);
  }

  run(): void {
    const f = this.f;
    f.i32(0).mem(OP.i64Load, 3, OFF_RIP).set(this.entry);
    if (this.b.loops) {
      // Registers the block touches live in locals across iterations: load them once.
      for (const op of this.b.ir.ops) {
        if (op[0] === IR_GET) this.usedRegs[op[2]] = 1;
        if (op[0] === IR_PUT) this.usedRegs[op[1]] = 1;
        if (op[0] === IR_EA) {
          if (op[2] >= 0 && op[2] < 16) this.usedRegs[op[2]] = 1;
          if (op[3] >= 0) this.usedRegs[op[3]] = 1;
        }
      }
      for (let r = 0; r < 16; r++) {
        if (this.usedRegs[r] !== 0) {
          this.load(r);
          if (this.b.ir.ops.some((op) => op[0] === IR_PUT && op[1] === r)) this.dirty[r] = 1;
        }
      }
      f.begin(OP.loop, VOID);
    }
    for (const op of this.b.ir.ops) this.op(op);
    if (this.b.loops) f.end();
    f.op(OP.unreachable);
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
    if (this.lfDirty) {
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
    const mode = this.b.mode;
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
          this.sync(false);
          this.storeRipRel(b);
          f.get(this.stop).op(OP.return).end();
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
        else {
          f.get(t[d]).get(t[e]);
          f.op([OP.i64Add, OP.i64Sub, OP.i64And, OP.i64Or, OP.i64Xor][a]);
        }
        if (b !== 8 && (a === ALU_ADD || a === ALU_SUB || a === ALU_MOV)) f.i64(MASK_LO[b], 0).op(OP.i64And);
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
        f.i32(this.b.gidBase + a).call(H_EXEC).tee(this.r).begin(OP.if, VOID).get(this.r).op(OP.return).end();
        this.forgetAll();
        break;
      case IR_RIPREL:
        f.get(this.entry).i64(b, 0).op(OP.i64Add);
        f.set(t[a]);
        break;
      case IR_CANON:
        this.canonical(t[a]);
        f.op(OP.i32Eqz).begin(OP.if, VOID);
        this.sync(false);
        this.ret((this.curInsn << 4) | CODE_GP);
        f.end();
        break;
      case IR_EXITREL:
        if (this.b.loops && a === 0) {
          this.backEdge(-1);
          break;
        }
        this.sync(true);
        this.storeRipRel(a);
        this.ret(0);
        break;
      case IR_EXITCC:
        this.cond(a);
        if (this.b.loops && b === 0) {
          this.backEdge(c);
          break;
        }
        f.set(this.r);
        this.sync(true);
        f.i32(0).get(this.entry).i64(b, b < 0 ? -1 : 0).op(OP.i64Add);
        this.wrapRip();
        f.get(this.entry).i64(c, c < 0 ? -1 : 0).op(OP.i64Add);
        this.wrapRip();
        f.get(this.r).op(OP.select).mem(OP.i64Store, 3, OFF_RIP);
        this.ret(0);
        break;
      case IR_EXITT:
        this.sync(true);
        f.i32(0).get(t[a]).mem(OP.i64Store, 3, OFF_RIP);
        this.ret(0);
        break;
      case IR_EXITHELPER:
        this.ret(0);
        break;
      default:
        throw new Error(`backend: unknown micro-op ${k}`);
    }
  }

  /**
   * The loop's back edge. With a condition on the stack (fallRel >= 0) the loop continues only when
   * it holds; it continues while iterations remain in the budget, the exit-request word is 0 and no
   * store hit translated code. Otherwise the block exits: RIP = entry (taken) or entry + fallRel.
   */
  private backEdge(fallRel: number): void {
    const f = this.f;
    const cond = fallRel >= 0;
    if (cond) f.set(this.r);
    // Bring the state to what the loop head expects: flags in memory, every used register loaded
    // (registers stay in locals across iterations; they are written back on the exit path only).
    const snapLoaded = Uint8Array.from(this.loaded);
    const snapDirty = Uint8Array.from(this.dirty);
    this.dirty.fill(0);
    this.sync(true);
    this.dirty.set(snapDirty);
    for (let r = 0; r < 16; r++) if (this.usedRegs[r] !== 0 && snapLoaded[r] === 0) this.load(r);
    if (cond) f.get(this.r);
    else f.i32(1);
    f.get(this.iters).i32(1).op(OP.i32Add).get(0).op(OP.i32LtU).op(OP.i32And);
    f.i32(0).mem(OP.i32Load, 2, OFF_EXIT_REQUEST).op(OP.i32Eqz).op(OP.i32And);
    f.get(this.stop).op(OP.i32Eqz).op(OP.i32And);
    f.begin(OP.if, VOID);
    f.i32(0).get(this.iters).i32(1).op(OP.i32Add).tee(this.iters).mem(OP.i32Store, 2, SCRATCH_ITERS);
    f.br(OP.br, 1);
    f.end();
    this.sync(true);
    f.i32(0).get(this.entry);
    if (cond) {
      f.get(this.entry).i64(fallRel, 0).op(OP.i64Add);
      this.wrapRip();
      f.get(this.r).op(OP.select);
    }
    f.mem(OP.i64Store, 3, OFF_RIP);
    this.ret(0);
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

  // ---- addresses and memory -------------------------------------------------------------------

  private ea(dst: number, base: number, index: number, scale: number, i: number): void {
    const f = this.f;
    const d = this.b.insns[i];
    f.i64(d.disp, d.disp < 0 ? -1 : 0);
    if (base === BASE_RIP) {
      f.get(this.entry).i64(this.b.offs[i] + d.length, 0).op(OP.i64Add).op(OP.i64Add);
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
    f.i32(TLB_BASE + (this.b.user ? TLB_USER_WORDS * 4 : 0)).op(OP.i32Add).set(e);
    this.canonical(addr);
    f.get(e).mem(OP.i32Load, 2, (write ? TE_WRITE : TE_READ) * 4);
    f.get(addr).i64(24, 0).op(OP.i64ShrS).op(OP.i32WrapI64).op(OP.i32Eq).op(OP.i32And);
    f.get(lo).i32(0xfff).op(OP.i32And).i32(4096 - size).op(OP.i32LeU).op(OP.i32And);
    const host = (): void => {
      f.get(e).mem(OP.i32Load, 2, TE_HOST * 4).get(lo).i32(0xfff).op(OP.i32And).op(OP.i32Add);
    };
    const gi = this.b.gidBase + i;
    if (!write) {
      f.begin(OP.if, I64);
      host();
      f.mem(size === 1 ? OP.i64Load8u : size === 2 ? OP.i64Load16u : size === 4 ? OP.i64Load32u : OP.i64Load,
        0, 0);
      f.op(OP.else);
      this.sync(false);
      f.i32(gi).i32(size).get(lo).get(addr).i64(32, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(seg).call(H_LD);
      f.tee(this.r).begin(OP.if, VOID).get(this.r).op(OP.return).end();
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
    this.sync(false);
    f.i32(gi).i32(size).get(lo).get(addr).i64(32, 0).op(OP.i64ShrU).op(OP.i32WrapI64);
    f.get(val).op(OP.i32WrapI64).get(val).i64(32, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(seg).call(H_ST);
    f.tee(this.r).i32(15).op(OP.i32And).i32(CODE_STOP).op(OP.i32Eq).begin(OP.if, VOID);
    f.get(this.r).set(this.stop);
    f.op(OP.else).get(this.r).begin(OP.if, VOID).get(this.r).op(OP.return).end();
    f.end();
    f.end();
    this.stopPending = true;
  }
}

/** A whole module of blocks, for the engine. */
export function buildModule(memPages: number, blocks: { name: string; block: BackendBlock }[]): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder();
  declareImports(m, memPages);
  for (const { name, block } of blocks) emitBlock(m, name, block);
  return m.encode();
}
