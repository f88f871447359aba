/**
 * Multiboot v1 loading: ELF32 segments and the a.out kludge land where their headers say, the CPU
 * starts in the state the Multiboot spec §3.2 and QEMU's option ROM give, and the info structure
 * holds QEMU's values (mem sizes, mmap, "image append" cmdline, modules after the kernel).
 */
import { describe, expect, it } from 'vitest';
import {
  gprOffset, MODE_PROT32, OFF_CPL, OFF_CR0, OFF_CR3, OFF_CR4, OFF_EFER, OFF_GDTR_BASE, OFF_GDTR_LIMIT,
  OFF_MODE, OFF_RFLAGS, OFF_RIP, SEG_ATTR, SEG_BASE, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_LIMIT,
  SEG_SELECTOR, SEG_SS, segOffset,
} from '../../src/cpu/state.js';
import { loadImage } from '../../src/boot/load.js';
import { aout, cString, elf, machine, pattern, type TestMachine } from './images.js';

const MiB = 0x100000;
const opts = { cmdline: 'console=ttyS0 debug', imageName: 'kernel.elf', modules: [] };

const rd = (m: TestMachine, a: number): number => m.phys.read32(a);
const bytesAt = (m: TestMachine, a: number, n: number): Uint8Array => m.phys.readBytes(a, n);
const reg = (m: TestMachine, r: number): number => m.views.lo(gprOffset(r));

