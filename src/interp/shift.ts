/**
 * Shifts and rotates: SHL/SAL, SHR, SAR, ROL, ROR, RCL, RCR (group 2, counts 1, CL or Ib) and the
 * double shifts SHLD/SHRD. Counts are masked to 5 bits (6 for 64-bit operands); a masked count of
 * 0 changes neither the operand nor the flags. Flags are computed eagerly (SDM rules): shifts set
 * CF to the last bit out, SF/ZF/PF from the result, OF defined for a count of 1 (we compute the
 * count-1 formula for every count, and AF = 0: both undefined otherwise); rotates touch only CF and
 * OF. RCL/RCR rotate through CF modulo size+1 for 8/16 bits.
 */
import { FLAG_CF, FLAG_OF, FLAG_ZF, FLAG_SF } from '../cpu/state.js';
import { PARITY, getFlags, lazyCF, setArith, setFlags } from '../cpu/flags.js';
import { SZMASK } from './alu.js';
import type { Cpu, Decoded, Handler } from './cpu.js';

const K_ROL = 0;
const K_ROR = 1;
const K_RCL = 2;
const K_RCR = 3;
const K_SHL = 4;
const K_SHR = 5;
const K_SAL = 6;
const K_SAR = 7;

/** Bit k (0..63) of a 64-bit value in halves. */
const bit64 = (lo: number, hi: number, k: number): number => (k < 32 ? (lo >>> k) & 1 : (hi >>> (k - 32)) & 1);

/** SF, ZF and PF of a result of `size` bytes. */
export function szp(r: number, rHi: number, size: number): number {
  let f = PARITY[r & 0xff];
  if (size === 8) {
    if ((r | rHi) === 0) f |= FLAG_ZF;
    if (rHi < 0) f |= FLAG_SF;
  } else {
    if ((r & SZMASK[size]) === 0) f |= FLAG_ZF;
    if (((r >>> (size * 8 - 1)) & 1) !== 0) f |= FLAG_SF;
  }
  return f;
}

/** Result of the last shiftCore: flags (-1 = unchanged) and which of them it defines. */
let outFlags = -1;
let outRotate = false;

/**
 * Computes kind(a, count) at `size` (count already masked, nonzero); returns the low result,
 * high half in cpu.hi; sets outFlags.
 */
