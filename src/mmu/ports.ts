/**
 * The I/O-port bus: 64 Ki ports dispatched to devices through a dense table. An unclaimed port
 * reads as all ones and ignores writes, as on a PC with nothing on the ISA bus at that address.
 * A 16- or 32-bit access goes whole to the device that owns its first port, with the access size;
 * the device decides what a wide access means (most 8-bit ISA devices use the low byte).
 */
import type { PortDevice } from '../devices/device.js';

const NO_DEVICE = 0;

export class PortBus {
  /** Index into `devices` (+1) for every port; 0 = unclaimed. */
  private readonly owner = new Uint16Array(0x10000);
  private readonly devices: PortDevice[] = [];
  /** Port accesses per port, for --stats. */
  readonly counts = new Float64Array(0x10000);

  register(first: number, count: number, device: PortDevice): void {
    let id = this.devices.indexOf(device);
    if (id < 0) {
      this.devices.push(device);
      id = this.devices.length - 1;
    }
    for (let p = first; p < first + count; p++) {
      if (this.owner[p] !== NO_DEVICE) throw new Error(`port 0x${p.toString(16)} claimed twice`);
      this.owner[p] = id + 1;
    }
  }

  read(port: number, size: number): number {
    port &= 0xffff;
    this.counts[port]++;
    const id = this.owner[port];
    if (id === NO_DEVICE) return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    return this.devices[id - 1].portRead(port, size) >>> 0;
  }

  write(port: number, size: number, value: number): void {
    port &= 0xffff;
    this.counts[port]++;
    const id = this.owner[port];
    if (id === NO_DEVICE) return;
    const mask = size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    this.devices[id - 1].portWrite(port, size, (value & mask) >>> 0);
  }
}
