/**
 * ELF parsing shared by the multiboot ELF32 path and the ELF64 direct-entry path: the file header,
 * the program headers and their PT_LOAD segments, every offset and size checked against the file
 * before it is read, so a truncated or inconsistent image ends in a LoadError with its reason and
 * never in a RangeError. Placement in guest memory (RAM bounds, overlaps) is layout.ts's `claim`.
 *
 * Segments are loaded at p_paddr, as QEMU's load_elf does for x86 (the multiboot path) and as an
 * identity-mapped long-mode entry needs (the ELF64 path); PT_LOAD entries with p_memsz 0 are skipped.
 */
import { hex, LoadError } from './load-error.js';

export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ET_EXEC = 2;
export const EM_386 = 3;
export const EM_X86_64 = 62;
export const PT_LOAD = 1;

export interface ElfSegment {
  index: number; // program header index, for messages
  offset: number;
  paddr: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

export interface ElfImage {
  elfClass: number;
  type: number;
  machine: number;
  entry: number;
  segments: ElfSegment[];
}

const TYPE_NAMES: Record<number, string> = { 0: 'ET_NONE', 1: 'ET_REL', 2: 'ET_EXEC', 3: 'ET_DYN', 4: 'ET_CORE' };
export const typeName = (t: number): string => TYPE_NAMES[t] ?? hex(t);

/** True when the bytes start with the ELF magic. */
export const isElf = (b: Uint8Array): boolean =>
  b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;

/** The ELF class byte (1 = 32-bit, 2 = 64-bit), or 0 when the file is too short to say. */
export const elfClassOf = (b: Uint8Array): number => (b.length > 4 ? b[4] : 0);

/** e_machine, readable in both classes at the same offset; -1 when the file is too short. */
export const elfMachineOf = (b: Uint8Array): number => (b.length >= 20 ? b[18] | (b[19] << 8) : -1);

/**
 * Parses the header and program headers. Checks the identification bytes, that every header and
 * every PT_LOAD's file bytes lie inside the file, and p_filesz <= p_memsz. Does not check the
 * class/machine/type the caller wants: callers do, with their own reason.
 */
export function parseElf(b: Uint8Array): ElfImage {
  if (!isElf(b)) throw new LoadError('not an ELF file');
  const elfClass = elfClassOf(b);
  if (elfClass !== ELFCLASS32 && elfClass !== ELFCLASS64) throw new LoadError(`bad ELF class ${elfClassOf(b)}`);
  const is64 = elfClass === ELFCLASS64;
  const ehsize = is64 ? 64 : 52;
  if (b.length < ehsize) {
    throw new LoadError(`truncated ELF: file is ${b.length} bytes, the ELF${is64 ? 64 : 32} header needs ${ehsize}`);
  }
  if (b[5] !== 1) throw new LoadError(`ELF is not little-endian (EI_DATA ${b[5]})`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u16 = (o: number): number => dv.getUint16(o, true);
  const u32 = (o: number): number => dv.getUint32(o, true);
  // 64-bit fields as numbers: exact below 2^53, and anything larger is far outside RAM anyway.
  const u64 = (o: number): number => dv.getUint32(o + 4, true) * 0x100000000 + dv.getUint32(o, true);
  const word = is64 ? u64 : u32;

  const type = u16(16);
  const machine = u16(18);
  const entry = word(24);
  const phoff = is64 ? u64(32) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  const minEnt = is64 ? 56 : 32;
  if (phnum === 0) throw new LoadError('ELF has no program headers');
  if (phentsize < minEnt) throw new LoadError(`inconsistent ELF: e_phentsize ${phentsize}, expected at least ${minEnt}`);
  const phEnd = phoff + phnum * phentsize;
  if (phEnd > b.length) {
    throw new LoadError(`truncated ELF: program headers end at ${hex(phEnd)}, the file is ${hex(b.length)} bytes`);
  }

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (u32(p) !== PT_LOAD) continue;
    const seg: ElfSegment = is64
      ? { index: i, offset: u64(p + 8), vaddr: u64(p + 16), paddr: u64(p + 24), filesz: u64(p + 32), memsz: u64(p + 40) }
      : { index: i, offset: u32(p + 4), vaddr: u32(p + 8), paddr: u32(p + 12), filesz: u32(p + 16), memsz: u32(p + 20) };
    if (seg.filesz > seg.memsz) {
      throw new LoadError(`inconsistent ELF: segment ${i} has p_filesz ${hex(seg.filesz)} > p_memsz ${hex(seg.memsz)}`);
    }
    if (seg.offset + seg.filesz > b.length) {
      throw new LoadError(
        `truncated ELF: segment ${i} needs file bytes ${hex(seg.offset)}..${hex(seg.offset + seg.filesz)}, the file is ${hex(b.length)} bytes`,
      );
    }
    if (seg.memsz === 0) continue;
    segments.push(seg);
  }
  if (segments.length === 0) throw new LoadError('ELF has no loadable (PT_LOAD) segments');
  return { elfClass, type, machine, entry, segments };
}

/** Throws unless `entry` lies inside the physical range of one of the segments. */
export function checkEntryInSegments(entry: number, segs: ElfSegment[]): void {
  for (const s of segs) if (entry >= s.paddr && entry < s.paddr + s.memsz) return;
  throw new LoadError(`entry point ${hex(entry)} outside loaded memory`);
}