describe('multiboot ELF32', () => {
  const text = pattern(0x1234, 1);
  const data = pattern(0x300, 2);
  const image = elf(false, {
    entry: 0x100010,
    multibootFlags: 0x3,
    segs: [
      { paddr: 0x100000, vaddr: 0x300000, data: text },
      { paddr: 0x102000, data, memsz: 0x2000 },
    ],
  });

  it('loads PT_LOAD segments at p_paddr and zeroes their bss', () => {
    const m = machine(16 * MiB);
    m.phys.fill(0x102000, 0x2000, 0xcc); // bss must be cleared, not left as found
    const r = loadImage(image, m, opts);
    expect(r.format).toBe('multiboot-elf32');
    expect(bytesAt(m, 0x100000, text.length)).toEqual(text);
    expect(bytesAt(m, 0x102000, data.length)).toEqual(data);
    expect(Array.from(bytesAt(m, 0x102000 + data.length, 0x2000 - data.length)).every((x) => x === 0)).toBe(true);
    expect(bytesAt(m, 0x300000, 16)).toEqual(new Uint8Array(16)); // nothing went to p_vaddr
  });

  it('enters like QEMU: magic, info pointer, flat 32-bit segments, PE only, IF clear', () => {
    const m = machine(16 * MiB);
    loadImage(image, m, opts);
    const v = m.views;
    expect(reg(m, 0)).toBe(0x2badb002);
    expect(reg(m, 3)).toBe(0x9500);
    expect(v.getNum(OFF_RIP)).toBe(0x100010);
    expect(v.lo(OFF_RFLAGS)).toBe(0x2);
    expect(v.lo(OFF_CR0)).toBe(0x11); // PE | ET
    expect(v.lo(OFF_CR3) | v.lo(OFF_CR4) | v.lo(OFF_EFER)).toBe(0);
    expect(v.u32[OFF_MODE >>> 2]).toBe(MODE_PROT32);
    expect(v.u32[OFF_CPL >>> 2]).toBe(0);
    const seg = (s: number, f: number): number => v.u32[(segOffset(s) + f) >>> 2];
    expect(seg(SEG_CS, SEG_SELECTOR)).toBe(0x08);
    expect(seg(SEG_CS, SEG_ATTR)).toBe(0xc09b); // access 0x9B, G=1 D=1
    expect(seg(SEG_CS, SEG_LIMIT)).toBe(0xffffffff);
    expect(v.getNum(segOffset(SEG_CS) + SEG_BASE)).toBe(0);
    for (const s of [SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS]) {
      expect(seg(s, SEG_SELECTOR)).toBe(0x10);
      expect(seg(s, SEG_ATTR)).toBe(0xc093);
      expect(seg(s, SEG_LIMIT)).toBe(0xffffffff);
    }
    // The GDT in memory holds the descriptors the caches came from (QEMU's option-ROM GDT bytes
    // with the accessed bit set), so reloading 0x08 or 0x10 changes nothing.
    const gdt = v.getNum(OFF_GDTR_BASE);
    expect(v.u32[OFF_GDTR_LIMIT >>> 2]).toBeGreaterThanOrEqual(0x17);
    expect(Array.from(bytesAt(m, gdt, 24))).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0,
      0xff, 0xff, 0, 0, 0, 0x9b, 0xcf, 0,
      0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0,
    ]);
  });

  it('fills the info structure as QEMU does', () => {
    const ram = 128 * MiB;
    const m = machine(ram);
    loadImage(image, m, opts);
    const mbi = 0x9500;
    expect(rd(m, mbi)).toBe(0x24f); // mem, boot device, cmdline, mods, mmap, loader name
    expect(rd(m, mbi + 4)).toBe(639);
    expect(rd(m, mbi + 8)).toBe(0x1fb80); // QEMU 9 + SeaBIOS at -m 128 (measured with fixtures/mbdump.asm)
    expect(rd(m, mbi + 12)).toBe(0x8000ffff);
    expect(cString(m, rd(m, mbi + 16))).toBe('kernel.elf console=ttyS0 debug');
    expect(rd(m, mbi + 20)).toBe(0);
    expect(cString(m, rd(m, mbi + 64))).toBe('ringvm');
    // Strings live after the kernel's last page (0x104000), not over it.
    expect(rd(m, mbi + 16)).toBeGreaterThanOrEqual(0x104000);
    // Memory map, each entry {size 20, base, length, type}: what QEMU + SeaBIOS report at -m 128.
    const len = rd(m, mbi + 44);
    const addr = rd(m, mbi + 48);
    const map: number[][] = [];
    for (let p = addr; p < addr + len; p += rd(m, p) + 4) {
      expect(rd(m, p)).toBe(20);
      map.push([rd(m, p + 4) + rd(m, p + 8) * 2 ** 32, rd(m, p + 12) + rd(m, p + 16) * 2 ** 32, rd(m, p + 20)]);
    }
    expect(map).toEqual([
      [0, 0x9fc00, 1],
      [0x9fc00, 0x400, 2],
      [0xf0000, 0x10000, 2],
      [0x100000, 0x7ee0000, 1],
      [0x7fe0000, 0x20000, 2],
      [0xfffc0000, 0x40000, 2],
    ]);
  });

  it('keeps a bare cmdline as "image " (QEMU always joins with a space)', () => {
    const m = machine(4 * MiB);
    loadImage(image, m, { cmdline: '', imageName: 'k', modules: [] });
    expect(cString(m, rd(m, 0x9500 + 16))).toBe('k ');
  });

  it('places modules page-aligned after the kernel with their strings', () => {
    const m = machine(16 * MiB);
    const a = pattern(5000, 3);
    const b = pattern(10, 4);
    loadImage(image, m, { ...opts, modules: [{ name: 'a.bin arg=1', bytes: a }, { name: 'b.bin', bytes: b }] });
    const mbi = 0x9500;
    expect(rd(m, mbi + 20)).toBe(2);
    const list = rd(m, mbi + 24);
    expect(list).toBe(0x104000); // page after the kernel's end (0x104000), as QEMU
    const mods = [0, 1].map((i) => ({
      start: rd(m, list + i * 16),
      end: rd(m, list + i * 16 + 4),
      str: cString(m, rd(m, list + i * 16 + 8)),
    }));
    expect(mods[0].str).toBe('a.bin arg=1');
    expect(mods[1].str).toBe('b.bin');
    for (const mod of mods) expect(mod.start % 4096).toBe(0);
    expect(mods[0].start).toBeGreaterThan(list);
    expect(mods[0].end - mods[0].start).toBe(5000);
    expect(mods[1].start).toBe(mods[0].start + 8192);
    expect(mods[1].end - mods[1].start).toBe(10);
    expect(bytesAt(m, mods[0].start, 5000)).toEqual(a);
    expect(bytesAt(m, mods[1].start, 10)).toEqual(b);
    // Strings and module list sit in the page(s) between the kernel and the first module.
    expect(rd(m, mbi + 16)).toBeLessThan(mods[0].start);
    expect(rd(m, mbi + 64)).toBeLessThan(mods[0].start);
  });
});

