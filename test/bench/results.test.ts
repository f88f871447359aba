/**
 * The benchmark's arithmetic on made-up runs, checked against figures worked out by hand: median,
 * start-up subtraction, instruction counts measured or extrapolated from ringvm's, MIPS, ratios
 * against the targets, and the parsers for the checksum line and ringvm's --stats json.
 */
import { describe, expect, it } from 'vitest';
import { median, parseChecksum, parseRingvmStats } from '../../bench/lib/measure.js';
import { ratios, summarise, table, type Sample } from '../../bench/lib/results.js';

const s = (wall: number, checksum: string | null, insns?: number): Sample => ({
  wall, maxRssKiB: 2048, checksum, status: 33, stats: insns === undefined ? null : { guestInstructions: insns, wallSeconds: wall / 2 },
});

describe('bench results', () => {
  it('median of odd, even and with failed (NaN) runs', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([NaN, 5, 1])).toBe(3);
    expect(median([])).toBeNaN();
  });

  it('parses the checksum line and the last stats line', () => {
    expect(parseChecksum('junk\r\nchecksum=0x00c0ffee iterations=12\r\n')).toEqual({ checksum: '0x00c0ffee', iterations: 12 });
    expect(parseChecksum('checksum=0xC0FFEE iterations=1')).toBeNull();
    expect(parseRingvmStats('{"a":1}\n{"guestInstructions":7}\nringvm: done\n')).toEqual({ guestInstructions: 7 });
  });

  it('subtracts the iters=0 median and counts ringvm instructions net of boot', () => {
    // walls 3, 5, 4 -> 4 s; base 1, 1.5, 0.5 -> 1 s; 3 s net; (6e9 - 0) instructions -> 2000 MIPS
    const r = summarise('w', 'ringvm-x', 10, [s(3, '0x1', 6e9 + 100), s(5, '0x1', 6e9 + 100), s(4, '0x1', 6e9 + 100)],
      [s(1, '0x2', 100), s(1.5, '0x2', 100), s(0.5, '0x2', 100)], '0x1', null);
    expect(r.netSeconds).toBe(3);
    expect(r.guestInstructions).toBe(6e9);
    expect(r.instructionSource).toBe('measured');
    expect(r.mips).toBeCloseTo(2000, 9);
    expect(r.checksumOk).toBe(true);
    expect(r.maxRssMiB).toBe(2);
  });

  it('extrapolates a peer\'s instructions from ringvm\'s per-iteration count and flags a bad checksum', () => {
    const r = summarise('w', 'peer', 50, [s(2.5, '0x9')], [s(0.5, '0x2')], '0x1', 4e6);
    expect(r.guestInstructions).toBe(2e8);
    expect(r.instructionSource).toBe('ringvm');
    expect(r.mips).toBeCloseTo(100, 9);
    expect(r.checksumOk).toBe(false);
    expect(table([r], [], [])).toMatch(/BAD 0x9 != 0x1/);
  });

  it('ratios say how far below the target a configuration is', () => {
    const row = (config: string, mips: number) => ({ ...summarise('w', config, 1, [s(2, '0x1')], [s(1, '0x1')], '0x1', mips * 1e6) });
    const rs = ratios([row('ringvm-dbt-phys', 500), row('ringvm-interp', 100), row('qemu-tcg', 2000)]);
    expect(rs.find((r) => r.name === 'ringvm-dbt-phys / qemu-tcg')).toMatchObject({ value: 0.25, target: 1 });
    expect(rs.find((r) => r.name === 'ringvm-dbt-phys / ringvm-interp')).toMatchObject({ value: 5, target: 10 });
    expect(table([], rs, [])).toMatch(/ringvm-dbt-phys \/ qemu-tcg\s+0\.250\s+target >= 1: short by 4\.0x/);
  });
});

describe('bench results with a failed run', () => {
  it('a run without a checksum is left out of the median and counted as failed', () => {
    const r = summarise('w', 'c', 4, [s(2, '0x1', 9), s(NaN, null), s(4, '0x1', 9)], [s(1, '0x1', 1)], '0x1', null);
    expect(r.wallMedian).toBe(3);
    expect(r.checksum).toBe('0x1');
    expect(r.failedRuns).toBe(1);
    expect(table([r], [], [])).toMatch(/ok \(1 of 6 runs failed\)/);
  });
});
