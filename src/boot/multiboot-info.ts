/**
 * The multiboot information structure (Multiboot 0.6.96 §3.3), laid out where QEMU puts it, so a
 * kernel that prints its boot information prints the same on both (facts in docs/boot.md):
 *
 *   0x9000  memory map: entries of {size = 20, base_addr u64, length u64, type u32}
 *   0x9500  info structure, 88 bytes; flags = mem | boot device | cmdline | mods | mmap | loader name
 *   after the kernel, page aligned: the module list (16 bytes each), the module strings, the kernel
 *           command line "<image name> <append text>", the boot loader name "ringvm"; then each
 *           module at the next page boundary
 *
 * mem_lower is 639 (KiB below the EBDA, SeaBIOS's INT 12h answer), mem_upper the KiB of available
 * RAM from 1 MiB to the first reserved range (RAM - 1 MiB - 128 KiB), boot_device 0x8000FFFF (first
 * BIOS disk, no partition), the memory map below: all as QEMU reports them (docs/boot.md).
 * Both entry paths (multiboot and ELF64 direct entry) hand the kernel this same structure.
 */
import type { PhysicalMemory } from '../mmu/physmem.js';
import { claim, type Claim, HOLE_END, INFO_ADDR, MMAP_ADDR, pageAlign } from './layout.js';

export const MBI_FLAG_MEMORY = 1 << 0;
export const MBI_FLAG_BOOT_DEVICE = 1 << 1;
export const MBI_FLAG_CMDLINE = 1 << 2;
export const MBI_FLAG_MODS = 1 << 3;
export const MBI_FLAG_MMAP = 1 << 6;
export const MBI_FLAG_LOADER_NAME = 1 << 9;
export const MBI_SIZE = 88;
export const MMAP_AVAILABLE = 1;
export const MMAP_RESERVED = 2;
export const BOOT_LOADER_NAME = 'ringvm';
export const MEM_LOWER_KIB = 639;
export const BOOT_DEVICE = 0x8000ffff;
const EBDA_START = 0x9fc00;
const BIOS_START = 0xf0000;
/** Top of RAM that SeaBIOS reserves for its tables under QEMU, and the BIOS flash below 4 GiB. */
export const FIRMWARE_TABLES = 0x20000;
const BIOS_FLASH = 0xfffc0000;
/** The smallest RAM the loader accepts (QEMU's map needs room above 1 MiB). */
export const MIN_RAM = 0x200000;

export interface BootModule {
  /** The module string the kernel sees: the file name plus any arguments (a `--initrd` entry). */
  name: string;
  bytes: Uint8Array;
}

export interface InfoOptions {
  imageName: string;
  cmdline: string;
  modules: BootModule[];
}

export interface MmapEntry {
  base: number;
  length: number;
  type: number;
}

/**
 * The memory map QEMU + SeaBIOS report (measured with test/boot/fixtures/mbdump.asm at 16, 128 and
 * 1000 MiB): conventional memory up to the 1 KiB EBDA, the BIOS area, extended memory up to 128 KiB
 * below the top of RAM (SeaBIOS keeps its tables there), and the 256 KiB BIOS flash below 4 GiB.
 */
export function pcMemoryMap(ramSize: number): MmapEntry[] {
  const top = ramSize - FIRMWARE_TABLES;
  return [
    { base: 0, length: EBDA_START, type: MMAP_AVAILABLE },
    { base: EBDA_START, length: 0xa0000 - EBDA_START, type: MMAP_RESERVED },
    { base: BIOS_START, length: HOLE_END - BIOS_START, type: MMAP_RESERVED },
    { base: HOLE_END, length: top - HOLE_END, type: MMAP_AVAILABLE },
    { base: top, length: FIRMWARE_TABLES, type: MMAP_RESERVED },
    { base: BIOS_FLASH, length: 0x100000000 - BIOS_FLASH, type: MMAP_RESERVED },
  ];
}

