/**
 * The run loop's inline kinds (src/interp/prep.ts) and its quick chaining against the handlers:
 * random register-only code (ALU reg-reg/reg-imm and TEST in 16/32/64 bits, MOV reg-reg, forward Jcc, a
 * DEC/JNZ loop around it; in 64-bit mode also MOVs to and from memory, aligned or not, some of
 * them storing into the code page) is run once through `run` (inline kinds, chained) and once instruction
 * by instruction through `stepRaw` (the handlers, which the host-CPU oracle checks), from the same
 * random registers and flags. Registers, arithmetic flags, RIP and the count must agree, also when
 * `run` is stopped and resumed at random points.
 */
import { describe, expect, it } from 'vitest';
import { OFF_INSN_COUNT, OFF_RFLAGS, OFF_RIP, gprOffset } from '../../src/cpu/state.js';
import {
  IX_LF_AUX, IX_LF_DST, IX_LF_DST_HI, IX_LF_OP, IX_LF_RES, IX_LF_RES_HI, IX_LF_SRC, IX_LF_SRC_HI, LF_ADC, LF_DEC,
  LF_INC, LF_SBB, getFlags,
} from '../../src/cpu/flags.js';

/** The lazy-flag words. */
const LF_WORDS = [IX_LF_OP, IX_LF_DST, IX_LF_DST_HI, IX_LF_SRC, IX_LF_SRC_HI, IX_LF_RES, IX_LF_RES_HI, IX_LF_AUX];

/**
 * The pending lazy-flag operation as flags.ts reads it: both paths must leave the same one (not
 * only the same flags). The high halves count for 64-bit tags only, AUX for ADC/SBB/INC/DEC; the
 * rest is stale and read by nobody.
 */
function lazyWords(m: Int32Array): string {
  const tag = m[IX_LF_OP]!;
  if (tag === 0) return '0';
  const words = [IX_LF_OP, IX_LF_DST, IX_LF_SRC, IX_LF_RES];
  if ((tag & 3) === 3) words.push(IX_LF_DST_HI, IX_LF_SRC_HI, IX_LF_RES_HI);
  if ([LF_ADC, LF_SBB, LF_INC, LF_DEC].includes(tag >> 2)) words.push(IX_LF_AUX);
  return words.map((w) => m[w]).join(',');
}
import { RUN_LIMIT } from '../../src/interp/interpreter.js';
import { CODE_BASE, CODE_PHYS, SCRATCH_BASE, TestMachine } from './env.js';

/**
 * The data page r15 points to: env.ts's scratch page shares its direct-mapped TLB slot with the
 * code page (both addresses are 0 mod 2^24), so every access would miss; this one has a slot of its own.
 */
const DATA_BASE = SCRATCH_BASE + 0x5000;
const DATA_PHYS = 0x30000;
const PT_SCRATCH = 0x4000; // env.ts's page table for the scratch region


/** xorshift32: deterministic random numbers. */
function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

const ALU_OPS = [0, 1, 4, 5, 6, 7]; // add or and sub xor cmp (ModRM /reg numbers)

/** A MOV between a register and memory at [r15 + disp8], [r15 + rcx*8 + disp8] or [rip + disp32]. */
function memMov(r: () => number): number[] {
  let reg = r() % 15;
  if (reg === 1) reg = 0;
  const store = r() % 2 === 0;
  const out = [0x41 | ((r() & 1) << 3) | (reg >= 8 ? 4 : 0)]; // REX.B (r15), random W
  out.push(store ? 0x89 : 0x8b);
  const disp = r() % 3 === 0 ? r() & 0x7f : (r() & 0x1f) << 2; // mostly aligned
  switch (r() % 3) {
    case 0: out.push(0x47 | ((reg & 7) << 3), disp); break; // [r15 + disp8]
    case 1: out.push(0x44 | ((reg & 7) << 3), 0xcf, disp); break; // [r15 + rcx*8 + disp8]
    default: {
      // [rip + disp32]: in the code page past the program (a store there invalidates its cache)
      out[0] &= ~1;
      out.push(0x05 | ((reg & 7) << 3), 0x00, 0x08, 0, 0);
      break;
    }
  }
  return out;
}

/** One random register-only instruction (or memory MOV); rcx (the loop counter) and r15 are never destinations. */
function insn(r: () => number, bits: number): number[] {
  const nregs = bits === 64 ? 15 : 8;
  if (bits === 64 && r() % 5 === 0) return memMov(r);
  let dst = r() % nregs;
  if (dst === 1) dst = 0;
  const src = r() % nregs;
  const width = r() % 4; // 0: 16-bit, 1: 32-bit, 2/3: 64-bit in 64-bit mode
  const out: number[] = [];
  if (width === 0) out.push(0x66);
  const w = bits === 64 && width >= 2 ? 8 : 0;
  const rex = (reg: number, rm: number): void => {
    const b = 0x40 | w | (reg >= 8 ? 4 : 0) | (rm >= 8 ? 1 : 0);
    if (bits === 64 && (b !== 0x40 || r() % 3 === 0)) out.push(b);
  };
  const modrm = (reg: number, rm: number): number => 0xc0 | ((reg & 7) << 3) | (rm & 7);
  const op = ALU_OPS[r() % ALU_OPS.length];
  switch (r() % 8) {
    case 0: rex(src, dst); out.push(op * 8 + 1, modrm(src, dst)); break; // op Ev,Gv
    case 1: rex(dst, src); out.push(op * 8 + 3, modrm(dst, src)); break; // op Gv,Ev
    case 2: rex(0, dst); out.push(0x83, modrm(op, dst), r() & 0xff); break; // op Ev,Ibs
    case 3: {
      rex(0, dst);
      const v = r();
      out.push(0x81, modrm(op, dst), v & 0xff, (v >>> 8) & 0xff);
      if (width !== 0) out.push((v >>> 16) & 0xff, v >>> 24);
      break;
    }
    case 4: rex(src, dst); out.push(0x89, modrm(src, dst)); break; // mov Ev,Gv
    case 5: rex(src, dst); out.push(0x85, modrm(src, dst)); break; // test Ev,Gv
    case 6: {
      rex(0, dst);
      const v = r() >>> (r() % 32); // test Ev,Iz: often small masks
      out.push(0xf7, modrm(0, dst), v & 0xff, (v >>> 8) & 0xff);
      if (width !== 0) out.push((v >>> 16) & 0xff, v >>> 24);
      break;
    }
    default: rex(dst, src); out.push(0x8b, modrm(dst, src)); break; // mov Gv,Ev
  }
  return out;
}

