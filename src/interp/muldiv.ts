/**
 * Multiplication and division: MUL/IMUL (one-operand widening forms, and the two- and
 * three-operand truncating IMUL forms) and DIV/IDIV with #DE on a zero divisor or a quotient that
 * does not fit. 32x32->64 products are exact through 16-bit limbs; 64-bit operands go through
 * BigInt (off the hot path, as ARCHITECTURE.md §3 allows).
 *
 * Flags: MUL/IMUL set CF = OF = "the high half is significant"; SF, ZF, AF, PF are undefined (we
 * set SF/ZF/PF from the low half of the result and AF = 0). DIV/IDIV leave all flags unchanged
 * (they are undefined).
 */
import { FLAG_CF, FLAG_OF } from '../cpu/state.js';
import { FAULT_DE } from '../cpu/fault.js';
import { setArith } from '../cpu/flags.js';
import type { Cpu, Decoded, Handler } from './cpu.js';
import { szp } from './shift.js';

let prodHi = 0;

/** Unsigned 32x32 -> 64: returns the low half (int32), high half in prodHi. */
export function mulu32(a: number, b: number): number {
  const aL = a & 0xffff, aH = a >>> 16, bL = b & 0xffff, bH = b >>> 16;
  const ll = aL * bL, lh = aL * bH, hl = aH * bL, hh = aH * bH;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  prodHi = (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
  return ((mid << 16) | (ll & 0xffff)) | 0;
}

/** Signed 32x32 -> 64. */
export function muls32(a: number, b: number): number {
  const lo = mulu32(a, b);
  let hi = prodHi;
  if ((a | 0) < 0) hi = (hi - b) | 0;
  if ((b | 0) < 0) hi = (hi - a) | 0;
  prodHi = hi;
  return lo;
}

const big64 = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const bigS64 = (lo: number, hi: number): bigint => BigInt.asIntN(64, big64(lo, hi));
const MASK64 = 0xffffffffffffffffn;

function mulFlags(cpu: Cpu, significant: boolean, lo: number, hi: number, size: number): void {
  setArith(cpu.m, szp(lo, hi, size) | (significant ? FLAG_CF | FLAG_OF : 0));
}

/** MUL / IMUL with one operand: rDX:rAX (AX for bytes) = rAX * E. */
function mulOne(signed: boolean, byte: boolean): Handler {
  return (cpu: Cpu, d: Decoded): number => {
    const size = byte ? 1 : d.opSize;
    const m = cpu.m;
    const b = cpu.readRm(d, size);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const bHi = cpu.hi;
    if (size === 1) {
      const a = cpu.u8[0];
      const r = signed ? ((a << 24) >> 24) * ((b << 24) >> 24) : a * (b & 0xff);
      cpu.u16[0] = r;
      const sig = signed ? r !== (r << 24) >> 24 : (r & 0xff00) !== 0;
      mulFlags(cpu, sig, r & 0xff, 0, 1);
      return 0;
    }
    if (size === 2) {
      const a = cpu.u16[0];
      const r = signed ? ((a << 16) >> 16) * ((b << 16) >> 16) : a * (b & 0xffff);
      cpu.u16[0] = r;
      cpu.u16[8] = r >> 16;
      const sig = signed ? r !== (r << 16) >> 16 : (r >>> 16) !== 0;
      mulFlags(cpu, sig, r & 0xffff, 0, 2);
      return 0;
    }
    if (size === 4) {
      const lo = signed ? muls32(m[0], b) : mulu32(m[0], b);
      const hi = prodHi;
      cpu.setR32(0, lo);
      cpu.setR32(2, hi);
      const sig = signed ? hi !== lo >> 31 : hi !== 0;
      mulFlags(cpu, sig, lo, 0, 4);
      return 0;
    }
    const A = signed ? bigS64(m[0], m[1]) : big64(m[0], m[1]);
    const B = signed ? bigS64(b, bHi) : big64(b, bHi);
    const P = A * B;
    const lo = BigInt.asUintN(64, P);
    const hi = BigInt.asUintN(64, P >> 64n);
    cpu.setR64(0, Number(lo & 0xffffffffn) | 0, Number(lo >> 32n) | 0);
    cpu.setR64(2, Number(hi & 0xffffffffn) | 0, Number(hi >> 32n) | 0);
    const sig = signed ? P !== BigInt.asIntN(64, P) : hi !== 0n;
    mulFlags(cpu, sig, m[0], m[1], 8);
    return 0;
  };
}

/** IMUL Gv, Ev[, imm]: truncated signed product into G. */
function imulTrunc(withImm: boolean): Handler {
  return (cpu: Cpu, d: Decoded): number => {
    const size = d.opSize;
    const m = cpu.m;
    const a = cpu.readRm(d, size);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const aHi = cpu.hi;
    const b = withImm ? d.imm : cpu.reg(d.reg, size);
    const bHi = withImm ? d.imm >> 31 : m[(d.reg << 1) + 1];
    if (size === 2) {
      const r = ((a << 16) >> 16) * ((b << 16) >> 16);
      cpu.u16[d.reg << 2] = r;
      mulFlags(cpu, r !== (r << 16) >> 16, r & 0xffff, 0, 2);
      return 0;
    }
    if (size === 4) {
      const lo = muls32(a, b);
      cpu.setR32(d.reg, lo);
      mulFlags(cpu, prodHi !== lo >> 31, lo, 0, 4);
      return 0;
    }
    const P = bigS64(a, aHi) * bigS64(b, bHi);
    const lo = BigInt.asUintN(64, P);
    const rLo = Number(lo & 0xffffffffn) | 0, rHi = Number(lo >> 32n) | 0;
    cpu.setR64(d.reg, rLo, rHi);
    mulFlags(cpu, P !== BigInt.asIntN(64, P), rLo, rHi, 8);
    return 0;
  };
}

/** DIV / IDIV: rDX:rAX (AX for bytes) / E; #DE on divide by zero or overflow. */
function divide(signed: boolean, byte: boolean): Handler {
  return (cpu: Cpu, d: Decoded): number => {
    const size = byte ? 1 : d.opSize;
    const m = cpu.m;
    const b = cpu.readRm(d, size);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const bHi = cpu.hi;
    if (size === 1) {
      const dv = signed ? (b << 24) >> 24 : b & 0xff;
      if (dv === 0) return FAULT_DE;
      const n = signed ? (cpu.u16[0] << 16) >> 16 : cpu.u16[0];
      const q = Math.trunc(n / dv);
      const r = n - q * dv;
      if (signed ? q > 127 || q < -128 : q > 255) return FAULT_DE;
      cpu.u8[0] = q;
      cpu.u8[1] = r;
      return 0;
    }
    if (size === 2) {
      const dv = signed ? (b << 16) >> 16 : b & 0xffff;
      if (dv === 0) return FAULT_DE;
      const n = signed ? (cpu.u16[8] << 16) | cpu.u16[0] : cpu.u16[8] * 65536 + cpu.u16[0];
      const q = Math.trunc(n / dv);
      const r = n - q * dv;
      if (signed ? q > 32767 || q < -32768 : q > 65535) return FAULT_DE;
      cpu.u16[0] = q;
      cpu.u16[8] = r;
      return 0;
    }
    if (size === 4) {
      const dv = signed ? b | 0 : b >>> 0;
      if (dv === 0) return FAULT_DE;
      const lo = m[0], hi = m[4];
      let q: number, r: number;
      if (signed ? hi === lo >> 31 : hi === 0) {
        const n = signed ? lo | 0 : lo >>> 0;
        q = Math.trunc(n / dv);
        r = n - q * dv;
      } else {
        const N = signed ? bigS64(lo, hi) : big64(lo, hi);
        const D = BigInt(dv);
        const Q = N / D;
        if (signed ? Q > 0x7fffffffn || Q < -0x80000000n : Q > 0xffffffffn) return FAULT_DE;
        q = Number(Q);
        r = Number(N - Q * D);
      }
      if (signed ? q > 0x7fffffff || q < -0x80000000 : q > 0xffffffff) return FAULT_DE;
      cpu.setR32(0, q | 0);
      cpu.setR32(2, r | 0);
      return 0;
    }
    const D = signed ? bigS64(b, bHi) : big64(b, bHi);
    if (D === 0n) return FAULT_DE;
    const N = signed
      ? BigInt.asIntN(128, (big64(m[4], m[5]) << 64n) | big64(m[0], m[1]))
      : (big64(m[4], m[5]) << 64n) | big64(m[0], m[1]);
    const Q = N / D;
    const R = N - Q * D;
    if (signed ? Q > 0x7fffffffffffffffn || Q < -0x8000000000000000n : Q > MASK64) return FAULT_DE;
    const q = BigInt.asUintN(64, Q), r = BigInt.asUintN(64, R);
    cpu.setR64(0, Number(q & 0xffffffffn) | 0, Number(q >> 32n) | 0);
    cpu.setR64(2, Number(r & 0xffffffffn) | 0, Number(r >> 32n) | 0);
    return 0;
  };
}

export function registerMulDiv(h: Map<string, Handler>): void {
  h.set('mulEb', mulOne(false, true));
  h.set('mulEv', mulOne(false, false));
  h.set('imulEb', mulOne(true, true));
  h.set('imulEv', mulOne(true, false));
  h.set('imulGvEv', imulTrunc(false));
  h.set('imulGvEvIz', imulTrunc(true));
  h.set('imulGvEvIbs', imulTrunc(true));
  h.set('imulGvEvIb', imulTrunc(true));
  h.set('divEb', divide(false, true));
  h.set('divEv', divide(false, false));
  h.set('idivEb', divide(true, true));
  h.set('idivEv', divide(true, false));
}
