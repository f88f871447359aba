/**
 * Multiboot v1 kernels as QEMU's `-kernel` loads them: finding and checking the header, then
 * loading either the ELF32 PT_LOAD segments or, when header flag bit 16 is set, the a.out-kludge
 * image described by the address fields (what 64-bit kernels use: their ELF64 file is loaded as a
 * flat image and entered at a 32-bit entry_addr). The info structure is multiboot-info.ts's job.
 *
 * Header (Multiboot 0.6.96 §3.1): 32-bit aligned in the first 8192 bytes, magic 0x1BADB002, flags,
 * checksum with magic + flags + checksum = 0 (mod 2^32). Flags:
 *   bit 0  page-align modules          honoured always (QEMU aligns every module to 4 KiB)
 *   bit 1  memory information wanted   honoured always (the info always has mem_* and mmap)
 *   bit 2  video mode wanted           accepted without video info, as QEMU does (it only warns
 *                                      "multiboot knows VBE. we don't"); info flag bit 11 stays 0
 *   bits 3..15 (undefined, required)   refused, as the spec requires (QEMU ignores them)
 *   bit 16 address fields valid        a.out kludge: load by header_addr/load_addr/... below
 * Like QEMU, an ELF64 x86-64 file whose header lacks bit 16 is refused (QEMU: "Cannot load x86-64
 * image, give a 32bit one"); ELF32 segments load at p_paddr.
 */
import { checkEntryInSegments, EM_386, EM_X86_64, ELFCLASS32, elfClassOf, elfMachineOf, isElf, parseElf } from './elf.js';
import { hex, LoadError } from './load-error.js';

export const MULTIBOOT_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOT_MAGIC = 0x2badb002;
export const MB_PAGE_ALIGN = 1 << 0;
export const MB_MEMORY_INFO = 1 << 1;
export const MB_VIDEO_MODE = 1 << 2;
export const MB_AOUT_KLUDGE = 1 << 16;
const MB_KNOWN_REQUIRED = MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_VIDEO_MODE;
const SEARCH_LIMIT = 8192;

export interface MultibootHeader {
  offset: number; // file offset of the magic
  flags: number;
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}

/** A run of bytes to place at a guest-physical address, then `zero` bytes of zeros after them. */
export interface Piece {
  addr: number;
  bytes: Uint8Array;
  zero: number;
  what: string;
}

/** The kernel as the loader places it: pieces, the span they cover and the entry point. */
export interface KernelLayout {
  pieces: Piece[];
  low: number;
  high: number; // exclusive
  entry: number;
}

const rd32 = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

/** The first valid header in the first 8 KiB (magic and checksum both right), or null. */
export function findMultibootHeader(b: Uint8Array): MultibootHeader | null {
  const end = Math.min(b.length, SEARCH_LIMIT);
  for (let i = 0; i + 12 <= end; i += 4) {
    if (rd32(b, i) !== MULTIBOOT_MAGIC) continue;
    const flags = rd32(b, i + 4);
    if (((MULTIBOOT_MAGIC + flags + rd32(b, i + 8)) >>> 0) !== 0) continue;
    const field = (k: number): number => (i + 12 + k * 4 + 4 <= b.length ? rd32(b, i + 12 + k * 4) : 0);
    if ((flags & MB_AOUT_KLUDGE) !== 0 && i + 32 > b.length) {
      throw new LoadError(`truncated multiboot header at ${hex(i)}: the address fields need ${hex(i + 32)} bytes`);
    }
    return {
      offset: i,
      flags,
      headerAddr: field(0),
      loadAddr: field(1),
      loadEndAddr: field(2),
      bssEndAddr: field(3),
      entryAddr: field(4),
    };
  }
  return null;
}

/** Validates the flags and computes where the kernel goes; does not touch guest memory. */
export function layoutMultibootKernel(b: Uint8Array, h: MultibootHeader): KernelLayout {
  const unknown = h.flags & 0xffff & ~MB_KNOWN_REQUIRED;
  if (unknown !== 0) throw new LoadError(`multiboot header requires unsupported features (flags ${hex(unknown)})`);
  return (h.flags & MB_AOUT_KLUDGE) !== 0 ? layoutAout(b, h) : layoutElf32(b);
}

