// A REP string instruction that stores over its own prefix and opcode (fuzz seed 6023691,
// docs/robustness.md). The SDM's model: the REP was decoded once and runs all its iterations as
// decoded; its bytes are fetched again only when execution next reaches them, or after an event
// (an interrupt) delivered between iterations, which returns to the REP's address. ringvm cuts a
// REP wherever the running engine stops (its slice, the caller's stopAt, the handler's own chunk),
// and those stops differ by engine and by caller: none of them may show.
//
// The program (nasm), counted by hand:
//   setup (6):  mov edi, gap / mov ecx, COUNT / mov eax, 0x90909090 / cld / xor ebx, ebx / jmp again
//   gap:        GAP bytes of 0xCC
//   again:      rep stos{b,d}       stores COUNT units of 0x90 from `gap`: unit K lands on `again`
//   ...         0xCC up to fill_end (all of it becomes NOPs)
//   fill_end:   inc ebx / cmp ebx, 2 / jb again / hlt
// The REP retires COUNT iterations, then the NOPs after it run to fill_end (SPAN - 2 of them, SPAN
// = fill_end - again), inc/cmp/jb go back to `again`, now SPAN NOPs, then inc/cmp/jb and HLT:
// 6 + COUNT + (SPAN - 2) + 3 + SPAN + 3 + 1 instructions, ECX = 0, EDI = fill_end, EBX = 2.
// Had a cut REP been fetched again after unit K, it would have ended early as NOPs (ECX > 0).
import { describe, expect, it } from 'vitest';
import {
  OFF_CPL, OFF_INSN_COUNT, OFF_RIP, REG_RAX, REG_RBX, REG_RCX, REG_RDI, SEG_ATTR, SEG_CS, SEG_SELECTOR, SEG_SS,
  segOffset,
} from '../../src/cpu/state.js';
import { RUN_HALT } from '../../src/interp/interpreter.js';
import { CODE, IRQ_COUNTER, ParityMachine, asm, hasNasm } from '../dbt/env.js';
import type { DbtOptions } from '../../src/dbt/engine.js';

const COUNT = 5000; // past the handler's own chunk (string.ts SLICE, 4096): it cuts itself once
const K = 100; // the unit that lands on the REP's first byte
const LIMIT = 1_000_000;

interface Prog {
  code: Uint8Array;
  again: number;
  fillEnd: number;
  size: number;
  /** The first byte after the fill (inc ebx). */
  after: number;
}

function program(op: 'stosb' | 'stosd', bits: 32 | 64): Prog {
  const size = op === 'stosb' ? 1 : 4;
  const gap = K * size;
  const span = (COUNT - K) * size; // again .. fill_end
  const code = asm(`
    mov edi, gap
    mov ecx, ${COUNT}
    mov eax, 0x90909090
    cld
    xor ebx, ebx
    jmp again
    gap: times ${gap} db 0xcc
    again: rep ${op}
    times ${span - 2} db 0xcc
    fill_end: inc ebx
    cmp ebx, 2
    jb again
    hlt`, bits);
  const at = code.indexOf(0xf3); // the setup has no 0xF3 byte; the gap is 0xCC
  expect(code[at - 1]).toBe(0xcc);
  return { code, again: CODE + at, fillEnd: CODE + at + span, size, after: code[at + span] };
}

/**
 * Instructions the program retires, by the count in the header. At CPL 3 the HLT is #GP(0)
 * instead (counted one), whose stub is two more: mov al, 13; hlt.
 */
function expected(p: Prog, cpl: 0 | 3): number {
  const span = p.fillEnd - p.again;
  return 6 + COUNT + (span - 2) + 3 + span + 3 + 1 + (cpl === 3 ? 2 : 0);
}

/** CPL 0: CS and SS as the GDT's kernel descriptors (0x08 code, 0x10 data). */
function toKernel(m: ParityMachine, bits: 32 | 64): void {
  const u32 = m.views.u32;
  u32[OFF_CPL >> 2] = 0;
  u32[(segOffset(SEG_CS) + SEG_SELECTOR) >> 2] = 0x08;
  u32[(segOffset(SEG_CS) + SEG_ATTR) >> 2] = bits === 64 ? 0xa09b : 0xc09b;
  u32[(segOffset(SEG_SS) + SEG_SELECTOR) >> 2] = 0x10;
  u32[(segOffset(SEG_SS) + SEG_ATTR) >> 2] = 0xc093;
}

interface Outcome {
  cpl: 0 | 3;
  result: number;
  count: number;
  rip: number;
  regs: bigint[];
  mem: Uint8Array;
}

function runIt(p: Prog, bits: 32 | 64, cpl: 0 | 3, opts: DbtOptions | null, slice: number): Outcome {
  const m = new ParityMachine(p.code, opts, bits);
  if (cpl === 0) toKernel(m, bits);
  const f = m.run(LIMIT, slice);
  return { cpl, result: f.result, count: f.count, rip: f.rip, regs: f.regs, mem: m.phys.readBytes(CODE, p.fillEnd + 16 - CODE) };
}

