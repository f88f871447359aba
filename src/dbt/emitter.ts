/**
 * The code generator behind backend.ts: one region's IR to the body of its wasm function. Lays out
 * the function (its blocks as cases of a br_table in a loop, the dispatch case, the shared exit
 * epilogue) and emits the micro-ops, the TLB fast paths and DIV's common case. It extends
 * emit-exits.ts (the locals, the static state of translation, the links between blocks and the
 * exits), which extends emit-flags.ts (lazy flags in locals, conditions). The function's contract
 * (parameters, result codes, scratch words) is described in backend.ts.
 */
import { LF_ADC, LF_DEC, LF_INC, LF_SBB } from '../cpu/flags.js';
import { BASE_RIP } from '../cpu/decoded.js';
import { MODE_LONG64, OFF_RIP, TLB_BASE, gprOffset } from '../cpu/state.js';
import { TE_HOST, TE_READ, TE_WRITE, TLB_MASK, TLB_USER_WORDS } from '../mmu/tlb.js';
import {
  ALU_ADD, ALU_MOV, ALU_MUL, ALU_ROL, ALU_ROR, ALU_SAR, ALU_SEXT, ALU_SHL, ALU_SUB, FD_MUL, FD_SHLV, IR_BSWAP, IR_CMOV, IR_COND, IR_DIV, IR_FLAGSD, IR_ALU, IR_CANON, IR_CONST, IR_EA, IR_EXITCC,
  IR_EXITHELPER, IR_EXITREL, IR_EXITT, IR_FLAGS, IR_GET, IR_HELPER, IR_INSN, IR_LOAD, IR_PUT, IR_RIPREL, IR_STORE,
} from './ir.js';
import { I64, OP, VOID } from './wasm/encoder.js';
import { CODE_GP, CODE_SLOW, REGION_TYPE, SCRATCH_CHAINS } from './backend.js';
import { SEXT } from './emit-flags.js';
import { ExitEmitter, P_BUDGET, P_PAGEOFF, P_START } from './emit-exits.js';
import { emitChainLookup } from './chain.js';

/** Function indexes of the helpers every generated module imports (backend.ts declareImports). */
const H_EXEC = 0;

const MASK_LO = [0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1];
const LOG2 = [0, 0, 1, 0, 2, 0, 0, 0, 3];

export class Emitter extends ExitEmitter {
  /** The instruction whose micro-ops are being emitted (IR_INSN), for IR_CANON's #GP. */
  private curInsn = 0;

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