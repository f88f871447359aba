/**
 * Where the loader puts its own things in guest memory, and the rule every loaded byte must obey.
 *
 *   0x00001000 .. 0x00006FFF  long-mode page tables (ELF64 entry only): PML4, PDPT, 4 page directories
 *   0x00007000 .. 0x00008FFF  initial stack (ESP/RSP = 0x9000 on entry)
 *   0x00009000                multiboot memory map (QEMU's address: ADDR_E820_MAP)
 *   0x00009500                multiboot info structure (QEMU's address: ADDR_MBI)
 *   0x00009600                the loader's GDT
 *   kernel end, page aligned  module list, command lines, boot loader name (as QEMU), then modules
 *
 * Loaded bytes (segments, the a.out-kludge image, modules) must lie in conventional memory
 * [0, 0xA0000) or in extended memory [0x100000, ramSize), and never in the boot area
 * [0x1000, 0xA000) above. `claim` enforces that and the no-overlap rule in one place.
 */
import { hex, LoadError, sizeText } from './load-error.js';

export const PAGE_TABLES = 0x1000;
export const PML4_ADDR = 0x1000;
export const PDPT_ADDR = 0x2000;
export const PD_ADDR = 0x3000; // four page directories, 0x3000..0x6FFF
export const STACK_TOP = 0x9000;
export const MMAP_ADDR = 0x9000;
export const INFO_ADDR = 0x9500;
export const GDT_ADDR = 0x9600;
export const BOOT_AREA_START = 0x1000;
export const BOOT_AREA_END = 0xa000;

/** The legacy hole: video memory, option ROMs and the BIOS. Nothing is loaded there. */
export const HOLE_START = 0xa0000;
export const HOLE_END = 0x100000;

export const PAGE = 4096;
export const pageAlign = (n: number): number => Math.ceil(n / PAGE) * PAGE;

/** A named range of guest-physical memory the loader has filled, for the overlap check. */
export interface Claim {
  start: number;
  end: number; // exclusive
  what: string;
}

/**
 * Checks that [start, end) may be loaded (inside RAM, outside the hole and the boot area, not
 * overlapping an earlier claim) and records it. `what` names it in the reason ("segment 2").
 */
export function claim(claims: Claim[], start: number, end: number, what: string, ramSize: number): void {
  if (end > ramSize || start >= ramSize) {
    throw new LoadError(`${what} at ${hex(start)}..${hex(end)} outside RAM (${sizeText(ramSize)})`);
  }
  if (start < HOLE_END && end > HOLE_START) {
    throw new LoadError(`${what} at ${hex(start)}..${hex(end)} overlaps the PC hole ${hex(HOLE_START)}..${hex(HOLE_END)}`);
  }
  if (start < BOOT_AREA_END && end > BOOT_AREA_START) {
    throw new LoadError(
      `${what} at ${hex(start)}..${hex(end)} overlaps the loader's boot area ${hex(BOOT_AREA_START)}..${hex(BOOT_AREA_END)}`,
    );
  }
  for (const c of claims) {
    if (start < c.end && c.start < end) {
      throw new LoadError(`${what} at ${hex(start)}..${hex(end)} overlaps ${c.what} at ${hex(c.start)}..${hex(c.end)}`);
    }
  }
  claims.push({ start, end, what });
}