function shiftCore(cpu: Cpu, kind: number, size: number, a: number, aHi: number, count: number, cfIn: number): number {
  const bits = size * 8;
  const mask = SZMASK[size];
  a &= mask;
  let r = a, rHi = aHi, cf = 0, of = 0;
  outRotate = kind < 4;
  switch (kind) {
    case K_SHL:
    case K_SAL:
      if (size === 8) {
        cf = bit64(a, aHi, 64 - count);
        if (count < 32) {
          rHi = (aHi << count) | (a >>> (32 - count));
          r = a << count;
        } else {
          rHi = a << (count - 32);
          r = 0;
        }
        of = ((rHi >>> 31) ^ cf) & 1;
      } else {
        cf = count <= bits ? (a >>> (bits - count)) & 1 : 0;
        r = count < 32 ? (a << count) & mask : 0;
        of = ((r >>> (bits - 1)) ^ cf) & 1;
      }
      break;
    case K_SHR:
      if (size === 8) {
        cf = bit64(a, aHi, count - 1);
        of = (aHi >>> 31) & 1;
        if (count < 32) {
          r = (a >>> count) | (aHi << (32 - count));
          rHi = aHi >>> count;
        } else {
          r = aHi >>> (count - 32);
          rHi = 0;
        }
      } else {
        cf = count <= bits ? (a >>> (count - 1)) & 1 : 0;
        of = (a >>> (bits - 1)) & 1;
        r = count < 32 ? a >>> count : 0;
      }
      r |= 0;
      break;
    case K_SAR:
      if (size === 8) {
        cf = bit64(a, aHi, count - 1);
        if (count < 32) {
          r = (a >>> count) | (aHi << (32 - count));
          rHi = aHi >> count;
        } else {
          r = aHi >> (count - 32);
          rHi = aHi >> 31;
        }
      } else {
        const sa = (a << (32 - bits)) >> (32 - bits); // sign-extended
        const c = count > bits ? bits : count;
        cf = (sa >> (c - 1)) & 1;
        r = (sa >> (c >= 32 ? 31 : c)) & mask;
      }
      of = 0;
      break;
    case K_ROL: {
      const c = count % bits;
      if (size === 8) {
        let lo = a, hi = aHi;
        let k = c;
        if (k >= 32) {
          const t = lo; lo = hi; hi = t; k -= 32;
        }
        if (k !== 0) {
          r = (lo << k) | (hi >>> (32 - k));
          rHi = (hi << k) | (lo >>> (32 - k));
        } else {
          r = lo;
          rHi = hi;
        }
        cf = r & 1;
        of = ((rHi >>> 31) ^ cf) & 1;
      } else {
        r = c === 0 ? a : ((a << c) | (a >>> (bits - c))) & mask;
        cf = r & 1;
        of = ((r >>> (bits - 1)) ^ cf) & 1;
      }
      break;
    }
    case K_ROR: {
      const c = count % bits;
      if (size === 8) {
        let lo = a, hi = aHi;
        let k = c;
        if (k >= 32) {
          const t = lo; lo = hi; hi = t; k -= 32;
        }
        if (k !== 0) {
          r = (lo >>> k) | (hi << (32 - k));
          rHi = (hi >>> k) | (lo << (32 - k));
        } else {
          r = lo;
          rHi = hi;
        }
        cf = (rHi >>> 31) & 1;
        of = (cf ^ (rHi >>> 30)) & 1;
      } else {
        r = c === 0 ? a : ((a >>> c) | (a << (bits - c))) & mask;
        cf = (r >>> (bits - 1)) & 1;
        of = (cf ^ (r >>> (bits - 2))) & 1;
      }
      break;
    }
    default: {
      // RCL / RCR, one bit at a time (rare instructions).
      const c = size <= 2 ? count % (bits + 1) : count;
      cf = cfIn;
      let lo = a, hi = aHi;
      if (kind === K_RCR) of = ((size === 8 ? hi >>> 31 : lo >>> (bits - 1)) ^ cf) & 1;
      for (let i = 0; i < c; i++) {
        if (kind === K_RCL) {
          const out = size === 8 ? hi >>> 31 : (lo >>> (bits - 1)) & 1;
          if (size === 8) hi = (hi << 1) | (lo >>> 31);
          lo = ((lo << 1) | cf) & mask;
          cf = out;
        } else {
          const out = lo & 1;
          if (size === 8) {
            lo = (lo >>> 1) | (hi << 31);
            hi = (hi >>> 1) | (cf << 31);
          } else lo = ((lo >>> 1) | (cf << (bits - 1))) & mask;
          cf = out;
        }
      }
      r = lo;
      rHi = hi;
      if (kind === K_RCL) of = ((size === 8 ? rHi >>> 31 : r >>> (bits - 1)) ^ cf) & 1;
      if (c === 0) {
        cpu.hi = aHi;
        outFlags = -1;
        return a;
      }
      break;
    }
  }
  cpu.hi = rHi | 0;
  outFlags = (cf !== 0 ? FLAG_CF : 0) | (of !== 0 ? FLAG_OF : 0);
  if (!outRotate) outFlags |= szp(r, rHi, size);
  return r | 0;
}

const C_IMM = 0;
const C_ONE = 1;
const C_CL = 2;

function makeShift(kind: number, countFrom: number, byte: boolean): Handler {
  return (cpu: Cpu, d: Decoded): number => {
    const size = byte ? 1 : d.opSize;
    const raw = countFrom === C_IMM ? d.imm : countFrom === C_ONE ? 1 : cpu.u8[8];
    const count = raw & (size === 8 ? 0x3f : 0x1f);
    const m = cpu.m;
    let a: number, aHi = 0, seg = 0, off = 0;
    const isReg = d.mod === 3;
    if (isReg) {
      a = byte ? cpu.r8(d.rm, d.rex) : cpu.reg(d.rm, size);
      aHi = m[(d.rm << 1) + 1];
    } else {
      seg = d.seg;
      off = cpu.ea(d);
      a = cpu.rd(seg, off, size);
      if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
      aHi = cpu.hi;
    }
    if (count === 0) {
      if (isReg && size === 4) m[(d.rm << 1) + 1] = 0; // the 32-bit write still zero-extends
      if (!isReg) {
        // a memory destination is still accessed for writing (the host CPU, Bochs and QEMU all
        // take the #PF of a read-only page with a zero count): write the value back
        cpu.wr(seg, off, size, a, aHi);
        return cpu.mmu.fault;
      }
      return 0;
    }
    const cfIn = kind === K_RCL || kind === K_RCR ? lazyCF(m) : 0;
    const r = shiftCore(cpu, kind, size, a, aHi, count, cfIn);
    const rHi = cpu.hi;
    const flags = outFlags;
    if (isReg) {
      if (byte) cpu.setR8(d.rm, d.rex, r);
      else cpu.setReg(d.rm, size, r, rHi);
    } else {
      cpu.wr(seg, off, size, r, rHi);
      if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    }
    if (flags >= 0) {
      if (kind < 4) {
        const f = getFlags(m);
        setFlags(m, (f & ~(FLAG_CF | FLAG_OF)) | flags);
      } else setArith(m, flags);
    }
    return 0;
  };
}

