import { describe, expect, it } from 'vitest';
import {
  CR0_ET, CR0_PE, CR0_PG, CR4_PAE, CR4_PGE, OFF_MSR_APIC_BASE, EFER_LMA, EFER_LME, EFER_NXE, FLAG_VM, MODE_LONG64, MODE_PROT16,
  MODE_PROT32, MODE_REAL, MODE_VM86, OFF_CPL, OFF_CR0, OFF_CR3, OFF_CR4, OFF_EFER, OFF_MODE, OFF_RFLAGS, SEG_CS,
} from '../../src/cpu/state.js';
import { FAULT_GP0 } from '../../src/cpu/fault.js';
import { readCr8, updateMode, writeCr0, writeCr3, writeCr4, writeCr8, writeEfer } from '../../src/system/mode.js';
import { makeCtx, prot32, setSeg } from './helpers.js';

function countFlushes(ctx: ReturnType<typeof makeCtx>) {
  const n = { all: 0, nonGlobal: 0 };
  ctx.mmu.flushAll = () => void n.all++;
  ctx.mmu.flushNonGlobal = () => void n.nonGlobal++;
  return n;
}

describe('updateMode', () => {
  it('derives the mode from CR0.PE, RFLAGS.VM, EFER.LMA and the CS cache', () => {
    const ctx = makeCtx();
    const u32 = ctx.views.u32;
    const mode = () => u32[OFF_MODE >>> 2];
    u32[OFF_CPL >>> 2] = 2;
    updateMode(ctx);
    expect(mode()).toBe(MODE_REAL);
    expect(u32[OFF_CPL >>> 2]).toBe(0);
    u32[OFF_CR0 >>> 2] = CR0_PE;
    setSeg(ctx, SEG_CS, 8, 0x9b, 0xffff, 0);
    updateMode(ctx);
    expect(mode()).toBe(MODE_PROT16);
    setSeg(ctx, SEG_CS, 8, 0xc09b, 0xffffffff, 0);
    updateMode(ctx);
    expect(mode()).toBe(MODE_PROT32);
    setSeg(ctx, SEG_CS, 8, 0xa09b, 0xffffffff, 0); // L set but LMA clear: still legacy (D clear → 16)
    updateMode(ctx);
    expect(mode()).toBe(MODE_PROT16);
    u32[OFF_EFER >>> 2] = EFER_LME | EFER_LMA;
    updateMode(ctx);
    expect(mode()).toBe(MODE_LONG64);
    u32[OFF_EFER >>> 2] = 0;
    u32[OFF_RFLAGS >>> 2] = 2 | FLAG_VM;
    updateMode(ctx);
    expect(mode()).toBe(MODE_VM86);
    expect(u32[OFF_CPL >>> 2]).toBe(3);
  });
});

describe('CR0', () => {
  it('rejects PG without PE, NW without CD and bits 63:32', () => {
    const ctx = makeCtx();
    expect(writeCr0(ctx, CR0_PG | CR0_ET, 0)).toBe(FAULT_GP0);
    expect(writeCr0(ctx, CR0_PE | (1 << 29), 0)).toBe(FAULT_GP0);
    expect(writeCr0(ctx, CR0_PE, 1)).toBe(FAULT_GP0);
    expect(ctx.views.u32[OFF_CR0 >>> 2]).toBe(0);
  });

  it('keeps ET set and switches real → protected mode (16-bit until CS is reloaded)', () => {
    const ctx = makeCtx();
    setSeg(ctx, SEG_CS, 0x7c0, 0x9b, 0xffff, 0x7c00);
    expect(writeCr0(ctx, CR0_PE, 0)).toBe(0);
    expect(ctx.views.u32[OFF_CR0 >>> 2]).toBe(CR0_PE | CR0_ET);
    expect(ctx.views.u32[OFF_MODE >>> 2]).toBe(MODE_PROT16);
    expect(ctx.views.u32[OFF_CPL >>> 2]).toBe(0);
  });

  it('enters IA-32e mode only with LME and PAE, sets LMA, and flushes the TLB', () => {
    const ctx = makeCtx();
    prot32(ctx);
    const n = countFlushes(ctx);
    expect(writeEfer(ctx, EFER_LME, 0)).toBe(0);
    expect(writeCr0(ctx, CR0_PE | CR0_PG, 0)).toBe(FAULT_GP0); // no PAE yet
    expect(writeCr4(ctx, CR4_PAE, 0)).toBe(0);
    expect(n.all).toBe(1);
    expect(writeCr0(ctx, CR0_PE | CR0_PG, 0)).toBe(0);
    expect(n.all).toBe(2);
    expect(ctx.views.u32[OFF_EFER >>> 2] & EFER_LMA).toBe(EFER_LMA);
    expect(ctx.views.u32[OFF_MODE >>> 2]).toBe(MODE_PROT32); // compatibility mode until a 64-bit CS
    // LME cannot change and PAE cannot be cleared now.
    expect(writeEfer(ctx, 0, 0)).toBe(FAULT_GP0);
    expect(writeCr4(ctx, 0, 0)).toBe(FAULT_GP0);
    // Leaving paging from compatibility mode clears LMA.
    expect(writeCr0(ctx, CR0_PE, 0)).toBe(0);
    expect(ctx.views.u32[OFF_EFER >>> 2] & EFER_LMA).toBe(0);
  });

  it('refuses to turn paging off from 64-bit mode', () => {
    const ctx = makeCtx();
    prot32(ctx);
    writeEfer(ctx, EFER_LME, 0);
    writeCr4(ctx, CR4_PAE, 0);
    writeCr0(ctx, CR0_PE | CR0_PG, 0);
    setSeg(ctx, SEG_CS, 0x28, 0xa09b, 0xffffffff, 0);
    updateMode(ctx);
    expect(ctx.views.u32[OFF_MODE >>> 2]).toBe(MODE_LONG64);
    expect(writeCr0(ctx, CR0_PE, 0)).toBe(FAULT_GP0);
  });
});