function program(r: () => number, bits: number): number[] {
  const body: number[][] = [];
  const n = 4 + (r() % 20);
  for (let i = 0; i < n; i++) body.push(insn(r, bits));
  // forward Jcc over the next 1..3 body instructions (and any Jcc between), at random places
  const jumpTo: number[] = body.map((_, i) => (r() % 4 === 0 ? i + 1 + (r() % Math.min(3, n - i)) : -1));
  const code: number[] = [0xb9, 3, 0, 0, 0]; // mov ecx, 3
  const top = code.length;
  const starts: number[] = [];
  const patches: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    starts.push(code.length);
    if (jumpTo[i] >= 0) {
      code.push(0x70 | (r() % 16), 0);
      patches.push([code.length - 1, jumpTo[i]]);
    }
    code.push(...body[i]);
  }
  starts.push(code.length);
  for (const [at, to] of patches) code[at] = starts[to] - (at + 1);
  code.push(0xff, 0xc9); // dec ecx
  const back = top - (code.length + 6);
  code.push(0x0f, 0x85, back & 0xff, (back >> 8) & 0xff, (back >> 16) & 0xff, (back >> 24) & 0xff); // jnz top (rel32)
  return code;
}

function setUp(tm: TestMachine, code: number[], regs: number[], flags: number): void {
  const v = tm.views;
  tm.phys.fill(CODE_PHYS, 4096, 0xcc);
  tm.phys.writeBytes(CODE_PHYS, Uint8Array.from(code));
  for (let i = 0; i < 16; i++) v.set64(gprOffset(i), regs[2 * i], regs[2 * i + 1]);
  v.set64(gprOffset(15), DATA_BASE, 0);
  tm.phys.fill(DATA_PHYS, 4096, 0x5a);
  v.set64(OFF_RFLAGS, (flags & 0x8d5) | 0x2, 0);
  for (const w of LF_WORDS) v.i32[w] = 0; // LF_OP 0: flags are current
  v.set64(OFF_RIP, CODE_BASE, 0);
  v.setNum(OFF_INSN_COUNT, 0);
}

function snapshot(tm: TestMachine): string {
  const v = tm.views;
  const regs: string[] = [];
  for (let i = 0; i < 16; i++) regs.push(v.getBig(gprOffset(i)).toString(16));
  const mem = Array.from(tm.phys.readBytes(DATA_PHYS, 256), (b) => b.toString(16)).join('');
  const code = Array.from(tm.phys.readBytes(CODE_PHYS + 0x800, 256), (b) => b.toString(16)).join('');
  const lazy = lazyWords(v.i32);
  return `${regs.join(' ')} mem ${mem} ${code} flags ${(getFlags(v.i32) & 0x8d5).toString(16)} lazy ${lazy} rip ${v.getNum(OFF_RIP).toString(16)} ` +
    `count ${v.getNum(OFF_INSN_COUNT)}`;
}

function compare(bits: 64 | 32, seed: number, cases: number): void {
  const r = rng(seed);
  const tm = new TestMachine(bits);
  tm.phys.write32(PT_SCRATCH + 8 * 5, DATA_PHYS | 7);
  tm.phys.write32(PT_SCRATCH + 8 * 5 + 4, 0);
  for (let c = 0; c < cases; c++) {
    const code = program(r, bits);
    const regs = Array.from({ length: 32 }, () => r() | 0);
    const flags = r();
    // the handlers, one instruction at a time, until the loop falls through
    setUp(tm, code, regs, flags);
    let steps = 0;
    while (tm.views.getNum(OFF_RIP) !== CODE_BASE + code.length && steps < 1000) {
      const at = tm.views.getNum(OFF_RIP) - CODE_BASE;
      expect(tm.interp.stepRaw(), `case ${c} at ${at}: ${code.map((b) => b.toString(16)).join(' ')}`).toBe(0);
      steps++;
    }
    tm.views.setNum(OFF_INSN_COUNT, steps);
    const want = snapshot(tm);
    // the run loop in one go, and stopped and resumed at random points
    setUp(tm, code, regs, flags);
    expect(tm.interp.run(steps)).toBe(RUN_LIMIT);
    expect(snapshot(tm), `case ${c}: ${code.map((b) => b.toString(16)).join(' ')}`).toBe(want);
    setUp(tm, code, regs, flags);
    for (let at = 1 + (r() % 5); at < steps; at += 1 + (r() % 7)) tm.interp.run(at);
    tm.interp.run(steps);
    expect(snapshot(tm), `case ${c} resumed`).toBe(want);
  }
}

describe('run loop inline kinds', () => {
  it('match the handlers in 64-bit mode', () => compare(64, 0x1234, 300));
  it('match the handlers in compatibility mode', () => compare(32, 0x5678, 300));
});
