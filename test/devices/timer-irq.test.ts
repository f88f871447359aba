/**
 * The devices wired as the machine wires them: PIT counter 0 -> PIC IRQ 0 -> LAPIC LINT0 (ExtINT)
 * -> CPU, plus the LAPIC timer, driven the way the run loop drives a halted CPU (jump to the next
 * deadline, fire the timers, take the interrupt). Expected instants come from the PIT rule
 * (pulse k at ceil(k * ips / 1193182)) and the APIC rule (expiry after initial * divisor bus
 * clocks), worked out in the comments.
 */
import { describe, expect, it } from 'vitest';
import { LocalApic } from '../../src/devices/lapic.js';
import { PicPair } from '../../src/devices/pic8259.js';
import { PIT_HZ, Pit8254 } from '../../src/devices/pit8254.js';
import { FakeClock } from './fake-clock.js';

function board(ips: number): { clock: FakeClock; pic: PicPair; pit: Pit8254; apic: LocalApic } {
  const clock = new FakeClock(ips);
  const pic = new PicPair();
  for (const [port, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x28], [0xa1, 0x02], [0xa1, 0x01]]) {
    pic.portWrite(port, 1, v);
  }
  const pit = new Pit8254(clock, pic.irq(0));
  const apic = new LocalApic(clock, { busHz: ips });
  apic.setExtInt(pic);
  apic.mmioWrite(0xf0, 4, 0x1ff);
  return { clock, pic, pit, apic };
}

/** A halted CPU with IF set: jump to the next deadline, fire, take one interrupt (then EOI). */
function haltUntilInterrupt(b: ReturnType<typeof board>, eoi: (v: number) => void): [number, number] {
  for (let guard = 0; guard < 100; guard++) {
    if (b.apic.hasInterrupt()) {
      const v = b.apic.acknowledge();
      eoi(v);
      return [b.clock.t, v];
    }
    const next = Math.min(...b.clock.timers.values());
    b.clock.advanceTo(next);
  }
  throw new Error('no interrupt');
}

describe('timers through the interrupt controllers', () => {
  it('PIT mode 2 ticks reach the CPU as vector 0x20, one per period', () => {
    const b = board(PIT_HZ * 10); // 10 instructions per pulse
    b.pit.portWrite(0x43, 1, 0x34);
    b.pit.portWrite(0x40, 1, 0x9c);
    b.pit.portWrite(0x40, 1, 0x2e); // 11932 (100 Hz)
    const eoi = (): void => b.pic.portWrite(0x20, 1, 0x20);
    // the mode 2 control word raised OUT (an edge, taken at once), then 10 * (1 + 11932 m)
    const got = [0, 1, 2, 3].map(() => haltUntilInterrupt(b, eoi));
    expect(got).toEqual([[0, 0x20], [119_330, 0x20], [238_650, 0x20], [357_970, 0x20]]);
  });

  it('loses PIT ticks that come while IRQ 0 is still requested, and keeps one', () => {
    const b = board(PIT_HZ * 10);
    b.pic.portWrite(0x21, 1, 0x01); // mask IRQ 0
    b.pit.portWrite(0x43, 1, 0x34);
    b.pit.portWrite(0x40, 1, 100);
    b.pit.portWrite(0x40, 1, 0);
    b.clock.advanceTo(10 * (1 + 550)); // five periods pass
    b.pic.portWrite(0x21, 1, 0x00);
    expect(b.apic.acknowledge()).toBe(0x20);
    b.pic.portWrite(0x20, 1, 0x20);
    expect(b.apic.hasInterrupt()).toBe(false); // IRR holds one request, not five
  });

  it('the LAPIC timer and the PIT interleave by deadline', () => {
    const b = board(PIT_HZ * 10);
    b.pic.portWrite(0x21, 1, 0xfe);
    b.pit.portWrite(0x43, 1, 0x34);
    b.pit.portWrite(0x40, 1, 0xe8);
    b.pit.portWrite(0x40, 1, 0x03); // 1000 pulses: rises at 10 * (1 + 1000 m) = 10010, 20010, ...
    b.apic.mmioWrite(0x3e0, 4, 0xb); // divide by 1
    b.apic.mmioWrite(0x320, 4, 0x20040); // periodic, vector 0x40
    b.apic.mmioWrite(0x380, 4, 15_000); // bus = ips: fires at 15000, 30000, ...
    const eoi = (v: number): void => {
      if (v === 0x40) b.apic.mmioWrite(0xb0, 4, 0);
      else b.pic.portWrite(0x20, 1, 0x20);
    };
    const got = [0, 1, 2, 3, 4].map(() => haltUntilInterrupt(b, eoi));
    expect(got).toEqual([[0, 0x20], [10_010, 0x20], [15_000, 0x40], [20_010, 0x20], [30_000, 0x40]]);
  });
});
