/**
 * Oracle test: the CMOS/RTC as QEMU (with SeaBIOS) presents it to a multiboot kernel. The probe
 * kernel (fixtures/cmos-probe.asm) prints the memory-size bytes, registers A, B, D, and the time
 * registers in the four formats of register B; QEMU starts its RTC at a given date
 * (-rtc base=...,clock=vm) and ringvm's Cmos at the same instant. The boot takes a fraction of a
 * virtual second, so each time line may show the start time or up to two seconds later.
 * Skipped, with a message, when nasm or qemu-system-i386 is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Cmos } from '../../src/devices/cmos.js';
import { FakeClock } from './fake-clock.js';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const tools = has('nasm') && has('qemu-system-i386');
if (!tools) console.warn('qemu-cmos: nasm or qemu-system-i386 not installed; skipping the QEMU CMOS oracle');

const MIB = 1024 * 1024;
const MEM_REGS = [0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34, 0x35, 0x0a, 0x0b, 0x0d];
const TIME_REGS = [0, 2, 4, 6, 7, 8, 9, 0x32];
const MODES = [0x02, 0x06, 0x00, 0x04];

function regs(c: Cmos, list: number[]): string {
  return list
    .map((i) => {
      c.portWrite(0x70, 1, i);
      return c.portRead(0x71, 1).toString(16).toUpperCase().padStart(2, '0');
    })
    .join(' ');
}

describe.skipIf(!tools)('CMOS against QEMU', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringvm-cmos-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const kernel = join(dir, 'cmos-probe.bin');

  it('assembles the probe', () => {
    const r = spawnSync('nasm', ['-f', 'bin', '-o', kernel, join(__dirname, 'fixtures/cmos-probe.asm')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each([
    [8, '2000-02-29T13:45:30'],
    [32, '2000-01-01T00:00:10'],
    [128, '2024-12-31T12:00:00'],
    [64, '2038-01-19T03:14:07'],
    [16, '1999-12-31T23:59:59'],
  ])('%i MiB, RTC at %s', (mib, base) => {
    const r = spawnSync(
      'qemu-system-i386',
      ['-kernel', kernel, '-m', String(mib), '-display', 'none', '-serial', 'stdio', '-no-reboot',
        '-device', 'isa-debug-exit,iobase=0xf4,iosize=1', '-rtc', `base=${base},clock=vm`],
      { encoding: 'utf8', timeout: 20_000 },
    );
    const lines = r.stdout.trim().split('\n').map((l) => l.trim());
    expect(lines.length).toBe(1 + MODES.length);
    const start = Date.parse(`${base}Z`) / 1000;
    const mine = (delta: number): Cmos =>
      new Cmos(new FakeClock(1000), { ramSize: mib * MIB, startTime: start + delta });
    expect(lines[0]).toBe(regs(mine(0), MEM_REGS));
    MODES.forEach((mode, i) => {
      const candidates = [0, 1, 2].map((d) => {
        const c = mine(d);
        c.portWrite(0x70, 1, 0x0b);
        c.portWrite(0x71, 1, mode);
        return regs(c, TIME_REGS);
      });
      expect(candidates, `register B = ${mode.toString(16)}`).toContain(lines[1 + i]);
    });
  });
});
