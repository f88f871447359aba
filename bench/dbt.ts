/**
 * Translator vs interpreter on CPU-bound user code (issue 6's speed target: at least 10x). Three
 * 64-bit user-mode workloads on the parity-test machine (test/dbt/env.ts, assembled with nasm):
 * the 6-instruction loop of ARCHITECTURE.md §4 (one self-looping block), a loop with a call and a
 * two-way branch (several blocks, the dispatcher between them), fib(24) (calls and returns), and fib(24) as flat 32-bit (compatibility-mode) code.
 * Prints guest MIPS per engine (best of three interleaved runs) and the ratio. Run: npx tsx bench/dbt.ts [--insns N]
 */
import { DATA, ParityMachine, asm } from '../test/dbt/env.js';

const args = process.argv.slice(2);
const insns = Number(args[args.indexOf('--insns') + 1] ?? 0) || 30_000_000;

const WORKLOADS: [string, string, (64 | 32)?][] = [
  ['loop6', `
    mov rsi, ${DATA}
    mov rdi, 1000000000
    xor ecx, ecx
  L: mov eax, [rsi+rcx*4]
    add ebx, eax
    xor edx, ebx
    add rcx, 1
    and rcx, 1023
    cmp rcx, rdi
    jb L
    hlt`],
  ['branchy', `
    mov rsi, ${DATA}
    xor ecx, ecx
  L: mov eax, [rsi+rcx*4]
    test eax, 1
    jz even
    add ebx, eax
    jmp next
  even: call f
  next: inc ecx
    and ecx, 1023
    jmp L
  f: sub edx, eax
    ret
    hlt`],
  ['fib', `
  top: mov rdi, 24
    call fib
    jmp top
  fib: cmp rdi, 2
    jb .s
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
  .s: mov rax, rdi
    ret`],
  ['fib32', `
  top: mov edi, 24
    call fib
    jmp top
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
    ret`, 32],
];

/** Instructions per engine call, as the machine's run loop (its slice and timer deadlines). */
const SLICE = 1 << 20;

function mips(prog: Uint8Array, dbt: boolean, n: number, bits: 64 | 32): { mips: number; stats?: Record<string, number> } {
  const m = new ParityMachine(prog, dbt ? { threshold: 10 } : null, bits);
  // Warm up (translate, and let V8 move the hot functions to its optimizing tier, which a call
  // picks up only when it starts: hence slices, as the machine's run loop calls the engine).
  const warm = 5_000_000;
  m.run(warm, SLICE);
  const t0 = performance.now();
  const f = m.run(warm + n, SLICE);
  const ms = performance.now() - t0;
  return { mips: (f.count - warm) / ms / 1000, stats: m.dbt?.stats() };
}

for (const [name, src, bits = 64] of WORKLOADS) {
  const prog = asm(src, bits);
  // best of three, interleaved: the machine is shared, so take each engine's least-disturbed run
  let a = { mips: 0 };
  let b = { mips: 0 };
  for (let k = 0; k < 3; k++) {
    const x = mips(prog, false, Math.min(insns, 5_000_000), bits);
    if (x.mips > a.mips) a = x;
    const y = mips(prog, true, insns, bits);
    if (y.mips > b.mips) b = y;
  }
  console.log(`${name.padEnd(8)} interp ${a.mips.toFixed(1).padStart(7)} MIPS   dbt ${b.mips.toFixed(1).padStart(8)} MIPS   x${(b.mips / a.mips).toFixed(1)}`);
}
