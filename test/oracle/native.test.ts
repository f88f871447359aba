/**
 * Self-test of the native-CPU oracle (native-harness.c through native.ts) against facts checked
 * by hand from the SDM: results of a few instructions, their flags, memory and stack effects,
 * and the vector, error code and address of each kind of fault. If these pass, a disagreement
 * between the interpreter and the harness is the interpreter's to explain.
 */
import { describe, expect, it } from 'vitest';
import {
  CODE_BASE,
  FAULT_NONE,
  FAULT_SYSCALL,
  FAULT_TIMEOUT,
  SCRATCH_BASE,
  SCRATCH_SIZE,
  STACK_TOP,
  ensureHarness,
  runNativeBatch,
  runNativeBatch32,
  type NativeCase,
} from './native.js';

const ARITH = 0x8d5; // CF PF AF ZF SF OF
const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, DF = 0x400, OF = 0x800;
const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RSI = 6;

function mk(code: number[], set: Record<number, bigint> = {}, rflags = 0, mem: number[] = []): NativeCase {
  const regs = new Array<bigint>(16).fill(0n);
  regs[RSP] = BigInt(STACK_TOP);
  for (const [r, v] of Object.entries(set)) regs[Number(r)] = v;
  return { code: Uint8Array.from(code), regs, rflags, mem: Uint8Array.from(mem) };
}
const le64 = (m: Uint8Array, off: number) => new DataView(m.buffer, m.byteOffset).getBigUint64(off, true);
const le32 = (m: Uint8Array, off: number) => new DataView(m.buffer, m.byteOffset).getUint32(off, true);
const abs32 = (a: number) => [a & 0xff, (a >>> 8) & 0xff, (a >>> 16) & 0xff, a >>> 24];

const have64 = ensureHarness(64) !== null;
if (!have64) console.warn('native oracle: gcc not available; skipping');

