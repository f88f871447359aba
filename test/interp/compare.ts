/**
 * Runs generated cases on the host CPU (test/oracle/native.ts) and in the interpreter, and
 * describes every difference: registers, arithmetic flags and DF (undefined ones masked), the
 * scratch page, and the fault vector.
 */
import { FLAG_DF, FLAGS_ARITH, OFF_RIP } from '../../src/cpu/state.js';
import { FAULT_NONE, runNativeBatch, runNativeBatch32, type NativeResult } from '../oracle/native.js';
import { candidateRows, genCase, Rng, type GenCase } from './gen.js';
import { CODE_BASE, SCRATCH_BASE, TestMachine } from './env.js';

const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

export interface Mismatch {
  index: number;
  text: string;
}

export function makeCases(seed: number, count: number, maxLen: number, bits: 64 | 32 = 64): GenCase[] {
  const rng = new Rng(seed);
  const rows = candidateRows(bits);
  const out: GenCase[] = [];
  for (let i = 0; i < count; i++) out.push(genCase(rows, rng, 1 + rng.int(maxLen), bits));
  return out;
}

export function compareCases(cases: GenCase[], bits: 64 | 32 = 64): { mismatches: Mismatch[]; compared: number; faults: number } {
  const tm = new TestMachine(bits);
  const run = bits === 64 ? runNativeBatch : runNativeBatch32;
  const native = run(cases.map((c) => ({ code: c.code, regs: c.regs, rflags: c.rflags, mem: c.mem })));
  const mismatches: Mismatch[] = [];
  let compared = 0;
  let faults = 0;
  let hostMapped = 0;
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    const n: NativeResult = native[i]!;
    if (n.fault < FAULT_NONE) continue; // syscall / timeout / crash: nothing to compare
    compared++;
    const r = tm.runCase(c.code, c.regs, c.rflags, c.mem, 100000);
    // A 32-bit host process has its own stack and libraries mapped in the 4 GiB space: a #PF of
    // ours outside scratch/code where the host did not fault is the host's mapping, not a bug.
    const inOurs = (a: number): boolean => (a >= SCRATCH_BASE && a < SCRATCH_BASE + 4096) || (a >= CODE_BASE && a < CODE_BASE + 4096);
    const ourRip = BigInt(tm.views.getNum(OFF_RIP));
    if (bits === 32 && r.fault === 14 && !inOurs(r.faultAddr) && (n.fault !== 14 || n.faultRip !== ourRip)) {
      hostMapped++;
      continue;
    }
    const diffs: string[] = [];
    const nf = n.fault === FAULT_NONE ? -1 : n.fault;
    if (nf !== r.fault) diffs.push(`fault native ${nf} ours ${r.fault}`);
    if (nf >= 0) faults++;
    if (nf >= 0 && r.fault === nf) {
      const rip = BigInt(tm.views.getNum(OFF_RIP));
      if (rip !== n.faultRip) diffs.push(`fault rip native ${n.faultRip.toString(16)} ours ${rip.toString(16)}`);
    }
    for (let k = 0; k < (bits === 64 ? 16 : 8); k++) {
      if (bits === 32) {
        n.regs[k] = n.regs[k]! & 0xffffffffn;
        r.regs[k] = r.regs[k]! & 0xffffffffn;
      }
      if (n.regs[k] !== r.regs[k]) diffs.push(`r${k} native ${n.regs[k]!.toString(16)} ours ${r.regs[k]!.toString(16)}`);
    }
    const mask = (FLAGS_ARITH | FLAG_DF) & ~(nf >= 0 ? c.anyTaint : c.taint);
    if ((n.rflags & mask) !== (r.rflags & mask)) {
      diffs.push(`flags native ${(n.rflags & mask).toString(16)} ours ${(r.rflags & mask).toString(16)} (mask ${mask.toString(16)})`);
    }
    for (let a = 0; a < 4096; a++) {
      if (n.mem[a] !== r.mem[a]) {
        diffs.push(`mem[${a.toString(16)}] native ${n.mem[a]} ours ${r.mem[a]}`);
        break;
      }
    }
    if (diffs.length > 0) {
      mismatches.push({ index: i, text: `${c.names.join('; ')} [${hex(c.code)}]\n    ${diffs.slice(0, 6).join('\n    ')}` });
    }
  }
  return { mismatches, compared: compared - hostMapped, faults };
}
