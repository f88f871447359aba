/**
 * The lazy-flags evaluators of cpu/flags.ts (lazyCF, getFlags, testCond) as a small WebAssembly
 * module over the guest memory, instantiated once per engine. Translated code calls them where a
 * block needs CF or a condition while the flags sit in memory (an INC/DEC or a Jcc at the start of
 * a block): a wasm-to-wasm call instead of a call out to JavaScript, which cost about 15 ns each
 * (bench/dbt.ts `branchy`, whose loop has one INC: 384 MIPS with the JS helpers, 1,586 with ADD).
 * Same results as the JavaScript versions (test/dbt/flags-module.test.ts compares them).
 *
 * Exports: lazycf() -> CF (0/1); flags() -> the low RFLAGS word, brought up to date and stored
 * back (getFlags); cond(cc) -> condition cc (0/1), after flags().
 */
import { LF_ADC, LF_ADD, LF_INC, LF_LOGIC, LF_SBB, LF_SUB, LF_DEC } from '../cpu/flags.js';
import { OFF_LF_AUX, OFF_LF_DST, OFF_LF_OP, OFF_LF_RES, OFF_LF_SRC, OFF_RFLAGS } from '../cpu/state.js';
import { type FuncBody, I32, I64, ModuleBuilder, OP, VOID } from './wasm/encoder.js';

/** CF | PF | AF | ZF | SF | OF. */
const FLAGS_ARITH = 0x8d5;
const I32_POPCNT = 0x69;

/** The pending operation's fields, masked to its size, in locals. */
interface Lazy {
  tag: number;
  op: number;
  top: number; // bit index of the sign: (8 << size) - 1, as i64
  d: number;
  s: number;
  r: number;
}

/** Loads tag, op, sign position and the three operands (masked to the size) into new locals. */
function loadLazy(f: FuncBody): Lazy {
  const l: Lazy = { tag: f.local(I32), op: f.local(I32), top: f.local(I64), d: f.local(I64), s: f.local(I64), r: f.local(I64) };
  const mask = f.local(I64);
  f.i32(0).mem(OP.i32Load, 2, OFF_LF_OP).set(l.tag);
  f.get(l.tag).i32(2).op(OP.i32ShrU).set(l.op);
  // bits = 8 << size; top = bits - 1; mask = all ones >> (64 - bits) (8/16/32-bit fields keep a
  // stale upper word in memory: the mask drops it)
  f.i32(8).get(l.tag).i32(3).op(OP.i32And).op(OP.i32Shl).op(OP.i64ExtendI32U).i64(1, 0).op(OP.i64Sub).set(l.top);
  f.i64(-1, -1).i64(63, 0).get(l.top).op(OP.i64Sub).op(OP.i64ShrU).set(mask);
  f.i32(0).mem(OP.i64Load, 3, OFF_LF_DST).get(mask).op(OP.i64And).set(l.d);
  f.i32(0).mem(OP.i64Load, 3, OFF_LF_SRC).get(mask).op(OP.i64And).set(l.s);
  f.i32(0).mem(OP.i64Load, 3, OFF_LF_RES).get(mask).op(OP.i64And).set(l.r);
  return l;
}

/** Pushes CF (i32) of the pending operation in `l` (tag != 0). */
function pushCF(f: FuncBody, l: Lazy): void {
  const aux = (): void => {
    f.i32(0).mem(OP.i32Load, 2, OFF_LF_AUX).i32(1).op(OP.i32And);
  };
  const isOp = (op: number): void => {
    f.get(l.op).i32(op).op(OP.i32Eq);
  };
  // ADD: r < d; ADC: carry in ? r <= d : r < d; SUB: d < s; SBB: borrow in ? d <= s : d < s;
  // INC/DEC: the preserved CF (AUX); the logic ops: 0
  isOp(LF_ADD);
  f.begin(OP.if, I32).get(l.r).get(l.d).op(OP.i64LtU);
  f.op(OP.else);
  isOp(LF_SUB);
  f.begin(OP.if, I32).get(l.d).get(l.s).op(OP.i64LtU);
  f.op(OP.else);
  isOp(LF_ADC);
  f.begin(OP.if, I32).get(l.r).get(l.d).op(OP.i64LeU).get(l.r).get(l.d).op(OP.i64LtU);
  aux();
  f.op(OP.select);
  f.op(OP.else);
  isOp(LF_SBB);
  f.begin(OP.if, I32).get(l.d).get(l.s).op(OP.i64LeU).get(l.d).get(l.s).op(OP.i64LtU);
  aux();
  f.op(OP.select);
  f.op(OP.else);
  isOp(LF_INC);
  isOp(LF_DEC);
  f.op(OP.i32Or).begin(OP.if, I32);
  aux();
  f.op(OP.else).i32(0).end();
  f.end().end().end().end();
}