describe('multiboot a.out kludge', () => {
  it('loads from header_addr-relative file offset, zeroes bss, enters at entry_addr', () => {
    const body = pattern(0x800, 9);
    const image = aout({ loadAddr: 0x200000, body, headerOffset: 0x40, entryAddr: 0x200100, bssEnd: 0x203000, prefix: 0x100 });
    const expected = new Uint8Array(body);
    expected.set(image.subarray(0x140, 0x140 + 32), 0x40); // the header is part of the loaded image
    const m = machine(8 * MiB);
    m.phys.fill(0x200800, 0x2800, 0xee);
    const r = loadImage(image, m, opts);
    expect(r.format).toBe('multiboot-aout');
    expect(bytesAt(m, 0x200000, 0x800)).toEqual(expected);
    expect(Array.from(bytesAt(m, 0x200800, 0x2800)).every((x) => x === 0)).toBe(true);
    expect(m.views.getNum(OFF_RIP)).toBe(0x200100);
    expect(reg(m, 0)).toBe(0x2badb002);
    expect(rd(m, 0x9500 + 24)).toBe(0x203000); // module list after bss_end, page aligned
  });

  it('load_end_addr 0 means the rest of the file', () => {
    const body = pattern(0x1000, 5);
    const image = aout({ loadAddr: 0x100000, body, headerOffset: 0, entryAddr: 0x100020, loadEnd: 0 });
    const m = machine(4 * MiB);
    loadImage(image, m, opts);
    expect(m.phys.read8(0x100fff)).toBe(body[0xfff]);
  });

  it('uses the address fields even in an ELF64 file (how 64-bit kernels boot on QEMU)', () => {
    const code = pattern(0x200, 6);
    // ELF64 file with one segment at file offset X; the kludge says load the whole file at 0x100000.
    const e = elf(true, { entry: 0x100080, segs: [{ paddr: 0x100000, data: code }], multibootFlags: 0x10003, multibootFields: [0, 0, 0, 0, 0] });
    const hdrOff = e.findIndex((_, i) => e[i] === 0x02 && e[i + 1] === 0xb0 && e[i + 2] === 0xad && e[i + 3] === 0x1b);
    const dv = new DataView(e.buffer);
    dv.setUint32(hdrOff + 12, 0x100000 + hdrOff, true); // header_addr: file loaded from offset 0
    dv.setUint32(hdrOff + 16, 0x100000, true);
    dv.setUint32(hdrOff + 20, 0, true);
    dv.setUint32(hdrOff + 24, 0, true);
    dv.setUint32(hdrOff + 28, 0x100004, true);
    const m = machine(4 * MiB);
    loadImage(e, m, opts);
    expect(bytesAt(m, 0x100000, e.length)).toEqual(e);
    expect(m.views.getNum(OFF_RIP)).toBe(0x100004);
    expect(m.views.u32[OFF_MODE >>> 2]).toBe(MODE_PROT32);
  });

  it('accepts the video-mode flag without video info, as QEMU does', () => {
    const image = aout({ loadAddr: 0x100000, body: pattern(64, 1), headerOffset: 0, entryAddr: 0x100000, flags: 0x10007 });
    const m = machine(4 * MiB);
    loadImage(image, m, opts);
    expect(rd(m, 0x9500) & (1 << 11)).toBe(0);
  });
});
