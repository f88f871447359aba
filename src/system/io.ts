/**
 * I/O permission (SDM Vol. 1 §18.5): in protected mode an IN/OUT/INS/OUTS at CPL > IOPL, and every
 * one in virtual-8086 mode, is allowed only when the TSS's I/O permission bitmap has a clear bit
 * for every port the access touches. The bitmap starts at the 16-bit offset stored at TSS+0x66
 * and needs a 32-bit or 64-bit TSS; a bitmap bit beyond the TSS limit counts as set. Real mode and
 * CPL <= IOPL need no bitmap. Returns 0 or #GP(0).
 */
import {
  EFER_LMA, FLAG_IOPL, MODE_REAL, MODE_VM86, OFF_CPL, OFF_EFER, OFF_MODE, OFF_RFLAGS, SEG_TR,
} from '../cpu/state.js';
import { FAULT_GP0 } from '../cpu/fault.js';
import { canonical } from '../mmu/mmu.js';
import type { SystemContext } from './context.js';
import { segAttr, segBaseHi, segBaseLo, segLimit, takeMmuFault } from './segments.js';

export function checkIoPermission(ctx: SystemContext, port: number, size: number): number {
  const u32 = ctx.views.u32;
  const m = u32[OFF_MODE >>> 2];
  if (m === MODE_REAL) return 0;
  const iopl = (u32[OFF_RFLAGS >>> 2] & FLAG_IOPL) >>> 12;
  if (m !== MODE_VM86 && u32[OFF_CPL >>> 2] <= iopl) return 0;
  return checkBitmap(ctx, port & 0xffff, size);
}

function checkBitmap(ctx: SystemContext, port: number, size: number): number {
  const v = ctx.views;
  const attr = segAttr(v, SEG_TR);
  // Only a present 32/64-bit TSS (type 9 or 11) has a bitmap.
  if ((attr & 0x80) === 0 || (attr & 0x1f) !== 9 && (attr & 0x1f) !== 11) return FAULT_GP0;
  const limit = segLimit(v, SEG_TR);
  if (limit < 0x67) return FAULT_GP0;
  const long = (v.u32[OFF_EFER >>> 2] & EFER_LMA) !== 0;
  const base = long ? canonical(segBaseLo(v, SEG_TR), segBaseHi(v, SEG_TR)) : segBaseLo(v, SEG_TR);
  const mapOff = ctx.mmu.read16(long ? base + 0x66 : (base + 0x66) >>> 0, false);
  let f = takeMmuFault(ctx);
  if (f !== 0) return f;
  const byte = mapOff + (port >>> 3);
  if (byte + 1 > limit) return FAULT_GP0;
  const bits = ctx.mmu.read16(long ? base + byte : (base + byte) >>> 0, false);
  f = takeMmuFault(ctx);
  if (f !== 0) return f;
  const mask = ((1 << size) - 1) << (port & 7);
  return (bits & mask) !== 0 ? FAULT_GP0 : 0;
}
