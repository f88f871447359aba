/**
 * The 8259A pair against the datasheet: each expectation comes from the datasheet's rules
 * (IR0 highest priority after ICW1, vector = ICW2 T7-T3 | IR number, fully nested mode blocks
 * equal or lower priority while one is in service, default IR7 when the request vanished before
 * INTA), written out per case. The PC's standard programming is the one BIOSes and kernels use:
 * master ICW1=0x11 ICW2=0x20 ICW3=0x04 ICW4=0x01, slave 0x11 0x28 0x02 0x01.
 */
import { describe, expect, it } from 'vitest';
import { PicPair } from '../../src/devices/pic8259.js';

function initPair(icw4 = 0x01): PicPair {
  const p = new PicPair();
  p.portWrite(0x20, 1, 0x11); // ICW1: edge, cascade, ICW4 follows
  p.portWrite(0x21, 1, 0x20); // ICW2: vectors 0x20..0x27
  p.portWrite(0x21, 1, 0x04); // ICW3: slave on IR2
  p.portWrite(0x21, 1, icw4); // ICW4: 8086 mode (+AEOI if bit 1)
  p.portWrite(0xa0, 1, 0x11);
  p.portWrite(0xa1, 1, 0x28); // vectors 0x28..0x2F
  p.portWrite(0xa1, 1, 0x02); // slave ID 2
  p.portWrite(0xa1, 1, icw4);
  return p;
}

const readIsr = (p: PicPair, port: number): number => {
  p.portWrite(port, 1, 0x0b); // OCW3: read ISR
  return p.portRead(port, 1);
};
const readIrr = (p: PicPair, port: number): number => {
  p.portWrite(port, 1, 0x0a); // OCW3: read IRR
  return p.portRead(port, 1);
};
const pulse = (p: PicPair, n: number): void => {
  p.irq(n).raise();
  p.irq(n).lower();
};

