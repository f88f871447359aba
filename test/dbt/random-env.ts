/**
 * Random-program parity between the translator and the interpreter, with the programs of the
 * interpreter's host-CPU oracle (test/interp/gen.ts, imported, not copied): one generated case
 * (every general-purpose row the interpreter implements, memory operands into a scratch page)
 * wrapped in a counted loop so blocks get hot and regions form, run in the 64-bit parity machine
 * of env.ts (or its 32-bit compatibility-mode code segment) by the interpreter alone and by the
 * translator with random options and slice sizes. Registers, RIP, flags, the instruction count,
 * CR2, the scratch/data pages, the loop counter page and the kernel stack (exception frames of
 * faults part-way) must be identical, except flags the generator says are undefined.
 *
 * Layout added to env.ts's machine: virtual SCRATCH_BASE (256 MiB) -> physical DATA (4 pages,
 * through a page table at SCRATCH_PT), the loop counter and a copy of RAX at physical COUNTER.
 * The program: `top: <case>; clc; dec dword [COUNTER]; jnz top; mov [COUNTER+8], rax; hlt` (HLT
 * is #GP(0) at CPL 3: the stub writes the vector into AL and halts, hence the RAX copy).
 */
import { getFlags, setFlags } from '../../src/cpu/flags.js';
import { OFF_CR2, OFF_INSN_COUNT, OFF_RIP, SEG_BASE, SEG_FS, gprOffset, segOffset } from '../../src/cpu/state.js';
import { F_BRANCH, F_IOPL, F_PRIV, F_SENS } from '../../src/cpu/table-defs.js';
import { createDbtEngine, type DbtOptions } from '../../src/dbt/engine.js';
import { candidateRows, genCase, Rng, SCRATCH_BASE, type GenCase, type GenRow } from '../interp/gen.js';
import { CODE, DATA, ParityMachine, type Final } from './env.js';

export const COUNTER = 0x48000;
const SCRATCH_PT = 0x18000;
const PD = 0x12000;
/** Offset of the RFLAGS slot of a 64-bit exception frame in Final.kstack (frame top 0x7000). */
const FRAME_RFLAGS = 0xe8;

export interface RandomProgram {
  bits: 64 | 32;
  c: GenCase;
  iterations: number;
  code: Uint8Array;
}

const rowCache = new Map<string, GenRow[]>();
/**
 * The generator's rows, or (`plain`) only those that cannot fault by themselves for lack of
 * privilege or transfer control (no privileged, IOPL, sensitive or branch rows except the
 * zero-displacement ones, no UD0/1/2): programs that mostly run every iteration, in translated
 * code, rather than stop at their first system instruction.
 */
function rows(bits: 64 | 32, plain: boolean): GenRow[] {
  const key = `${bits}${plain}`;
  let r = rowCache.get(key);
  if (r === undefined) {
    r = candidateRows(bits);
    if (plain) {
      r = r.filter((g) => ((g.row.flags & (F_PRIV | F_IOPL | F_SENS)) === 0 || g.row.name === 'pushf') && !/^ud/.test(g.row.name) &&
        ((g.row.flags & F_BRANCH) === 0 || /^(jcc|loop|jcxz|call)J/.test(g.row.name)));
    }
    rowCache.set(key, r);
  }
  return r;
}

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** One program from the generator: `n` instructions looped `iterations` times. */
export function randomProgram(rng: Rng, bits: 64 | 32, n: number, iterations: number, plain = false): RandomProgram {
  const c = genCase(rows(bits, plain), rng, n, bits);
  const tail: number[] = [0xf8]; // clc: every flag is defined when the loop comes round
  tail.push(...(bits === 64 ? [0xff, 0x0c, 0x25] : [0xff, 0x0d]), ...le32(COUNTER)); // dec dword [COUNTER]
  const jnzAt = c.code.length + tail.length;
  tail.push(0x0f, 0x85, ...le32(-(jnzAt + 6))); // jnz top
  if (bits === 64) tail.push(0x48, 0x89, 0x04, 0x25, ...le32(COUNTER + 8)); // mov [COUNTER+8], rax
  else tail.push(0xa3, ...le32(COUNTER + 8)); // mov [COUNTER+8], eax
  tail.push(0xf4); // hlt
  const code = new Uint8Array(c.code.length + tail.length);
  code.set(c.code);
  code.set(tail, c.code.length);
  return { bits, c, iterations, code };
}

export interface RandomFinal extends Final {
  counter: Uint8Array;
  /** Instructions the translated code ran (0 under the interpreter). */
  translated: number;
}

/** Runs p under the interpreter (opts null) or the translator, in slices of `slice`. */
export function runProgram(p: RandomProgram, opts: DbtOptions | null, slice: number, limit = 100_000): RandomFinal {
  const m = new ParityMachine(p.code, opts, p.bits);
  setup(m, p);
  const f = m.run(limit, slice);
  const translated = m.dbt === null ? 0 : m.dbt.stats().insnsTranslated;
  return { ...f, rflags: getFlags(m.views.i32) >>> 0, counter: m.phys.readBytes(COUNTER, 16), translated };
}

/**
 * The same as runProgram on one machine per bitness used again and again (for the long runs:
 * building a machine costs more than running a program): the whole memory is restored from a
 * copy taken after construction, the interpreter's decoded pages and the TLB are dropped, and
 * the translator is a new engine over the same interpreter each time.
 */
export class ProgramRunner {
  private readonly machines = new Map<number, { m: ParityMachine; image: Uint8Array }>();

