/**
 * Real mode and 16-bit addressing, checked against values worked out by hand from the SDM:
 * segment bases of selector * 16, 16-bit offsets wrapping and the 64 KiB limit (#GP at 0xFFFF
 * for a word), 16-bit stack, flags from 16-bit arithmetic, and the BCD adjustments.
 */
import { describe, expect, it } from 'vitest';
import {
  MODE_REAL, OFF_MODE, OFF_RFLAGS, OFF_RIP, RAM_BASE, SEG_ATTR, SEG_BASE, SEG_CS, SEG_DS, SEG_LIMIT, SEG_SELECTOR,
  SEG_SS, StateViews, WASM_PAGE, gprOffset, segOffset,
} from '../../src/cpu/state.js';
import { FAULT_GP0 } from '../../src/cpu/fault.js';
import { getFlags } from '../../src/cpu/flags.js';
import { PhysicalMemory } from '../../src/mmu/physmem.js';
import { Mmu } from '../../src/mmu/mmu.js';
import { PortBus } from '../../src/mmu/ports.js';
import { SystemContext } from '../../src/system/context.js';
import { Interpreter } from '../../src/interp/interpreter.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/).map((b) => parseInt(b, 16)));

function realMachine(code: Uint8Array) {
  const ram = 1 << 20;
  const memory = new WebAssembly.Memory({ initial: (RAM_BASE + ram) / WASM_PAGE, maximum: (RAM_BASE + ram) / WASM_PAGE });
  const v = new StateViews(memory);
  const phys = new PhysicalMemory(v, ram);
  const ctx = new SystemContext(v, phys, new Mmu(v, phys), new PortBus());
  v.u32[OFF_MODE >> 2] = MODE_REAL;
  const seg = (s: number, sel: number): void => {
    const o = segOffset(s);
    v.u32[(o + SEG_SELECTOR) >> 2] = sel;
    v.set64(o + SEG_BASE, sel * 16, 0);
    v.u32[(o + SEG_LIMIT) >> 2] = 0xffff;
    v.u32[(o + SEG_ATTR) >> 2] = s === SEG_CS ? 0x9b : 0x93;
  };
  for (let s = 0; s < 6; s++) seg(s, 0);
  seg(SEG_CS, 0x07c0);
  seg(SEG_DS, 0x0100);
  seg(SEG_SS, 0x0200);
  v.set64(gprOffset(4), 0x100, 0);
  v.set64(OFF_RFLAGS, 2, 0);
  v.set64(OFF_RIP, 0, 0);
  phys.writeBytes(0x7c00, code);
  return { v, phys, interp: new Interpreter(ctx) };
}

describe('real mode', () => {
  it('segments, 16-bit stack, arithmetic and BCD', () => {
    const code = hex(`b8 34 12  a3 10 00  50  bb 10 00  8b 0f  83 c1 ff  83 d2 00  8d 70 05  b0 2f  d4 0a`);
    const { v, phys, interp } = realMachine(code);
    for (let i = 0; i < 10; i++) expect(interp.stepRaw()).toBe(0);
    expect(phys.read16(0x1010)).toBe(0x1234); // DS = 0x100: base 0x1000
    expect(phys.read16(0x20fe)).toBe(0x1234); // SS = 0x200, SP 0x100 - 2
    expect(v.u16[gprOffset(4) >> 1]).toBe(0xfe);
    expect(v.u16[gprOffset(1) >> 1]).toBe(0x1233); // 0x1234 + 0xFFFF, carry out
    expect(v.u16[gprOffset(2) >> 1]).toBe(1); // adc dx, 0 took the carry
    expect(v.u16[gprOffset(6) >> 1]).toBe(0x15); // lea si, [bx+si+5]
    expect(v.u16[gprOffset(0) >> 1]).toBe(0x0407); // aam: 47 = 4 * 10 + 7
    expect(v.getNum(OFF_RIP)).toBe(code.length);
  });

  it('a word at offset 0xFFFF is past the 64 KiB limit (#GP), a byte is not', () => {
    // mov di, 0xffff; mov byte [di], 1; mov word [di], 1
    const { v, phys, interp } = realMachine(hex('bf ff ff  c6 05 01  c7 05 01 00'));
    expect(interp.stepRaw()).toBe(0);
    expect(interp.stepRaw()).toBe(0);
    expect(phys.read8(0x1000 + 0xffff)).toBe(1);
    expect(interp.stepRaw()).toBe(FAULT_GP0);
    expect(v.getNum(OFF_RIP)).toBe(6); // still at the faulting instruction
  });

  it('16-bit signed IDIV and the flags of 16-bit SUB', () => {
    // mov ax, -7 (b8 f9 ff); cwd (99); mov bx, 2 (bb 02 00); idiv bx (f7 fb); sub bx, 3 (83 eb 03)
    const { v, interp } = realMachine(hex('b8 f9 ff  99  bb 02 00  f7 fb  83 eb 03'));
    for (let i = 0; i < 5; i++) expect(interp.stepRaw()).toBe(0);
    expect(v.u16[gprOffset(0) >> 1]).toBe(0xfffd); // -3 (truncating)
    expect(v.u16[gprOffset(2) >> 1]).toBe(0xffff); // remainder -1
    expect(v.u16[gprOffset(3) >> 1]).toBe(0xffff); // 2 - 3
    const f = getFlags(v.i32);
    expect(f & 0x8c5).toBe(0x80 | 0x04 | 0x01); // SF, PF (0xFF has 8 bits), CF; no ZF/OF
  });
});
