/**
 * The run loop itself (not stepRaw): instruction counting against `stopAt`, exit requests, the
 * decode cache seeing self-modifying code, and the fast dispatch path giving the same results
 * as the handler-array path. Expected values are computed here independently of the interpreter.
 */
import { describe, expect, it } from 'vitest';
import {
  ATTR_L, OFF_CPL, OFF_DR0, OFF_EXIT_REQUEST, OFF_GDTR_BASE, OFF_GDTR_LIMIT, OFF_IDTR_BASE, OFF_IDTR_LIMIT,
  OFF_INSN_COUNT, OFF_RFLAGS, OFF_RIP, SEG_ATTR, SEG_CS, SEG_SELECTOR, SEG_SS, gprOffset, segOffset,
} from '../../src/cpu/state.js';
import { RUN_EXIT_REQUEST, RUN_LIMIT } from '../../src/interp/interpreter.js';
import { CODE_BASE, CODE_PHYS, SCRATCH_BASE, TestMachine } from './env.js';

const hex = (s: string): number[] => s.trim().split(/\s+/).map((b) => parseInt(b, 16));

function load(tm: TestMachine, code: number[], regs: Record<number, number> = {}): void {
  tm.phys.fill(CODE_PHYS, 4096, 0xcc);
  tm.phys.writeBytes(CODE_PHYS, Uint8Array.from(code));
  for (let r = 0; r < 16; r++) tm.views.setNum(gprOffset(r), regs[r] ?? 0);
  tm.views.setNum(gprOffset(4), SCRATCH_BASE + 0xf00);
  tm.views.setNum(OFF_RIP, CODE_BASE);
  tm.views.setNum(OFF_INSN_COUNT, 0);
}

