/**
 * Differential fuzzing of the translator against the interpreter: random 64-bit user-mode
 * programs (ALU ops of every size on random registers, memory operands in the data pages, INC/DEC,
 * LEA, MOVZX/MOVSX, PUSH/POP pairs, forward Jcc, helpers such as ADC/SHL/IMUL/SETcc/CMOVcc) wrapped
 * in a counted loop, run under both engines with random thresholds and slice sizes; any difference
 * in registers, flags, memory or instruction count is printed with the program.
 *
 * --gen: the programs of the interpreter's host-CPU oracle instead (test/interp/gen.ts: every
 * general-purpose row the interpreter implements, 64-bit and 32-bit code), looped a few times
 * (test/dbt/random-env.ts); no nasm needed, about 4 ms a program on machines reused. A mismatch prints the
 * seed, options and code bytes: `--gen --seed S --count 1` reproduces it.
 * Run: npx tsx scripts/fuzz-dbt.ts [--gen] [--count N] [--seed S]
 */
import { DATA, ParityMachine, asm, type Final } from '../test/dbt/env.js';
import { compareFinal, ProgramRunner, randomProgram, randomTrial, Rng } from '../test/dbt/random-env.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
let seed = arg('--seed', Date.now() % 100000) >>> 0;
const count = arg('--count', 50);
const rnd = (n: number): number => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return Math.floor((seed / 4294967296) * n);
};
const pick = <T>(a: T[]): T => a[rnd(a.length)];

