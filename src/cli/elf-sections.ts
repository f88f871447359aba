/**
 * A small ELF reader for the disassembler: the executable sections of an ELF32 or ELF64
 * little-endian x86 file (name, address, bytes) and its function/object symbols by address, so
 * `ringvm disasm FILE` can print code with labels. Malformed input gives an Error with a short
 * reason (the CLI prints it as `ringvm: FILE: reason`); nothing here runs on a hot path.
 */

export interface CodeSection {
  name: string;
  addr: number; // virtual address (exact in a double up to 2^53)
  data: Uint8Array;
}

export interface ElfCode {
  bitness: 32 | 64;
  sections: CodeSection[];
  /** Symbol names by address (functions and labels with a name). */
  symbols: Map<number, string>;
}

const SHF_EXECINSTR = 4;
const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;

export const isElf = (b: Uint8Array): boolean =>
  b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;

export function readElfCode(buf: Uint8Array): ElfCode {
  if (!isElf(buf)) throw new Error('not an ELF file');
  if (buf.length < 52) throw new Error('truncated ELF header');
  const cls = buf[4];
  if (cls !== 1 && cls !== 2) throw new Error(`unknown ELF class ${cls}`);
  if (buf[5] !== 1) throw new Error('big-endian ELF is not x86');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const is64 = cls === 2;
  const machine = dv.getUint16(18, true);
  if (machine !== 3 && machine !== 62) throw new Error(`not an x86 ELF (e_machine ${machine})`);
  const check = (off: number, len: number, what: string): void => {
    if (off < 0 || len < 0 || off + len > buf.length) throw new Error(`${what} lies outside the file`);
  };
  const word = (off: number): number => is64 ? Number(dv.getBigUint64(off, true)) : dv.getUint32(off, true);
  const shoff = is64 ? word(0x28) : dv.getUint32(0x20, true);
  const shentsize = dv.getUint16(is64 ? 0x3a : 0x2e, true);
  const shnum = dv.getUint16(is64 ? 0x3c : 0x30, true);
  const shstrndx = dv.getUint16(is64 ? 0x3e : 0x32, true);
  if (shnum === 0) throw new Error('no section headers');
  check(shoff, shnum * shentsize, 'section header table');
  interface Sh { name: number; type: number; flags: number; addr: number; offset: number; size: number;
    link: number; entsize: number }
  const shs: Sh[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    shs.push(is64 ? {
      name: dv.getUint32(o, true), type: dv.getUint32(o + 4, true), flags: word(o + 8),
      addr: word(o + 16), offset: word(o + 24), size: word(o + 32), link: dv.getUint32(o + 40, true),
      entsize: word(o + 56),
    } : {
      name: dv.getUint32(o, true), type: dv.getUint32(o + 4, true), flags: dv.getUint32(o + 8, true),
      addr: dv.getUint32(o + 12, true), offset: dv.getUint32(o + 16, true),
      size: dv.getUint32(o + 20, true), link: dv.getUint32(o + 24, true),
      entsize: dv.getUint32(o + 36, true),
    });
  }
  const strAt = (sec: Sh | undefined, off: number): string => {
    if (sec === undefined || off >= sec.size) return '';
    let e = sec.offset + off;
    const lim = Math.min(buf.length, sec.offset + sec.size);
    const s = e;
    while (e < lim && buf[e] !== 0) e++;
    return new TextDecoder().decode(buf.subarray(s, e));
  };
  const shstr = shs[shstrndx];
  const sections: CodeSection[] = [];
  for (const sh of shs) {
    if (sh.type !== SHT_PROGBITS || (sh.flags & SHF_EXECINSTR) === 0 || sh.size === 0) continue;
    check(sh.offset, sh.size, 'code section');
    sections.push({ name: strAt(shstr, sh.name), addr: sh.addr, data: buf.subarray(sh.offset, sh.offset + sh.size) });
  }
  const symbols = new Map<number, string>();
  for (const sh of shs) {
    if (sh.type !== SHT_SYMTAB && sh.type !== SHT_DYNSYM) continue;
    const es = sh.entsize || (is64 ? 24 : 16);
    check(sh.offset, sh.size, 'symbol table');
    const strs = shs[sh.link];
    for (let o = sh.offset; o + es <= sh.offset + sh.size; o += es) {
      const name = strAt(strs, dv.getUint32(o, true));
      const info = is64 ? buf[o + 4] : buf[o + 12];
      const value = is64 ? word(o + 8) : dv.getUint32(o + 4, true);
      const type = info & 15;
      if (name === '' || (type !== 0 && type !== 1 && type !== 2)) continue;
      if (!symbols.has(value) || type === 2) symbols.set(value, name);
    }
  }
  return { bitness: is64 ? 64 : 32, sections, symbols };
}