describe.skipIf(!have64)('native harness, 64-bit', () => {
  it('add rax, rbx: sum and flags', () => {
    const [a, b] = runNativeBatch([
      mk([0x48, 0x01, 0xd8], { [RAX]: 5n, [RBX]: 7n }), // 5 + 7 = 12: PF only (1100b)
      mk([0x48, 0x01, 0xd8], { [RAX]: 0x7fffffffffffffffn, [RBX]: 1n }), // signed overflow
    ]);
    expect(a!.fault).toBe(FAULT_NONE);
    expect(a!.regs[RAX]).toBe(12n);
    expect(a!.rflags & ARITH).toBe(PF);
    expect(b!.regs[RAX]).toBe(0x8000000000000000n);
    expect(b!.rflags & ARITH).toBe(OF | SF | AF | PF);
  });

  it('cmp rax, rbx: flags of 1 - 2, operands untouched', () => {
    const [r] = runNativeBatch([mk([0x48, 0x39, 0xd8], { [RAX]: 1n, [RBX]: 2n })]);
    expect(r!.regs[RAX]).toBe(1n);
    expect(r!.rflags & ARITH).toBe(CF | PF | AF | SF); // result 0xff..ff, borrow out and from bit 3
  });

  it('every register goes in and comes out unchanged across a nop', () => {
    const c = mk([0x90]);
    for (let i = 0; i < 16; i++) if (i !== RSP) c.regs[i] = 0x0101010101010101n * BigInt(i + 1) + 0x8000000000000000n;
    c.rflags = ARITH | DF;
    const [r] = runNativeBatch([c]);
    expect(r!.regs).toEqual(c.regs);
    expect(r!.rflags & (ARITH | DF)).toBe(ARITH | DF);
    expect(r!.rflags & 0x202).toBe(0x202); // reserved bit 1 and IF
  });

  it('only the documented input flags are taken (TF, AC never)', () => {
    // pushfq; pop rax
    const [r] = runNativeBatch([mk([0x9c, 0x58], {}, 0xffffffff)]);
    expect(Number(r!.regs[RAX]) & 0x40dd5).toBe(0xcd5); // TF (0x100) and AC (0x40000) clear
  });

  it('32-bit writes zero the upper half', () => {
    const [r] = runNativeBatch([mk([0xb8, 0xff, 0xff, 0xff, 0xff], { [RAX]: 0x123456789abcdef0n })]);
    expect(r!.regs[RAX]).toBe(0xffffffffn);
  });

  it('memory: reads the given block, writes come back, the stack is inside it', () => {
    const mem = new Array<number>(0x28).fill(0);
    mem.splice(0x20, 8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11);
    const code = [
      0x48, 0x8b, 0x1c, 0x25, ...abs32(SCRATCH_BASE + 0x20), // mov rbx, [SCRATCH_BASE+0x20]
      0x48, 0x89, 0x04, 0x25, ...abs32(SCRATCH_BASE + 0x10), // mov [SCRATCH_BASE+0x10], rax
      0x50, // push rax
      0x59, // pop rcx
      0x51, // push rcx
    ];
    const [r] = runNativeBatch([mk(code, { [RAX]: 0xdeadbeefcafef00dn }, 0, mem)]);
    expect(r!.fault).toBe(FAULT_NONE);
    expect(r!.regs[RBX]).toBe(0x1122334455667788n);
    expect(r!.regs[RCX]).toBe(0xdeadbeefcafef00dn);
    expect(r!.regs[RSP]).toBe(BigInt(STACK_TOP - 8));
    expect(r!.mem.length).toBe(SCRATCH_SIZE);
    expect(le64(r!.mem, 0x10)).toBe(0xdeadbeefcafef00dn);
    expect(le64(r!.mem, STACK_TOP - 8 - SCRATCH_BASE)).toBe(0xdeadbeefcafef00dn);
  });

  it('call pushes the address of the next instruction at CODE_BASE', () => {
    // call +0 (to the next instruction); pop rax
    const [r] = runNativeBatch([mk([0xe8, 0, 0, 0, 0, 0x58])]);
    expect(r!.regs[RAX]).toBe(BigInt(CODE_BASE + 5));
  });

  it('#DE: div by zero, registers as before the instruction', () => {
    const [r] = runNativeBatch([mk([0x90, 0x48, 0xf7, 0xf1], { [RAX]: 5n, [RCX]: 0n })]); // nop; div rcx
    expect(r!.fault).toBe(0);
    expect(r!.faultRip).toBe(BigInt(CODE_BASE + 1));
    expect(r!.regs[RAX]).toBe(5n);
  });

  it('#DE: quotient overflow is vector 0 too', () => {
    // div rcx with rdx:rax = 2^64, rcx = 1
    const [r] = runNativeBatch([mk([0x48, 0xf7, 0xf1], { [RDX]: 1n, [RAX]: 0n, [RCX]: 1n })]);
    expect(r!.fault).toBe(0);
  });

  it('#UD, #BP (a trap: RIP after), #GP on a non-canonical address', () => {
    const [ud, bp, gp] = runNativeBatch([
      mk([0x0f, 0x0b]), // ud2
      mk([0x90, 0xcc]), // nop; int3
      mk([0x48, 0x8b, 0x03], { [RBX]: 0x8000000000000000n }), // mov rax, [rbx]
    ]);
    expect(ud!.fault).toBe(6);
    expect(ud!.faultRip).toBe(BigInt(CODE_BASE));
    expect(bp!.fault).toBe(3);
    expect(bp!.faultRip).toBe(BigInt(CODE_BASE + 2));
    expect(gp!.fault).toBe(13);
    expect(gp!.errorCode).toBe(0);
  });

  it('#PF: address in CR2, error code says user read / user write, not present', () => {
    const [rd, wr] = runNativeBatch([
      mk([0x48, 0x8b, 0x04, 0x25, ...abs32(0)]), // mov rax, [0]
      mk([0x48, 0x89, 0x04, 0x25, ...abs32(SCRATCH_BASE - 8)]), // mov [SCRATCH_BASE-8], rax
    ]);
    expect(rd!.fault).toBe(14);
    expect(rd!.faultAddr).toBe(0n);
    expect(rd!.errorCode & 7).toBe(4);
    expect(wr!.fault).toBe(14);
    expect(wr!.faultAddr).toBe(BigInt(SCRATCH_BASE - 8));
    expect(wr!.errorCode & 7).toBe(6);
  });

  it('a system call is stopped and reported; an endless loop times out; the next case still runs', () => {
    const rs = runNativeBatch([
      mk([0x31, 0xc0, 0x0f, 0x05]), // xor eax, eax; syscall (would be read(0, ...))
      mk([0xeb, 0xfe]), // jmp $
      mk([0x8e, 0xe0, 0x8e, 0xd8]), // mov fs, eax; mov ds, eax (eax = 0): the harness survives
      mk([0x48, 0x01, 0xd8], { [RAX]: 2n, [RBX]: 3n }),
    ]);
    expect(rs.map((r) => r.fault)).toEqual([FAULT_SYSCALL, FAULT_TIMEOUT, FAULT_NONE, FAULT_NONE]);
    expect(rs[3]!.regs[RAX]).toBe(5n);
  });

  it('a batch larger than one harness process keeps case order', () => {
    const n = 2500;
    const cases = Array.from({ length: n }, (_, i) => mk([0xb8, ...abs32(i * 7919)])); // mov eax, imm32
    const rs = runNativeBatch(cases);
    expect(rs.length).toBe(n);
    rs.forEach((r, i) => expect(r.regs[RAX]).toBe(BigInt(i * 7919)));
  });
});

