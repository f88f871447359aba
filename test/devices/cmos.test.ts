/**
 * CMOS/RTC against the MC146818A datasheet and the PC BIOS conventions. Calendar facts used as
 * oracles, derived by hand: Unix time 946684800 is 2000-01-01 00:00:00 UTC, a Saturday (day-of-week
 * register 7, Sunday = 1); 59 days later is 2000-02-29, a Tuesday (59 = 8*7 + 3); 2024-12-31 was a
 * Tuesday. The memory bytes follow the BIOS rules: 0x15/16 = 640 KiB, 0x17/18 = 0x30/31 = KiB above
 * 1 MiB capped at 0xFFFF, 0x34/35 = 64 KiB blocks above 16 MiB; checksum of 0x10-0x2D at 0x2E (high)
 * and 0x2F (low).
 */
import { describe, expect, it } from 'vitest';
import { Cmos } from '../../src/devices/cmos.js';
import { FakeClock, FakeIrq } from './fake-clock.js';

const Y2K = 946684800;
const MIB = 1024 * 1024;

function reg(c: Cmos, i: number): number {
  c.portWrite(0x70, 1, i);
  return c.portRead(0x71, 1);
}
function setReg(c: Cmos, i: number, v: number): void {
  c.portWrite(0x70, 1, i);
  c.portWrite(0x71, 1, v);
}
const time = (c: Cmos): number[] => [0, 2, 4, 6, 7, 8, 9, 0x32].map((i) => reg(c, i));

