/**
 * The flags half of the code generator (emitter.ts extends it): the lazy flags of the last
 * flag-setting operation held in locals (its tag known at translation time), the flags of MUL and
 * constant shifts computed directly into a local (FLAGSD, as the interpreter's setArith stores
 * them), writing either to the shared CPU block (cpu/flags.ts format), and conditions (Jcc, the
 * CF that INC/DEC keep) evaluated from the locals without a helper call where the tag allows.
 */
import { LF_ADC, LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_SBB, LF_SUB } from '../cpu/flags.js';
import { OFF_LF_AUX, OFF_LF_DST, OFF_LF_OP, OFF_LF_RES, OFF_LF_SRC, OFF_RFLAGS } from '../cpu/state.js';
import { FD_MUL, FD_MULU, FD_ROLV, FD_SARV, FD_SHL, FD_SHLV, FD_SHR, FD_SHRV } from './ir.js';
import { type FuncBody, I32, I64, OP } from './wasm/encoder.js';

/** Function indexes of the flag helpers every generated module imports (backend.ts declareImports). */
export const H_COND = 1;
export const H_LAZYCF = 2;
export const H_FLAGS = 3;

/**
 * pendTag of flags computed directly (FLAGSD): the six arithmetic bits sit in the lfAux local, as
 * the interpreter's setArith would store them (op field 0x40 matches no LF_* operation).
 */
export const TAG_DIRECT = 0x100;
/** CF | PF | AF | ZF | SF | OF. */
const FLAGS_ARITH = 0x8d5;
export const SEXT = [0, OP.i64Extend8S, OP.i64Extend16S, 0, OP.i64Extend32S, 0, 0, 0, 0];

export abstract class FlagEmitter {
  protected readonly lfDst: number;
  protected readonly lfSrc: number;
  protected readonly lfRes: number;
  protected readonly lfAux: number;
  /** Scratch i64 and i32 for flag computations. */
  protected readonly x64: number;
  protected readonly fr: number;
  /** The flags a variable-count shift computes, before the count-0 choice. */
  private readonly fv: number;
  /** Tag of the lazy-flags operation held in the lf locals; -1 = the memory copy is current. */
  protected pendTag = -1;
  protected lfDirty = false;
  /**
   * An INC/DEC (or a run of them) found the flags in memory: the CF it keeps is the memory state's,
   * which nothing changes until the flags are synced, so lfAux is only computed (the lazycf call)
   * where something needs it: a CF read or a sync. Most INC/DEC are followed by an operation that
   * sets CF again (bench/dbt.ts branchy: one lazycf call per loop before).
   */
  protected auxDeferred = false;

  /** Computes a deferred lfAux; `permanent` false: on this control path only (the static state still defers). */
  protected resolveAux(permanent: boolean): void {
    if (!this.auxDeferred) return;
    this.f.call(H_LAZYCF).set(this.lfAux);
    if (permanent) this.auxDeferred = false;
  }

  constructor(protected readonly f: FuncBody) {
    this.lfDst = f.local(I64);
    this.lfSrc = f.local(I64);
    this.lfRes = f.local(I64);
    this.lfAux = f.local(I32);
    this.x64 = f.local(I64);
    this.fr = f.local(I32);
    this.fv = f.local(I32);
  }

  /** Writes dirty registers and pending flags to memory (the code generator's registers half). */
  protected abstract sync(forget: boolean): void;

  /** The lazy-flags half of sync. */
  protected syncFlags(forget: boolean): void {
    const f = this.f;
    if (this.lfDirty && this.pendTag === TAG_DIRECT) {
      f.i32(0).i32(0).mem(OP.i32Load, 2, OFF_RFLAGS).i32(~FLAGS_ARITH).op(OP.i32And).get(this.lfAux).op(OP.i32Or)
        .mem(OP.i32Store, 2, OFF_RFLAGS);
      f.i32(0).i32(0).mem(OP.i32Store, 2, OFF_LF_OP);
      if (forget) this.lfDirty = false;
    } else if (this.lfDirty) {
      const tag = this.pendTag;
      const sz = tag & 3;
      this.resolveAux(forget); // reads the old memory state: before the stores below
      f.i32(0).i32(tag).mem(OP.i32Store, 2, OFF_LF_OP);
      const st = sz === 3 ? OP.i64Store : OP.i64Store32;
      f.i32(0).get(this.lfDst).mem(st, 2, OFF_LF_DST);
      f.i32(0).get(this.lfSrc).mem(st, 2, OFF_LF_SRC);
      f.i32(0).get(this.lfRes).mem(st, 2, OFF_LF_RES);
      const op = tag >> 2;
      if (op === LF_INC || op === LF_DEC || op === LF_ADC || op === LF_SBB) f.i32(0).get(this.lfAux).mem(OP.i32Store, 2, OFF_LF_AUX);
      if (forget) this.lfDirty = false;
    }
  }

