/**
 * Parity: each program runs under the interpreter alone and under the translator with several
 * option sets (translate on first execution, after a threshold, helper calls only, virtual
 * indexing), in uneven slices so blocks meet `stopAt` boundaries; registers, RIP, flags, the
 * instruction count, CR2, the data pages, the kernel stack (exception frames) and the code pages
 * must be identical. The interpreter is the oracle (it is itself checked against the host CPU in
 * test/interp).
 */
import { describe, expect, it } from 'vitest';
import { ABSENT, DATA, ParityMachine, RO_PAGE, asm, hasNasm, type Final } from './env.js';
import type { DbtOptions } from '../../src/dbt/engine.js';

const OPTION_SETS: DbtOptions[] = [
  { threshold: 0 },
  { threshold: 3 },
  { threshold: 0, inline: false },
  { threshold: 1, tcIndex: 'virt' },
];

function expectSame(a: Final, b: Final, label: string): void {
  expect(b.count, `${label}: count`).toBe(a.count);
  expect(b.result, `${label}: result`).toBe(a.result);
  expect(b.rip.toString(16), `${label}: rip`).toBe(a.rip.toString(16));
  expect(b.regs.map((r) => r.toString(16)), `${label}: regs`).toEqual(a.regs.map((r) => r.toString(16)));
  expect(b.rflags.toString(16), `${label}: rflags`).toBe(a.rflags.toString(16));
  expect(b.cr2, `${label}: cr2`).toBe(a.cr2);
  expect(Buffer.from(b.data).equals(Buffer.from(a.data)), `${label}: data`).toBe(true);
  expect(Buffer.from(b.kstack).equals(Buffer.from(a.kstack)), `${label}: kernel stack`).toBe(true);
  expect(Buffer.from(b.code).equals(Buffer.from(a.code)), `${label}: code`).toBe(true);
}

/** Runs src under both engines and compares; returns the interpreter's final state. */
function parity(src: string, limit = 200_000, bits: 64 | 32 = 64): Final {
  const prog = asm(src, bits);
  const ref = new ParityMachine(prog, null, bits).run(limit, 977);
  for (const opts of OPTION_SETS) {
    for (const slice of [977, 13]) {
      if (slice === 13 && limit > 20_000) continue;
      const m = new ParityMachine(prog, opts, bits);
      const got = m.run(limit, slice);
      expectSame(ref, got, `${JSON.stringify(opts)} slice ${slice}`);
      // the translator really ran (not only the interpreter fallback)
      if (opts.threshold === 0 && slice !== 13) expect(m.dbt!.stats().insnsTranslated).toBeGreaterThan(0);
    }
  }
  return ref;
}

const HLT_END = 'hlt'; // privileged in user mode: #GP(0) -> stub -> HLT (vector 13 in AL)

