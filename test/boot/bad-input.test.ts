/**
 * Bad input: every malformed or unbootable image ends in a LoadError with its own reason (never
 * another exception, never a write outside RAM), one test per case of the list, plus a
 * small mutation sweep over a valid image that may only ever produce LoadErrors or a clean load.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LoadError, loadImage, parseInitrd, readImageFile } from '../../src/boot/load.js';
import { aout, elf, machine, mbHeader, pattern } from './images.js';

const MiB = 0x100000;
const opts = { cmdline: '', imageName: 'bad', modules: [] };

/** The LoadError reason loading `image` gives (fails the test if it loads or throws anything else). */
function reason(image: Uint8Array, ram = 16 * MiB, o: Parameters<typeof loadImage>[2] = opts): string {
  try {
    loadImage(image, machine(ram), o);
  } catch (e) {
    if (e instanceof LoadError) return e.reason;
    throw e;
  }
  throw new Error('image loaded, expected a LoadError');
}

const code = pattern(0x100, 7);
const mbElf = (segs: Parameters<typeof elf>[1]['segs'], entry = segs[0].paddr, extra = {}) =>
  elf(false, { entry, segs, multibootFlags: 3, ...extra });
const elf64 = (segs: Parameters<typeof elf>[1]['segs'], entry = segs[0].paddr, extra = {}) =>
  elf(true, { entry, segs, ...extra });

describe('files', () => {
  it('a missing image file', () => {
    const e = (() => {
      try {
        readImageFile('/nonexistent/ringvm-kernel.elf');
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(LoadError);
    expect((e as LoadError).reason).toBe('no such file');
  });

  it('a missing module, and QEMU-style module lists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringvm-boot-'));
    const a = join(dir, 'a.bin');
    const c = join(dir, 'c,d.bin');
    writeFileSync(a, 'AAA');
    writeFileSync(c, 'CD');
    const mods = parseInitrd(`${a} x=1,${c.replace(',', ',,')}`);
    expect(mods.map((m) => m.name)).toEqual([`${a} x=1`, c]);
    expect(Array.from(mods[1].bytes)).toEqual([0x43, 0x44]);
    expect(() => parseInitrd(`${a},${dir}/missing.bin arg`)).toThrow(/module '.*missing\.bin': no such file/);
  });
});

describe('not a bootable format', () => {
  it('an empty file', () => expect(reason(new Uint8Array(0))).toBe('empty file'));
  it('random bytes', () => expect(reason(pattern(20000, 3))).toMatch(/^not a multiboot image .* nor an ELF64 executable$/));
  it('a multiboot header with a bad checksum is no header', () => {
    const img = aout({ loadAddr: 0x100000, body: pattern(64, 1), headerOffset: 0, entryAddr: 0x100000 });
    img[8] ^= 1;
    expect(reason(img)).toMatch(/^not a multiboot image/);
  });
  it('a multiboot header past the first 8 KiB is not found', () => {
    const img = aout({ loadAddr: 0x100000, body: pattern(0x3000, 1), headerOffset: 0x2000, entryAddr: 0x100000 });
    expect(reason(img)).toMatch(/^not a multiboot image/);
  });
  it('an ELF32 without a multiboot header', () => {
    expect(reason(elf(false, { entry: 0x100000, segs: [{ paddr: 0x100000, data: code }] }))).toMatch(/^ELF32 i386 file without a multiboot header/);
  });
  it('an ELF64 that is not ET_EXEC', () => {
    expect(reason(elf64([{ paddr: 0x100000, data: code }], 0x100000, { type: 3 }))).toBe('ELF64 is ET_DYN, not ET_EXEC');
  });
  it('an ELF64 for another machine', () => {
    expect(reason(elf64([{ paddr: 0x100000, data: code }], 0x100000, { machine: 183 }))).toBe('ELF64 is not x86-64 (e_machine 183)');
  });
  it('a multiboot ELF64 without the address fields (QEMU refuses it too)', () => {
    expect(reason(elf(true, { entry: 0x100000, segs: [{ paddr: 0x100000, data: code }], multibootFlags: 3 }))).toMatch(/x86-64 ELF without address fields/);
  });
  it('a multiboot header demanding unknown features', () => {
    expect(reason(mbElf([{ paddr: 0x100000, data: code }], 0x100000, { multibootFlags: 0x13 }))).toBe(
      'multiboot header requires unsupported features (flags 0x10)',
    );
  });
  it('a multiboot header without address fields in a non-ELF file', () => {
    const img = new Uint8Array(64);
    img.set(mbHeader(3), 16);
    expect(reason(img)).toMatch(/not ELF$/);
  });
});