const encoder = new TextEncoder();

/** Writes a NUL-terminated string; returns the address just past the NUL. */
function writeString(phys: PhysicalMemory, addr: number, s: string): number {
  const b = encoder.encode(s);
  phys.writeBytes(addr, b);
  phys.write8(addr + b.length, 0);
  return addr + b.length + 1;
}

/**
 * Writes the memory map, the info structure, the strings and the modules; `kernelEnd` is the
 * exclusive end of the kernel. New ranges are checked and recorded in `claims`. Returns the info
 * structure's address (for EBX / RDI).
 */
export function writeMultibootInfo(
  phys: PhysicalMemory,
  ramSize: number,
  kernelEnd: number,
  claims: Claim[],
  opts: InfoOptions,
): number {
  const mods = opts.modules;
  const kernelCmdline = `${opts.imageName} ${opts.cmdline}`;
  const loaderName = BOOT_LOADER_NAME;
  let stringsSize = encoder.encode(kernelCmdline).length + 1 + encoder.encode(loaderName).length + 1;
  for (const m of mods) stringsSize += encoder.encode(m.name).length + 1;

  // The module list and strings, right after the kernel's last page.
  const listAddr = pageAlign(kernelEnd);
  const stringsAddr = listAddr + mods.length * 16;
  claim(claims, listAddr, stringsAddr + stringsSize, 'boot strings and module list', ramSize);
  let p = stringsAddr;
  const modStrings: number[] = [];
  for (const m of mods) {
    modStrings.push(p);
    p = writeString(phys, p, m.name);
  }
  const cmdlineAddr = p;
  p = writeString(phys, p, kernelCmdline);
  const loaderAddr = p;
  writeString(phys, p, loaderName);

  // Modules, each on its own page boundary.
  let modAddr = pageAlign(stringsAddr + stringsSize);
  mods.forEach((m, i) => {
    const end = modAddr + m.bytes.length;
    if (m.bytes.length > 0) claim(claims, modAddr, end, `module '${m.name}'`, ramSize);
    else if (modAddr > ramSize) claim(claims, modAddr, modAddr + 1, `module '${m.name}'`, ramSize);
    phys.writeBytes(modAddr, m.bytes);
    phys.write32(listAddr + i * 16, modAddr);
    phys.write32(listAddr + i * 16 + 4, end);
    phys.write32(listAddr + i * 16 + 8, modStrings[i]);
    phys.write32(listAddr + i * 16 + 12, 0);
    modAddr = pageAlign(end);
  });

  // The memory map.
  const map = pcMemoryMap(ramSize);
  map.forEach((e, i) => {
    const a = MMAP_ADDR + i * 24;
    phys.write32(a, 20);
    phys.write32(a + 4, e.base);
    phys.write32(a + 8, 0);
    phys.write32(a + 12, e.length % 0x100000000);
    phys.write32(a + 16, Math.floor(e.length / 0x100000000));
    phys.write32(a + 20, e.type);
  });

  // The info structure itself.
  phys.fill(INFO_ADDR, MBI_SIZE, 0);
  const w = (off: number, v: number): void => phys.write32(INFO_ADDR + off, v >>> 0);
  w(0, MBI_FLAG_MEMORY | MBI_FLAG_BOOT_DEVICE | MBI_FLAG_CMDLINE | MBI_FLAG_MODS | MBI_FLAG_MMAP | MBI_FLAG_LOADER_NAME);
  w(4, MEM_LOWER_KIB);
  w(8, Math.floor((ramSize - FIRMWARE_TABLES - HOLE_END) / 1024)); // KiB from 1 MiB to the first hole, as QEMU
  w(12, BOOT_DEVICE);
  w(16, cmdlineAddr);
  w(20, mods.length);
  w(24, listAddr);
  w(44, map.length * 24);
  w(48, MMAP_ADDR);
  w(64, loaderAddr);
  return INFO_ADDR;
}
