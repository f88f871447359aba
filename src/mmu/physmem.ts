/**
 * Guest physical memory: the PC physical address map over the one WebAssembly.Memory.
 *
 *   0x00000000 .. 0x0009FFFF   RAM (conventional memory)
 *   0x000A0000 .. 0x000BFFFF   legacy video window, RAM-backed (a display device may watch it)
 *   0x000C0000 .. 0x000FFFFF   option ROM and BIOS area: reads RAM, writes are ignored (read-only)
 *   0x00100000 .. ramSize-1    RAM
 *   MMIO windows               devices registered with addMmio (LAPIC at 0xFEE00000, ...)
 *   anything else              reads all ones, writes are ignored (open bus)
 *
 * RAM guest-physical address `pa` lives at byte RAM_BASE + pa of the memory. Every write to RAM
 * checks the code-page bitmap, so stores from any source (interpreter, translated code's slow path,
 * devices, the loader) invalidate translations of that page through `onCodeWrite`, which the
 * machine wires to the translator (a callback, never an upward import).
 */
import { CODE_BITMAP_BASE, RAM_BASE, type StateViews } from '../cpu/state.js';
import type { MmioDevice } from '../devices/device.js';

export const ROM_START = 0xc0000;
export const ROM_END = 0x100000;

interface MmioWindow {
  base: number;
  size: number;
  device: MmioDevice;
}

export class PhysicalMemory {
  private readonly u8: Uint8Array;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  private readonly dv: DataView;
  private readonly windows: MmioWindow[] = [];
  /** Called with the 4 KiB page number before a write lands on a page marked in the code bitmap. */
  onCodeWrite: ((page: number) => void) | null = null;

  constructor(
    views: StateViews,
    readonly ramSize: number,
  ) {
    this.u8 = views.u8;
    this.u16 = views.u16;
    this.u32 = views.u32;
    this.dv = views.dv;
  }

  addMmio(base: number, size: number, device: MmioDevice): void {
    for (const w of this.windows) {
      if (base < w.base + w.size && w.base < base + size) {
        throw new Error(`MMIO window at 0x${base.toString(16)} overlaps one at 0x${w.base.toString(16)}`);
      }
    }
    if (base < this.ramSize) throw new Error(`MMIO window at 0x${base.toString(16)} overlaps RAM`);
    this.windows.push({ base, size, device });
  }

  /** True when [pa, pa+size) is ordinary RAM (readable directly). */
  isRam(pa: number, size: number): boolean {
    return pa >= 0 && pa + size <= this.ramSize;
  }

  /** True when a write to [pa, pa+size) lands in RAM (not in the read-only BIOS area). */
  private isWritableRam(pa: number, size: number): boolean {
    return pa + size <= this.ramSize && (pa + size <= ROM_START || pa >= ROM_END);
  }

  private window(pa: number): MmioWindow | null {
    const ws = this.windows;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i];
      if (pa >= w.base && pa < w.base + w.size) return w;
    }
    return null;
  }

  // ---- reads ---------------------------------------------------------------------------

  read8(pa: number): number {
    if (pa < this.ramSize) return this.u8[RAM_BASE + pa];
    return this.mmioRead(pa, 1);
  }

  read16(pa: number): number {
    if (pa + 2 <= this.ramSize) {
      const a = RAM_BASE + pa;
      return (a & 1) === 0 ? this.u16[a >>> 1] : this.dv.getUint16(a, true);
    }
    return this.read8(pa) | (this.read8(pa + 1) << 8);
  }

  read32(pa: number): number {
    if (pa + 4 <= this.ramSize) {
      const a = RAM_BASE + pa;
      return (a & 3) === 0 ? this.u32[a >>> 2] : this.dv.getUint32(a, true);
    }
    if ((pa & 3) === 0 && this.window(pa) !== null) return this.mmioRead(pa, 4);
    return (this.read16(pa) | (this.read16(pa + 2) << 16)) >>> 0;
  }

  private mmioRead(pa: number, size: number): number {
    const w = this.window(pa);
    if (w === null) return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    return w.device.mmioRead(pa - w.base, size) >>> 0;
  }

  // ---- writes --------------------------------------------------------------------------

  write8(pa: number, v: number): void {
    if (this.isWritableRam(pa, 1)) {
      this.checkCode(pa);
      this.u8[RAM_BASE + pa] = v;
      return;
    }
    this.mmioWrite(pa, 1, v & 0xff);
  }

  write16(pa: number, v: number): void {
    if (this.isWritableRam(pa, 2)) {
      this.checkCode(pa);
      if (((pa + 1) & 0xfff) === 0) this.checkCode(pa + 1);
      const a = RAM_BASE + pa;
      if ((a & 1) === 0) this.u16[a >>> 1] = v;
      else this.dv.setUint16(a, v, true);
      return;
    }
    this.write8(pa, v & 0xff);
    this.write8(pa + 1, (v >>> 8) & 0xff);
  }

  write32(pa: number, v: number): void {
    if (this.isWritableRam(pa, 4)) {
      this.checkCode(pa);
      if (((pa & 0xfff) + 3) > 0xfff) this.checkCode(pa + 3);
      const a = RAM_BASE + pa;
      if ((a & 3) === 0) this.u32[a >>> 2] = v;
      else this.dv.setUint32(a, v >>> 0, true);
      return;
    }
    if ((pa & 3) === 0 && this.window(pa) !== null) {
      this.mmioWrite(pa, 4, v >>> 0);
      return;
    }
    this.write16(pa, v & 0xffff);
    this.write16(pa + 2, (v >>> 16) & 0xffff);
  }

  private mmioWrite(pa: number, size: number, v: number): void {
    const w = this.window(pa);
    if (w !== null) w.device.mmioWrite(pa - w.base, size, v);
  }

  /** The page of `pa` holds translated code: let the translator drop it before the store lands. */
  private checkCode(pa: number): void {
    const page = Math.floor(pa / 4096);
    if ((this.u8[CODE_BITMAP_BASE + (page >>> 3)] & (1 << (page & 7))) !== 0 && this.onCodeWrite !== null) {
      this.onCodeWrite(page);
    }
  }

  // ---- bulk access for the loader and DMA (same code-page rule) ---------------------------------

  /** Copies bytes into RAM; the caller has checked the range lies in RAM. */
  writeBytes(pa: number, bytes: Uint8Array): void {
    if (!this.isRam(pa, bytes.length)) throw new RangeError(`write outside RAM at 0x${pa.toString(16)}`);
    for (let p = Math.floor(pa / 4096) * 4096; p < pa + bytes.length; p += 4096) this.checkCode(p);
    this.u8.set(bytes, RAM_BASE + pa);
  }

  fill(pa: number, length: number, value: number): void {
    if (!this.isRam(pa, length)) throw new RangeError(`fill outside RAM at 0x${pa.toString(16)}`);
    for (let p = Math.floor(pa / 4096) * 4096; p < pa + length; p += 4096) this.checkCode(p);
    this.u8.fill(value, RAM_BASE + pa, RAM_BASE + pa + length);
  }

  readBytes(pa: number, length: number): Uint8Array {
    if (!this.isRam(pa, length)) throw new RangeError(`read outside RAM at 0x${pa.toString(16)}`);
    return this.u8.slice(RAM_BASE + pa, RAM_BASE + pa + length);
  }
}
