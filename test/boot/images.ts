/**
 * Tiny image builders for the loader tests: ELF32/ELF64 files with chosen PT_LOAD segments, an
 * optional multiboot header, and flat a.out-kludge images. They write the formats from the specs
 * (ELF gABI, Multiboot 0.6.96) byte by byte, independently of src/boot, so a loader bug cannot hide
 * behind a shared helper. Also a machine stand-in: one WebAssembly.Memory with its views and RAM.
 */
import { RAM_BASE, StateViews, WASM_PAGE } from '../../src/cpu/state.js';
import { PhysicalMemory } from '../../src/mmu/physmem.js';

export interface TestSeg {
  paddr: number;
  vaddr?: number;
  data: Uint8Array;
  memsz?: number; // default data.length
  type?: number; // default PT_LOAD (1)
}

export interface ElfSpec {
  entry: number;
  segs: TestSeg[];
  machine?: number; // default 3 (ELF32) / 62 (ELF64)
  type?: number; // default 2 (ET_EXEC)
  /** Multiboot header flags; the header goes right after the program headers. */
  multibootFlags?: number;
  /** Header fields after the checksum (address fields), when multibootFlags has bit 16. */
  multibootFields?: number[];
}

export const MB_MAGIC = 0x1badb002;

export function mbHeader(flags: number, fields: number[] = []): Uint8Array {
  const b = new Uint8Array(12 + fields.length * 4);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, MB_MAGIC, true);
  dv.setUint32(4, flags >>> 0, true);
  dv.setUint32(8, (-(MB_MAGIC + flags)) >>> 0, true);
  fields.forEach((f, i) => dv.setUint32(12 + i * 4, f >>> 0, true));
  return b;
}

export function elf(is64: boolean, spec: ElfSpec): Uint8Array {
  const ehsize = is64 ? 64 : 52;
  const phent = is64 ? 56 : 32;
  const phoff = ehsize;
  let off = phoff + phent * spec.segs.length;
  let mbOff = -1;
  let mb: Uint8Array | null = null;
  if (spec.multibootFlags !== undefined) {
    mb = mbHeader(spec.multibootFlags, spec.multibootFields ?? []);
    mbOff = (off + 3) & ~3;
    off = mbOff + mb.length;
  }
  const segOffs = spec.segs.map((s) => {
    off = (off + 15) & ~15;
    const o = off;
    off += s.data.length;
    return o;
  });
  const b = new Uint8Array(off);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1]);
  dv.setUint16(16, spec.type ?? 2, true);
  dv.setUint16(18, spec.machine ?? (is64 ? 62 : 3), true);
  dv.setUint32(20, 1, true);
  if (is64) {
    dv.setBigUint64(24, BigInt(spec.entry), true);
    dv.setBigUint64(32, BigInt(phoff), true);
    dv.setUint16(52, ehsize, true);
    dv.setUint16(54, phent, true);
    dv.setUint16(56, spec.segs.length, true);
  } else {
    dv.setUint32(24, spec.entry, true);
    dv.setUint32(28, phoff, true);
    dv.setUint16(40, ehsize, true);
    dv.setUint16(42, phent, true);
    dv.setUint16(44, spec.segs.length, true);
  }
  spec.segs.forEach((s, i) => {
    const p = phoff + i * phent;
    const memsz = s.memsz ?? s.data.length;
    dv.setUint32(p, s.type ?? 1, true);
    if (is64) {
      dv.setUint32(p + 4, 7, true);
      dv.setBigUint64(p + 8, BigInt(segOffs[i]), true);
      dv.setBigUint64(p + 16, BigInt(s.vaddr ?? s.paddr), true);
      dv.setBigUint64(p + 24, BigInt(s.paddr), true);
      dv.setBigUint64(p + 32, BigInt(s.data.length), true);
      dv.setBigUint64(p + 40, BigInt(memsz), true);
    } else {
      dv.setUint32(p + 4, segOffs[i], true);
      dv.setUint32(p + 8, s.vaddr ?? s.paddr, true);
      dv.setUint32(p + 12, s.paddr, true);
      dv.setUint32(p + 16, s.data.length, true);
      dv.setUint32(p + 20, memsz, true);
      dv.setUint32(p + 24, 7, true);
    }
    b.set(s.data, segOffs[i]);
  });
  if (mb !== null) b.set(mb, mbOff);
  return b;
}

export interface AoutSpec {
  loadAddr: number;
  /** The image body; the header is placed at `headerOffset` inside it (overwriting those bytes). */
  body: Uint8Array;
  headerOffset: number;
  entryAddr: number;
  bssEnd?: number; // 0 = none
  loadEnd?: number; // default loadAddr + body.length; 0 = "to end of file"
  /** Bytes before the image in the file (so the image does not start at file offset 0). */
  prefix?: number;
  flags?: number; // default bit 16 | bit 1 | bit 0
}

export function aout(spec: AoutSpec): Uint8Array {
  const prefix = spec.prefix ?? 0;
  const b = new Uint8Array(prefix + spec.body.length);
  b.set(spec.body, prefix);
  const flags = spec.flags ?? 0x10003;
  const hdr = mbHeader(flags, [
    spec.loadAddr + spec.headerOffset,
    spec.loadAddr,
    spec.loadEnd ?? spec.loadAddr + spec.body.length,
    spec.bssEnd ?? 0,
    spec.entryAddr,
  ]);
  b.set(hdr, prefix + spec.headerOffset);
  return b;
}

/** Deterministic filler bytes so loaded contents can be compared. */
export function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    b[i] = x >>> 24;
  }
  return b;
}

export interface TestMachine {
  phys: PhysicalMemory;
  views: StateViews;
}

export function machine(ramSize: number): TestMachine {
  const memory = new WebAssembly.Memory({ initial: Math.ceil((RAM_BASE + ramSize) / WASM_PAGE) });
  const views = new StateViews(memory);
  return { views, phys: new PhysicalMemory(views, ramSize) };
}

/** Reads a NUL-terminated string from guest RAM. */
export function cString(m: TestMachine, addr: number): string {
  let s = '';
  for (let a = addr; ; a++) {
    const c = m.phys.read8(a);
    if (c === 0) return s;
    s += String.fromCharCode(c);
  }
}
