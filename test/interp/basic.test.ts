import { describe, expect, it } from 'vitest';
import { TestMachine, SCRATCH_BASE } from './env.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/).map((b) => parseInt(b, 16)));
const regs = (over: Record<number, bigint> = {}): bigint[] => Array.from({ length: 16 }, (_, i) => over[i] ?? 0n);

describe('interpreter basics (64-bit user mode)', () => {
  const tm = new TestMachine();

  it('mov/add/mul', () => {
    // mov rax,5; add rax,3; mov rbx,rax; mul rbx
    const r = tm.runCase(hex('48 c7 c0 05 00 00 00  48 83 c0 03  48 89 c3  48 f7 e3'), regs(), 0, new Uint8Array());
    expect(r.fault).toBe(-1);
    expect(r.regs[0]).toBe(64n);
    expect(r.regs[3]).toBe(8n);
    expect(r.regs[2]).toBe(0n);
  });

  it('memory, push/pop, loop', () => {
    // mov rsi, SCRATCH; mov ecx, 10; L: add [rsi], ecx; loop L; push qword [rsi]; pop rdx
    const code = hex(`48 be ${[0, 0, 0, 0x10, 0, 0, 0, 0].map((b) => b.toString(16)).join(' ')}
      b9 0a 00 00 00  01 0e  e2 fc  ff 36  5a`);
    const r = tm.runCase(code, regs({ 4: BigInt(SCRATCH_BASE + 0xf00) }), 0, new Uint8Array());
    expect(r.fault).toBe(-1);
    expect(r.regs[2]).toBe(55n);
    expect(r.mem[0]).toBe(55);
    expect(r.regs[4]).toBe(BigInt(SCRATCH_BASE + 0xf00));
  });

  it('flags: sub sets CF/ZF/SF/OF as the SDM says', () => {
    // mov al,0x80; sub al,1 -> 0x7f, OF=1 CF=0 SF=0 ZF=0 AF=1
    const r = tm.runCase(hex('b0 80  2c 01'), regs(), 0, new Uint8Array());
    expect(r.regs[0] & 0xffn).toBe(0x7fn);
    expect(r.rflags & 0x8d5).toBe(0x800 | 0x10);
  });

  it('a load outside the mapped pages is #PF and leaves RIP and registers', () => {
    // mov rax,[0]
    const r = tm.runCase(hex('48 8b 04 25 00 00 00 00'), regs({ 0: 7n }), 0, new Uint8Array());
    expect(r.fault).toBe(14);
    expect(r.regs[0]).toBe(7n);
  });

  it('div by zero is #DE', () => {
    const r = tm.runCase(hex('31 c9  f7 f1'), regs(), 0, new Uint8Array());
    expect(r.fault).toBe(0);
  });

  it('rep movsb copies and counts rcx down', () => {
    // lea rsi,[SCRATCH]; lea rdi,[SCRATCH+0x100]; mov ecx,16; rep movsb
    const mem = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const code = hex('be 00 00 00 10  bf 00 01 00 10  b9 10 00 00 00  f3 a4');
    const r = tm.runCase(code, regs(), 0, mem);
    expect(r.fault).toBe(-1);
    expect(r.regs[1]).toBe(0n);
    expect([...r.mem.slice(0x100, 0x110)]).toEqual([...mem]);
  });
});