describe('CMOS / RTC', () => {
  it('reads the start time in BCD, 24-hour, and follows the instruction clock', () => {
    const clock = new FakeClock(1000);
    const c = new Cmos(clock, { ramSize: 32 * MIB, startTime: Y2K + 13 * 3600 + 45 * 60 + 30 });
    // 2000-01-01 13:45:30, Saturday
    expect(time(c)).toEqual([0x30, 0x45, 0x13, 0x07, 0x01, 0x01, 0x00, 0x20]);
    expect(reg(c, 0x0b)).toBe(0x02);
    expect(reg(c, 0x0a)).toBe(0x26);
    expect(reg(c, 0x0d)).toBe(0x80);
    clock.advanceTo(100_000 + 999); // 100.999 guest seconds: 13:47:10
    expect(time(c).slice(0, 3)).toEqual([0x10, 0x47, 0x13]);
  });

  it('switches to binary and to 12-hour forms', () => {
    const clock = new FakeClock(1000);
    const c = new Cmos(clock, { ramSize: 32 * MIB, startTime: Y2K + 13 * 3600 + 45 * 60 + 30 });
    setReg(c, 0x0b, 0x06); // binary, 24-hour
    expect(time(c)).toEqual([30, 45, 13, 7, 1, 1, 0, 20]); // the century too (Linux reads it so)
    setReg(c, 0x0b, 0x00); // BCD, 12-hour: 13h is 1 PM
    expect(reg(c, 4)).toBe(0x81);
    setReg(c, 0x0b, 0x04); // binary, 12-hour
    expect(reg(c, 4)).toBe(0x81);
    const mid = new Cmos(clock, { ramSize: 32 * MIB, startTime: Y2K + 30 }); // 00:00:30
    setReg(mid, 0x0b, 0x00);
    expect(reg(mid, 4)).toBe(0x12); // midnight is 12 AM
    const noon = new Cmos(clock, { ramSize: 32 * MIB, startTime: Y2K + 12 * 3600 });
    setReg(noon, 0x0b, 0x00);
    expect(reg(noon, 4)).toBe(0x92); // noon is 12 PM
  });

  it('knows leap days', () => {
    const clock = new FakeClock(1000);
    const c = new Cmos(clock, { ramSize: 32 * MIB, startTime: Y2K + 59 * 86400 });
    expect(time(c)).toEqual([0x00, 0x00, 0x00, 0x03, 0x29, 0x02, 0x00, 0x20]);
  });

  it('lets the guest set the clock with the SET bit', () => {
    const clock = new FakeClock(1000);
    const c = new Cmos(clock, { ramSize: 32 * MIB, startTime: Y2K });
    clock.advanceTo(7500);
    setReg(c, 0x0b, 0x82); // SET, 24-hour BCD: updates stop
    for (const [i, v] of [[0, 0x00], [2, 0x00], [4, 0x08], [7, 0x31], [8, 0x12], [9, 0x24]]) setReg(c, i, v);
    clock.advanceTo(9000);
    expect(reg(c, 0)).toBe(0x00); // frozen while SET
    setReg(c, 0x0b, 0x02); // at 9.0 s
    clock.advanceTo(14_000); // 5 s later: 2024-12-31 08:00:05, Tuesday
    expect(time(c)).toEqual([0x05, 0x00, 0x08, 0x03, 0x31, 0x12, 0x24, 0x20]);
    setReg(c, 2, 0x30); // a direct write to the minutes while running
    clock.advanceTo(15_000);
    expect(time(c).slice(0, 3)).toEqual([0x06, 0x30, 0x08]);
  });

  it('raises UIP in the last 244 us of each second', () => {
    const clock = new FakeClock(1_000_000); // one instruction per microsecond
    const c = new Cmos(clock, { ramSize: 32 * MIB, startTime: Y2K });
    clock.advanceTo(999_755);
    expect(reg(c, 0x0a)).toBe(0x26);
    clock.advanceTo(999_756);
    expect(reg(c, 0x0a)).toBe(0xa6);
    clock.advanceTo(1_000_000);
    expect(reg(c, 0x0a)).toBe(0x26);
    expect(reg(c, 0)).toBe(0x01);
  });

  it('takes the NMI mask from bit 7 of the index', () => {
    const c = new Cmos(new FakeClock(1000), { ramSize: 32 * MIB, startTime: Y2K });
    c.portWrite(0x70, 1, 0x8f);
    expect(c.nmiMasked).toBe(true);
    c.portWrite(0x71, 1, 0x5a);
    c.portWrite(0x70, 1, 0x0f);
    expect(c.nmiMasked).toBe(false);
    expect(c.portRead(0x71, 1)).toBe(0x5a);
  });

  it('sets the memory-size bytes like a PC BIOS', () => {
    const bytes = (ram: number): number[] => {
      const c = new Cmos(new FakeClock(1000), { ramSize: ram, startTime: Y2K });
      return [0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34, 0x35, 0x2e, 0x2f].map((i) => reg(c, i));
    };
    // 32 MiB: 31744 KiB = 0x7C00 above 1 MiB; 16 MiB above 16 MiB = 256 blocks = 0x100;
    // checksum 0x02 (0x14) + 0x80 + 0x02 + 0x00 + 0x7C = 0x100
    expect(bytes(32 * MIB)).toEqual([0x80, 0x02, 0x00, 0x7c, 0x00, 0x7c, 0x00, 0x01, 0x01, 0x00]);
    // 8 MiB: 7168 KiB = 0x1C00, nothing above 16 MiB; checksum 0x02 + 0x80 + 0x02 + 0x1C = 0xA0
    expect(bytes(8 * MIB)).toEqual([0x80, 0x02, 0x00, 0x1c, 0x00, 0x1c, 0x00, 0x00, 0x00, 0xa0]);
    // 128 MiB: 130048 KiB caps at 0xFFFF; 112 MiB above 16 MiB = 1792 blocks = 0x0700;
    // checksum 0x02 + 0x80 + 0x02 + 0xFF + 0xFF = 0x282
    expect(bytes(128 * MIB)).toEqual([0x80, 0x02, 0xff, 0xff, 0xff, 0xff, 0x00, 0x07, 0x02, 0x82]);
  });

  it('raises the periodic interrupt at the register A rate on IRQ 8', () => {
    const clock = new FakeClock(32768 * 4); // 4 instructions per 32.768 kHz tick
    const irq = new FakeIrq(clock);
    const c = new Cmos(clock, { ramSize: 32 * MIB, startTime: Y2K, irq });
    setReg(c, 0x0b, 0x42); // PIE; rate 0110 = 1024 Hz = every 32 ticks = 128 instructions
    clock.advanceTo(200);
    expect(irq.riseTimes).toEqual([128]);
    clock.advanceTo(300); // IRQF still set: the line stays high, no new edge
    expect(irq.rises).toBe(1);
    expect(reg(c, 0x0c)).toBe(0xc0);
    expect(irq.level).toBe(false);
    clock.advanceTo(400);
    expect(irq.riseTimes).toEqual([128, 384]); // next period boundary after 300
    setReg(c, 0x0a, 0x2f); // 1111 = 2 Hz: 16384 ticks
    reg(c, 0x0c);
    clock.advanceTo(4 * 16384 * 2);
    expect(irq.riseTimes).toEqual([128, 384, 4 * 16384, 4 * 16384 * 2].slice(0, irq.rises));
    expect(irq.rises).toBe(3); // the flag of 2*16384 was not read: no new edge
  });

  it('raises update-ended and alarm interrupts, and reports UF when polled', () => {
    const clock = new FakeClock(1000);
    const irq = new FakeIrq(clock);
    const c = new Cmos(clock, { ramSize: 32 * MIB, startTime: Y2K + 13 * 3600 + 45 * 60 + 30, irq });
    expect(reg(c, 0x0c)).toBe(0);
    clock.advanceTo(1500);
    expect(reg(c, 0x0c)).toBe(0x10); // an update ended since the last read
    expect(reg(c, 0x0c)).toBe(0);
    setReg(c, 0x01, 0x33);
    setReg(c, 0x03, 0x45);
    setReg(c, 0x05, 0xc0); // any hour
    setReg(c, 0x0b, 0x22); // AIE
    clock.advanceTo(2999);
    expect(irq.rises).toBe(0);
    clock.advanceTo(3000); // 13:45:33
    expect(irq.riseTimes).toEqual([3000]);
    expect(reg(c, 0x0c)).toBe(0xb0); // IRQF, AF, and UF from the same update
    setReg(c, 0x0b, 0x12); // UIE
    clock.advanceTo(5000);
    expect(irq.riseTimes).toEqual([3000, 4000]);
  });
});