  run(p: RandomProgram, opts: DbtOptions | null, slice: number, limit = 100_000): RandomFinal {
    let e = this.machines.get(p.bits);
    if (e === undefined) {
      const m = new ParityMachine(new Uint8Array(0), null, p.bits);
      e = { m, image: m.views.u8.slice() };
      this.machines.set(p.bits, e);
    }
    const m = e.m;
    const v = m.views;
    m.phys.onCodeWrite = null;
    v.u8.set(e.image);
    m.interp.flush();
    m.mmu.flushAll();
    m.mmu.fault = 0;
    m.phys.onCodeWrite = (page) => m.interp.invalidatePage(page);
    m.phys.writeBytes(CODE, p.code);
    m.interp.cpu.refreshMode();
    const dbt = opts === null ? null : createDbtEngine(m.ctx, m.interp, { tcSync: true, ...opts });
    setup(m, p);
    let result = 0;
    for (;;) {
      const now = v.getNum(OFF_INSN_COUNT);
      if (now >= limit) break;
      const stopAt = Math.min(limit, now + slice);
      result = dbt !== null ? dbt.run(stopAt) : m.interp.run(stopAt);
      if (result !== 0) break;
    }
    const regs: bigint[] = [];
    for (let r = 0; r < 16; r++) regs.push(v.getBig(gprOffset(r)));
    return {
      regs, rip: v.getNum(OFF_RIP), rflags: getFlags(v.i32) >>> 0, count: v.getNum(OFF_INSN_COUNT), result, cr2: v.getNum(OFF_CR2),
      data: m.phys.readBytes(DATA, 4096 * 4), kstack: m.phys.readBytes(0x7000 - 0x100, 0x100), code: m.phys.readBytes(CODE, 4096 * 4),
      counter: m.phys.readBytes(COUNTER, 16), translated: dbt === null ? 0 : dbt.stats().insnsTranslated,
    };
  }
}

/** The scratch mapping, its contents, the loop counter and the case's registers and flags. */
function setup(m: ParityMachine, p: RandomProgram): void {
  const v = m.views;
  const phys = m.phys;
  // virtual SCRATCH_BASE.. -> DATA.. (PD entry 128 covers 256 MiB .. +2 MiB)
  phys.write32(PD + 128 * 8, SCRATCH_PT | 7);
  for (let i = 0; i < 4; i++) phys.write32(SCRATCH_PT + i * 8, (DATA + i * 4096) | 7);
  phys.fill(DATA, 4096 * 4, 0);
  phys.writeBytes(DATA, p.c.mem);
  phys.write32(COUNTER, p.iterations);
  for (let r = 0; r < 16; r++) v.setBig(gprOffset(r), p.c.regs[r] ?? 0n);
  setFlags(v.i32, (p.c.rflags & 0xcd5) | 0x202);
  // 16-bit addressing in 32-bit cases reaches scratch through FS
  if (p.bits === 32) v.set64(segOffset(SEG_FS) + SEG_BASE, SCRATCH_BASE, 0);
  v.setNum(OFF_INSN_COUNT, 0);
}

const hexs = (a: Uint8Array): string => Buffer.from(a).toString('hex');

/** '' when a and b agree, else what differs first. Flags the case may leave undefined are masked. */
export function compareFinal(p: RandomProgram, a: RandomFinal, b: RandomFinal): string {
  const keep = ~p.c.anyTaint >>> 0;
  if (a.count !== b.count) return `count ${a.count} vs ${b.count}`;
  if (a.result !== b.result) return `result ${a.result} vs ${b.result}`;
  if (a.rip !== b.rip) return `rip ${a.rip.toString(16)} vs ${b.rip.toString(16)}`;
  for (let r = 0; r < 16; r++) if (a.regs[r] !== b.regs[r]) return `reg ${r}: ${a.regs[r].toString(16)} vs ${b.regs[r].toString(16)}`;
  if (((a.rflags ^ b.rflags) & keep) !== 0) return `rflags ${a.rflags.toString(16)} vs ${b.rflags.toString(16)}`;
  if (a.cr2 !== b.cr2) return `cr2 ${a.cr2.toString(16)} vs ${b.cr2.toString(16)}`;
  if (hexs(a.counter) !== hexs(b.counter)) return `counter/rax copy ${hexs(a.counter)} vs ${hexs(b.counter)}`;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return `data byte ${(DATA + i).toString(16)}: ${a.data[i]} vs ${b.data[i]}`;
  for (let i = 0; i < a.kstack.length; i++) {
    let x = a.kstack[i] ^ b.kstack[i];
    if (i >= FRAME_RFLAGS && i < FRAME_RFLAGS + 4) x &= (keep >>> ((i - FRAME_RFLAGS) * 8)) & 0xff;
    if (x !== 0) return `kernel stack byte ${i}: ${a.kstack[i]} vs ${b.kstack[i]}`;
  }
  if (hexs(a.code) !== hexs(b.code)) return 'code pages differ';
  return '';
}

export interface Trial {
  opts: DbtOptions;
  slice: number;
}

/** Translator options and a slice size for one trial, drawn from rng. */
export function randomTrial(rng: Rng): Trial {
  const opts: DbtOptions = {
    threshold: [0, 0, 0, 1, 2, 3][rng.int(6)],
    tcIndex: rng.chance(0.25) ? 'virt' : 'phys',
  };
  if (rng.chance(0.1)) opts.inline = false;
  if (rng.chance(0.1)) opts.kernelExec = 'dbt';
  if (rng.chance(0.05)) opts.tcSize = 1 + rng.int(4);
  return { opts, slice: [100_000, 100_000, 997, 31, 7][rng.int(5)] };
}

export { Rng };
