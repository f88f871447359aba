/**
 * The hot loop (src/interp/hot.ts) against the handlers: random instruction sequences from the
 * oracle's generator (test/interp/gen.ts), drawn mostly from the rows hot-prep.ts gives a kind,
 * with memory operands into the scratch page, run once instruction by instruction through
 * `stepRaw` (the handlers, which the host-CPU oracle checks) and through `run` with a warm decode
 * cache and TLB (so the hot kinds run), also stopped and resumed at random points. Registers, all
 * arithmetic flags, DF, the scratch page, RIP and the instruction count must agree. A case that
 * faults is compared up to the instruction before the fault.
 */
import { describe, expect, it } from 'vitest';
import {
  ATTR_DB, OFF_INSN_COUNT, OFF_RFLAGS, OFF_RIP, SEG_ATTR, SEG_DS, SEG_ES, SEG_LIMIT, SEG_SS, gprOffset, segOffset,
} from '../../src/cpu/state.js';
import {
  IX_FLAGS, IX_LF_AUX, IX_LF_DST, IX_LF_DST_HI, IX_LF_OP, IX_LF_RES, IX_LF_RES_HI, IX_LF_SRC, IX_LF_SRC_HI, LF_ADC,
  LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_SBB, LF_SUB, getFlags,
} from '../../src/cpu/flags.js';
import { cond } from '../../src/interp/hot-operand.js';
import { HA_MEM, HA_WR, hotKind, hotOut, hotRows } from '../../src/interp/hot-prep.js';
import { Decoded } from '../../src/cpu/decoded.js';
import { decode } from '../../src/cpu/decoder.js';
import { Interpreter, RUN_LIMIT } from '../../src/interp/interpreter.js';
import { WARM_PROGRAMS, warmHotLoop } from '../../src/interp/hot-warm.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasNasm } from '../dbt/env.js';
import { candidateRows, genCase, Rng, type GenCase } from './gen.js';
import { CODE_BASE, CODE_PHYS, SCRATCH_PHYS, SCRATCH_SIZE, TestMachine } from './env.js';

const HOT_NAMES = new RegExp(
  '^((add|or|and|sub|xor|cmp)(EvGv|GvEv|EvIz|EvIbs|EvIb|rAXIz|EbGb|EbIb)|test(EvGv|EvIz|rAXIz)|' +
  'mov(EvGv|GvEv|EvIz|ZvIv|EbIb|EbGb|GbEb)|movzxGvEb|movsxdGvEd|leaGvM|jccJb|jccJz|callJz|pushZv|popZv|' +
  'imulGvEv|imulGvEvIz|imulGvEvIbs|(shl|shr|sar|sal)EvIb|incEv|decEv|setccEb|cmovccGvEv)$',
);

/**
 * Where the cases run: the code page mapped a second time, one page up. At CODE_BASE itself its
 * direct-mapped TLB slot is the scratch page's (both are 0 mod 2^24), so every data access would
 * evict the fetch entry and the run loop would seldom enter the hot loop.
 */
const RUN_BASE = CODE_BASE + 0x1000;
const PT_CODE = 0x5000; // env.ts's page table of the code region

function setState(tm: TestMachine, c: GenCase): void {
  const v = tm.views;
  // the code page (0xCC past the code) only when a case wrote into it: rewriting it drops the
  // decode cache, and the hot loop runs only from a warm one
  const page = new Uint8Array(4096).fill(0xcc);
  page.set(c.code);
  const now = tm.phys.readBytes(CODE_PHYS, 4096);
  if (now.some((b, i) => b !== page[i])) tm.phys.writeBytes(CODE_PHYS, page);
  tm.phys.fill(SCRATCH_PHYS, SCRATCH_SIZE, 0);
  tm.phys.writeBytes(SCRATCH_PHYS, c.mem);
  for (let r = 0; r < 16; r++) v.setBig(gprOffset(r), c.regs[r] ?? 0n);
  v.set64(OFF_RFLAGS, (c.rflags & 0xcd5) | 0x202, 0);
  v.u32[(OFF_RFLAGS >> 2) + 4] = 0; // LF_OP: flags are current
  v.set64(OFF_RIP, RUN_BASE, 0);
  v.setNum(OFF_INSN_COUNT, 0);
}

