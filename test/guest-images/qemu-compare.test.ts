/**
 * The whole-system oracle (ARCHITECTURE.md §8-9): every committed guest image boots on QEMU and
 * on ringvm and prints the same serial output and exits with the same status. Output is compared
 * after the one normalisation documented in docs/guest-images.md (a firmware banner) and nothing
 * else: QEMU reports ringvm's CPUID vendor. Skipped when QEMU is not installed; the ringvm half
 * runs once src/cli/main.ts exists and fails until ringvm boots the image.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VENDOR } from '../../src/system/cpuid.js';
import { IMAGES_DIR, ROOT, bootQemu, bootRingvm, committedImages, hasTool, normaliseSerial } from './images.js';

const qemu = hasTool('qemu-system-x86_64');
if (!qemu) console.warn('qemu-compare: qemu-system-x86_64 not installed; skipping the QEMU oracle');
const cli = existsSync(join(ROOT, 'src/cli/main.ts'));

/** What each image must print on QEMU (after normalisation) and its exit status, with the
 * command line it is booted with: a check that the QEMU half works on its own, independent of
 * ringvm. The bench checksum is the native build's (docs/performance.md). */
const EXPECTED: Record<string, { serial: string; status: number; append?: string }> = {
  'hello.bin': {
    serial: `Hello from ringvm's hello kernel (64-bit long mode)\r\nCPU vendor: ${VENDOR}\r\n`,
    status: 33,
  },
  'bench64.bin': { append: 'iters=1', serial: 'checksum=0xc7cf4843 iterations=1\r\n', status: 33 },
  'bench32.bin': { append: 'iters=1', serial: 'checksum=0xc7cf4843 iterations=1\r\n', status: 33 },
};

/** Images whose QEMU comparison lives in their own test (they need a command line and per-demo checks). */
const COMPARED_ELSEWHERE: Record<string, string> = {
  'tinyos.bin': 'test/guest-images/tinyos.test.ts',
  'tinyos32.bin': 'test/guest-images/tinyos.test.ts',
};

const images = () => committedImages().filter((n) => !(n in COMPARED_ELSEWHERE));

describe.skipIf(!qemu)('guest images on QEMU and ringvm', () => {
  const qemuRuns = new Map<string, ReturnType<typeof bootQemu>>();
  const onQemu = (name: string) => {
    let r = qemuRuns.get(name);
    if (!r) qemuRuns.set(name, (r = bootQemu(join(IMAGES_DIR, name), 20_000, EXPECTED[name]?.append)));
    return r;
  };

  it('every committed image has an expected output listed here or a test of its own', () => {
    expect([...Object.keys(EXPECTED), ...Object.keys(COMPARED_ELSEWHERE)].sort()).toEqual(committedImages());
  });

  it.each(images())('%s prints its expected output on QEMU', (name) => {
    const r = onQemu(name);
    expect(normaliseSerial(r.serial)).toBe(EXPECTED[name]!.serial);
    expect(r.status).toBe(EXPECTED[name]!.status);
  });

  it.skipIf(!cli).each(images())('%s prints the same on ringvm as on QEMU', (name) => {
    const q = onQemu(name);
    const v = bootRingvm(join(IMAGES_DIR, name), 30_000, EXPECTED[name]?.append);
    expect(normaliseSerial(v.serial), `ringvm stderr: ${v.stderr}`).toBe(normaliseSerial(q.serial));
    expect(v.status).toBe(q.status);
  });
});