describe('truncated or inconsistent ELF', () => {
  const good = mbElf([{ paddr: 0x100000, data: code }]);
  const good64 = elf64([{ paddr: 0x100000, data: code }]);
  it('truncated inside the ELF header', () => expect(reason(good64.subarray(0, 40))).toMatch(/^truncated ELF: file is 40 bytes, the ELF64 header needs 64/));
  it('truncated inside the program headers', () => expect(reason(good64.subarray(0, 80))).toMatch(/^truncated ELF: program headers end at 0x78/));
  it('truncated inside a segment', () => expect(reason(good.subarray(0, good.length - 1))).toMatch(/^truncated ELF: segment 0 needs file bytes/));
  it('p_filesz > p_memsz', () => {
    expect(reason(elf64([{ paddr: 0x100000, data: code, memsz: 0x80 }]))).toBe('inconsistent ELF: segment 0 has p_filesz 0x100 > p_memsz 0x80');
  });
  it('no loadable segments', () => {
    expect(reason(elf64([{ paddr: 0x100000, data: code, type: 4 }]))).toBe('ELF has no loadable (PT_LOAD) segments');
  });
  it('a bad e_phentsize', () => {
    const b = elf64([{ paddr: 0x100000, data: code }]);
    b[54] = 8;
    expect(reason(b)).toMatch(/^inconsistent ELF: e_phentsize 8/);
  });
  it('a huge e_phoff', () => {
    const b = elf64([{ paddr: 0x100000, data: code }]);
    new DataView(b.buffer).setBigUint64(32, 0xffffffff00000000n, true);
    expect(reason(b)).toMatch(/^truncated ELF: program headers end at/);
  });
});