function snapshot(tm: TestMachine): string {
  const v = tm.views;
  const regs: string[] = [];
  for (let r = 0; r < 16; r++) regs.push(v.getBig(gprOffset(r)).toString(16));
  const mem = tm.phys.readBytes(SCRATCH_PHYS, SCRATCH_SIZE);
  let sum = 0;
  for (let i = 0; i < mem.length; i++) sum = (Math.imul(sum, 31) + mem[i]! + i) | 0;
  return `${regs.join(' ')} flags ${(getFlags(v.i32) & 0xcd5).toString(16)} mem ${sum} rip ${v.getNum(OFF_RIP).toString(16)} count ${v.getNum(OFF_INSN_COUNT)}`;
}

/** The first instruction after which run() and stepRaw() differ, described ('' if none). */
function firstDiff(tm: TestMachine, c: GenCase, steps: number): string {
  for (let k = 1; k <= steps; k++) {
    setState(tm, c);
    for (let i = 0; i < k; i++) tm.interp.stepRaw();
    tm.views.setNum(OFF_INSN_COUNT, k);
    const ref = snapshot(tm);
    setState(tm, c);
    tm.interp.run(k);
    const got = snapshot(tm);
    if (got !== ref) return `after ${c.names[k - 1]} (instruction ${k}):\n want ${ref}\n got  ${got}`;
  }
  return '';
}

function compare(bits: 64 | 32, seed: number, cases: number): number {
  const rng = new Rng(seed);
  const all = candidateRows(bits);
  const hot = all.filter((g) => HOT_NAMES.test(g.row.name));
  const tm = new TestMachine(bits);
  tm.phys.write32(PT_CODE + 8, CODE_PHYS | 7);
  tm.phys.write32(PT_CODE + 12, 0);
  if (bits === 32) {
    // flat DS/ES/SS (env.ts mirrors the native harness's limited ones), as the hot loop needs
    for (const s of [SEG_ES, SEG_SS, SEG_DS]) {
      tm.views.u32[(segOffset(s) + SEG_LIMIT) >> 2] = 0xffffffff;
      tm.views.u32[(segOffset(s) + SEG_ATTR) >> 2] = 0xf3 | ATTR_DB;
    }
  }
  let hotRuns = 0;
  for (let i = 0; i < cases; i++) {
    const rows = rng.chance(0.85) ? hot : all;
    const c = genCase(rng.chance(0.5) ? hot : rows, rng, 1 + rng.int(12), bits);
    // the handlers, one instruction at a time, up to the end or the first fault; the state after each
    setState(tm, c);
    const end = RUN_BASE + c.code.length;
    const after: string[] = [snapshot(tm)];
    while (after.length <= 200 && tm.views.getNum(OFF_RIP) !== end) {
      const f = tm.interp.stepRaw();
      if (f !== 0) break; // a fault: stepRaw left RIP on it, where run() stops too
      tm.views.setNum(OFF_INSN_COUNT, after.length);
      after.push(snapshot(tm));
    }
    const steps = after.length - 1;
    const want = after[steps]!;
    const what = `case ${i} (${c.names.join(' ')}): ${[...c.code].map((b) => b.toString(16)).join(' ')}`;
    // the run loop: a first run decodes and fills the TLB, the second one runs the hot kinds
    for (let pass = 0; pass < 2; pass++) {
      setState(tm, c);
      expect(tm.interp.run(steps), what).toBe(RUN_LIMIT);
      if (snapshot(tm) !== want) expect(firstDiff(tm, c, steps), `${what} pass ${pass}`).toBe('');
    }
    // stopped and resumed at random points, the state compared at each
    setState(tm, c);
    const stops = new Rng(seed + 7919 * i); // its own stream: a case is reproducible from (seed, i)
    for (let at = 1 + stops.int(3); at <= steps; at += 1 + stops.int(3)) {
      tm.interp.run(at);
      if (snapshot(tm) !== after[at]) expect(firstDiff(tm, c, steps), `${what} stopped at ${at}`).toBe('');
    }
    if (steps > 0) hotRuns++;
  }
  return hotRuns;
}