/**
 * SHLD/SHRD Ev, Gv, count: shift dst left/right filling from src. Counts above the operand size
 * (16-bit operands only) give undefined results; we shift the 32-bit concatenation as Intel does.
 */
function makeDouble(left: boolean, countFromCl: boolean): Handler {
  return (cpu: Cpu, d: Decoded): number => {
    const size = d.opSize;
    const m = cpu.m;
    const raw = countFromCl ? cpu.u8[8] : d.imm;
    const count = raw & (size === 8 ? 0x3f : 0x1f);
    const seg = d.seg;
    const off = d.mod === 3 ? 0 : cpu.ea(d);
    const a = d.mod === 3 ? cpu.reg(d.rm, size) : cpu.rd(seg, off, size);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const aHi = d.mod === 3 ? m[(d.rm << 1) + 1] : cpu.hi;
    if (count === 0) {
      if (d.mod === 3 && size === 4) m[(d.rm << 1) + 1] = 0;
      if (d.mod !== 3) {
        cpu.wr(seg, off, size, a, aHi); // accessed for writing even with a zero count (as above)
        return cpu.mmu.fault;
      }
      return 0;
    }
    const b = cpu.reg(d.reg, size);
    const bHi = m[(d.reg << 1) + 1];
    let r: number, rHi = 0, cf: number;
    const bits = size * 8;
    if (size === 8) {
      const A = (BigInt(aHi >>> 0) << 32n) | BigInt(a >>> 0);
      const B = (BigInt(bHi >>> 0) << 32n) | BigInt(b >>> 0);
      const c = BigInt(count);
      let R: bigint;
      if (left) {
        R = BigInt.asUintN(64, (A << c) | (B >> (64n - c)));
        cf = Number((A >> (64n - c)) & 1n);
      } else {
        R = BigInt.asUintN(64, (A >> c) | (B << (64n - c)));
        cf = Number((A >> (c - 1n)) & 1n);
      }
      r = Number(R & 0xffffffffn) | 0;
      rHi = Number(R >> 32n) | 0;
    } else if (size === 4) {
      if (left) {
        r = (a << count) | (b >>> (32 - count));
        cf = (a >>> (32 - count)) & 1;
      } else {
        r = (a >>> count) | (b << (32 - count));
        cf = (a >>> (count - 1)) & 1;
      }
    } else {
      // 16 bits: shift within the 48-bit string dst:src:dst, which is what hardware gives for
      // the undefined counts above 16 (the defined ones come out the same either way).
      const A = a & 0xffff, B = b & 0xffff;
      const wide = A * 4294967296 + B * 65536 + A;
      if (left) {
        r = Math.floor(wide / 2 ** (32 - count)) & 0xffff;
        cf = Math.floor(wide / 2 ** (48 - count)) & 1;
      } else {
        r = Math.floor(wide / 2 ** count) & 0xffff;
        cf = Math.floor(wide / 2 ** (count - 1)) & 1;
      }
    }
    const of = size === 8 ? ((aHi ^ rHi) >>> 31) & 1 : (((a ^ r) >>> (bits - 1)) & 1);
    if (d.mod === 3) cpu.setReg(d.rm, size, r, rHi);
    else {
      cpu.wr(seg, off, size, r, rHi);
      if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    }
    setArith(m, szp(r, rHi, size) | (cf !== 0 ? FLAG_CF : 0) | (of !== 0 ? FLAG_OF : 0));
    return 0;
  };
}

const NAMES = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];

export function registerShift(h: Map<string, Handler>): void {
  for (let k = 0; k < 8; k++) {
    const n = NAMES[k];
    h.set(`${n}EbIb`, makeShift(k, C_IMM, true));
    h.set(`${n}EvIb`, makeShift(k, C_IMM, false));
    h.set(`${n}Eb1`, makeShift(k, C_ONE, true));
    h.set(`${n}Ev1`, makeShift(k, C_ONE, false));
    h.set(`${n}EbCL`, makeShift(k, C_CL, true));
    h.set(`${n}EvCL`, makeShift(k, C_CL, false));
  }
  h.set('shldEvGvIb', makeDouble(true, false));
  h.set('shldEvGvCL', makeDouble(true, true));
  h.set('shrdEvGvIb', makeDouble(false, false));
  h.set('shrdEvGvCL', makeDouble(false, true));
}