describe('placement', () => {
  it('a segment outside RAM', () => {
    expect(reason(mbElf([{ paddr: 0x7fff000, data: code, memsz: 0x2000 }]), 128 * MiB)).toBe('segment 0 at 0x7fff000..0x8001000 outside RAM (128 MiB)');
  });
  it('an ELF64 segment above 4 GiB', () => {
    expect(reason(elf64([{ paddr: 0x100000000, data: code }]))).toMatch(/^segment 0 at 0x100000000\.\.0x100000100 outside RAM \(16 MiB\)$/);
  });
  it('a segment in the PC hole', () => {
    expect(reason(mbElf([{ paddr: 0xb8000, data: code }]))).toMatch(/^segment 0 at 0xb8000\.\.0xb8100 overlaps the PC hole/);
  });
  it("a segment over the loader's boot area", () => {
    expect(reason(elf64([{ paddr: 0x8000, data: code }]))).toMatch(/overlaps the loader's boot area 0x1000\.\.0xa000$/);
  });
  it('overlapping segments', () => {
    expect(reason(mbElf([{ paddr: 0x100000, data: code }, { paddr: 0x100080, data: code }]))).toBe(
      'segment 1 at 0x100080..0x100180 overlaps segment 0 at 0x100000..0x100100',
    );
  });
  it('an entry point outside loaded memory (ELF32, ELF64, a.out)', () => {
    expect(reason(mbElf([{ paddr: 0x100000, data: code }], 0x100100))).toBe('entry point 0x100100 outside loaded memory');
    expect(reason(elf64([{ paddr: 0x100000, vaddr: 0xffffffff80000000, data: code }], 0xffffffff80000000))).toBe(
      'entry point 0xffffffff80000000 outside loaded memory',
    );
    expect(reason(aout({ loadAddr: 0x100000, body: pattern(64, 1), headerOffset: 0, entryAddr: 0x200000 }))).toMatch(/^entry point 0x200000 outside/);
  });
  it('RAM too small for the loader', () => {
    expect(reason(mbElf([{ paddr: 0x100000, data: code }]), MiB)).toBe('RAM (1 MiB) too small: the loader needs at least 2 MiB');
  });
  it('modules that do not fit in RAM', () => {
    const o = { ...opts, modules: [{ name: 'big', bytes: new Uint8Array(3 * MiB) }] };
    expect(reason(mbElf([{ paddr: 0x100000, data: code }]), 4 * MiB, o)).toMatch(/^module 'big' at 0x102000\.\.0x402000 outside RAM \(4 MiB\)$/);
  });
});

describe('a.out-kludge address fields', () => {
  const body = pattern(0x100, 2);
  it('header_addr below load_addr', () => {
    const img = aout({ loadAddr: 0x100000, body, headerOffset: 0, entryAddr: 0x100000 });
    new DataView(img.buffer).setUint32(12, 0xfff00, true);
    expect(reason(img)).toMatch(/header_addr 0xfff00 < load_addr 0x100000/);
  });
  it('header_addr implying a negative file offset', () => {
    const img = aout({ loadAddr: 0x100000, body, headerOffset: 0x10, entryAddr: 0x100000 });
    new DataView(img.buffer).setUint32(0x10 + 12, 0x100040, true);
    expect(reason(img)).toMatch(/past the header's file offset 0x10$/);
  });
  it('load_end_addr below load_addr', () => {
    expect(reason(aout({ loadAddr: 0x100000, body, headerOffset: 0, entryAddr: 0x100000, loadEnd: 0xff000 }))).toMatch(/load_end_addr 0xff000 < load_addr/);
  });
  it('load_end_addr past the end of the file', () => {
    expect(reason(aout({ loadAddr: 0x100000, body, headerOffset: 0, entryAddr: 0x100000, loadEnd: 0x101000 }))).toMatch(/^truncated image: /);
  });
  it('bss_end_addr below the loaded end', () => {
    expect(reason(aout({ loadAddr: 0x100000, body, headerOffset: 0, entryAddr: 0x100000, bssEnd: 0x100080 }))).toMatch(/bss_end_addr 0x100080 < load end 0x100100/);
  });
  it('address fields cut off by the end of the file', () => {
    const img = new Uint8Array(24);
    img.set(mbHeader(0x10003, [0x100000, 0x100000]));
    expect(reason(img)).toMatch(/^truncated multiboot header at 0x0/);
  });
});

describe('mutations of valid images', () => {
  it('never throw anything but LoadError', () => {
    const seeds = [
      mbElf([{ paddr: 0x100000, data: code }, { paddr: 0x101000, data: code, memsz: 0x800 }], 0x100010),
      elf64([{ paddr: 0x100000, data: code }], 0x100010),
      aout({ loadAddr: 0x100000, body: pattern(0x200, 5), headerOffset: 8, entryAddr: 0x100010, bssEnd: 0x102000 }),
    ];
    let rng = 12345;
    const rand = (n: number): number => {
      rng = (Math.imul(rng, 1103515245) + 12345) >>> 0;
      return rng % n;
    };
    const m = machine(4 * MiB);
    let errors = 0;
    for (let k = 0; k < 600; k++) {
      const base = seeds[k % seeds.length];
      const img = base.slice(0, k % 5 === 0 ? rand(base.length) : base.length);
      for (let f = 0; f < 1 + rand(4); f++) if (img.length > 0) img[rand(Math.min(img.length, 0x80))] = rand(256);
      try {
        loadImage(img, m, opts);
      } catch (e) {
        if (!(e instanceof LoadError)) throw e;
        expect(e.reason).not.toMatch(/\n/);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(100);
  });
});
