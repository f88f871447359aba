/**
 * The local APIC against the Intel SDM vol. 3A ("Advanced Programmable Interrupt Controller").
 * Facts used, each written where it is checked:
 *  - timer: the current count decrements once per (bus clock / divisor); divide configuration
 *    bits 3,1,0 = 000:2 001:4 010:8 011:16 100:32 101:64 110:128 111:1; at zero the LVT timer
 *    vector is raised; periodic mode reloads the initial count; writing 0 stops the timer;
 *  - priority: an IRR vector is delivered only if its class (vector >> 4) exceeds PPR's class;
 *    PPR = TPR if TPR[7:4] >= ISRV[7:4] else ISRV[7:4] << 4;
 *  - INTA when nothing qualifies any more returns the spurious vector (SVR[7:0]) without ISR;
 *  - SVR bit 8 clear (software disabled) sets every LVT mask bit, which cannot then be cleared.
 * Most tests use busHz = ips, so one bus clock is one instruction.
 */
import { describe, expect, it } from 'vitest';
import { LocalApic } from '../../src/devices/lapic.js';
import { PicPair } from '../../src/devices/pic8259.js';
import { FakeClock } from './fake-clock.js';

const IPS = 100_000_000;

function setup(busHz = IPS): { clock: FakeClock; apic: LocalApic } {
  const clock = new FakeClock(IPS);
  const apic = new LocalApic(clock, { busHz });
  apic.mmioWrite(0xf0, 4, 0x1ff); // software enable, spurious vector 0xFF
  return { clock, apic };
}
const rd = (a: LocalApic, off: number): number => a.mmioRead(off, 4);
const wr = (a: LocalApic, off: number, v: number): void => a.mmioWrite(off, 4, v);
const selfIpi = (a: LocalApic, vector: number): void => wr(a, 0x300, 0x40000 | vector); // shorthand 01 = self