describe.skipIf(!hasNasm)('translator parity with the interpreter (64-bit user mode)', () => {
  it('the benchmark loop: load, add, xor, add, cmp, jb', () => {
    const r = parity(`
      mov rsi, ${DATA}
      xor ebx, ebx
      xor edx, edx
      mov rdi, 3000
      xor ecx, ecx
    L: mov eax, [rsi+rcx*4]
      add ebx, eax
      xor edx, ebx
      add rcx, 1
      cmp rcx, rdi
      jb L
      mov [rsi], ebx
      mov [rsi+8], rdx
      ${HLT_END}`);
    expect(r.regs[0] & 0xffn).toBe(13n);
  });

  it('every condition code after add/sub/and/inc/dec of each size, setcc, adc/sbb, pushf', () => {
    const conds = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
    const ops = ['add al, bl', 'sub ax, bx', 'and eax, ebx', 'sub rax, rbx', 'cmp eax, ebx', 'test al, bl',
      'inc eax', 'dec bl', 'or rax, rbx', 'xor ax, bx', 'cmp rax, rbx', 'add rax, rbx', 'sub al, 0x80', 'inc rax'];
    let body = '';
    let k = 0;
    for (const op of ops) {
      for (const c of conds) {
        body += `  mov rax, [rsi+${(k * 8) % 4000}]\n  mov rbx, [rsi+${(k * 8 + 1000) % 4000}]\n  ${op}\n`;
        body += `  j${c} .t${k}\n  add r8, ${k}\n  jmp .n${k}\n.t${k}: add r9, ${k}\n.n${k}:\n`;
        body += `  ${op}\n  set${c} [rdi+${k}]\n  adc r10, rax\n  sbb r11, rbx\n`;
        if (k % 16 === 0) body += '  pushf\n  pop r12\n';
        k++;
      }
    }
    parity(`mov rsi, ${DATA}\n mov rdi, ${DATA + 0x3000}\n .top:\n${body}\n ${HLT_END}`, 20_000);
  });

  it('every condition code after imul, mul, shl/shr/sar by constants, neg and not of each size', () => {
    const conds = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
    const ops = ['imul eax, ebx', 'imul rax, rbx', 'imul ax, bx', 'imul rax, [rsi+8], -3', 'imul eax, ebx, 100000',
      'shl eax, 1', 'shr rax, 63', 'sar bl, 7', 'sar eax, 5', 'shl ax, 9', 'shr cl, 1', 'shl rax, 33', 'sal rbx, 2',
      'neg eax', 'neg byte [rsi+3]', 'not rax', 'shr eax, 0', 'shl bl, 9', 'inc eax', 'mul ebx', 'mul dword [rsi+16]'];
    // operand pairs: random data, then the 64-bit multiply edge cases (-1 * MIN, MIN * -1, 0 * x)
    const pairs = ['mov rax, [rsi+R]\n  mov rbx, [rsi+R2]', 'mov rax, -1\n  mov rbx, 0x8000000000000000',
      'mov rax, 0x8000000000000000\n  mov rbx, -1', 'xor eax, eax\n  mov rbx, [rsi+R]', 'mov rax, 0x40000000\n  mov rbx, 2'];
    let body = '';
    let k = 0;
    for (const op of ops) {
      for (const c of conds) {
        const pair = pairs[k % pairs.length].replace('R2', String((k * 8 + 1000) % 4000)).replace('R', String((k * 8) % 4000));
        body += `  ${pair}\n  mov rcx, rbx\n  ${op}\n`;
        body += `  j${c} .t${k}\n  add r8, ${k}\n  jmp .n${k}\n.t${k}: add r9, ${k}\n.n${k}:\n`;
        body += `  ${op}\n  set${c} [rdi+${k}]\n  inc r13\n  adc r10, rax\n  xor r11, rbx\n`;
        if (k % 16 === 0) body += '  pushf\n  pop r12\n';
        k++;
      }
    }
    parity(`mov rsi, ${DATA}\n mov rdi, ${DATA + 0x3000}\n .top:\n${body}\n ${HLT_END}`, 20_000);
  });

  it('indirect calls and jumps through registers and a table, one of them non-canonical', () => {
    const r = parity(`
      lea rsi, [rel table]
      mov ecx, 60
    L: mov eax, ecx
      and eax, 3
      call [rsi+rax*8]
      lea rdx, [rel back]
      jmp rdx
    back: dec ecx
      jnz L
      mov rax, 0x0000800000000000
      call rax
      hlt
    f0: add r8, 1
      ret
    f1: add r9, 1
      ret
    f2: lea r10, [r10+2]
      ret
    f3: mov r11, rcx
      ret
    table: dq f0, f1, f2, f3`);
    expect(r.regs[0] & 0xffn).toBe(13n);
  });

  it('returns and indirect jumps found by the in-region dispatch: 20 return sites, a jump table, a return to another page', () => {
    // one page: a function called from 20 sites (20 return blocks, so the dispatch's binary
    // search has many leaves), a jump through a table to in-page targets, and a function in
    // another page whose RET leaves the region; uneven slices make the budget refuse some entries
    const sites = Array.from({ length: 20 }, (_, i) => `call f\n add ebx, ${i + 1}\n xor edx, ebx`).join('\n');
    const r = parity(`
      mov ecx, 300
      mov rsi, ${DATA}
    L: ${sites}
      mov eax, ecx
      and eax, 3
      lea rdi, [rel tab]
      jmp [rdi + rax*8]
    t0: add edx, 1
      jmp J
    t1: add edx, 2
      jmp J
    t2: sub edx, 3
      jmp J
    t3: call farf
    J: dec ecx
      jnz L
      ${HLT_END}
    f: add eax, ebx
      ret
      align 8
    tab: dq t0, t1, t2, t3
      times 0x1000 - ($ - $$) db 0x90
    farf: rol edx, 1
      ret`, 150_000);
    expect(r.count).toBeGreaterThan(20_000);
    const m = new ParityMachine(asm(`
      mov ecx, 2000
    L: ${sites}
      dec ecx
      jnz L
      ${HLT_END}
    f: add eax, ebx
      ret`), { threshold: 2 });
    m.run(100_000);
    // every return lands in the region: control stays in wasm (a few lookups, not one per RET)
    expect(m.dbt!.stats().lookups).toBeLessThan(100);
  });

  it('calls, returns, push/pop, recursion (fib 15)', () => {
    parity(`
      mov rdi, 15
      call fib
      mov [${DATA}], rax
      ${HLT_END}
    fib: cmp rdi, 2
      jb .small
      push rdi
      dec rdi
      call fib
      pop rdi
      push rax
      sub rdi, 2
      call fib
      pop rdx
      add rax, rdx
      add rdi, 2
      ret
    .small: mov rax, rdi
      ret`);
  });

  it('byte/word registers (AH..BH), movzx/movsx/movsxd, lea, mov r/m imm', () => {
    parity(`
      mov rsi, ${DATA}
      mov ecx, 300
    L: mov ax, [rsi+rcx*2]
      mov bh, al
      add ah, bh
      movzx edx, ah
      movsx r8, ax
      movsxd r9, dword [rsi+rcx]
      lea r10, [r8+r9*8-7]
      lea r11d, [rdx+rcx]
      mov byte [rsi+rcx+0x2000], bh
      mov word [rsi+rcx*2+0x1000], 0x1234
      mov qword [rsi+rcx*8+0x800], -5
      sub [rsi+rcx*4], eax
      inc byte [rsi+rcx]
      dec qword [rsi+rcx*8]
      xor [rsi+rcx], r11w
      dec ecx
      jnz L
      ${HLT_END}`);
  });

  it('a #PF in the middle of a block leaves exactly the interpreter state (read, write, RO page)', () => {
    for (const fault of [`mov eax, [${ABSENT} + 8]`, `mov [${ABSENT}], rbx`, `add [${RO_PAGE}], ecx`,
      `push qword [${ABSENT}]`, 'mov rax, [0x10]']) {
      const r = parity(`
        mov rsp, 0x80000
        mov eax, 1
        mov ebx, 2
        add ecx, 3
        cmp eax, ebx
        ${fault}
        mov eax, 99
        ${HLT_END}`);
      expect(r.regs[0] & 0xffn).toBe(14n);
    }
  });

  it('code stored by the program, run, then patched through the same (already writable) mapping', () => {
    const r = parity(`
      mov rdi, 0x23000
      mov dword [rdi], 0x000001b8 ; mov eax, 1
      mov dword [rdi+4], 0x0000c300 ; ret
      call rdi
      mov ebx, eax
      mov byte [rdi+1], 7
      call rdi
      mov ecx, eax
      ${HLT_END}`);
    expect(r.regs[3]).toBe(1n);
    expect(r.regs[1]).toBe(7n);
  });

  it('DIV and IDIV of 32 and 64 bits: inline cases, wide dividends and #DE through the helper', () => {
    // pseudo-random operands (an xorshift in r15) with rDX chosen to hit each path: zero/sign
    // extension (inline), a small non-trivial rDX (the wide helper case), register and memory
    // divisors, negative values; checksums in r8..r11
    const body = `
      mov r15, 0x9e3779b97f4a7c15
      mov ecx, 400
    L: mov rax, r15
      shl rax, 13
      xor r15, rax
      mov rax, r15
      shr rax, 7
      xor r15, rax
      mov rax, r15
      shl rax, 17
      xor r15, rax
      mov rbx, r15
      shr rbx, 40
      or rbx, 3
      mov [${DATA}], rbx
      ; DIV r32 with EDX 0 (inline), then EDX < divisor but not 0 (inline)
      mov eax, r15d
      xor edx, edx
      div ebx
      add r8, rax
      add r9, rdx
      mov eax, r15d
      mov edx, ebx
      shr edx, 1
      div dword [${DATA}]
      add r8, rax
      add r9, rdx
      ; IDIV r32 after CDQ (inline), negative divisor
      mov eax, r15d
      cdq
      mov esi, ebx
      neg esi
      idiv esi
      add r10, rax
      add r11, rdx
      ; IDIV r32 with EDX not the sign of EAX (helper) and a quotient that fits
      mov eax, r15d
      mov edx, -1
      mov esi, 0x7fffffff
      idiv esi
      add r10, rax
      add r11, rdx
      ; 64-bit: DIV with RDX 0 (inline), RDX small (helper), IDIV after CQO (inline)
      mov rax, r15
      xor edx, edx
      div rbx
      add r8, rax
      add r9, rdx
      mov rax, r15
      mov edx, 1
      div rbx
      add r8, rax
      add r9, rdx
      mov rax, r15
      cqo
      mov rsi, rbx
      neg rsi
      idiv qword [${DATA}]
      add r10, rax
      add r11, rdx
      idiv rsi
      add r10, rax
      add r11, rdx
      dec ecx
      jnz L`;
    const r = parity(`${body}
 mov eax, 7
 ${HLT_END}`, 100_000);
    expect(r.regs[8]).not.toBe(0n);
    // #DE: 32-bit quotient overflow, INT32_MIN / -1, 64-bit MIN / -1, divide by zero from memory
    for (const de of ['mov edx, 5\n mov eax, 1\n mov ebx, 5\n div ebx', 'mov eax, 0x80000000\n cdq\n mov ebx, -1\n idiv ebx',
      'mov rax, 0x8000000000000000\n cqo\n mov rbx, -1\n idiv rbx', `mov qword [${DATA}], 0\n xor edx, edx\n div qword [${DATA}]`]) {
      expect(parity(`mov ecx, 20\nL: mov eax, ecx\n xor edx, edx\n mov ebx, 3\n div ebx\n dec ecx\n jnz L\n ${de}\n mov eax, 1\n hlt`).regs[0] & 0xffn).toBe(0n);
    }
  });

  it('MOV between the accumulator and an absolute address (moffs), 64- and 32-bit, and its faults', () => {
    const loop = (w: string, lim = 'ecx'): string => `
      mov ecx, 200
    L: mov rax, [qword ${DATA} + 8]
      add eax, ecx
      mov [qword ${DATA} + 16], rax
      mov al, [qword ${DATA} + 3]
      mov [qword ${DATA} + 33], al
      mov ax, [qword ${DATA} + 40]
      mov [qword ${DATA} + 50], ax
      mov eax, [qword ${DATA} + 16]
      add [qword ${DATA} + 8], eax
      dec ${lim}
      jnz L
      ${w}`;
    // the loop, then a non-canonical moffs (#GP), and a read of an absent page (#PF, CR2)
    expect(parity(loop('mov eax, [qword 0x123456789abc0]\n hlt')).regs[0] & 0xffn).toBe(13n);
    expect(parity(loop(`mov eax, [qword ${ABSENT}]\n hlt`)).regs[0] & 0xffn).toBe(14n);
    const r32 = parity(`
      mov ecx, 200
    L: mov eax, [${DATA} + 8]
      add eax, ecx
      mov [${DATA} + 16], eax
      mov al, [${DATA} + 3]
      mov [${DATA} + 33], al
      mov [${DATA} + 8], eax
      dec ecx
      jnz L
      mov eax, [${ABSENT}]
      hlt`, 20_000, 32);
    expect(r32.regs[0] & 0xffn).toBe(14n);
  });

  it('CMOVcc (every condition, 16/32/64-bit, register and memory), SETcc to memory, XCHG, CBW..CQO, BSWAP', () => {
    const conds = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
    const per = conds.map((c, k) => `
      cmp eax, ${k * 0x11111111 | 0}
      cmov${c} r8d, ecx
      cmov${c} r9, [${DATA} + ${k * 8}]
      cmov${c} r10w, dx
      set${c} [${DATA} + 512 + ${k}]
      add r11, r8
      add r11, r9
      add r11, r10`).join('');
    const r = parity(`
      mov ecx, 120
    L: imul eax, ecx, 0x2f1b3d9
      mov edx, eax
      shr edx, 3
      mov r8, -1
      mov r9, rcx
      mov r10, rax
      ${per}
      xchg eax, edx
      xchg r11, rbx
      xchg cl, dh
      xchg ch, dl
      xchg cl, dh
      xchg ch, dl
      xchg r12d, eax
      cbw
      cwde
      cdqe
      cwd
      cdq
      cqo
      add r13, rdx
      add r13, rax
      bswap r13
      bswap r11d
      bswap rax
      add r13, rax
      bswap esi
      dec ecx
      jnz L
      ; a CMOV whose condition is false still reads (and faults on) its source
      xor eax, eax
      cmovnz eax, [${ABSENT}]
      hlt`, 200_000);
    expect(r.regs[0] & 0xffn).toBe(14n);
  });

  it('#DE and #UD and non-canonical RET in the middle of blocks', () => {
    expect(parity('mov eax, 5\n xor ecx, ecx\n add eax, 1\n div ecx\n mov eax, 1\n hlt').regs[0] & 0xffn).toBe(0n);
    expect(parity('mov eax, 5\n add eax, 1\n ud2\n hlt').regs[0] & 0xffn).toBe(6n);
    expect(parity('mov rax, 0x8000000000000000\n push rax\n mov ebx, 1\n ret').regs[0] & 0xffn).toBe(13n);
    // INT n through a DPL-0 gate from CPL 3 is #GP; SYSCALL with EFER.SCE clear is #UD
    expect(parity('mov eax, 5\n add eax, 1\n int 0x21\n hlt').regs[0] & 0xffn).toBe(13n);
    expect(parity('mov eax, 5\n add eax, 1\n syscall\n hlt').regs[0] & 0xffn).toBe(6n);
  });

  it('self-modifying code: a following block, the same block, and a page reused for new code', () => {
    // patch the immediate of an instruction in a later block, many times in a loop
    parity(`
      mov ecx, 50
    L: inc byte [rel patch + 1]
      jmp next
    next:
    patch: mov al, 0
      add bl, al
      dec ecx
      jnz L
      ${HLT_END}`);
    // a store into the running block changes an instruction after it in the same block
    parity(`
      mov ecx, 20
    L: mov byte [rel imm + 1], cl
      add edx, ecx
    imm: mov al, 0x77
      add bl, al
      dec ecx
      jnz L
      ${HLT_END}`);
    // copy new code over a page that already ran (rep movsb through the interpreter path)
    parity(`
      mov r12, 3
    again: call 0x23000
      add r13, rax
      lea rsi, [rel other]
      mov rdi, 0x23000
      mov ecx, other_end - other
      rep movsb
      dec r12
      jnz again
      ${HLT_END}
      times 0x1000 - ($ - $$) db 0x90
    first: mov eax, 1
      ret
    other: mov eax, 1000
      add eax, 7
      ret
    other_end:
      times 0x3000 - ($ - $$) db 0x90
      mov eax, 5
      ret`);
  });

  it('flat 32-bit code: recursion, RMW memory, byte registers, a DS reload, a #PF mid-block', () => {
    const r = parity(`
      mov esi, ${DATA}
      mov edi, 12
      call fib
      mov [esi], eax
      mov ecx, 100
    L: add [esi+ecx*4], ecx
      mov al, [esi+ecx]
      add ah, al
      movzx edx, ah
      sub dword [esi+ecx*8], edx
      push edx
      pop ebx
      dec ecx
      jnz L
      mov ax, 0x1b
      mov ds, ax
      add ebx, [esi]
      mov eax, [${ABSENT}]
      hlt
    fib: cmp edi, 2
      jb .s
      push edi
      dec edi
      call fib
      pop edi
      push eax
      sub edi, 2
      call fib
      pop edx
      add eax, edx
      add edi, 2
      ret
    .s: mov eax, edi
      ret`, 200_000, 32);
    expect(r.regs[0] & 0xffn).toBe(14n);
  });

  it('32-bit compatibility-mode user code (register ops inline, the rest helpers)', () => {
    parity(`
      mov esi, ${DATA}
      mov ecx, 500
    L: mov eax, [esi+ecx*4]
      add ebx, eax
      xor edx, ebx
      push edx
      pop edi
      dec ecx
      jnz L
      call f
      ${HLT_END}
    f: mov ax, 0x1234
      add al, ah
      ret`, 200_000, 32);
  });
});