  // ---- conditions -----------------------------------------------------------------------------

  /** Pushes CF (i32 0/1) of the pending operation. */
  protected cf(): void {
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
    else if (op === LF_INC || op === LF_DEC) {
      this.resolveAux(true);
      f.get(this.lfAux);
    }
    else if (op === LF_ADC) {
      // carry in: res <= dst, else res < dst (cpu/flags.ts lazyCF)
      f.get(this.lfRes).get(this.lfDst).op(OP.i64LeU).get(this.lfRes).get(this.lfDst).op(OP.i64LtU).get(this.lfAux)
        .op(OP.select);
    } else if (op === LF_SBB) {
      f.get(this.lfDst).get(this.lfSrc).op(OP.i64LeU).get(this.lfDst).get(this.lfSrc).op(OP.i64LtU).get(this.lfAux)
        .op(OP.select);
    } else f.i32(0);
  }

  protected bits(): number {
    return 8 << (this.pendTag & 3);
  }

  protected zf(): void {
    this.f.get(this.lfRes).op(OP.i64Eqz);
  }
  protected sf(): void {
    this.f.get(this.lfRes).i64(this.bits() - 1, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(1).op(OP.i32And);
  }
  protected of(): void {
    const f = this.f;
    const op = this.pendTag >> 2;
    if (op === LF_LOGIC) {
      f.i32(0);
      return;
    }
    if (op === LF_ADD || op === LF_INC || op === LF_ADC) {
      f.get(this.lfDst).get(this.lfRes).op(OP.i64Xor).get(this.lfSrc).get(this.lfRes).op(OP.i64Xor).op(OP.i64And);
    } else {
      f.get(this.lfDst).get(this.lfSrc).op(OP.i64Xor).get(this.lfDst).get(this.lfRes).op(OP.i64Xor).op(OP.i64And);
    }
    f.i64(this.bits() - 1, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(1).op(OP.i32And);
  }
  protected pf(): void {
    this.f.get(this.lfRes).op(OP.i32WrapI64).i32(0xff).op(OP.i32And).op(0x69 /* i32.popcnt */).i32(1).op(OP.i32And)
      .op(OP.i32Eqz);
  }

  /** Pushes condition cc (0..15) as i32 0/1. */
  protected cond(cc: number): void {
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
    if (op === LF_SUB && this.pendTag >= 0 && ((cc >> 1) === 3 || (cc >> 1) >= 6)) {
      // CMP/SUB then BE/A, L/GE, LE/G: one compare of the operands (masked to the size; the
      // signed ones sign-extended) instead of combining CF, ZF, SF and OF
      const sz = 1 << (this.pendTag & 3);
      const operand = (t: number): void => {
        f.get(t);
        if ((cc >> 1) !== 3 && sz !== 8) f.op(SEXT[sz]);
      };
      operand(this.lfDst);
      operand(this.lfSrc);
      f.op((cc >> 1) === 3 ? OP.i64LeU : (cc >> 1) === 6 ? OP.i64LtS : OP.i64LeS);
      if ((cc & 1) !== 0) f.op(OP.i32Eqz);
      return;
    }
    if (this.pendTag >= 0 && (cc >> 1) === 1) {
      // CF alone (ADC/SBB's carry in): no flag materialization needed
      this.cf();
      if ((cc & 1) !== 0) f.op(OP.i32Eqz);
      return;
    }
    if (this.pendTag < 0 || !(op === LF_ADD || op === LF_SUB || op === LF_LOGIC || op === LF_INC || op === LF_DEC ||
      op === LF_ADC || op === LF_SBB)) {
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
  protected flagsDirect(kind: number, size: number, ta: number, b: number, tres: number): void {
    if (kind >= FD_ROLV) {
      this.flagsRotate(kind === FD_ROLV, size, b, tres);
      return;
    }
    if (kind >= FD_SHLV) {
      this.flagsVariable(kind, size, ta, b, tres);
      return;
    }
    const f = this.f;
    const bits = size * 8;
    const msb = (t: number): void => {
      f.get(t).i64(bits - 1, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(1).op(OP.i32And);
    };
    // SF | ZF | PF (MULU: of the low half of the full product)
    if (kind === FD_MULU && size === 4) f.get(tres).op(OP.i32WrapI64).op(OP.i32Eqz).i32(6).op(OP.i32Shl);
    else if (kind === FD_MULU) f.get(tres).i64(size === 1 ? 0xff : 0xffff, 0).op(OP.i64And).op(OP.i64Eqz).i32(6).op(OP.i32Shl);
    else f.get(tres).op(OP.i64Eqz).i32(6).op(OP.i32Shl);
    msb(tres);
    f.i32(7).op(OP.i32Shl).op(OP.i32Or);
    f.get(tres).op(OP.i32WrapI64).i32(0xff).op(OP.i32And).op(0x69 /* i32.popcnt */).i32(1).op(OP.i32And).op(OP.i32Eqz)
      .i32(2).op(OP.i32Shl).op(OP.i32Or);
    if (kind === FD_MULU) {
      f.get(ta).i64(bits, 0).op(OP.i64ShrU).op(OP.i64Eqz).op(OP.i32Eqz).i32(0x801).op(OP.i32Mul).op(OP.i32Or);
    } else if (kind === FD_MUL) {
      const tb = b; // the local holding the other factor
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
      if (kind === FD_SHL) f.get(ta).i64(bits - b, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(1).op(OP.i32And).tee(this.fr);
      else f.get(ta).i64(b - 1, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(1).op(OP.i32And);
      f.op(OP.i32Or);
      if (kind === FD_SHL) {
        msb(tres);
        f.get(this.fr).op(OP.i32Xor).i32(11).op(OP.i32Shl).op(OP.i32Or);
      } else if (kind === FD_SHR) {
        msb(ta);
        f.i32(11).op(OP.i32Shl).op(OP.i32Or);
      }
    }
    f.set(this.lfAux);
    this.pendTag = TAG_DIRECT;
    this.lfDirty = true;
    this.auxDeferred = false;
  }
  /**
   * SHL/SHR/SAR by the count in local `cnt` (masked, 0..63): the flags of shift.ts's shiftCore for
   * a nonzero count (CF the last bit out, 0 past an 8/16-bit operand's width for SHL/SHR, the sign
   * for SAR; OF as for a count of 1; SF/ZF/PF of the result; AF 0), and no change for a zero
   * count: chosen with a select, in the locals when they hold direct flags, else in memory.
   */
  private flagsVariable(kind: number, size: number, ta: number, cnt: number, tres: number): void {
    const f = this.f;
    const bits = size * 8;
    const msb = (t: number): void => {
      f.get(t).i64(bits - 1, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(1).op(OP.i32And);
    };
    f.get(tres).op(OP.i64Eqz).i32(6).op(OP.i32Shl);
    msb(tres);
    f.i32(7).op(OP.i32Shl).op(OP.i32Or);
    f.get(tres).op(OP.i32WrapI64).i32(0xff).op(OP.i32And).op(0x69 /* i32.popcnt */).i32(1).op(OP.i32And).op(OP.i32Eqz)
      .i32(2).op(OP.i32Shl).op(OP.i32Or);
    if (kind === FD_SHLV) {
      // bit `bits` of the widened a << cnt (8/16/32-bit operands cannot overflow i64 at cnt <= 31)
      if (size === 8) f.get(ta).i64(64, 0).get(cnt).op(OP.i64Sub).op(OP.i64ShrU);
      else f.get(ta).get(cnt).op(OP.i64Shl).i64(bits, 0).op(OP.i64ShrU);
    } else {
      f.get(ta);
      if (kind === FD_SARV && size !== 8) f.op(SEXT[size]);
      f.get(cnt).i64(1, 0).op(OP.i64Sub).op(kind === FD_SARV ? OP.i64ShrS : OP.i64ShrU);
    }
    f.op(OP.i32WrapI64).i32(1).op(OP.i32And).tee(this.fr).op(OP.i32Or);
    if (kind === FD_SHLV) {
      msb(tres);
      f.get(this.fr).op(OP.i32Xor).i32(11).op(OP.i32Shl).op(OP.i32Or);
    } else if (kind === FD_SHRV) {
      msb(ta);
      f.i32(11).op(OP.i32Shl).op(OP.i32Or);
    }
    f.set(this.fv);
    const nonzero = (): void => {
      f.get(cnt).op(OP.i64Eqz).op(OP.i32Eqz);
    };
    if (this.pendTag === TAG_DIRECT) {
      f.get(this.fv).get(this.lfAux);
      nonzero();
      f.op(OP.select).set(this.lfAux);
      this.lfDirty = true;
      return;
    }
    // (syncFlags(true) below resolves a deferred INC/DEC CF before memory changes)
    this.syncFlags(true);
    f.i32(0);
    f.i32(0).mem(OP.i32Load, 2, OFF_RFLAGS).i32(~FLAGS_ARITH).op(OP.i32And).get(this.fv).op(OP.i32Or);
    f.i32(0).mem(OP.i32Load, 2, OFF_RFLAGS);
    nonzero();
    f.op(OP.select).mem(OP.i32Store, 2, OFF_RFLAGS);
    f.i32(0).i32(0).i32(0).mem(OP.i32Load, 2, OFF_LF_OP);
    nonzero();
    f.op(OP.select).mem(OP.i32Store, 2, OFF_LF_OP);
    this.pendTag = -1;
    this.lfDirty = false;
  }
  /**
   * ROL/ROR: CF and OF from the rotated result (shift.ts: ROL CF = bit 0, OF = msb ^ CF; ROR CF =
   * msb, OF = msb ^ the bit below), the other four arithmetic flags kept, so a lazy operation's
   * flags are materialized first (the `flags` import); a zero masked count changes nothing.
   */
  private flagsRotate(left: boolean, size: number, cnt: number, tres: number): void {
    const f = this.f;
    const bits = size * 8;
    const bit = (k: number): void => {
      f.get(tres).i64(k, 0).op(OP.i64ShrU).op(OP.i32WrapI64).i32(1).op(OP.i32And);
    };
    if (this.pendTag !== TAG_DIRECT) {
      this.syncFlags(true);
      f.call(H_FLAGS).i32(FLAGS_ARITH).op(OP.i32And).set(this.lfAux);
    }
    f.get(this.lfAux).i32(~0x801).op(OP.i32And);
    if (left) {
      bit(0);
      f.tee(this.fr).op(OP.i32Or);
      bit(bits - 1);
      f.get(this.fr).op(OP.i32Xor);
    } else {
      bit(bits - 1);
      f.tee(this.fr).op(OP.i32Or);
      bit(bits - 2);
      f.get(this.fr).op(OP.i32Xor);
    }
    f.i32(11).op(OP.i32Shl).op(OP.i32Or);
    f.get(this.lfAux).get(cnt).op(OP.i64Eqz).op(OP.i32Eqz).op(OP.select).set(this.lfAux);
    this.pendTag = TAG_DIRECT;
    this.lfDirty = true;
    this.auxDeferred = false;
  }

  /** Pushes ta rotated left or right by tb (modulo the width) at `size`, zero-extended to i64. */
  protected rotate(left: boolean, size: number, ta: number, tb: number): void {
    const f = this.f;
    if (size === 8) {
      f.get(ta).get(tb).op(left ? 0x89 /* i64.rotl */ : 0x8a /* i64.rotr */);
      return;
    }
    if (size === 4) {
      f.get(ta).op(OP.i32WrapI64).get(tb).op(OP.i32WrapI64).op(left ? 0x77 /* i32.rotl */ : 0x78 /* i32.rotr */)
        .op(OP.i64ExtendI32U);
      return;
    }
    // 8/16 bits: (a << c) | (a >> (bits - c)) with c = count mod bits (c = 0: a >> bits is 0)
    const bits = size * 8;
    f.get(ta).get(tb).i64(bits - 1, 0).op(OP.i64And).op(left ? OP.i64Shl : OP.i64ShrU);
    f.get(ta).i64(bits, 0).get(tb).i64(bits - 1, 0).op(OP.i64And).op(OP.i64Sub).op(left ? OP.i64ShrU : OP.i64Shl);
    f.op(OP.i64Or).i64(bits === 8 ? 0xff : 0xffff, 0).op(OP.i64And);
  }
}