describe('8259A pair', () => {
  it('clears the mask on ICW1 and takes the vector base from ICW2 bits 7-3', () => {
    const p = new PicPair();
    p.portWrite(0x21, 1, 0xff); // an OCW1 before init
    p.portWrite(0x20, 1, 0x13); // ICW1, single, IC4
    expect(p.portRead(0x21, 1)).toBe(0); // datasheet: ICW1 clears the IMR
    p.portWrite(0x21, 1, 0x45); // ICW2: T7-T3 = 0x40, low 3 bits ignored in 8086 mode
    p.portWrite(0x21, 1, 0x01); // ICW4 (no ICW3 in single mode)
    pulse(p, 6);
    expect(p.hasInterrupt()).toBe(true);
    expect(p.acknowledge()).toBe(0x46);
    p.portWrite(0x21, 1, 0x5a); // OCW1 after init: mask register
    expect(p.portRead(0x21, 1)).toBe(0x5a);
  });

  it('serves IR0 before IR7, blocks lower priorities while one is in service, nests higher ones', () => {
    const p = initPair();
    expect(p.hasInterrupt()).toBe(false);
    pulse(p, 3);
    pulse(p, 1);
    expect(readIrr(p, 0x20)).toBe(0b1010);
    expect(p.acknowledge()).toBe(0x21); // IR1 outranks IR3
    expect(readIsr(p, 0x20)).toBe(0b0010);
    expect(readIrr(p, 0x20)).toBe(0b1000);
    expect(p.hasInterrupt()).toBe(false); // IR3 < IR1 in service
    pulse(p, 0);
    expect(p.hasInterrupt()).toBe(true); // IR0 > IR1: nests
    expect(p.acknowledge()).toBe(0x20);
    expect(readIsr(p, 0x20)).toBe(0b0011);
    p.portWrite(0x20, 1, 0x20); // non-specific EOI clears the highest in service: IR0
    expect(readIsr(p, 0x20)).toBe(0b0010);
    expect(p.hasInterrupt()).toBe(false);
    p.portWrite(0x20, 1, 0x20); // then IR1
    expect(p.acknowledge()).toBe(0x23);
  });

  it('masks with OCW1 without losing the request', () => {
    const p = initPair();
    p.portWrite(0x21, 1, 0x01);
    pulse(p, 0);
    expect(p.hasInterrupt()).toBe(false);
    expect(readIrr(p, 0x20)).toBe(0x01);
    p.portWrite(0x21, 1, 0x00);
    expect(p.acknowledge()).toBe(0x20);
  });

  it('latches an edge once: a line held high requests once', () => {
    const p = initPair();
    p.irq(4).raise();
    expect(p.acknowledge()).toBe(0x24);
    p.portWrite(0x20, 1, 0x20);
    p.irq(4).raise(); // still high: no new edge
    expect(p.hasInterrupt()).toBe(false);
    p.irq(4).lower();
    p.irq(4).raise();
    expect(p.acknowledge()).toBe(0x24);
  });

  it('cascades the slave through the master IR2', () => {
    const p = initPair();
    pulse(p, 10);
    pulse(p, 3);
    expect(p.hasInterrupt()).toBe(true);
    expect(p.acknowledge()).toBe(0x2a); // master IR2 outranks IR3; slave IR2 -> 0x28 + 2
    expect(readIsr(p, 0x20)).toBe(0x04);
    expect(readIsr(p, 0xa0)).toBe(0x04);
    expect(p.hasInterrupt()).toBe(false); // IR3 below IR2 in service
    p.portWrite(0xa0, 1, 0x20);
    p.portWrite(0x20, 1, 0x20);
    expect(p.acknowledge()).toBe(0x23);
    // slave mask: a masked slave request never reaches the master
    p.portWrite(0x20, 1, 0x20);
    p.portWrite(0xa1, 1, 0x01);
    pulse(p, 8);
    expect(p.hasInterrupt()).toBe(false);
    p.portWrite(0x21, 1, 0x04); // master masks the cascade input
    p.portWrite(0xa1, 1, 0x00);
    expect(p.hasInterrupt()).toBe(false);
    p.portWrite(0x21, 1, 0x00);
    expect(p.acknowledge()).toBe(0x28);
  });

  it('serves two slave requests in turn, in normal and auto-EOI mode', () => {
    for (const icw4 of [0x01, 0x03]) {
      const p = initPair(icw4);
      pulse(p, 12);
      pulse(p, 9);
      expect(p.acknowledge()).toBe(0x29); // slave IR1 outranks IR4
      if (icw4 === 0x01) {
        expect(p.hasInterrupt()).toBe(false); // master IR2 in service
        p.portWrite(0xa0, 1, 0x20);
        p.portWrite(0x20, 1, 0x20);
      }
      expect(p.hasInterrupt()).toBe(true);
      expect(p.acknowledge()).toBe(0x2c);
      expect(p.hasInterrupt()).toBe(false);
    }
  });

  it('answers spurious IR7 / IR15 when a level request drops before INTA', () => {
    const p = initPair();
    p.portWrite(0x4d0, 1, 0x20); // ELCR: IRQ5 level-triggered
    expect(p.portRead(0x4d0, 1)).toBe(0x20);
    p.irq(5).raise();
    expect(p.hasInterrupt()).toBe(true);
    p.irq(5).lower();
    expect(p.acknowledge()).toBe(0x27); // default IR7
    expect(readIsr(p, 0x20)).toBe(0); // ... and ISR7 is not set
    p.portWrite(0x4d1, 1, 0x04); // IRQ10 level
    p.irq(10).raise();
    expect(p.hasInterrupt()).toBe(true);
    p.irq(10).lower();
    expect(p.acknowledge()).toBe(0x2f);
    expect(readIsr(p, 0x20)).toBe(0x04); // the master did acknowledge IR2
    expect(readIsr(p, 0xa0)).toBe(0);
  });

  it('keeps requesting while a level input stays high', () => {
    const p = initPair();
    p.portWrite(0x4d1, 1, 0x08); // IRQ11 level
    p.irq(11).raise();
    expect(p.acknowledge()).toBe(0x2b);
    p.portWrite(0xa0, 1, 0x20);
    p.portWrite(0x20, 1, 0x20);
    expect(p.acknowledge()).toBe(0x2b); // still high: requests again after EOI
  });

  it('reserves the ELCR bits of IRQ 0, 1, 2, 8 and 13', () => {
    const p = initPair();
    p.portWrite(0x4d0, 1, 0xff);
    p.portWrite(0x4d1, 1, 0xff);
    expect(p.portRead(0x4d0, 1)).toBe(0xf8);
    expect(p.portRead(0x4d1, 1)).toBe(0xde);
  });

  it('does not set ISR in auto-EOI mode', () => {
    const p = initPair(0x03);
    pulse(p, 1);
    expect(p.acknowledge()).toBe(0x21);
    expect(readIsr(p, 0x20)).toBe(0);
    pulse(p, 5);
    expect(p.acknowledge()).toBe(0x25); // nothing in service blocks IR5
  });

  it('handles specific EOI and rotating priority', () => {
    const p = initPair();
    pulse(p, 6);
    pulse(p, 2 + 1);
    expect(p.acknowledge()).toBe(0x23);
    p.portWrite(0x20, 1, 0x20); // non-specific EOI
    expect(p.acknowledge()).toBe(0x26);
    p.portWrite(0x20, 1, 0x63); // specific EOI for IR3: IR6 stays in service
    expect(readIsr(p, 0x20)).toBe(0x40);
    p.portWrite(0x20, 1, 0x66);
    expect(readIsr(p, 0x20)).toBe(0);
    // rotate on non-specific EOI: the served IR1 becomes lowest, so IR2 is now the highest
    pulse(p, 1);
    expect(p.acknowledge()).toBe(0x21);
    p.portWrite(0x20, 1, 0xa0);
    pulse(p, 0);
    pulse(p, 4);
    expect(p.acknowledge()).toBe(0x24); // order is 2,3,4,5,6,7,0,1
    p.portWrite(0x20, 1, 0x20);
    expect(p.acknowledge()).toBe(0x20);
    p.portWrite(0x20, 1, 0x20);
    // set priority: IR4 lowest -> IR5 highest
    p.portWrite(0x20, 1, 0xc4);
    pulse(p, 4);
    pulse(p, 5);
    pulse(p, 7);
    expect(p.acknowledge()).toBe(0x25);
  });

  it('answers a poll with 0x80 | IR and acknowledges it', () => {
    const p = initPair();
    p.portWrite(0x20, 1, 0x0c); // OCW3 poll
    expect(p.portRead(0x20, 1)).toBe(0); // nothing pending
    pulse(p, 5);
    p.portWrite(0x20, 1, 0x0c);
    expect(p.portRead(0x20, 1)).toBe(0x85);
    expect(readIsr(p, 0x20)).toBe(0x20);
  });

  it('lets lower priorities in under special mask mode', () => {
    const p = initPair();
    pulse(p, 1);
    expect(p.acknowledge()).toBe(0x21);
    p.portWrite(0x21, 1, 0x02); // mask the in-service IR1
    p.portWrite(0x20, 1, 0x68); // OCW3: set special mask mode
    pulse(p, 5);
    expect(p.acknowledge()).toBe(0x25);
  });
});