/** Condition cc by its SDM definition from materialised flags (the oracle for hot.ts's `cond`). */
function condByFlags(f: number, cc: number): boolean {
  const cf = (f & 1) !== 0, pf = (f & 4) !== 0, zf = (f & 0x40) !== 0, sf = (f & 0x80) !== 0, of = (f & 0x800) !== 0;
  const r = [of, cf, zf, cf || zf, sf, pf, sf !== of, zf || sf !== of][cc >> 1]!;
  return (cc & 1) !== 0 ? !r : r;
}

describe('hot loop warm-up', () => {
  it.skipIf(!hasNasm)('each embedded program is its .asm source assembled (first page; RET, HLT opening the next)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringvm-warm-'));
    for (const p of WARM_PROGRAMS) {
      const out = join(dir, `${p.source}.bin`);
      const r = spawnSync('nasm', ['-f', 'bin', '-I', 'src/interp/', '-o', out, join('src/interp', p.source)], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const bin = readFileSync(out);
      const hex = Buffer.from(p.hex, 'hex');
      expect(bin.subarray(0, hex.length).equals(hex), p.source).toBe(true);
      if (p.paged) {
        // the rest of the first page is padding; far_fn and far_end start the second
        expect(bin.subarray(hex.length, 4096).every((b) => b === 0 || b === 0x90), p.source).toBe(true);
        expect([...bin.subarray(4096)]).toEqual([0xc3, 0xf4]);
      } else expect(bin.length).toBe(hex.length);
    }
  });

  it('runs each of its programs to its HLT on a machine of its own', () => {
    const made: Interpreter[] = [];
    const rip = warmHotLoop((ctx) => {
      const interp = new Interpreter(ctx);
      made.push(interp);
      return interp;
    });
    // hot-warm32.asm (flat 32-bit), hot-warm-edge.asm (64-bit edge values, every Jcc after every
    // pending-flags kind), then hot-warm.asm, whose HLT starts its second page
    expect(made.map((i) => i.cpu.views.getNum(OFF_INSN_COUNT))).toEqual([8_067, 12_802, 345_003]);
    expect(made.map((i) => i.cpu.loadRip())).toEqual([0x9001, 0x839b, 0x9001]);
    expect(rip).toBe(0x9001);
  });
});

describe('hot loop conditions', () => {
  it('match the flags the pending operation defines', () => {
    const rng = new Rng(77);
    const edge = [0, 1, -1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, -0x80000000];
    const pick = (): number => (rng.chance(0.4) ? edge[rng.int(edge.length)]! : rng.next() | 0);
    const m = new Int32Array(IX_LF_AUX + 8);
    let checked = 0;
    for (let i = 0; i < 20000; i++) {
      const sz = rng.int(4);
      const op = [LF_ADD, LF_SUB, LF_LOGIC, LF_INC, LF_DEC, LF_ADC, LF_SBB][rng.int(7)]!;
      const mask = [0xff, 0xffff, -1, -1][sz]!;
      const a = pick() & mask, aHi = sz === 3 ? pick() : 0;
      let b = (rng.chance(0.3) ? a : pick()) & mask;
      let bHi = sz === 3 ? (rng.chance(0.5) ? aHi : pick()) : 0;
      if (op === LF_INC || op === LF_DEC) {
        b = 1;
        bHi = 0;
      }
      // the result as the operation computes it (64-bit through BigInt)
      const A = sz === 3 ? (BigInt(aHi >>> 0) << 32n) | BigInt(a >>> 0) : BigInt(a >>> 0);
      const Bv = sz === 3 ? (BigInt(bHi >>> 0) << 32n) | BigInt(b >>> 0) : BigInt(b >>> 0);
      const cin = op === LF_ADC || op === LF_SBB ? rng.int(2) : 0;
      const bitsN = BigInt([8, 16, 32, 64][sz]!);
      const R = BigInt.asUintN(Number(bitsN), op === LF_ADD || op === LF_INC || op === LF_ADC ? A + Bv + BigInt(cin)
        : op === LF_LOGIC ? A & Bv : A - Bv - BigInt(cin));
      m[IX_FLAGS] = 2;
      m[IX_LF_OP] = (op << 2) | sz;
      m[IX_LF_DST] = a;
      m[IX_LF_DST_HI] = aHi;
      m[IX_LF_SRC] = b;
      m[IX_LF_SRC_HI] = bHi;
      m[IX_LF_RES] = Number(R & 0xffffffffn) | 0;
      m[IX_LF_RES_HI] = Number(R >> 32n) | 0;
      m[IX_LF_AUX] = op === LF_INC || op === LF_DEC ? rng.int(2) : cin;
      const saved = m.slice();
      for (let cc = 0; cc < 16; cc++) {
        m.set(saved);
        const got = cond(m, cc);
        m.set(saved);
        const want = condByFlags(getFlags(m), cc);
        if (got !== want) expect(`op ${op} size ${sz} a ${a} ${aHi} b ${b} ${bHi} cc ${cc}: ${got}`).toBe('');
        checked++;
      }
    }
    expect(checked).toBe(320000);
  });
});

