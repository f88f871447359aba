// REP string instructions (REP INS/OUTS too) and the instruction budget: every iteration counts
// as one instruction (a REP whose count is zero as one), so `--max-insns N` stops a long REP
// exactly at N with rCX, rSI, rDI and memory as after N retired instructions, the run resumes from
// there to the same end as an uninterrupted run, and both engines count alike (a REP inside a
// translated block too).
// Expected values come from counting the programs by hand, not from ringvm. Single-step traps
// follow each iteration (SDM Vol. 3 "single-step trap" and Vol. 2 REP: the loop is interruptible
// between iterations, and rIP stays on the REP until the count is exhausted).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OFF_INSN_COUNT, REG_R15, REG_RCX, REG_RDI, REG_RSI, gprOffset } from '../../src/cpu/state.js';
import type { Machine } from '../../src/machine/machine.js';
import { ENGINE_LIMIT } from '../../src/machine/engine.js';
import { CODE, runCase, type CaseResult } from './harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'ringvm-rep-'));

function asm(src: string, bits: 32 | 64): Uint8Array {
  const s = join(tmp, 'p.asm');
  const o = join(tmp, 'p.bin');
  writeFileSync(s, `bits ${bits}\norg 0x${CODE.toString(16)}\n${src}\n`);
  execFileSync('nasm', ['-f', 'bin', '-o', o, s]);
  return new Uint8Array(readFileSync(o));
}

interface Seen {
  count: number;
  rcx: number;
  rsi: number;
  rdi: number;
  r13: number;
  r14: number;
  r15: number;
  mem: (pa: number) => number;
  machine: Machine;
}

/** Runs `code` at CPL 0 in long mode (translated too under 'dbt'), RCX zero at the start. */
async function run(engine: 'interp' | 'dbt', code: Uint8Array, budget: number, seed = 1): Promise<{ r: CaseResult; s: Seen }> {
  let s: Seen | null = null;
  const r = await runCase(seed, {
    engine, setting: 'long64-k', code, budget, rflags: 2, maxMs: 30_000, kernelDbt: true, regs: [[REG_RCX, 0, 0]],
    onMachine: (m) => {
      const g = (reg: number) => m.views.getNum(gprOffset(reg));
      s = {
        count: m.views.getNum(OFF_INSN_COUNT), rcx: g(REG_RCX), rsi: g(REG_RSI), rdi: g(REG_RDI), r13: g(REG_R13),
        r14: g(REG_R14), r15: g(REG_R15), mem: (pa) => m.phys.read8(pa), machine: m,
      };
    },
  });
  expect(r.failure).toBe('');
  expect(s).not.toBeNull();
  return { r, s: s as unknown as Seen };
}

const REG_R13 = 13;
const REG_R14 = 14;
const ENGINES = ['interp', 'dbt'] as const;
const DST = 0x200000;
const N = 100_000;

// 4 instructions, then N iterations of REP STOSB, then HLT.
const STOS = asm(`
  mov ecx, ${N}
  mov edi, ${DST}
  mov eax, 0x5a
  cld
  rep stosb
  hlt`, 64);