const have32 = ensureHarness(32) !== null;
if (!have32) console.warn('native oracle: 32-bit harness unavailable (gcc -m32 or kernel support); skipping');

describe.skipIf(!have32)('native harness, 32-bit', () => {
  it('0x40 is INC EAX here: CF kept, ZF/AF/PF from the wrap to 0', () => {
    const [r] = runNativeBatch32([mk([0x40], { [RAX]: 0xffffffffn }, CF)]);
    expect(r!.regs[RAX]).toBe(0n);
    expect(r!.rflags & ARITH).toBe(CF | PF | AF | ZF);
  });

  it('DAA after a BCD add: 79 + 35 = 114', () => {
    // add al, bl; daa
    const [r] = runNativeBatch32([mk([0x00, 0xd8, 0x27], { [RAX]: 0x79n, [RBX]: 0x35n })]);
    expect(r!.regs[RAX]).toBe(0x14n);
    expect(r!.rflags & CF).toBe(CF);
  });

  it('PUSHA stores EAX..EDI with the original ESP', () => {
    const c = mk([0x60]);
    for (let i = 0; i < 8; i++) if (i !== RSP) c.regs[i] = BigInt(0x11111111 * (i + 1));
    const [r] = runNativeBatch32([c]);
    const base = STACK_TOP - 32 - SCRATCH_BASE;
    expect(r!.regs[RSP]).toBe(BigInt(STACK_TOP - 32));
    for (let i = 0; i < 8; i++) expect(le32(r!.mem, base + (7 - i) * 4)).toBe(Number(c.regs[i]));
  });

  it('16-bit addressing through FS (base SCRATCH_BASE): [bx+si] wraps at 64 KiB, limit gives #GP', () => {
    const mem = [0, 0, 0, 0, 0x78, 0x56, 0x34, 0x12];
    const [ok, lim] = runNativeBatch32([
      // mov eax, fs:[bx+si] with address size 16; bx+si = 0x10004 wraps to 0x0004
      mk([0x64, 0x67, 0x8b, 0x00], { [RBX]: 0xffffn, [RSI]: 0x0005n }, 0, mem),
      mk([0x64, 0x8b, 0x03], { [RBX]: BigInt(SCRATCH_SIZE - 2) }), // mov eax, fs:[ebx]: past the limit
    ]);
    expect(ok!.fault).toBe(FAULT_NONE);
    expect(ok!.regs[RAX]).toBe(0x12345678n);
    expect(lim!.fault).toBe(13);
  });

  it('INTO with OF set is #OF (a trap), INT 0x80 is stopped', () => {
    const [of, sc] = runNativeBatch32([mk([0xce], {}, OF), mk([0xcd, 0x80], { [RAX]: 20n })]);
    expect(of!.fault).toBe(4);
    expect(of!.faultRip).toBe(BigInt(CODE_BASE + 1));
    expect(sc!.fault).toBe(FAULT_SYSCALL);
  });

  it('null DS/ES/GS loaded by a case (then a #GP through DS) leave the harness working', () => {
    const rs = runNativeBatch32([
      mk([0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xe8]), // mov ds, eax; mov es, eax; mov gs, eax (eax = 0)
      mk([0x8e, 0xd8, 0x8b, 0x03], { [RBX]: BigInt(SCRATCH_BASE) }), // mov ds, eax; mov eax, [ebx]
      mk([0x01, 0xd8], { [RAX]: 2n, [RBX]: 3n }),
    ]);
    expect(rs.map((r) => r.fault)).toEqual([FAULT_NONE, 13, FAULT_NONE]);
    expect(rs[1]!.faultRip).toBe(BigInt(CODE_BASE + 2));
    expect(rs[2]!.regs[RAX]).toBe(5n);
  });

  it('registers 8..15 and the upper halves come back zero', () => {
    const c = mk([0x90], { [RAX]: 0xffffffff00000001n, 9: 5n });
    const [r] = runNativeBatch32([c]);
    expect(r!.regs[RAX]).toBe(1n);
    expect(r!.regs[9]).toBe(0n);
  });
});
