/**
 * Runs generated cases on the host CPU (test/oracle/native.ts) and in the interpreter, and
 * describes every difference: registers, arithmetic flags and DF (undefined ones masked), the
 * scratch page, and the fault vector.
 */
import { FLAG_DF, FLAGS_ARITH, OFF_RIP } from '../../src/cpu/state.js';
import { FAULT_NONE, runNativeBatch, type NativeResult } from '../oracle/native.js';
import { candidateRows, genCase, Rng, type GenCase } from './gen.js';
import { TestMachine } from './env.js';

const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

export interface Mismatch {
  index: number;
  text: string;
}

export function makeCases(seed: number, count: number, maxLen: number): GenCase[] {
  const rng = new Rng(seed);
  const rows = candidateRows();
  const out: GenCase[] = [];
  for (let i = 0; i < count; i++) out.push(genCase(rows, rng, 1 + rng.int(maxLen)));
  return out;
}

export function compareCases(cases: GenCase[], tm = new TestMachine()): { mismatches: Mismatch[]; compared: number; faults: number } {
  const native = runNativeBatch(cases.map((c) => ({ code: c.code, regs: c.regs, rflags: c.rflags, mem: c.mem })));
  const mismatches: Mismatch[] = [];
  let compared = 0;
  let faults = 0;
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    const n: NativeResult = native[i]!;
    if (n.fault < FAULT_NONE) continue; // syscall / timeout / crash: nothing to compare
    compared++;
    const r = tm.runCase(c.code, c.regs, c.rflags, c.mem, 100000);
    const diffs: string[] = [];
    const nf = n.fault === FAULT_NONE ? -1 : n.fault;
    if (nf !== r.fault) diffs.push(`fault native ${nf} ours ${r.fault}`);
    if (nf >= 0) faults++;
    if (nf >= 0 && r.fault === nf) {
      const rip = BigInt(tm.views.getNum(OFF_RIP));
      if (rip !== n.faultRip) diffs.push(`fault rip native ${n.faultRip.toString(16)} ours ${rip.toString(16)}`);
    }
    for (let k = 0; k < 16; k++) {
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
  return { mismatches, compared, faults };
}
