/**
 * Decimal-arithmetic adjustments of 16/32-bit code (invalid in 64-bit mode, which the table marks):
 * DAA, DAS, AAA, AAS, AAM (#DE when the base is 0), AAD, following the SDM pseudo-code. Undefined
 * flags: OF is cleared by DAA/DAS; AAA/AAS leave SF/ZF/PF/OF as computed from AL; AAM/AAD clear
 * OF/AF/CF.
 */
import { FLAG_AF, FLAG_CF } from '../cpu/state.js';
import { FAULT_DE } from '../cpu/fault.js';
import { getFlags, setArith } from '../cpu/flags.js';
import type { Cpu, Handler } from './cpu.js';
import { szp } from './shift.js';

function decimalAdjust(cpu: Cpu, sub: boolean): number {
  const f = getFlags(cpu.m);
  const oldAl = cpu.u8[0];
  const oldCf = (f & FLAG_CF) !== 0;
  let al = oldAl;
  let cf = false, af = false;
  if ((al & 0xf) > 9 || (f & FLAG_AF) !== 0) {
    const n = sub ? al - 6 : al + 6;
    cf = oldCf || n < 0 || n > 0xff;
    al = n & 0xff;
    af = true;
  }
  if (oldAl > 0x99 || oldCf) {
    al = (sub ? al - 0x60 : al + 0x60) & 0xff;
    cf = true;
  }
  cpu.u8[0] = al;
  setArith(cpu.m, szp(al, 0, 1) | (cf ? FLAG_CF : 0) | (af ? FLAG_AF : 0));
  return 0;
}

function asciiAdjust(cpu: Cpu, sub: boolean): number {
  const f = getFlags(cpu.m);
  let ax = cpu.u16[0];
  let adj = false;
  if ((ax & 0xf) > 9 || (f & FLAG_AF) !== 0) {
    // AAA: AX += 0x106; AAS: AX -= 6 (the borrow reaches AH), then AH -= 1
    ax = sub ? (ax - 6 - 0x100) & 0xffff : (ax + 0x106) & 0xffff;
    adj = true;
  }
  ax = (ax & 0xff00) | (ax & 0x0f);
  cpu.u16[0] = ax;
  setArith(cpu.m, szp(ax & 0xff, 0, 1) | (adj ? FLAG_CF | FLAG_AF : 0));
  return 0;
}

const aam: Handler = (cpu, d) => {
  const base = d.imm & 0xff;
  if (base === 0) return FAULT_DE;
  const al = cpu.u8[0];
  cpu.u8[1] = Math.floor(al / base);
  cpu.u8[0] = al % base;
  setArith(cpu.m, szp(cpu.u8[0], 0, 1));
  return 0;
};

const aad: Handler = (cpu, d) => {
  const base = d.imm & 0xff;
  const al = (cpu.u8[0] + cpu.u8[1] * base) & 0xff;
  cpu.u16[0] = al;
  setArith(cpu.m, szp(al, 0, 1));
  return 0;
};

export function registerBcd(h: Map<string, Handler>): void {
  h.set('daa', (cpu) => decimalAdjust(cpu, false));
  h.set('das', (cpu) => decimalAdjust(cpu, true));
  h.set('aaa', (cpu) => asciiAdjust(cpu, false));
  h.set('aas', (cpu) => asciiAdjust(cpu, true));
  h.set('aamIb', aam);
  h.set('aadIb', aad);
}
