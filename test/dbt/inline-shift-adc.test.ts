/**
 * Parity for the instructions inlined in issue 6's last round: SHL/SHR/SAR by CL (register and
 * memory, every size, counts 0, 1, size-1, size, 31, 63 and CL above the mask), ROL/ROR by an
 * immediate, 1 or CL (the same counts; the four flags they keep), shifts by an immediate that
 * the constant-count recipe leaves out (memory, 0, past the width), MUL and one-operand IMUL, and ADC/SBB (every
 * form and size, the carry in coming from each kind of flag state the translator tracks: a lazy
 * CMP, a direct shift, INC's kept CF, a previous ADC, a memory copy after a helper). The flags
 * are read both through SETcc/Jcc in the same block (the translator's inline conditions) and
 * PUSHF (the whole RFLAGS); the interpreter is the oracle (parity.test.ts's harness).
 */
import { describe, expect, it } from 'vitest';
import { DATA, ParityMachine, asm, hasNasm } from './env.js';
import type { DbtOptions } from '../../src/dbt/engine.js';

const OPTION_SETS: DbtOptions[] = [{ threshold: 0 }, { threshold: 2 }, { threshold: 1, tcIndex: 'virt' }];

function parity(src: string, limit = 400_000): { helpers: number } {
  const prog = asm(src, 64);
  const ref = new ParityMachine(prog, null, 64).run(limit, 977);
  let helpers = 0;
  for (const opts of OPTION_SETS) {
    for (const slice of [977, 131]) {
      const m = new ParityMachine(prog, opts, 64);
      const got = m.run(limit, slice);
      const label = `${JSON.stringify(opts)} slice ${slice}`;
      expect(got.count, `${label}: count`).toBe(ref.count);
      expect(got.rip.toString(16), `${label}: rip`).toBe(ref.rip.toString(16));
      expect(got.regs.map((r) => r.toString(16)), `${label}: regs`).toEqual(ref.regs.map((r) => r.toString(16)));
      expect(got.rflags.toString(16), `${label}: rflags`).toBe(ref.rflags.toString(16));
      expect(Buffer.from(got.data).equals(Buffer.from(ref.data)), `${label}: data`).toBe(true);
      if (opts.threshold === 0 && slice === 977) {
        expect(m.dbt!.stats().insnsTranslated).toBeGreaterThan(0);
        helpers = m.dbt!.helperCalls().reduce((a, [, n]) => a + n, 0);
      }
    }
  }
  // the program really ended at its HLT (#GP stub), not at the limit
  expect(ref.count).toBeLessThan(limit);
  return { helpers };
}

/** Where memory operands under test live (rdi, moving with rsi). */
const DATA_OUT = DATA + 0x2000;
const REGS: Record<number, string[]> = {
  1: ['al', 'bl', 'dl', 'ah', 'r9b'], 2: ['ax', 'bx', 'dx', 'r9w'], 4: ['eax', 'ebx', 'edx', 'r9d'], 8: ['rax', 'rbx', 'rdx', 'r9'],
};
const PTR: Record<number, string> = { 1: 'byte', 2: 'word', 4: 'dword', 8: 'qword' };
/** Flag states before the instruction under test (each a different path in the translator). */
const BEFORE = ['cmp rax, rbx', 'shr rbx, 3', 'inc rdx', 'add r9, rax', 'xor r9d, r9d', 'adc rbx, rdx'];

/**
 * Reads every flag inline (SETcc, which changes no flags, into spare registers) and then through
 * PUSHF, before anything that sets flags; the checksums go to r14/r15; ends with a random CF.
 */
const OBSERVE = `
  setc r12b
  seto r13b
  sets r8b
  setz r11b
  setp bpl
  setbe cl
  setl ch
  pushfq
  pop rdi
  add r14, r12
  lea r14, [r14+r13*2]
  lea r14, [r14+r8*4]
  lea r14, [r14+r11*8]
  add r15, rbp
  add r15, rcx
  imul r14, r14, 1000003
  add r14, rdi
  mov rdi, rsi
  add rdi, ${DATA_OUT - DATA}
  xor r15, rax
  add r15, rbx
  add r15, rdx
  add r15, r9`;

