/**
 * Odds and ends of the general-purpose set: FWAIT (#NM when CR0.MP and CR0.TS ask the OS to
 * switch FPU state), ADCX/ADOX (add with carry through CF or OF only), CRC32 (the Castagnoli
 * polynomial of SSE4.2).
 */
import { CR0_MP, CR0_TS, FLAG_CF, FLAG_OF, OFF_CR0 } from '../cpu/state.js';
import { FAULT_NM } from '../cpu/fault.js';
import { getFlags, setFlags } from '../cpu/flags.js';
import type { Cpu, Decoded, Handler } from './cpu.js';

const fwait: Handler = (cpu) => {
  const cr0 = cpu.u32[OFF_CR0 >> 2];
  return (cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS) ? FAULT_NM : 0;
};

/** ADCX (flag = CF) / ADOX (flag = OF): G = G + E + flag; only that flag changes. */
function addCarry(flag: number): Handler {
  return (cpu: Cpu, d: Decoded): number => {
    const size = d.opSize === 8 ? 8 : 4;
    const m = cpu.m;
    const b = cpu.readRm(d, size);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const bHi = size === 8 ? cpu.hi : 0;
    const f = getFlags(m);
    const cin = (f & flag) !== 0 ? 1 : 0;
    const a = m[d.reg << 1];
    const lo = (a >>> 0) + (b >>> 0) + cin;
    let carry = lo > 0xffffffff ? 1 : 0;
    let hi = 0;
    if (size === 8) {
      const h = (m[(d.reg << 1) + 1] >>> 0) + (bHi >>> 0) + carry;
      carry = h > 0xffffffff ? 1 : 0;
      hi = h | 0;
    }
    cpu.setReg(d.reg, size, lo | 0, hi);
    setFlags(m, carry !== 0 ? f | flag : f & ~flag);
    return 0;
  };
}

const CRC_TABLE = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  CRC_TABLE[i] = c;
}

/** CRC32 Gy, Eb / Ev: accumulate the source bytes (little-endian) into the 32-bit CRC in G. */
function crc32(byte: boolean): Handler {
  return (cpu: Cpu, d: Decoded): number => {
    const srcSize = byte ? 1 : d.opSize;
    const v = cpu.readRm(d, srcSize);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const vHi = cpu.hi;
    let c = cpu.m[d.reg << 1];
    for (let i = 0; i < srcSize; i++) {
      const b = i < 4 ? (v >>> (8 * i)) & 0xff : (vHi >>> (8 * (i - 4))) & 0xff;
      c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
    }
    cpu.setR32(d.reg, c);
    return 0;
  };
}

export function registerMisc(h: Map<string, Handler>): void {
  h.set('fwait', fwait);
  h.set('adcxGyEy', addCarry(FLAG_CF));
  h.set('adoxGyEy', addCarry(FLAG_OF));
  h.set('crc32GyEb', crc32(true));
  h.set('crc32GyEv', crc32(false));
  // WBNOINVD (F3 0F 09) is WBINVD on a CPU without it: privileged (the loop's CPL check, #GP at
  // CPL 3 as the host shows), and like WBINVD nothing to do for an emulated cache.
  h.set('wbnoinvd', () => 0);
}