describe('hot loop', () => {
  it('matches the handlers in 64-bit mode', () => {
    expect(compare(64, 0x4801, 2500)).toBeGreaterThan(1000);
  });
  it('matches the handlers in 32-bit code (compatibility mode, flat segments)', () => {
    expect(compare(32, 0x3202, 2000)).toBeGreaterThan(1000);
  });
});

describe('word A memory bits', () => {
  // Which forms read or write their memory operand, from the instruction set (not from hot-prep):
  // a write through a TLB entry for reads only would skip the #PF a read-only page must raise.
  const cases: [string, number[], 'none' | 'read' | 'write'][] = [
    ['add [rax], ebx', [0x01, 0x18], 'write'],
    ['add ebx, [rax]', [0x03, 0x18], 'read'],
    ['cmp [rax], ebx', [0x39, 0x18], 'read'],
    ['test [rax], ebx', [0x85, 0x18], 'read'],
    ['sub qword [rax+8], 5', [0x48, 0x83, 0x68, 0x08, 0x05], 'write'],
    ['cmp qword [rax+8], 5', [0x48, 0x83, 0x78, 0x08, 0x05], 'read'],
    ['and byte [rax], 1', [0x80, 0x20, 0x01], 'write'],
    ['cmp byte [rax], bl', [0x38, 0x18], 'read'],
    ['mov [rax], ebx', [0x89, 0x18], 'write'],
    ['mov rbx, [rip+16]', [0x48, 0x8b, 0x1d, 0x10, 0, 0, 0], 'read'],
    ['mov dword [rax], 7', [0xc7, 0x00, 7, 0, 0, 0], 'write'],
    ['mov byte [rax], bl', [0x88, 0x18], 'write'],
    ['mov bl, [rax]', [0x8a, 0x18], 'read'],
    ['movzx ebx, byte [rax]', [0x0f, 0xb6, 0x18], 'read'],
    ['movsxd rbx, [rax]', [0x48, 0x63, 0x18], 'read'],
    ['imul ebx, [rax]', [0x0f, 0xaf, 0x18], 'read'],
    ['lea rbx, [rax+rcx*4]', [0x48, 0x8d, 0x1c, 0x88], 'none'],
    ['add ebx, ecx', [0x01, 0xcb], 'none'],
    ['push rbx', [0x53], 'none'],
  ];
  it.each(cases)('%s', (_name, bytes, want) => {
    const rows = hotRows();
    const d = new Decoded();
    const code = Uint8Array.from([...bytes, 0x90, 0x90]);
    decode(code, 0, code.length, 64, d);
    expect(hotKind(rows[d.row]!, d, 64)).not.toBe(0);
    const a = hotOut[0]!;
    const got = (a & HA_MEM) === 0 ? 'none' : (a & HA_WR) !== 0 ? 'write' : 'read';
    expect(got).toBe(want);
  });
});