/** OBSERVE's lighter form: CF and OF inline, then PUSHF. */
const OBSERVE_SHORT = `
  setc r12b
  seto r13b
  pushfq
  pop rdi
  add r14, r12
  lea r14, [r14+r13*2]
  imul r14, r14, 1000003
  add r14, rdi
  mov rdi, rsi
  add rdi, ${DATA_OUT - DATA}
  xor r15, rax
  add r15, rbx
  add r15, rdx
  add r15, r9`;

function loop(body: string, iters: number): string {
  return `
    mov rsi, ${DATA}
    mov rdi, ${DATA_OUT}
    xor r14, r14
    xor r15, r15
    mov r10, ${iters}
  top:
    ${body}
    add rsi, 8
    add rdi, 8
    dec r10
    jnz top
    hlt`;
}

describe.skipIf(!hasNasm)('inline shifts by CL and ADC/SBB: parity with the interpreter', () => {
  it('SHL/SHR/SAR by CL and by an immediate: every size, register and memory, counts 0..63 and above the mask', () => {
    let body = '';
    let k = 0;
    for (const op of ['shl', 'shr', 'sar']) {
      for (const size of [1, 2, 4, 8]) {
        const bits = size * 8;
        for (const count of [0, 1, bits - 1, bits, 31, 63, 64 + 5, 200]) {
          for (const how of ['cl', 'imm']) {
          const reg = REGS[size][k % REGS[size].length];
          const dst = k % 3 === 2 ? `${PTR[size]} [rdi+${(k * 8) % 2048}]` : reg;
          const src = how === 'cl' ? 'cl' : count === 1 && k % 2 === 0 ? '1' : `${count & 0xff}`;
          body += `
    mov rax, [rsi+${(k * 8) % 4096}]
    mov rbx, [rsi+${(k * 8 + 8) % 4096}]
    mov rdx, [rsi+${(k * 8 + 16) % 4096}]
    mov r9, [rsi+${(k * 8 + 24) % 4096}]
    mov ecx, ${count}
    ${BEFORE[k % BEFORE.length]}
    ${op} ${dst}, ${src}
    ${OBSERVE}`;
          k++;
          }
        }
      }
    }
    // a shift by CL after a shift by CL (the direct-flags select), count 0 then 5
    body += `
    mov ecx, [rsi]
    shl rax, cl
    mov cl, 0
    sar ebx, cl
    mov cl, 5
    shr dx, cl
    ${OBSERVE}`;
    const { helpers } = parity(loop(body, 6));
    // inline: only PUSHF traps and the final HLT leave the translated code (no shift helpers)
    expect(helpers).toBe(0);
  });

  it('ROL/ROR by an immediate, 1 and CL: every size, register and memory, the other flags kept', () => {
    let body = '';
    let k = 0;
    for (const op of ['rol', 'ror']) {
      for (const size of [1, 2, 4, 8]) {
        const bits = size * 8;
        for (const count of [0, 1, 2, bits - 1, bits, bits + 3, 31, 63, 200]) {
          for (const how of ['cl', 'imm']) {
            const reg = REGS[size][k % REGS[size].length];
            const dst = k % 3 === 1 ? `${PTR[size]} [rdi+${(k * 8) % 2048}]` : reg;
            const src = how === 'cl' ? 'cl' : count === 1 && k % 2 === 0 ? '1' : `${count & 0xff}`;
            body += `
    mov rax, [rsi+${(k * 8) % 4096}]
    mov rbx, [rsi+${(k * 8 + 8) % 4096}]
    mov rdx, [rsi+${(k * 8 + 16) % 4096}]
    mov r9, [rsi+${(k * 8 + 24) % 4096}]
    mov ecx, ${count}
    ${BEFORE[k % BEFORE.length]}
    ${op} ${dst}, ${src}
    ${OBSERVE}`;
            k++;
          }
        }
      }
    }
    // rotates in a row (direct flags kept in locals), then a lazy op's flags read after a rotate
    body += `
    mov ecx, [rsi]
    sub eax, ebx
    rol rax, cl
    ror bx, 3
    rol dl, cl
    ${OBSERVE}`;
    const { helpers } = parity(loop(body, 6));
    expect(helpers).toBe(0);
  });

  it('MUL and IMUL r/m8, r/m16, r/m32: rAX, rDX and the flags, register (AH too) and memory sources', () => {
    let body = '';
    let k = 0;
    for (const [op, src] of ['mul', 'imul'].flatMap((o) => ['bl', 'ah', 'r9b', 'byte [rsi+40]', 'al', 'bx', 'r9w',
      'word [rsi+48]', 'ax', 'dx', 'ebx', 'dword [rsi+56]', 'eax', 'r9d'].map((r) => [o, r]))) {
      for (let b = 0; b < 3; b++) {
        body += `
    mov rax, [rsi+${(k * 8) % 4096}]
    mov rbx, [rsi+${(k * 8 + 8) % 4096}]
    mov rdx, [rsi+${(k * 8 + 16) % 4096}]
    mov r9, [rsi+${(k * 8 + 24) % 4096}]
    ${b === 2 ? 'and ebx, 0x1ff\n    and eax, 0x3ff\n    and r9d, 1' : BEFORE[(k + b) % BEFORE.length]}
    ${op} ${src}
    ${OBSERVE}`;
        k++;
      }
    }
    const { helpers } = parity(loop(body, 6));
    expect(helpers).toBe(0);
  });

  for (const op of ['adc', 'sbb']) {
    it(`${op.toUpperCase()}: every form and size, carry in from each flag state, Jcc`, () => {
      let body = '';
      let k = 0;
      for (const size of [1, 2, 4, 8]) {
        const regs = REGS[size];
        const imm = size === 1 ? 0x7f : size === 2 ? 0x1234 : 0x12345;
        const forms = [
          `${regs[0]}, ${regs[1]}`, `${regs[2]}, ${regs[3]}`, `${regs[1]}, -1`, `${regs[0]}, ${imm}`,
          `${PTR[size]} [rdi+${(k * 8) % 2048}], ${regs[0]}`, `${regs[3]}, ${PTR[size]} [rsi+${(k * 8 + 40) % 4096}]`,
          `${PTR[size]} [rdi+${(k * 8 + 16) % 2048}], -1`, `${regs[1]}, ${regs[1]}`,
        ];
        forms.forEach((form, fi) => {
          for (let b = 0; b < 3; b++) {
            body += `
    mov rax, [rsi+${(k * 8) % 4096}]
    mov rbx, [rsi+${(k * 8 + 8) % 4096}]
    mov rdx, [rsi+${(k * 8 + 16) % 4096}]
    mov r9, [rsi+${(k * 8 + 24) % 4096}]
    ${BEFORE[(fi + b * 2 + size) % BEFORE.length]}
    ${op} ${form}
    jc .c${k}
    lea r15, [r15+17]
  .c${k}:
    ${OBSERVE_SHORT}`;
            k++;
          }
        });
      }
    // a 128-bit add and subtract chain (the common use) and a carry in after a zero-count shift
    body += `
    mov rax, [rsi]
    mov rbx, [rsi+8]
    add rax, [rsi+16]
    adc rbx, [rsi+24]
    sbb rdx, rax
    sbb r9d, ebx
    mov ecx, 0
    shl rax, cl
    ${op} rax, rbx
    ${OBSERVE}`;
      const { helpers } = parity(loop(body, 6));
      expect(helpers).toBe(0);
    });
  }
});