const R64 = ['rax', 'rbx', 'rdx', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rbp'];
const R32 = ['eax', 'ebx', 'edx', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'ebp'];
const R16 = ['ax', 'bx', 'dx', 'di', 'r8w', 'r9w'];
const R8_LEGACY = ['al', 'bl', 'dl', 'ah', 'bh', 'dh'];
const R8_REX = ['al', 'bl', 'dl', 'sil', 'r8b', 'r9b'];
let R8 = R8_LEGACY;
const ALU = ['add', 'sub', 'and', 'or', 'xor', 'cmp', 'test'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const SIZES = (): [string[], string][] => [[R64, 'qword'], [R32, 'dword'], [R16, 'word'], [R8, 'byte']];

function insn(label: number): string {
  const [regs, mem] = pick(SIZES());
  const r = pick(regs);
  const m = `${mem} [rsi + ${rnd(2000)}]`;
  switch (rnd(14)) {
    case 0: return `${pick(ALU)} ${r}, ${pick(regs)}`;
    case 1: return `${pick(ALU)} ${r}, ${rnd(2) ? rnd(256) - 128 : rnd(100000)}`.replace(/, (\d{4,})$/, (s) => (regs === R8 ? ', 7' : s));
    case 2: return `${pick(ALU)} ${rnd(2) ? `${m}, ${r}` : `${r}, ${m}`}`;
    case 3: return `${pick(['inc', 'dec'])} ${rnd(2) ? r : m}`;
    case 4: return `mov ${rnd(2) ? `${m}, ${r}` : `${r}, ${m}`}`;
    case 5: return `lea ${pick(R64)}, [${pick(R64)} + ${pick(R64)}*${pick([1, 2, 4, 8])} + ${rnd(1000) - 500}]`;
    case 6: return `${pick(['movzx', 'movsx'])} ${R8 === R8_LEGACY ? pick(['eax', 'ebx', 'edx', 'edi']) : pick(R32)}, ${pick(R8)}`;
    case 7: return `push ${pick(R64)}\n pop ${pick(R64)}`;
    case 8: return rnd(4) === 0 ? `lea rax, [rel .f${label}]\n jmp rax\n.f${label}:` : `j${pick(CC)} .f${label}\n ${pick(ALU)} ${pick(R32)}, ${rnd(50)}\n.f${label}:`;
    case 9: return `${pick(['adc', 'sbb'])} ${r}, ${pick(regs)}`;
    case 10: return `${pick(['shl', 'shr', 'sar', 'rol'])} ${r}, ${rnd(8)}`;
    case 11: {
      // IMUL two- and three-operand forms (no byte form), then a Jcc on its flags
      const [rr, mm] = regs === R8 ? [R32, 'dword'] : [regs, mem];
      const d = pick(rr);
      const src = rnd(3) === 0 ? `${mm} [rsi + ${rnd(2000)}]` : pick(rr);
      const imm = rnd(2) ? `, ${rnd(2) ? rnd(256) - 128 : rnd(200000) - 100000}` : '';
      const f = rr === R16 && imm !== '' ? `, ${rnd(256) - 128}` : imm;
      return `imul ${d}, ${src}${f}\n j${pick(CC)} .f${label}\n inc ${pick(R32)}\n.f${label}:`;
    }
    case 12: return rnd(3) === 0 ? `mul ${rnd(2) ? pick(R32) : `dword [rsi + ${rnd(2000)}]`}\n j${pick(CC)} .f${label}\n inc ${pick(R32)}\n.f${label}:`
      : `${pick(['neg', 'not'])} ${rnd(2) ? r : m}\n set${pick(CC)} ${pick(R8)}`;
    case 13: return `${pick(['shl', 'shr', 'sar', 'sal'])} ${r}, ${pick([1, rnd(8), rnd(70)])}\n j${pick(CC)} .f${label}\n inc ${pick(R32)}\n.f${label}:`;
    default: return rnd(2) ? `set${pick(CC)} ${pick(R8)}` : `cmov${pick(CC)} ${pick(R64)}, ${pick(R64)}`;
  }
}

function same(a: Final, b: Final): string {
  if (a.count !== b.count) return `count ${a.count} vs ${b.count}`;
  if (a.rip !== b.rip) return `rip ${a.rip.toString(16)} vs ${b.rip.toString(16)}`;
  for (let r = 0; r < 16; r++) if (a.regs[r] !== b.regs[r]) return `reg ${r}: ${a.regs[r].toString(16)} vs ${b.regs[r].toString(16)}`;
  if (a.rflags !== b.rflags) return `rflags ${a.rflags.toString(16)} vs ${b.rflags.toString(16)}`;
  if (!Buffer.from(a.data).equals(Buffer.from(b.data))) return 'data pages differ';
  return '';
}

/** --gen: program k of the run uses seed (first + k), so any one is reproduced alone. */
function genRun(first: number): never {
  let bad = 0;
  let translated = 0;
  let completed = 0;
  let sliceDependent = 0;
  const runner = new ProgramRunner(); // two machines used again and again (test/dbt/random.test.ts builds fresh ones)
  const t0 = performance.now();
  for (let k = 0; k < count; k++) {
    const s = (first + k) >>> 0;
    const rng = new Rng(s);
    const p = randomProgram(rng, rng.chance(0.7) ? 64 : 32, 1 + rng.int(24), 1 + rng.int(8), rng.chance(0.6));
    const { opts, slice } = randomTrial(rng);
    // the reference runs in the same slices: REP instructions stop at a slice's end and restart
    // from their bytes, which the interpreter alone shows too (counted apart below)
    const ref = runner.run(p, null, slice);
    const got = runner.run(p, opts, slice);
    const diff = compareFinal(p, ref, got);
    if (slice !== 100_000 && compareFinal(p, runner.run(p, null, 100_000), ref) !== '') {
      sliceDependent++;
      if (sliceDependent <= 20) console.log(`interpreter alone depends on the slice (${slice}): seed ${s}`);
    }
    if (got.translated > 0) translated++;
    if (ref.counter[0] === 0 && ref.counter[1] === 0) completed++;
    if (diff !== '') {
      bad++;
      console.log(`MISMATCH seed ${s} (${diff}) bits ${p.bits} x${p.iterations} opts ${JSON.stringify(opts)} slice ${slice}\n` +
        `  ${p.c.names.join(' ')}\n  code ${Buffer.from(p.code).toString('hex')}\n`);
    }
    if ((k + 1) % 10_000 === 0) console.log(`${k + 1} programs, ${bad} mismatches, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  console.log(`${count} generator programs from seed ${first}: ${bad} mismatches (${((performance.now() - t0) / 1000).toFixed(1)} s); ` +
    `${translated} ran translated code, ${completed} ran every iteration (the rest stopped at a fault); ` +
    `${sliceDependent} where the interpreter alone ends differently in slices`);
  process.exit(bad === 0 ? 0 : 1);
}

let bad = 0;
let skipped = 0;
const first = seed;
if (args.includes('--gen')) genRun(first);
for (let n = 0; n < count; n++) {
  R8 = rnd(2) ? R8_LEGACY : R8_REX;
  const body: string[] = [];
  for (let i = 0, k = 10 + rnd(30); i < k; i++) body.push(insn(i));
  const src = `mov rsi, ${DATA}\n mov ecx, ${5 + rnd(50)}\nL:\n${body.join('\n')}\n dec ecx\n jnz L\n hlt`;
  let prog: Uint8Array;
  try {
    prog = asm(src);
  } catch {
    skipped++; // an operand mix nasm rejects (AH with a REX register ...)
    continue;
  }
  const ref = new ParityMachine(prog, null).run(100_000);
  const opts = { threshold: rnd(3), tcIndex: pick(['phys', 'virt'] as const) };
  const slice = pick([100_000, 997, 31]);
  const got = new ParityMachine(prog, opts).run(100_000, slice);
  const diff = same(ref, got);
  if (diff !== '') {
    bad++;
    console.log(`MISMATCH (${diff}) opts ${JSON.stringify(opts)} slice ${slice}\n${src}\n`);
  }
}
console.log(`${count} programs from seed ${first}: ${bad} mismatches, ${skipped} not assembled`);
process.exit(bad === 0 ? 0 : 1);