/** Pushes bit `top` of the i64 on the stack as an i32. */
function topBit(f: FuncBody, l: Lazy): void {
  f.get(l.top).op(OP.i64ShrU).op(OP.i32WrapI64).i32(1).op(OP.i32And);
}

/** Builds the module; imports the guest memory as env.mem. */
export function flagsModuleBytes(memPages: number): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder();
  m.importMemory(memPages, -1);

  // lazycf()
  const cf = m.func('lazycf', [], [I32]);
  {
    const f = cf.body;
    const l = loadLazy(f);
    f.get(l.tag).op(OP.i32Eqz).begin(OP.if, I32);
    f.i32(0).mem(OP.i32Load, 2, OFF_RFLAGS).i32(1).op(OP.i32And);
    f.op(OP.else);
    pushCF(f, l);
    f.end();
  }

  // flags(): getFlags
  const fl = m.func('flags', [], [I32]);
  {
    const f = fl.body;
    const l = loadLazy(f);
    const v = f.local(I32);
    f.get(l.tag).op(OP.i32Eqz).begin(OP.if, VOID);
    f.i32(0).mem(OP.i32Load, 2, OFF_RFLAGS).op(OP.return);
    f.end();
    // PF | ZF | SF
    f.get(l.r).op(OP.i32WrapI64).i32(0xff).op(OP.i32And).op(I32_POPCNT).i32(1).op(OP.i32And).op(OP.i32Eqz).i32(2).op(OP.i32Shl);
    f.get(l.r).op(OP.i64Eqz).i32(6).op(OP.i32Shl).op(OP.i32Or);
    f.get(l.r);
    topBit(f, l);
    f.i32(7).op(OP.i32Shl).op(OP.i32Or).set(v);
    f.get(l.op).i32(LF_LOGIC).op(OP.i32Ne).begin(OP.if, VOID);
    {
      // CF, AF, OF
      pushCF(f, l);
      f.get(v).op(OP.i32Or);
      f.get(l.d).get(l.s).op(OP.i64Xor).get(l.r).op(OP.i64Xor).op(OP.i32WrapI64).i32(0x10).op(OP.i32And).op(OP.i32Or);
      f.get(l.op).i32(LF_ADD).op(OP.i32Eq).get(l.op).i32(LF_ADC).op(OP.i32Eq).op(OP.i32Or).get(l.op).i32(LF_INC).op(OP.i32Eq)
        .op(OP.i32Or);
      f.begin(OP.if, I64);
      f.get(l.d).get(l.r).op(OP.i64Xor).get(l.s).get(l.r).op(OP.i64Xor).op(OP.i64And);
      f.op(OP.else);
      f.get(l.d).get(l.s).op(OP.i64Xor).get(l.d).get(l.r).op(OP.i64Xor).op(OP.i64And);
      f.end();
      topBit(f, l);
      f.i32(11).op(OP.i32Shl).op(OP.i32Or).set(v);
    }
    f.end();
    f.i32(0).mem(OP.i32Load, 2, OFF_RFLAGS).i32(~FLAGS_ARITH).op(OP.i32And).get(v).op(OP.i32Or).set(v);
    f.i32(0).get(v).mem(OP.i32Store, 2, OFF_RFLAGS);
    f.i32(0).i32(0).mem(OP.i32Store, 2, OFF_LF_OP);
    f.get(v);
  }

  // cond(cc): testCond on the flags brought up to date
  const cd = m.func('cond', [I32], [I32]);
  {
    const f = cd.body;
    const v = f.local(I32);
    const r = f.local(I32);
    f.call(fl.index).set(v);
    const bit = (n: number): void => {
      f.get(v).i32(n).op(OP.i32ShrU).i32(1).op(OP.i32And);
    };
    // by cc >> 1: O, B, Z, BE, S, P, L, LE
    const cases: (() => void)[] = [
      () => bit(11),
      () => bit(0),
      () => bit(6),
      () => { bit(0); bit(6); f.op(OP.i32Or); },
      () => bit(7),
      () => bit(2),
      () => { bit(7); bit(11); f.op(OP.i32Xor); },
      () => { bit(6); bit(7); bit(11); f.op(OP.i32Xor); f.op(OP.i32Or); },
    ];
    cases.forEach((emit, k) => {
      f.get(0).i32(1).op(OP.i32ShrU).i32(k).op(OP.i32Eq).begin(OP.if, VOID);
      emit();
      f.set(r).end();
    });
    f.get(r).get(0).i32(1).op(OP.i32And).op(OP.i32Xor);
  }
  return m.encode();
}

/** The three evaluators, over `memory` (the engine's guest memory). */
export function instantiateFlags(memory: WebAssembly.Memory): { lazycf: () => number; flags: () => number; cond: (cc: number) => number } {
  const bytes = flagsModuleBytes(memory.buffer.byteLength / 65536);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem: memory } });
  return inst.exports as unknown as { lazycf: () => number; flags: () => number; cond: (cc: number) => number };
}