function layoutElf32(b: Uint8Array): KernelLayout {
  if (!isElf(b)) throw new LoadError('multiboot header without address fields (flag bit 16) and the file is not ELF');
  if (elfMachineOf(b) === EM_X86_64) {
    throw new LoadError('multiboot x86-64 ELF without address fields (flag bit 16): QEMU refuses it too; give a 32-bit one');
  }
  if (elfClassOf(b) !== ELFCLASS32) throw new LoadError(`multiboot ELF is not 32-bit (class ${elfClassOf(b)})`);
  const elf = parseElf(b);
  if (elf.machine !== EM_386) throw new LoadError(`multiboot ELF is not i386 (e_machine ${elf.machine})`);
  checkEntryInSegments(elf.entry, elf.segments);
  let low = Infinity;
  let high = 0;
  const pieces = elf.segments.map((s): Piece => {
    low = Math.min(low, s.paddr);
    high = Math.max(high, s.paddr + s.memsz);
    return {
      addr: s.paddr,
      bytes: b.subarray(s.offset, s.offset + s.filesz),
      zero: s.memsz - s.filesz,
      what: `segment ${s.index}`,
    };
  });
  return { pieces, low, high, entry: elf.entry };
}

/**
 * The a.out kludge (spec §3.1.3): the file byte at header offset is loaded at header_addr, so the
 * image starts at file offset `offset - (header_addr - load_addr)`; load_end_addr 0 means "to the
 * end of the file", bss_end_addr 0 means no bss. The checks are QEMU's, plus ours on the entry.
 */
function layoutAout(b: Uint8Array, h: MultibootHeader): KernelLayout {
  if (h.headerAddr < h.loadAddr) {
    throw new LoadError(`invalid multiboot address fields: header_addr ${hex(h.headerAddr)} < load_addr ${hex(h.loadAddr)}`);
  }
  if (h.headerAddr - h.loadAddr > h.offset) {
    throw new LoadError(
      `invalid multiboot address fields: header_addr - load_addr = ${hex(h.headerAddr - h.loadAddr)} is past the header's file offset ${hex(h.offset)}`,
    );
  }
  const textOffset = h.offset - (h.headerAddr - h.loadAddr);
  let loadSize: number;
  if (h.loadEndAddr !== 0) {
    if (h.loadEndAddr < h.loadAddr) {
      throw new LoadError(`invalid multiboot address fields: load_end_addr ${hex(h.loadEndAddr)} < load_addr ${hex(h.loadAddr)}`);
    }
    loadSize = h.loadEndAddr - h.loadAddr;
    if (textOffset + loadSize > b.length) {
      throw new LoadError(
        `truncated image: load_addr..load_end_addr needs file bytes ${hex(textOffset)}..${hex(textOffset + loadSize)}, the file is ${hex(b.length)} bytes`,
      );
    }
  } else {
    loadSize = b.length - textOffset;
  }
  const loadEnd = h.loadAddr + loadSize;
  let end = loadEnd;
  if (h.bssEndAddr !== 0) {
    if (h.bssEndAddr < loadEnd) {
      throw new LoadError(`invalid multiboot address fields: bss_end_addr ${hex(h.bssEndAddr)} < load end ${hex(loadEnd)}`);
    }
    end = h.bssEndAddr;
  }
  if (end > 0x100000000) throw new LoadError(`kernel at ${hex(h.loadAddr)}..${hex(end)} does not fit in the 32-bit address space`);
  if (h.entryAddr < h.loadAddr || h.entryAddr >= end) {
    throw new LoadError(`entry point ${hex(h.entryAddr)} outside loaded memory ${hex(h.loadAddr)}..${hex(end)}`);
  }
  return {
    pieces: [{ addr: h.loadAddr, bytes: b.subarray(textOffset, textOffset + loadSize), zero: end - loadEnd, what: 'kernel image' }],
    low: h.loadAddr,
    high: end,
    entry: h.entryAddr,
  };
}