describe('run loop', () => {
  it('counts instructions exactly and stops at stopAt', () => {
    const tm = new TestMachine();
    // L: add rax, rcx (48 01 c8); loop L (e2 fb) -- rcx = 50: 100 instructions for the loop
    load(tm, hex('48 01 c8  e2 fb'), { 1: 50 });
    expect(tm.interp.run(100)).toBe(RUN_LIMIT);
    expect(tm.views.getNum(OFF_INSN_COUNT)).toBe(100);
    expect(tm.views.getNum(gprOffset(0))).toBe((50 * 51) / 2);
    expect(tm.views.getNum(OFF_RIP)).toBe(CODE_BASE + 5);
    // stopping in the middle and resuming gives the same end state
    load(tm, hex('48 01 c8  e2 fb'), { 1: 50 });
    for (let n = 7; n < 100; n += 7) tm.interp.run(n);
    tm.interp.run(100);
    expect(tm.views.getNum(gprOffset(0))).toBe((50 * 51) / 2);
  });

  it('returns at once on an exit request', () => {
    const tm = new TestMachine();
    load(tm, hex('90 90 90'));
    tm.views.u32[OFF_EXIT_REQUEST >> 2] = 1;
    expect(tm.interp.run(3)).toBe(RUN_EXIT_REQUEST);
    expect(tm.views.getNum(OFF_INSN_COUNT)).toBe(0);
    tm.views.u32[OFF_EXIT_REQUEST >> 2] = 0;
    expect(tm.interp.run(3)).toBe(RUN_LIMIT);
  });

  it('sees code the guest rewrote (same page, already decoded)', () => {
    const tm = new TestMachine();
    // 0: mov eax, 1 (b8 01 00 00 00)           executed twice: first as written, then patched
    // 5: mov byte [rip - 11], 7 (c6 05 f5 ff ff ff 07)   rip-relative: next insn at 12, 12 - 11 = 1
    // 12: dec ecx (ff c9); 14: jnz 0 (75 f0)
    load(tm, hex('b8 01 00 00 00  c6 05 f5 ff ff ff 07  ff c9  75 f0'), { 1: 2 });
    tm.interp.run(8);
    expect(tm.views.getNum(gprOffset(0))).toBe(7);
    expect(tm.views.getNum(gprOffset(1))).toBe(0);
  });

  it('sees a rewrite of a page that was written (TLB write entry) before it held code', () => {
    const tm = new TestMachine();
    // code page: mov [rsi+0x800], eax (a store: the scratch page gets a fast write entry); jmp rsi
    load(tm, hex('89 86 00 08 00 00  ff e6'), { 6: SCRATCH_BASE, 1: 2 });
    // scratch: 0: mov al, 1; 2: mov byte [rip-8], 7 (patches the 1); 9: dec ecx; 11: jnz 0
    tm.phys.writeBytes(0x10000, Uint8Array.from(hex('b0 01  c6 05 f8 ff ff ff 07  ff c9  75 f3')));
    tm.interp.run(2 + 4 + 1);
    expect(tm.views.u8[gprOffset(0)]).toBe(7);
  });

  it('single-steps: TF set by POPF traps (#DB through the IDT) after the next instruction', () => {
    const tm = new TestMachine();
    const v = tm.views;
    // CPL 0 with a GDT (0x08: 64-bit code, 0x10: data) and an IDT whose vector 1 is an
    // interrupt gate to CODE_BASE + 0x100, both in the scratch page.
    const gdt = 0x10000 + 0x800, idt = 0x10000 + 0x900;
    tm.phys.write32(gdt + 8, 0); tm.phys.write32(gdt + 12, 0x00209a00);
    tm.phys.write32(gdt + 16, 0); tm.phys.write32(gdt + 20, 0x00009200);
    const h = CODE_BASE + 0x100;
    tm.phys.write32(idt + 16, (0x08 << 16) | (h & 0xffff));
    tm.phys.write32(idt + 20, (h & 0xffff0000) | 0x8e00);
    tm.phys.write32(idt + 24, 0);
    tm.phys.write32(idt + 28, 0);
    v.setNum(OFF_GDTR_BASE, SCRATCH_BASE + 0x800);
    v.u32[OFF_GDTR_LIMIT >> 2] = 23;
    v.setNum(OFF_IDTR_BASE, SCRATCH_BASE + 0x900);
    v.u32[OFF_IDTR_LIMIT >> 2] = 16 * 3 - 1;
    v.u32[OFF_CPL >> 2] = 0;
    v.u32[(segOffset(SEG_CS) + SEG_SELECTOR) >> 2] = 0x08;
    v.u32[(segOffset(SEG_CS) + SEG_ATTR) >> 2] = 0x9b | ATTR_L;
    v.u32[(segOffset(SEG_SS) + SEG_SELECTOR) >> 2] = 0x10;
    v.u32[(segOffset(SEG_SS) + SEG_ATTR) >> 2] = 0x93;
    // pushfq; or qword [rsp], 0x100; popfq; nop (traps after it); nop
    const code = hex('9c  48 81 0c 24 00 01 00 00  9d  90  90');
    const handler = hex('b8 34 12 00 00  eb fe'); // mov eax, 0x1234; jmp $
    load(tm, code);
    v.u32[OFF_CPL >> 2] = 0;
    tm.phys.writeBytes(CODE_PHYS + 0x100, Uint8Array.from(handler));
    tm.interp.run(7); // 4 instructions, the delivery, mov, jmp
    expect(v.u32[gprOffset(0) >> 2]).toBe(0x1234);
    const rsp = v.getNum(gprOffset(4));
    expect(tm.phys.read32(0x10000 + (rsp - SCRATCH_BASE))).toBe(CODE_BASE + 11); // after the first nop (offset 10)
    expect(v.u32[(OFF_DR0 + 48) >> 2] & 0x4000).toBe(0x4000); // DR6.BS
    expect(v.u32[OFF_RFLAGS >> 2] & 0x100).toBe(0); // the handler runs with TF clear
  });

  it('follows a remapped code page even when a data access refilled its TLB entry first', () => {
    const tm = new TestMachine();
    // old frame: mov eax, 1; jmp back (decoded and run once); new frame (0x30000): mov eax, 2
    load(tm, hex('b8 01 00 00 00  eb f9'));
    tm.phys.writeBytes(0x30000, Uint8Array.from(hex('b8 02 00 00 00  eb f9')));
    tm.interp.run(2);
    // the system layer remaps the page (PT_CODE is at 0x5000) and flushes; then a data read of
    // the code page refills the TLB entry (same tag, another frame) before the next fetch
    tm.phys.write32(0x5000, 0x30000 | 7);
    tm.mmu.flushAll();
    tm.mmu.read8(CODE_BASE, true);
    tm.interp.run(3);
    expect(tm.views.u32[gprOffset(0) >> 2]).toBe(2);
  });

  it('fast-dispatched and array-dispatched handlers agree (the 6-instruction loop)', () => {
    const tm = new TestMachine();
    // xor ecx,ecx; L: mov eax,[rsi+rcx*4]; add ebx,eax; xor edx,ebx; add rcx,1; cmp rcx,rdi; jb L
    const code = hex('31 c9  8b 04 8e  01 c3  31 da  48 83 c1 01  48 39 f9  72 f0');
    load(tm, code, { 6: SCRATCH_BASE, 7: 64 });
    const words = Array.from({ length: 64 }, (_, i) => (i * 2654435761) >>> 0);
    words.forEach((w, i) => tm.phys.write32(0x10000 + 4 * i, w));
    tm.interp.run(1 + 64 * 6);
    let ebx = 0, edx = 0;
    for (const w of words) {
      ebx = (ebx + w) >>> 0;
      edx = (edx ^ ebx) >>> 0;
    }
    expect(tm.views.u32[gprOffset(3) >> 2]).toBe(ebx);
    expect(tm.views.u32[gprOffset(2) >> 2]).toBe(edx);
    expect(tm.views.getNum(gprOffset(1))).toBe(64);
    expect(tm.views.getNum(OFF_RIP)).toBe(CODE_BASE + code.length);
  });
});