describe('REP string instructions count one per iteration', () => {
  for (const engine of ENGINES) {
    it(`${engine}: a budget stops REP STOSB exactly, registers and memory as after that many iterations`, async () => {
      for (const budget of [4, 5, 6, 7, 100, 4099, 4100, 4101, 8197, 50_003, N + 3, N + 4]) {
        const { r, s } = await run(engine, STOS, budget);
        expect(r.stop?.reason).toBe(`instruction limit reached (${budget})`);
        expect(s.count).toBe(budget);
        const done = budget - 4; // iterations retired
        expect([s.rcx, s.rdi]).toEqual([N - done, DST + done]);
        if (done > 0) expect(s.mem(DST + done - 1)).toBe(0x5a);
        expect(s.mem(DST + done)).toBe(0);
      }
      // Uninterrupted: 4 + N iterations + HLT.
      const { r, s } = await run(engine, STOS, 10 * N);
      expect(r.stop?.reason).toMatch(/^guest halted/);
      expect([s.count, s.rcx, s.rdi]).toEqual([4 + N + 1, 0, DST + N]);
    }, 60_000);

    it(`${engine}: REP OUTSB and REP INSB stop exactly too`, async () => {
      // 0xE9 is the debug console (output swallowed here); port 0x80 is unclaimed and reads 0xFF
      const outs = asm(`mov esi, ${DST}\nmov ecx, 5000\nmov dx, 0xe9\ncld\nrep outsb\nhlt`, 64);
      const ins = asm(`mov edi, ${DST}\nmov ecx, 5000\nmov dx, 0x80\ncld\nrep insb\nhlt`, 64);
      for (const budget of [4, 5, 6, 1029, 1030, 3000, 5004]) {
        const done = budget - 4;
        const o = (await run(engine, outs, budget)).s;
        expect([o.count, o.rcx, o.rsi]).toEqual([budget, 5000 - done, DST + done]);
        const i = (await run(engine, ins, budget)).s;
        expect([i.count, i.rcx, i.rdi]).toEqual([budget, 5000 - done, DST + done]);
        if (done > 0) expect(i.mem(DST + done - 1)).toBe(0xff);
        expect(i.mem(DST + done)).toBe(0);
      }
      expect((await run(engine, outs, 100_000)).s.count).toBe(4 + 5000 + 1);
      expect((await run(engine, ins, 100_000)).s.count).toBe(4 + 5000 + 1);
    });

    it(`${engine}: a 64-bit count above 2^53 stays exact (REP OUTSB and REP STOSB)`, async () => {
      for (const op of ['outsb', 'stosb']) {
        const code = asm(`mov rcx, 0x7fffffffffffffff\nmov esi, ${DST}\nmov edi, ${DST}\nmov dx, 0xe9\ncld\n rep ${op}\nhlt`, 64);
        for (const budget of [5 + 1, 5 + 4096, 5 + 5000]) {
          const { s } = await run(engine, code, budget);
          expect(s.machine.views.getBig(gprOffset(REG_RCX)), `${op} ${budget}`).toBe(0x7fffffffffffffffn - BigInt(budget - 5));
        }
      }
    });

    it(`${engine}: a run stopped in the middle of a REP resumes to the same end`, async () => {
      const { s } = await run(engine, STOS, 4 + 12_345);
      const m = s.machine;
      // continue the same machine in uneven steps, as the run loop would between timer deadlines
      // (an engine may return early, e.g. the translator while a compile is pending: call again)
      for (const stop of [4 + 12_346, 4 + 20_000, 4 + 20_001, 10 * N]) {
        for (let calls = 0; calls < 10_000 && m.views.getNum(OFF_INSN_COUNT) < stop; calls++) {
          if (m.engine.run(stop) !== ENGINE_LIMIT) break;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
      expect(m.views.getNum(OFF_INSN_COUNT)).toBe(4 + N + 1);
      expect([m.views.getNum(gprOffset(REG_RCX)), m.views.getNum(gprOffset(REG_RDI))]).toEqual([0, DST + N]);
      expect(m.phys.read8(DST + N - 1)).toBe(0x5a);
      expect(m.phys.read8(DST + N)).toBe(0);
    }, 60_000);

    it(`${engine}: a zero count retires once; REPE CMPSB counts the iterations up to the difference`, async () => {
      const zero = asm('xor ecx, ecx\nrep stosb\nhlt', 64);
      expect((await run(engine, zero, 1000)).s.count).toBe(3);
      // the buffers differ first at byte 77: 78 iterations, RCX = 1000 - 78
      const cmps = asm(`
        mov byte [${DST + 77}], 1
        mov esi, ${DST}
        mov edi, ${DST + 0x10000}
        mov ecx, 1000
        cld
        repe cmpsb
        hlt`, 64);
      const { s } = await run(engine, cmps, 10_000);
      expect([s.count, s.rcx, s.rsi]).toEqual([5 + 78 + 1, 1000 - 78, DST + 78]);
    });

    it(`${engine}: short REPs inside a loop that gets translated count exactly at every budget`, async () => {
      // r13 = 20 rounds of: mov ecx, 10 / rep stosb (10) / inc r14 / dec r13d / jnz = 14 each
      const loop = asm(`
        mov r13d, 20
        xor r14d, r14d
        mov edi, ${DST}
        mov eax, 0x33
        cld
        l: mov ecx, 10
        rep stosb
        inc r14
        dec r13d
        jnz l
        hlt`, 64);
      const model = (budget: number) => {
        // [rcx, rdi, r13, r14] after `budget` instructions, by counting the program
        let n = budget - 5;
        let rcx = 0;
        let rdi = DST;
        let r13 = 20;
        let r14 = 0;
        while (n > 0 && r13 > 0) {
          rcx = 10; n--;
          const it = Math.min(10, n); rcx -= it; rdi += it; n -= it;
          if (n > 0) { r14++; n--; }
          if (n > 0) { r13--; n--; }
          if (n > 0) n--; // jnz
        }
        return [rcx, rdi, r13, r14];
      };
      for (let budget = 5; budget <= 5 + 20 * 14; budget += 1) {
        const { s } = await run(engine, loop, budget, 7);
        expect([s.count, s.rcx, s.rdi, s.r13, s.r14], `budget ${budget}`).toEqual([budget, ...model(budget)]);
      }
      const { r, s } = await run(engine, loop, 10_000, 7);
      expect(r.stop?.reason).toMatch(/^guest halted/);
      expect(s.count).toBe(5 + 20 * 14 + 1);
    }, 60_000);

    it(`${engine}: under TF, a single-step trap follows every iteration`, async () => {
      // Vector 1 -> a handler that counts in r15 and returns to the REP (rIP stays on it).
      const tf = asm(`
        jmp start
        handler: inc r15
        iretq
        start: mov rax, handler
        mov [0x10], ax
        mov word [0x12], 0x28
        mov word [0x14], 0x8e00
        shr rax, 16
        mov [0x16], ax
        mov dword [0x18], 0
        xor r15d, r15d
        mov ecx, 50
        mov edi, ${DST}
        cld
        pushfq
        or qword [rsp], 0x100
        popfq
        rep stosb
        pushfq
        and qword [rsp], ~0x100
        popfq
        hlt`, 64);
      const { s } = await run(engine, tf, 100_000);
      // 50 traps after the iterations, then after PUSHFQ, AND and the POPFQ that clears TF (a
      // trap per REP execution instead would make 1 + 3)
      expect([s.r15, s.rcx, s.rdi]).toEqual([53, 0, DST + 50]);
    });
  }
});