/** Engine, privilege and the caller's slice: each cuts the REP at other iterations. */
const SETUPS: { name: string; cpl: 0 | 3; opts: DbtOptions | null; slice: number }[] = [
  { name: 'interp, one run', cpl: 0, opts: null, slice: LIMIT },
  { name: 'interp, stopAt = count + 1 each call', cpl: 0, opts: null, slice: 1 },
  { name: 'interp, slices of 97', cpl: 0, opts: null, slice: 97 },
  { name: 'interp at CPL 3, one run', cpl: 3, opts: null, slice: LIMIT },
  { name: 'interp at CPL 3, slices of 4097', cpl: 3, opts: null, slice: 4097 },
  { name: 'dbt, kernel interpreted (256-instruction slices)', cpl: 0, opts: { kernelExec: 'sim' }, slice: LIMIT },
  { name: 'dbt, kernel interpreted, slices of 1000', cpl: 0, opts: { kernelExec: 'sim' }, slice: 1000 },
];

/**
 * The translator's helper path (engine.ts exec(): the REP inside a translated or helper block)
 * cuts at the handler's chunk and at stopAt too; its run loop then hands the pending cut REP to
 * the interpreter (interp/string.ts repPending) instead of looking the block up again from memory,
 * which would decode the new bytes (these setups failed before that).
 */
const HELPER_SETUPS: { name: string; cpl: 0 | 3; opts: DbtOptions | null; slice: number }[] = [
  { name: 'dbt at CPL 3 (translated user code)', cpl: 3, opts: {}, slice: LIMIT },
  { name: 'dbt, kernel translated', cpl: 0, opts: { kernelExec: 'dbt' }, slice: LIMIT },
];

function checkSdm(p: Prog, o: Outcome, what: string): void {
  expect(o.result, what).toBe(RUN_HALT);
  expect(o.count, what).toBe(expected(p, o.cpl));
  expect([o.regs[REG_RCX], o.regs[REG_RDI], o.regs[REG_RBX]], what).toEqual([0n, BigInt(p.fillEnd), 2n]);
  const start = p.again - K * p.size - CODE;
  const filled = o.mem.subarray(start, p.fillEnd - CODE);
  expect(filled.every((b) => b === 0x90), `${what}: the filled bytes`).toBe(true);
  expect(o.mem[p.fillEnd - CODE], `${what}: the code after the fill`).toBe(p.after);
}

describe.skipIf(!hasNasm)('a REP that stores over its own bytes completes as decoded', () => {
  for (const bits of [32, 64] as const) {
    for (const op of ['stosb', 'stosd'] as const) {
      it(`${bits}-bit REP ${op.toUpperCase()}: every engine and slice pattern gives the SDM result`, () => {
        const p = program(op, bits);
        const first: (Outcome | null)[] = [null, null, null, null]; // by CPL
        for (const s of SETUPS) {
          const o = runIt(p, bits, s.cpl, s.opts, s.slice);
          checkSdm(p, o, s.name);
          // registers, memory, count and stop identical to the first setup at the same CPL
          first[s.cpl] ??= o;
          expect(o, s.name).toEqual(first[s.cpl]);
        }
      }, 60_000);
    }
  }

  for (const s of HELPER_SETUPS) {
    it(`translator helper path, ${s.name}: resumes the REP as decoded`, () => {
      const p = program('stosd', 64);
      checkSdm(p, runIt(p, 64, s.cpl, s.opts, s.slice), s.name);
    });
  }

  it('an interrupt delivered between iterations makes the REP fetch its (new) bytes again', () => {
    // Stop after the REP has stored over itself (unit K) and been cut, raise an interrupt: the
    // stub (inc qword [IRQ_COUNTER]; iretq) returns to `again`, which now reads NOP NOP NOP NOP,
    // and the NOPs run into the 0xCC the REP has not reached: #BP, whose stub is mov al, 3; hlt.
    for (const opts of [null, { kernelExec: 'sim' as const }]) {
      const p = program('stosd', 64);
      const m = new ParityMachine(p.code, opts, 64);
      toKernel(m, 64);
      const cut = 6 + K + 10;
      const irqs = m.phys.read32(IRQ_COUNTER);
      m.run(cut);
      expect(m.views.getNum(OFF_INSN_COUNT)).toBe(cut);
      expect(m.views.getNum(OFF_RIP)).toBe(p.again);
      let pending = true;
      m.ctx.intc = { hasInterrupt: () => pending, acknowledge: () => ((pending = false), 0x20) };
      const f = m.run(LIMIT);
      expect(f.result).toBe(RUN_HALT);
      expect(m.phys.read32(IRQ_COUNTER) - irqs).toBe(1);
      expect(Number(f.regs[REG_RAX] & 0xffn)).toBe(3);
      expect(f.regs[REG_RCX]).toBe(BigInt(COUNT - (K + 10)));
      expect(f.regs[REG_RDI]).toBe(BigInt(p.again + 10 * 4));
    }
  });
});
