/**
 * Test scaffolding for the system layer: a SystemContext over a small memory, and descriptor /
 * gate encoders written from the SDM's figures (Vol. 3 Figures 3-8, 6-2, 6-8), independent of the
 * decoding code under test.
 */
import {
  CR0_ET, CR0_PE, OFF_CPL, OFF_CR0, OFF_GDTR_BASE, OFF_GDTR_LIMIT, OFF_IDTR_BASE, OFF_IDTR_LIMIT, OFF_RFLAGS,
  RAM_BASE, SEG_ATTR, SEG_BASE, SEG_CS, SEG_LIMIT, SEG_SELECTOR, SEG_SS, SEG_DS, SEG_ES, SEG_TR, StateViews,
  gprOffset, segOffset, REG_RSP, OFF_EFER, EFER_LME, EFER_LMA, OFF_CR4, CR4_PAE,
} from '../../src/cpu/state.js';
import { Mmu } from '../../src/mmu/mmu.js';
import { PhysicalMemory } from '../../src/mmu/physmem.js';
import { PortBus } from '../../src/mmu/ports.js';
import { SystemContext } from '../../src/system/context.js';
import { updateMode } from '../../src/system/mode.js';

export const RAM = 4 << 20;

export function makeCtx(): SystemContext {
  const pages = (RAM_BASE + RAM) / 65536;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const views = new StateViews(memory);
  const phys = new PhysicalMemory(views, RAM);
  const mmu = new Mmu(views, phys);
  const ctx = new SystemContext(views, phys, mmu, new PortBus());
  views.set64(OFF_RFLAGS, 2, 0);
  return ctx;
}

/** Code/data descriptor: base, limit (20 bits), access byte (P DPL S type), flags nibble (G D/B L AVL). */
export function segDesc(base: number, limit: number, access: number, flags: number): [number, number] {
  const lo = ((limit & 0xffff) | ((base & 0xffff) << 16)) >>> 0;
  const hi = (((base >>> 16) & 0xff) | (access << 8) | (limit & 0xf0000) | (flags << 20) | (base & 0xff000000)) >>> 0;
  return [lo, hi];
}

/** 8-byte legacy gate (interrupt/trap/call): selector, offset, type, DPL, P, param count. */
export function gate32(sel: number, offset: number, type: number, dpl: number, params = 0): [number, number] {
  const lo = ((offset & 0xffff) | (sel << 16)) >>> 0;
  const hi = ((offset & 0xffff0000) | 0x8000 | (dpl << 13) | (type << 8) | params) >>> 0;
  return [lo, hi];
}

export function put(ctx: SystemContext, pa: number, dwords: number[]): void {
  for (let i = 0; i < dwords.length; i++) ctx.phys.write32(pa + i * 4, dwords[i] >>> 0);
}

export const rd32 = (ctx: SystemContext, pa: number): number => ctx.phys.read32(pa);

export const GDT = 0x1000;
export const IDT = 0x2000;
export const TSS = 0x3000;

export function setGdt(ctx: SystemContext, entries: [number, number][]): void {
  const flat: number[] = [];
  for (const [lo, hi] of entries) flat.push(lo, hi);
  put(ctx, GDT, flat);
  ctx.views.set64(OFF_GDTR_BASE, GDT, 0);
  ctx.views.u32[OFF_GDTR_LIMIT >>> 2] = entries.length * 8 - 1;
}

export function setIdt(ctx: SystemContext, limit: number): void {
  ctx.views.set64(OFF_IDTR_BASE, IDT, 0);
  ctx.views.u32[OFF_IDTR_LIMIT >>> 2] = limit;
}

export function setSeg(ctx: SystemContext, s: number, sel: number, attr: number, limit: number, base: number): void {
  const o = segOffset(s);
  const u32 = ctx.views.u32;
  u32[(o + SEG_SELECTOR) >>> 2] = sel;
  u32[(o + SEG_ATTR) >>> 2] = attr;
  u32[(o + SEG_LIMIT) >>> 2] = limit;
  ctx.views.set64(o + SEG_BASE, base, 0);
}

export const seg = (ctx: SystemContext, s: number) => {
  const o = segOffset(s);
  const u32 = ctx.views.u32;
  return {
    sel: u32[(o + SEG_SELECTOR) >>> 2],
    attr: u32[(o + SEG_ATTR) >>> 2],
    limit: u32[(o + SEG_LIMIT) >>> 2],
    base: ctx.views.getNum(o + SEG_BASE),
  };
};

export const rsp = (ctx: SystemContext): number => ctx.views.getNum(gprOffset(REG_RSP));
export const setRsp = (ctx: SystemContext, v: number): void => ctx.views.set64(gprOffset(REG_RSP), v, 0);

/** Standard flat GDT: null, ring-0 code32 (0x08), ring-0 data (0x10), ring-3 code32 (0x1B), ring-3 data (0x23), code64 (0x28), ring-3 code64 (0x33), TSS (0x38). */
export function flatGdt(ctx: SystemContext, tssLimit = 0x67): void {
  setGdt(ctx, [
    [0, 0],
    segDesc(0, 0xfffff, 0x9b, 0xc),
    segDesc(0, 0xfffff, 0x93, 0xc),
    segDesc(0, 0xfffff, 0xfb, 0xc),
    segDesc(0, 0xfffff, 0xf3, 0xc),
    segDesc(0, 0xfffff, 0x9b, 0xa),
    segDesc(0, 0xfffff, 0xfb, 0xa),
    segDesc(TSS, tssLimit, 0x89, 0),
    [0, 0], // upper half of a 64-bit TSS descriptor
  ]);
}

/** 32-bit protected mode at CPL 0 with flat segments (caches set directly, as a loader would). */
export function prot32(ctx: SystemContext): void {
  const v = ctx.views;
  flatGdt(ctx);
  v.set64(OFF_CR0, CR0_PE | CR0_ET, 0);
  setSeg(ctx, SEG_CS, 0x08, 0xc09b, 0xffffffff, 0);
  for (const s of [SEG_SS, SEG_DS, SEG_ES]) setSeg(ctx, s, 0x10, 0xc093, 0xffffffff, 0);
  setSeg(ctx, SEG_TR, 0x38, 0x8b, 0x67, TSS);
  v.u32[OFF_CPL >>> 2] = 0;
  updateMode(ctx);
}

/**
 * 64-bit mode at CPL 0: EFER.LMA and a 64-bit CS, with CR0.PG left clear so that linear addresses
 * map 1:1 to physical ones (not a state software can reach, but the system layer only reads
 * EFER.LMA and the CS cache to decide the mode, and the tests stay free of page tables).
 */
export function long64(ctx: SystemContext): void {
  prot32(ctx);
  const v = ctx.views;
  v.set64(OFF_EFER, EFER_LME | EFER_LMA, 0);
  v.set64(OFF_CR4, CR4_PAE, 0);
  setSeg(ctx, SEG_CS, 0x28, 0xa09b, 0xffffffff, 0);
  updateMode(ctx);
}
