/**
 * The device state a kernel finds after the PC firmware has run, as QEMU's SeaBIOS leaves it
 * before jumping to a `-kernel` image (measured with a probe kernel, docs/devices.md). ringvm has
 * no BIOS code; it programs the same state through the devices' own ports and registers, so a
 * kernel sees what it would see on QEMU (the oracle) and on a real PC:
 *
 * - 8259A pair initialised with vector bases 0x08 / 0x70 (the BIOS's real-mode layout), cascade
 *   on IR2, 8086 mode; masks 0xB8 / 0x8E (IRQ 0, 1, 2, 6 and 8, 12, 13, 14 open, as SeaBIOS leaves them)
 * - 8254 counter 0 in mode 2 with count 65536: IRQ 0 at 18.2 Hz
 * - local APIC software-enabled (SVR 0x1FF), LINT0 ExtINT and LINT1 NMI (level-triggered)
 */
import { LAPIC_LVT_LINT0, LAPIC_LVT_LINT1, LAPIC_SVR, type LocalApic } from '../devices/lapic.js';
import type { PortBus } from '../mmu/ports.js';

export function applyFirmwareState(ports: PortBus, lapic: LocalApic): void {
  // ICW1 (edge, cascade, ICW4 needed), ICW2 (vector base), ICW3 (cascade wiring), ICW4 (8086)
  ports.write(0x20, 1, 0x11);
  ports.write(0x21, 1, 0x08);
  ports.write(0x21, 1, 0x04);
  ports.write(0x21, 1, 0x01);
  ports.write(0xa0, 1, 0x11);
  ports.write(0xa1, 1, 0x70);
  ports.write(0xa1, 1, 0x02);
  ports.write(0xa1, 1, 0x01);
  ports.write(0x21, 1, 0xb8);
  ports.write(0xa1, 1, 0x8e);
  // counter 0, lobyte/hibyte, mode 2, binary; count 0 means 65536
  ports.write(0x43, 1, 0x34);
  ports.write(0x40, 1, 0x00);
  ports.write(0x40, 1, 0x00);
  lapic.mmioWrite(LAPIC_SVR, 4, 0x1ff);
  lapic.mmioWrite(LAPIC_LVT_LINT0, 4, 0x8700);
  lapic.mmioWrite(LAPIC_LVT_LINT1, 4, 0x8400);
}
