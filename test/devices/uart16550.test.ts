// The 16550A register behaviour, with expected values taken from the National Semiconductor
// PC16550D datasheet's register tables (not from the implementation).
import { describe, expect, it } from 'vitest';
import { Uart16550 } from '../../src/devices/uart16550.js';

function make() {
  const out: number[] = [];
  const irq = { level: false, raises: 0, raise() { this.level = true; this.raises++; }, lower() { this.level = false; } };
  const u = new Uart16550(0x3f8, irq, (b) => out.push(b));
  return { u, out, irq };
}

describe('16550A UART', () => {
  it('transmits THR writes to the sink and reports THRE|TEMT in LSR', () => {
    const { u, out } = make();
    u.portWrite(0x3f8, 1, 0x41);
    u.portWrite(0x3f8, 1, 0x42);
    expect(out).toEqual([0x41, 0x42]);
    expect(u.portRead(0x3fd, 1) & 0x60).toBe(0x60);
  });

  it('DLAB switches offsets 0/1 to the divisor latch', () => {
    const { u, out } = make();
    u.portWrite(0x3fb, 1, 0x80); // DLAB
    u.portWrite(0x3f8, 1, 0x01);
    u.portWrite(0x3f9, 1, 0x00);
    expect(u.portRead(0x3f8, 1)).toBe(0x01);
    expect(u.portRead(0x3f9, 1)).toBe(0x00);
    expect(out).toEqual([]); // divisor writes are not data
    u.portWrite(0x3fb, 1, 0x03); // 8N1, DLAB off
    expect(u.portRead(0x3fb, 1)).toBe(0x03);
    expect(u.portRead(0x3f9, 1)).toBe(0x00); // IER after reset
  });

  it('IIR reads 0x01 (no interrupt) after reset and 0xC1 with FIFOs enabled', () => {
    const { u } = make();
    expect(u.portRead(0x3fa, 1)).toBe(0x01);
    u.portWrite(0x3fa, 1, 0x07);
    expect(u.portRead(0x3fa, 1)).toBe(0xc1);
  });

  it('received data sets LSR.DR, raises IRQ with IER.0 and OUT2, IIR=0x04', () => {
    const { u, irq } = make();
    u.portWrite(0x3f9, 1, 0x01);
    u.receive([0x61]);
    expect(irq.level).toBe(false); // OUT2 gates the IRQ line on a PC
    u.portWrite(0x3fc, 1, 0x08);
    expect(irq.level).toBe(true);
    expect(u.portRead(0x3fa, 1) & 0x0f).toBe(0x04);
    expect(u.portRead(0x3fd, 1) & 1).toBe(1);
    expect(u.portRead(0x3f8, 1)).toBe(0x61);
    expect(u.portRead(0x3fd, 1) & 1).toBe(0);
    expect(irq.level).toBe(false);
  });

  it('THRE interrupt: raised on enabling ETBEI, cleared by reading IIR, re-raised by a THR write', () => {
    const { u, irq } = make();
    u.portWrite(0x3fc, 1, 0x08);
    u.portWrite(0x3f9, 1, 0x02);
    expect(irq.level).toBe(true);
    expect(u.portRead(0x3fa, 1) & 0x0f).toBe(0x02);
    expect(irq.level).toBe(false);
    expect(u.portRead(0x3fa, 1) & 0x0f).toBe(0x01);
    u.portWrite(0x3f8, 1, 0x20);
    expect(irq.level).toBe(true);
  });

  it('keeps piped input that does not fit the FIFO instead of overrunning', () => {
    const { u } = make();
    u.portWrite(0x3fa, 1, 0x01); // 16-byte FIFO
    const data = Array.from({ length: 40 }, (_, i) => i);
    u.receive(data);
    const got: number[] = [];
    while (u.portRead(0x3fd, 1) & 1) got.push(u.portRead(0x3f8, 1));
    expect(got).toEqual(data);
    expect(u.portRead(0x3fd, 1) & 0x02).toBe(0); // no overrun
  });

  it('without FIFO a second byte waits in the host queue', () => {
    const { u } = make();
    u.receive([1, 2]);
    expect(u.portRead(0x3f8, 1)).toBe(1);
    expect(u.portRead(0x3f8, 1)).toBe(2);
  });

  it('loopback returns transmitted bytes and wires MCR to MSR', () => {
    const { u, out } = make();
    u.portWrite(0x3fc, 1, 0x1e); // LOOP | OUT2 | OUT1 | RTS
    u.portWrite(0x3f8, 1, 0xae);
    expect(out).toEqual([]);
    expect(u.portRead(0x3f8, 1)).toBe(0xae);
    expect(u.portRead(0x3fe, 1) & 0xf0).toBe(0xd0); // DCD(OUT2) RI(OUT1) CTS(RTS), no DSR
  });

  it('scratch register holds a value', () => {
    const { u } = make();
    u.portWrite(0x3ff, 1, 0x5a);
    expect(u.portRead(0x3ff, 1)).toBe(0x5a);
  });
});
