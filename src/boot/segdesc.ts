/**
 * Flat segment descriptors for the loader: the 8-byte GDT entry and the matching segment-cache
 * attribute word. The system layer (src/system/) owns real segment loading; the loader only needs
 * a few fixed flat descriptors, so it builds them here, from the SDM Vol. 3 §3.4.5 layout:
 *
 *   bytes 0..1 limit 15:0   bytes 2..4 base 23:0   byte 5 access (type | S<<4 | DPL<<5 | P<<7)
 *   byte 6 limit 19:16 | flags<<4 (AVL, L, D/B, G)   byte 7 base 31:24
 *
 * The cache attribute (cpu/state.ts SEG_ATTR) is "descriptor bits 40..55 shifted down by 40":
 * bits 0..7 the access byte, bits 8..11 zero (the limit nibble lives in SEG_LIMIT), bits 12..15
 * AVL, L, D/B, G. So attr = access | (flags << 12).
 */
import { SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_SELECTOR, segOffset, type StateViews } from '../cpu/state.js';
import type { PhysicalMemory } from '../mmu/physmem.js';

/** Access bytes, accessed bit already set (the CPU sets it on the first load; we write it so). */
export const ACCESS_CODE = 0x9b; // present, DPL 0, code, execute/read, accessed
export const ACCESS_DATA = 0x93; // present, DPL 0, data, read/write, accessed
export const ACCESS_LDT = 0x82; // present system segment, type 2 (LDT)
export const ACCESS_TSS_BUSY = 0x8b; // present system segment, type 11 (busy 32-bit TSS)

/** Flag nibbles (descriptor byte 6, high half). */
export const FLAGS_32 = 0xc; // G=1, D/B=1
export const FLAGS_64 = 0xa; // G=1, L=1, D=0
export const FLAGS_16 = 0x0; // byte granular, 16-bit

/** One descriptor as the loader describes it; `limit` is the 20-bit raw field. */
export interface FlatDescriptor {
  base: number;
  limit20: number;
  access: number;
  flags: number;
}

export const attrOf = (d: FlatDescriptor): number => d.access | (d.flags << 12);

/** The byte-granular limit the cache holds: the raw limit scaled by G. */
export const byteLimit = (d: FlatDescriptor): number =>
  (d.flags & 0x8) !== 0 ? ((d.limit20 << 12) | 0xfff) >>> 0 : d.limit20;

/** Low and high doublewords of the 8-byte GDT entry. */
export function encodeDescriptor(d: FlatDescriptor): [number, number] {
  const lo = ((d.base & 0xffff) << 16) | (d.limit20 & 0xffff);
  const hi =
    (d.base & 0xff000000) |
    ((d.flags & 0xf) << 20) |
    (d.limit20 & 0xf0000) |
    ((d.access & 0xff) << 8) |
    ((d.base >>> 16) & 0xff);
  return [lo >>> 0, hi >>> 0];
}

/** Writes `entries` as a GDT at `addr`; returns the GDTR limit (size - 1). */
export function writeGdt(phys: PhysicalMemory, addr: number, entries: (FlatDescriptor | null)[]): number {
  entries.forEach((d, i) => {
    const [lo, hi] = d === null ? [0, 0] : encodeDescriptor(d);
    phys.write32(addr + i * 8, lo);
    phys.write32(addr + i * 8 + 4, hi);
  });
  return entries.length * 8 - 1;
}

/** Loads a segment cache as a successful selector load of `d` would. */
export function setSegment(views: StateViews, seg: number, selector: number, d: FlatDescriptor): void {
  const o = segOffset(seg);
  views.u32[(o + SEG_SELECTOR) >>> 2] = selector;
  views.u32[(o + SEG_ATTR) >>> 2] = attrOf(d);
  views.u32[(o + SEG_LIMIT) >>> 2] = byteLimit(d);
  views.setNum(o + SEG_BASE, d.base);
}