describe('CR3, CR4, CR8, EFER', () => {
  it('CR3 flushes non-global entries with PGE, everything without', () => {
    const ctx = makeCtx();
    const n = countFlushes(ctx);
    expect(writeCr3(ctx, 0x5000, 0)).toBe(0);
    expect(n).toEqual({ all: 1, nonGlobal: 0 });
    writeCr4(ctx, CR4_PGE, 0);
    expect(writeCr3(ctx, 0x6000, 0)).toBe(0);
    expect(n).toEqual({ all: 2, nonGlobal: 1 });
    expect(ctx.views.u32[OFF_CR3 >>> 2]).toBe(0x6000);
  });

  it('CR4 bits of unreported features and CR8 bits above 3 are reserved', () => {
    const ctx = makeCtx();
    expect(writeCr4(ctx, 1 << 0, 0)).toBe(FAULT_GP0); // VME
    expect(writeCr4(ctx, 1 << 9, 0)).toBe(FAULT_GP0); // OSFXSR: no SSE reported
    expect(writeCr4(ctx, 1 << 13, 0)).toBe(FAULT_GP0); // VMXE
    expect(ctx.views.u32[OFF_CR4 >>> 2]).toBe(0);
    expect(writeCr8(ctx, 0x10, 0)).toBe(FAULT_GP0);
    expect(writeCr8(ctx, 0xf, 0)).toBe(0);
  });

  it('EFER: reserved bits fault, LMA is read-only, NXE change flushes', () => {
    const ctx = makeCtx();
    const n = countFlushes(ctx);
    expect(writeEfer(ctx, 1 << 1, 0)).toBe(FAULT_GP0);
    expect(writeEfer(ctx, 0, 1)).toBe(FAULT_GP0);
    expect(writeEfer(ctx, EFER_LMA | EFER_NXE, 0)).toBe(0);
    expect(ctx.views.u32[OFF_EFER >>> 2]).toBe(EFER_NXE);
    expect(n.all).toBe(1);
  });
});

describe('CR8 and the local APIC TPR', () => {
  it('CR8 is TPR[7:4] through the APIC window when IA32_APIC_BASE enables it', () => {
    const ctx = makeCtx();
    let tpr = 0x90;
    const writes: number[] = [];
    ctx.phys.addMmio(0xfee00000, 0x1000, {
      mmioRead: (off) => (off === 0x80 ? tpr : 0),
      mmioWrite: (off, _size, v) => { if (off === 0x80) { writes.push(v); tpr = v; } },
    });
    expect(writeCr8(ctx, 3, 0)).toBe(0);
    expect(writes).toEqual([]); // APIC disabled: CR8 alone
    expect(readCr8(ctx)).toBe(3);
    ctx.views.set64(OFF_MSR_APIC_BASE, 0xfee00900, 0);
    expect(readCr8(ctx)).toBe(9);
    expect(writeCr8(ctx, 5, 0)).toBe(0);
    expect(writes).toEqual([0x50]);
    expect(readCr8(ctx)).toBe(5);
  });
});
