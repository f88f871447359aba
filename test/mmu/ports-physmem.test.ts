import { describe, expect, it } from 'vitest';
import { CODE_BITMAP_BASE, RAM_BASE, StateViews } from '../../src/cpu/state.js';
import { PhysicalMemory } from '../../src/mmu/physmem.js';
import { PortBus } from '../../src/mmu/ports.js';

function makeMem(ram = 4 << 20) {
  const pages = (RAM_BASE + ram) / 65536;
  const views = new StateViews(new WebAssembly.Memory({ initial: pages, maximum: pages }));
  return { views, phys: new PhysicalMemory(views, ram) };
}

describe('PortBus', () => {
  it('unclaimed ports read all ones and ignore writes', () => {
    const bus = new PortBus();
    expect(bus.read(0x80, 1)).toBe(0xff);
    expect(bus.read(0x80, 2)).toBe(0xffff);
    expect(bus.read(0x80, 4)).toBe(0xffffffff);
    bus.write(0x80, 1, 5);
  });
  it('dispatches to the owning device with the access size and masks the value', () => {
    const bus = new PortBus();
    const seen: number[][] = [];
    bus.register(0x60, 2, { portRead: (p, s) => p + s, portWrite: (p, s, v) => void seen.push([p, s, v]) });
    expect(bus.read(0x61, 2)).toBe(0x63);
    bus.write(0x60, 1, 0x1234);
    expect(seen).toEqual([[0x60, 1, 0x34]]);
    expect(() => bus.register(0x61, 1, { portRead: () => 0, portWrite: () => {} })).toThrow(/claimed twice/);
  });
});

describe('PhysicalMemory', () => {
  it('reads and writes RAM little-endian at RAM_BASE, aligned and not', () => {
    const { views, phys } = makeMem();
    phys.write32(0x1001, 0x11223344);
    expect(views.u8[RAM_BASE + 0x1001]).toBe(0x44);
    expect(phys.read32(0x1001)).toBe(0x11223344);
    expect(phys.read16(0x1002)).toBe(0x2233);
    expect(phys.read8(0x1004)).toBe(0x11);
  });
  it('the BIOS area is read-only and open bus reads all ones', () => {
    const { phys } = makeMem();
    phys.write8(0xf0000, 0x12);
    expect(phys.read8(0xf0000)).toBe(0);
    expect(phys.read32(0x10000000)).toBe(0xffffffff);
    phys.write32(0x10000000, 1); // ignored, no throw
  });
  it('MMIO windows dispatch with window-relative offsets', () => {
    const { phys } = makeMem();
    const log: string[] = [];
    phys.addMmio(0xfee00000, 0x1000, {
      mmioRead: (o, s) => 0xabc0000 + o + s,
      mmioWrite: (o, s, v) => void log.push(`${o}/${s}=${v}`),
    });
    expect(phys.read32(0xfee00020)).toBe(0xabc0024);
    phys.write32(0xfee000b0, 0);
    expect(log).toEqual(['176/4=0']);
    expect(() => phys.addMmio(0x1000, 16, { mmioRead: () => 0, mmioWrite: () => {} })).toThrow(/overlaps RAM/);
  });
  it('a write to a page marked in the code bitmap calls onCodeWrite first, for every writer', () => {
    const { views, phys } = makeMem();
    const pages: number[] = [];
    phys.onCodeWrite = (p) => pages.push(p);
    views.u8[CODE_BITMAP_BASE + (0x23 >>> 3)] |= 1 << (0x23 & 7);
    phys.write8(0x22fff, 1); // page 0x22: not marked
    phys.write32(0x22ffe, 0); // crosses into page 0x23
    phys.writeBytes(0x23800, new Uint8Array(4));
    expect(pages).toEqual([0x23, 0x23]);
  });
});