describe('local APIC', () => {
  it('reports ID, version and the reset state', () => {
    const clock = new FakeClock(IPS);
    const a = new LocalApic(clock, { id: 3 });
    expect(rd(a, 0x20)).toBe(0x03000000);
    expect(a.mmioRead(0x23, 1)).toBe(3);
    expect(rd(a, 0x30)).toBe(0x00050014); // version 0x14, max LVT entry 5 (six LVTs)
    expect(rd(a, 0xf0)).toBe(0xff); // SVR after reset
    expect(rd(a, 0xe0)).toBe(0xffffffff); // DFR: flat model
    expect(rd(a, 0x320)).toBe(0x10000); // LVTs masked...
    expect(rd(a, 0x370)).toBe(0x10000);
    expect(rd(a, 0x350)).toBe(0x700); // ... but the BSP's LINT0 is ExtINT (virtual wire)
  });

  it('one-shot timer: fires initial * divisor bus clocks after the write, count reaches 0', () => {
    const { clock, apic } = setup();
    wr(apic, 0x3e0, 0x3); // divide by 16
    wr(apic, 0x320, 0x40); // vector 0x40, one-shot, unmasked
    clock.t = 100;
    wr(apic, 0x380, 1000); // expires at 100 + 1000*16
    expect(clock.deadline(apic)).toBe(16_100);
    clock.advanceTo(100 + 8000); // 500 ticks elapsed
    expect(rd(apic, 0x390)).toBe(500);
    clock.advanceTo(16_099);
    expect(apic.hasInterrupt()).toBe(false);
    clock.advanceTo(16_100);
    expect(apic.hasInterrupt()).toBe(true);
    expect(rd(apic, 0x390)).toBe(0);
    expect(apic.acknowledge()).toBe(0x40);
    expect(clock.deadline(apic)).toBeUndefined();
    clock.advanceTo(100_000);
    expect(clock.fired).toEqual([16_100]);
    expect(rd(apic, 0x380)).toBe(1000); // the initial count stays readable
  });

  it('periodic timer reloads; writing 0 stops it', () => {
    const { clock, apic } = setup();
    wr(apic, 0x3e0, 0xb); // divide by 1
    wr(apic, 0x320, 0x20041); // periodic, vector 0x41
    wr(apic, 0x380, 5000);
    clock.advanceTo(12_345);
    expect(clock.fired).toEqual([5000, 10_000]);
    expect(rd(apic, 0x390)).toBe(5000 - 2345);
    clock.advanceTo(15_000);
    expect(apic.acknowledge()).toBe(0x41);
    wr(apic, 0x380, 0);
    clock.advanceTo(50_000);
    expect(clock.fired).toEqual([5000, 10_000, 15_000]);
    expect(rd(apic, 0x390)).toBe(0);
  });

  it('decodes every divide configuration', () => {
    const want: [number, number][] = [
      [0x0, 2], [0x1, 4], [0x2, 8], [0x3, 16], [0x8, 32], [0x9, 64], [0xa, 128], [0xb, 1],
    ];
    for (const [code, div] of want) {
      const { clock, apic } = setup();
      wr(apic, 0x3e0, code);
      expect(rd(apic, 0x3e0)).toBe(code);
      wr(apic, 0x320, 0x30);
      clock.t = 7;
      wr(apic, 0x380, 100);
      expect(clock.deadline(apic)).toBe(7 + 100 * div);
    }
  });

  it('converts a 1 GHz bus clock to instructions', () => {
    const { clock, apic } = setup(1_000_000_000); // 10 bus clocks per instruction at 100 MIPS
    wr(apic, 0x3e0, 0x0); // divide by 2: one tick per 2 bus clocks = 0.2 instructions
    wr(apic, 0x320, 0x20030);
    wr(apic, 0x380, 1001); // 2002 bus clocks = 200.2 instructions: fires at instruction 201
    expect(clock.deadline(apic)).toBe(201);
    clock.advanceTo(201);
    // second period ends at bus clock 4004 = instruction 400.4 -> 401
    expect(clock.deadline(apic)).toBe(401);
  });

  it('keeps the count across a divisor change', () => {
    const { clock, apic } = setup();
    wr(apic, 0x3e0, 0xb); // divide by 1
    wr(apic, 0x320, 0x30);
    wr(apic, 0x380, 1000);
    clock.advanceTo(400); // 600 left
    wr(apic, 0x3e0, 0x0); // divide by 2: 600 ticks = 1200 bus clocks more
    expect(rd(apic, 0x390)).toBe(600);
    expect(clock.deadline(apic)).toBe(1600);
  });

  it('orders by priority class, nests, and EOIs the highest in service', () => {
    const { apic } = setup();
    selfIpi(apic, 0x31);
    selfIpi(apic, 0x52);
    expect(rd(apic, 0x200 + 0x10)).toBe(1 << (0x31 - 32)); // IRR bits 32..63
    expect(rd(apic, 0x220)).toBe(1 << (0x52 - 64));
    expect(apic.acknowledge()).toBe(0x52);
    expect(rd(apic, 0x120)).toBe(1 << (0x52 - 64)); // ISR
    expect(rd(apic, 0xa0)).toBe(0x50); // PPR = ISRV class
    expect(apic.hasInterrupt()).toBe(false); // class 3 <= 5
    selfIpi(apic, 0x61);
    expect(apic.acknowledge()).toBe(0x61); // class 6 > 5: nests
    wr(apic, 0xb0, 0); // EOI clears 0x61 (the highest in service)
    expect(rd(apic, 0x120)).toBe(1 << (0x52 - 64));
    wr(apic, 0xb0, 0);
    expect(rd(apic, 0xa0)).toBe(0);
    expect(apic.acknowledge()).toBe(0x31);
  });

  it('masks by TPR class and answers spurious when TPR rises before INTA', () => {
    const { apic } = setup();
    wr(apic, 0x80, 0x45);
    expect(rd(apic, 0xa0)).toBe(0x45); // PPR = TPR when nothing is in service
    selfIpi(apic, 0x4f);
    expect(apic.hasInterrupt()).toBe(false); // class 4 <= 4
    selfIpi(apic, 0x50);
    expect(apic.hasInterrupt()).toBe(true);
    wr(apic, 0x80, 0x70);
    expect(apic.acknowledge()).toBe(0xff); // the spurious vector
    expect(rd(apic, 0x120)).toBe(0); // no ISR bit
    wr(apic, 0x80, 0);
    expect(apic.acknowledge()).toBe(0x50);
  });

  it('software disable masks every LVT and keeps them masked; the timer then raises nothing', () => {
    const { clock, apic } = setup();
    wr(apic, 0x3e0, 0xb);
    wr(apic, 0x320, 0x20040);
    wr(apic, 0x380, 100);
    wr(apic, 0xf0, 0x0ff); // software disable
    expect(rd(apic, 0x320)).toBe(0x30040);
    expect(rd(apic, 0x350) & 0x10000).toBe(0x10000);
    wr(apic, 0x320, 0x20040); // cannot unmask while disabled
    expect(rd(apic, 0x320)).toBe(0x30040);
    clock.advanceTo(1000);
    expect(apic.hasInterrupt()).toBe(false);
    selfIpi(apic, 0x50);
    expect(apic.hasInterrupt()).toBe(false);
    wr(apic, 0xf0, 0x1ff);
    wr(apic, 0x320, 0x20040);
    clock.advanceTo(1100);
    expect(apic.acknowledge()).toBe(0x40);
  });

  it('reports illegal vectors in ESR after the write that latches it, and raises the error LVT', () => {
    const { apic } = setup();
    wr(apic, 0x370, 0xee);
    selfIpi(apic, 0x05);
    expect(rd(apic, 0x280)).toBe(0); // not visible until ESR is written
    wr(apic, 0x280, 0);
    expect(rd(apic, 0x280)).toBe(0x60); // send (bit 5) and receive (bit 6) illegal vector
    expect(apic.acknowledge()).toBe(0xee);
    wr(apic, 0x280, 0);
    expect(rd(apic, 0x280)).toBe(0);
  });

  it('delivers a fixed IPI to its own physical and logical destination only', () => {
    const { apic } = setup();
    wr(apic, 0x20, 0x02000000);
    wr(apic, 0x310, 0x02000000);
    wr(apic, 0x300, 0x0070); // physical, destination 2 = self
    wr(apic, 0x310, 0x05000000);
    wr(apic, 0x300, 0x0071); // physical, destination 5: another CPU
    wr(apic, 0xd0, 0x04000000);
    wr(apic, 0x310, 0x0c000000);
    wr(apic, 0x300, 0x0872); // logical, flat: 0x0C & 0x04 matches
    expect(apic.acknowledge()).toBe(0x72);
    wr(apic, 0xb0, 0); // 0x70 is the same class as 0x72 in service: EOI first
    expect(apic.acknowledge()).toBe(0x70);
    wr(apic, 0xb0, 0);
    expect(apic.hasInterrupt()).toBe(false);
  });

  it('passes the PIC through LINT0 while it is an unmasked ExtINT', () => {
    const { apic } = setup();
    const pic = new PicPair();
    for (const [port, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01]]) pic.portWrite(port, 1, v);
    apic.setExtInt(pic);
    pic.irq(1).raise();
    expect(apic.hasInterrupt()).toBe(true);
    expect(apic.acknowledge()).toBe(0x21);
    pic.portWrite(0x20, 1, 0x20);
    pic.irq(3).raise();
    wr(apic, 0x350, 0x10700); // mask LINT0
    expect(apic.hasInterrupt()).toBe(false);
    wr(apic, 0x350, 0x700);
    expect(apic.acknowledge()).toBe(0x23);
  });

  it('hands interrupts straight to the PIC when IA32_APIC_BASE.EN is cleared, and resets', () => {
    const { apic } = setup();
    const pic = new PicPair();
    for (const [port, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01]]) pic.portWrite(port, 1, v);
    apic.setExtInt(pic);
    wr(apic, 0x350, 0x10700); // LINT0 masked: the PIC is cut off while the APIC is on
    selfIpi(apic, 0x50);
    apic.setHardwareEnabled(false);
    expect(apic.hasInterrupt()).toBe(false); // the IRR went with the reset
    pic.irq(4).raise();
    expect(apic.acknowledge()).toBe(0x24);
    apic.setHardwareEnabled(true);
    expect(rd(apic, 0xf0)).toBe(0xff); // power-up state again
    expect(rd(apic, 0x350)).toBe(0x700);
  });
});
