/**
 * Shared helpers for the guest-image tests: where the committed images are, whether a tool is
 * installed, and how to boot an image on QEMU and on ringvm and normalise the serial output the
 * two may legitimately disagree on. QEMU is told to report ringvm's CPUID vendor, so the only
 * normalisation (docs/guest-images.md) is dropping a firmware banner, should QEMU's BIOS print
 * one before the kernel starts.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { QEMU, qemuArgs } from '../qemu.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const IMAGES_DIR = join(ROOT, 'guest-images');

/** Every committed image: the *.bin files at the top of guest-images/. */
export function committedImages(): string[] {
  return readdirSync(IMAGES_DIR)
    .filter((f) => f.endsWith('.bin'))
    .sort();
}

/** True when `cmd` can be found on PATH. */
export function hasTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export interface BootResult {
  serial: Buffer; // every byte the guest wrote to COM1
  status: number | null; // process exit status (isa-debug-exit: (value << 1) | 1)
  stderr: string;
}

/** Boots an image on QEMU with the shared command line of test/qemu.ts. */
export function bootQemu(image: string, timeoutMs = 20_000, append = ''): BootResult {
  const r = spawnSync(QEMU, qemuArgs({ kernel: image, append }), {
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 16 << 20,
  });
  return { serial: r.stdout ?? Buffer.alloc(0), status: r.status, stderr: String(r.stderr ?? '') };
}

/** Boots an image on ringvm through its command line, as a user would. */
export function bootRingvm(image: string, timeoutMs = 30_000, append = '', extra: string[] = []): BootResult {
  const r = spawnSync(
    join(ROOT, 'node_modules/.bin/tsx'),
    [join(ROOT, 'src/cli/main.ts'), 'run', image, ...(append ? ['--append', append] : []), ...extra],
    { cwd: ROOT, timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 },
  );
  return { serial: r.stdout ?? Buffer.alloc(0), status: r.status, stderr: String(r.stderr ?? '') };
}

const FIRMWARE_END = 'Booting from ROM..';

/** Serial output with anything up to a SeaBIOS "Booting from ROM.." line removed. */
export function normaliseSerial(out: Buffer): string {
  const s = out.toString('latin1');
  const fw = s.lastIndexOf(FIRMWARE_END);
  return fw >= 0 ? s.slice(fw + FIRMWARE_END.length) : s;
}
