/**
 * QEMU as the oracle for the system layer: test/system/kernels/systest.asm (a multiboot kernel that
 * provokes exceptions at CPL 0 and 3, INT n, INT3, SYSCALL/SYSRET, IRETQ to ring 3, sensitive
 * instructions, and prints every frame it sees) is built with nasm and booted on QEMU and on ringvm;
 * the serial output and exit status must be identical. Known QEMU deviations from the SDM are kept
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

describe.skipIf(!tools)('systest kernel on QEMU and ringvm', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringvm-systest-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const image = join(dir, 'systest.bin');

  it('prints the same frames and exits the same way', () => {
    const asm = spawnSync('nasm', ['-f', 'bin', '-o', image, join(import.meta.dirname, 'kernels/systest.asm')],
      { encoding: 'utf8' });
    expect(asm.status, asm.stderr).toBe(0);
    const q = bootQemu(image);
    const r = bootRingvm(image);
    const qs = normaliseSerial(q.serial);
    // The oracle half on its own: QEMU ran the whole kernel.
    expect(qs).toMatch(/^systest: long mode\r\n/);
    expect(qs).toMatch(/\r\ndone\r\n$/);
    expect(q.status).toBe(33);
    expect(qs.split('\r\n').filter((l) => l.startsWith('trap ')).length).toBe(15);
    expect(normaliseSerial(r.serial)).toBe(qs);
    expect(r.status).toBe(q.status);
  }, 60_000);
});
