/**
 * Bit instructions: BT/BTS/BTR/BTC (register bit offsets address memory beyond the operand, as the
 * SDM describes: the signed offset selects the word; immediate offsets are taken modulo the size),
 * BSF/BSR, TZCNT/LZCNT, POPCNT. Flags: BT* set CF and leave the others (the undefined OF, SF, AF,
 * PF keep their values, ZF is unaffected on current Intel cores); BSF/BSR set ZF; TZCNT/LZCNT set
 * CF and ZF; POPCNT sets ZF and clears the rest.
 */
import { FLAG_CF, FLAG_ZF, FLAGS_ARITH } from '../cpu/state.js';
import { getFlags, setFlags } from '../cpu/flags.js';
import type { Cpu, Decoded, Handler } from './cpu.js';

const TWO32 = 4294967296;
const B_T = 0;
const B_TS = 1;
const B_TR = 2;
const B_TC = 3;

function setCF(cpu: Cpu, on: boolean): void {
  const f = getFlags(cpu.m);
  setFlags(cpu.m, on ? f | FLAG_CF : f & ~FLAG_CF);
}

function bitOp(kind: number, imm: boolean): Handler {
  return (cpu: Cpu, d: Decoded): number => {
    const size = d.opSize;
    const bits = size * 8;
    const m = cpu.m;
    let bit: number;
    let off = 0;
    const seg = d.seg;
    if (imm) bit = d.imm & (bits - 1);
    else {
      const lo = m[d.reg << 1];
      bit = lo & (bits - 1);
      if (d.mod !== 3) {
        // the signed bit offset picks the operand-sized word relative to the address
        const sOff = size === 8 ? m[(d.reg << 1) + 1] * TWO32 + (lo >>> 0) : size === 4 ? lo | 0 : (lo << 16) >> 16;
        const word = Math.floor(sOff / bits);
        off = word * size;
      }
    }
    let a: number, aHi = 0, addr = 0;
    if (d.mod === 3) {
      a = cpu.reg(d.rm, size);
      aHi = m[(d.rm << 1) + 1];
    } else {
      addr = cpu.ea(d) + off;
      if (d.adSize === 4) addr >>>= 0;
      else if (d.adSize === 2) addr &= 0xffff;
      a = cpu.rd(seg, addr, size);
      if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
      aHi = cpu.hi;
    }
    const inHi = bit >= 32;
    const mask = 1 << (bit & 31);
    const was = ((inHi ? aHi : a) & mask) !== 0;
    if (kind !== B_T) {
      let w = inHi ? aHi : a;
      w = kind === B_TS ? w | mask : kind === B_TR ? w & ~mask : w ^ mask;
      const nLo = inHi ? a : w, nHi = inHi ? w : aHi;
      if (d.mod === 3) cpu.setReg(d.rm, size, size === 2 ? nLo & 0xffff : nLo, nHi);
      else {
        cpu.wr(seg, addr, size, nLo, nHi);
        if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
      }
    }
    setCF(cpu, was);
    return 0;
  };
}

/** Index of the lowest / highest set bit of a 64-bit value in halves (value nonzero). */
const ctz32 = (x: number): number => 31 - Math.clz32(x & -x);
function lowest(lo: number, hi: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
}
function highest(lo: number, hi: number): number {
  return hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(lo);
}

/** kind 0 BSF, 1 BSR, 2 TZCNT, 3 LZCNT, 4 POPCNT */
function scan(kind: number): Handler {
  return (cpu: Cpu, d: Decoded): number => {
    const size = d.opSize;
    const m = cpu.m;
    let lo = cpu.readRm(d, size);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    let hi = size === 8 ? cpu.hi : 0;
    if (size === 2) lo &= 0xffff;
    const zero = (lo | hi) === 0;
    const f = getFlags(m) & ~FLAGS_ARITH;
    const bits = size * 8;
    let r: number;
    switch (kind) {
      case 0:
      case 1:
        if (zero) {
          setFlags(m, f | FLAG_ZF);
          return 0;
        }
        r = kind === 0 ? lowest(lo, hi) : highest(lo, hi);
        cpu.setReg(d.reg, size, r, 0);
        setFlags(m, f);
        return 0;
      case 2:
      case 3:
        r = zero ? bits : kind === 2 ? lowest(lo, hi) : bits - 1 - highest(lo, hi);
        cpu.setReg(d.reg, size, r, 0);
        setFlags(m, f | (zero ? FLAG_CF : 0) | (r === 0 ? FLAG_ZF : 0));
        return 0;
      default: {
        let n = 0;
        for (let x = lo; x !== 0; x &= x - 1) n++;
        for (let x = hi; x !== 0; x &= x - 1) n++;
        cpu.setReg(d.reg, size, n, 0);
        setFlags(m, f | (zero ? FLAG_ZF : 0));
        return 0;
      }
    }
  };
}

export function registerBits(h: Map<string, Handler>): void {
  h.set('btEvGv', bitOp(B_T, false));
  h.set('btsEvGv', bitOp(B_TS, false));
  h.set('btrEvGv', bitOp(B_TR, false));
  h.set('btcEvGv', bitOp(B_TC, false));
  h.set('btEvIb', bitOp(B_T, true));
  h.set('btsEvIb', bitOp(B_TS, true));
  h.set('btrEvIb', bitOp(B_TR, true));
  h.set('btcEvIb', bitOp(B_TC, true));
  h.set('bsfGvEv', scan(0));
  h.set('bsrGvEv', scan(1));
  h.set('tzcntGvEv', scan(2));
  h.set('lzcntGvEv', scan(3));
  h.set('popcntGvEv', scan(4));
}
