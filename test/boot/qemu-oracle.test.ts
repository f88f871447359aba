/**
 * QEMU as the oracle for the multiboot loader: fixtures/mbdump.asm, a kernel that prints its entry
 * registers and the whole info structure on COM1, boots on `qemu-system-i386 -kernel` and the
 * same lines are produced from what ringvm's loader wrote into guest memory and the CPU block.
 * Differences that are deliberate (boot loader name, ESP, the arithmetic flags QEMU's option ROM
 * leaves behind) are named and excluded. The kernel is built twice: as a flat a.out-kludge image and
 * as an ELF32 (nasm -DELF + ld). Skipped when nasm, ld or qemu-system-i386 is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gprOffset, OFF_CR0, REG_RAX, REG_RBX, SEG_CS, SEG_DS, SEG_ES, SEG_SELECTOR, SEG_SS, segOffset } from '../../src/cpu/state.js';
import { loadImage } from '../../src/boot/load.js';
import { cString, machine, pattern, type TestMachine } from './images.js';

const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const available = has('nasm') && has('qemu-system-i386') && has('ld');
const MiB = 0x100000;
const h8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

/** The lines mbdump prints, produced from ringvm's state (same keys and format as the asm). */
function ringvmDump(m: TestMachine): string[] {
  const v = m.views;
  const r32 = (a: number): number => m.phys.read32(a);
  const sel = (s: number): number => v.u32[(segOffset(s) + SEG_SELECTOR) >>> 2];
  const mbi = v.lo(gprOffset(REG_RBX));
  const out = [
    `eax=${h8(v.lo(gprOffset(REG_RAX)))}`,
    `ebx=${h8(mbi)}`,
    `cr0=${h8(v.lo(OFF_CR0))}`,
    `cs=${h8(sel(SEG_CS))}`,
    `ds=${h8(sel(SEG_DS))}`,
    `ss=${h8(sel(SEG_SS))}`,
    `es=${h8(sel(SEG_ES))}`,
    `flags=${h8(r32(mbi))}`,
    `mem_lower=${h8(r32(mbi + 4))}`,
    `mem_upper=${h8(r32(mbi + 8))}`,
    `boot_device=${h8(r32(mbi + 12))}`,
    `cmdline=${cString(m, r32(mbi + 16))}`,
    `mods_count=${h8(r32(mbi + 20))}`,
    `mods_addr=${h8(r32(mbi + 24))}`,
  ];
  for (let i = 0, p = r32(mbi + 24); i < r32(mbi + 20); i++, p += 16) {
    out.push(`mod=${h8(r32(p))} ${h8(r32(p + 4))} ${cString(m, r32(p + 8))}`);
  }
  const end = r32(mbi + 48) + r32(mbi + 44);
  for (let p = r32(mbi + 48); p < end; p += r32(p) + 4) {
    out.push(`mmap=${h8(r32(p + 8))}${h8(r32(p + 4))} ${h8(r32(p + 16))}${h8(r32(p + 12))} ${h8(r32(p + 20))}`);
  }
  return out;
}

const IGNORED = /^(esp|eflags|loader)=|^end$/;

describe.skipIf(!available)('multiboot info against QEMU', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringvm-qemu-'));
  const src = join(__dirname, 'fixtures/mbdump.asm');
  const build = [
    spawnSync('nasm', ['-f', 'bin', '-o', join(dir, 'mbdump.bin'), src], { encoding: 'utf8' }),
    spawnSync('nasm', ['-f', 'elf32', '-DELF', '-o', join(dir, 'mbdump.o'), src], { encoding: 'utf8' }),
    spawnSync('ld', ['-m', 'elf_i386', '-N', '-Ttext', '0x100000', '-e', 'start', '-o', join(dir, 'mbdump.elf'), join(dir, 'mbdump.o')], { encoding: 'utf8' }),
  ];
  writeFileSync(join(dir, 'm1.bin'), 'HELLO');
  writeFileSync(join(dir, 'm2.bin'), pattern(5000, 3));

  const cases = [
    ['mbdump.bin', 16, ''],
    ['mbdump.bin', 128, 'console=ttyS0 x=1'],
    ['mbdump.elf', 64, 'elf'],
  ] as const;
  for (const [image, mib, append] of cases) {
    it(`${image} -m ${mib} -append '${append}' with two modules`, () => {
      for (const b of build) expect(b.status, b.stderr).toBe(0);
      const q = spawnSync(
        'qemu-system-i386',
        ['-kernel', image, '-append', append, '-initrd', 'm1.bin arg=1,m2.bin', '-m', String(mib),
          '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot',
          '-device', 'isa-debug-exit,iobase=0xf4,iosize=4'],
        { cwd: dir, encoding: 'utf8', timeout: 20_000 },
      );
      const qemuLines = q.stdout.split('\n').filter((l) => l !== '');
      expect(qemuLines.at(-1), q.stderr).toBe('end');
      expect(qemuLines).toContain('loader=qemu');

      const m = machine(mib * MiB);
      const modules = [
        { name: 'm1.bin arg=1', bytes: readFileSync(join(dir, 'm1.bin')) },
        { name: 'm2.bin', bytes: readFileSync(join(dir, 'm2.bin')) },
      ];
      loadImage(readFileSync(join(dir, image)), m, { cmdline: append, imageName: image, modules });
      expect(ringvmDump(m)).toEqual(qemuLines.filter((l) => !IGNORED.test(l)));
      expect(cString(m, m.phys.read32(0x9500 + 64))).toBe('ringvm');
    });
  }
});
