/**
 * QEMU as the oracle for the system layer: the multiboot kernels in test/system/kernels/ provoke
 * exceptions at CPL 0 and 3, INT n, INT3, IRET(Q) to ring 3, SYSCALL/SYSRET (64-bit), a call gate
 * and SYSENTER/SYSEXIT (32-bit), real mode through the IVT with unreal mode (16-bit), and sensitive
 * instructions, and print every frame they see. Each is
 * built with nasm and booted on QEMU and on ringvm; serial output and exit status must be identical. Known QEMU deviations from the SDM are kept
 * out of the kernel (CR4 reserved bits, clearing CR4.PAE in long mode) or masked by it (QEMU's
 * 64-bit IDT error codes use vector*16+2, the SDM vector*8+2); the unit tests cover those cases.
 * Skipped when nasm or qemu-system-x86_64 is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootQemu, bootRingvm, hasTool, normaliseSerial } from '../guest-images/images.js';

const tools = hasTool('nasm') && hasTool('qemu-system-x86_64');
if (!tools) console.warn('system qemu-compare: nasm or qemu-system-x86_64 missing; skipping');

/** Each kernel: its first line and how many exception frames QEMU prints (a check of the oracle half). */
const KERNELS = [
  { file: 'systest.asm', first: 'systest: long mode', traps: 15 },
  { file: 'systest32.asm', first: 'systest32: protected mode', traps: 14 },
  { file: 'systest16.asm', first: 'systest16: real mode', traps: 0 },
];

describe.skipIf(!tools)('system test kernels on QEMU and ringvm', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringvm-systest-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(KERNELS)('$file prints the same frames and exits the same way', ({ file, first, traps }) => {
    const image = join(dir, file.replace('.asm', '.bin'));
    const asm = spawnSync('nasm', ['-f', 'bin', '-o', image, join(import.meta.dirname, 'kernels', file)],
      { encoding: 'utf8' });
    expect(asm.status, asm.stderr).toBe(0);
    const q = bootQemu(image);
    const r = bootRingvm(image);
    const qs = normaliseSerial(q.serial);
    // The oracle half on its own: QEMU ran the whole kernel.
    expect(qs.startsWith(`${first}\r\n`)).toBe(true);
    expect(qs).toMatch(/\r\ndone\r\n$/);
    expect(q.status).toBe(33);
    expect(qs.split('\r\n').filter((l) => l.startsWith('trap ')).length).toBe(traps);
    expect(normaliseSerial(r.serial)).toBe(qs);
    expect(r.status).toBe(q.status);
  }, 60_000);
});
