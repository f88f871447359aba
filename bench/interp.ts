/**
 * Interpreter speed on the 6-instruction loop of ARCHITECTURE.md §3/§4, in 64-bit mode:
 *
 *   outer: xor ecx, ecx
 *   inner: mov eax, [rsi+rcx*4]; add ebx, eax; xor edx, ebx; add rcx, 1; cmp rcx, rdi; jb inner
 *          jmp outer
 *
 * over a 4096-element array, with 4-level paging on (the TLB in use). Prints guest MIPS per run
 * and their median per CPU second (the machine is shared: CPU time is the stable figure), and
 * the heap growth across the timed runs (it should stay flat: the hot loop allocates nothing).
 * Usage: npx tsx bench/interp.ts [millions of instructions per run, default 50] [runs, default 5]
 *
 * Image mode: `npx tsx bench/interp.ts guest-images/bench64.bin [iters, default 20] [runs, default 3]`
 * boots the image with `--engine interp` once with iters=2 to warm the JIT up, then `runs` times
 * with iters=N in the same process, and prints guest MIPS per CPU second of each run (the
 * machine's run only: no start-up, no table building, no TurboFan warm-up) and their median.
 */
import {
  ATTR_L, CR0_PE, CR0_PG, CR4_PAE, EFER_LMA, EFER_LME, MODE_LONG64, OFF_CR0, OFF_CR3, OFF_CR4, OFF_EFER,
  OFF_INSN_COUNT, OFF_MODE, OFF_RFLAGS, OFF_RIP, RAM_BASE, SEG_ATTR, SEG_LIMIT, StateViews, WASM_PAGE, gprOffset,
  segOffset,
} from '../src/cpu/state.js';
import { PhysicalMemory } from '../src/mmu/physmem.js';
import { Mmu } from '../src/mmu/mmu.js';
import { PortBus } from '../src/mmu/ports.js';
import { SystemContext } from '../src/system/context.js';
import { Interpreter } from '../src/interp/interpreter.js';
import { readFileSync } from 'node:fs';
import { loadImage } from '../src/boot/load.js';
import { Machine } from '../src/machine/machine.js';
import { FIXED_RTC_START } from '../src/machine/clock.js';

if (process.argv[2]?.endsWith('.bin')) {
  await imageBench(process.argv[2], Number(process.argv[3] ?? 20), Number(process.argv[4] ?? 3));
  process.exit(0);
}

/** One boot of `image` with iters=`iters` in the interpreter: guest instructions and CPU microseconds. */
async function bootOnce(image: string, iters: number): Promise<[number, number]> {
  const machine = new Machine({
    ramSize: 64 << 20, serialSink: () => {}, debugconSink: () => {}, maxInsns: Infinity, ips: 100_000_000,
    rtcStart: FIXED_RTC_START, engine: { engine: 'interp' },
  });
  loadImage(new Uint8Array(readFileSync(image)), machine, { cmdline: `iters=${iters}`, imageName: image, modules: [] });
  const c0 = process.cpuUsage();
  await machine.run();
  const c = process.cpuUsage(c0);
  return [machine.instructions(), c.user + c.system];
}

async function imageBench(image: string, iters: number, runs: number): Promise<void> {
  await bootOnce(image, 2);
  const mips: number[] = [];
  for (let r = 0; r < runs; r++) {
    const [n, us] = await bootOnce(image, iters);
    mips.push(n / us);
    console.log(`run ${r + 1}: ${(n / 1e6).toFixed(1)} M instructions, ${(us / 1e6).toFixed(2)} CPU s = ${(n / us).toFixed(1)} MIPS per CPU second`);
  }
  mips.sort((a, b) => a - b);
  console.log(`median: ${mips[mips.length >> 1]!.toFixed(1)} MIPS per CPU second`);
}

const RAM = 4 << 20;
const per = Number(process.argv[2] ?? 50) * 1e6;
const runs = Number(process.argv[3] ?? 5);

const memory = new WebAssembly.Memory({ initial: (RAM_BASE + RAM) / WASM_PAGE, maximum: (RAM_BASE + RAM) / WASM_PAGE });
const v = new StateViews(memory);
const phys = new PhysicalMemory(v, RAM);
const mmu = new Mmu(v, phys);
const ctx = new SystemContext(v, phys, mmu, new PortBus());

// Identity-map the first 2 MiB with 4 KiB pages.
const w64 = (pa: number, lo: number): void => {
  phys.write32(pa, lo);
  phys.write32(pa + 4, 0);
};
w64(0x1000, 0x2000 | 7);
w64(0x2000, 0x3000 | 7);
w64(0x3000, 0x4000 | 7);
for (let i = 0; i < 512; i++) w64(0x4000 + 8 * i, (i * 4096) | 7);
v.set64(OFF_CR0, CR0_PE | CR0_PG | 0x10, 0);
v.set64(OFF_CR3, 0x1000, 0);
v.set64(OFF_CR4, CR4_PAE, 0);
v.set64(OFF_EFER, EFER_LME | EFER_LMA, 0);
v.u32[OFF_MODE >> 2] = MODE_LONG64;
for (let s = 0; s < 6; s++) {
  v.u32[(segOffset(s) + SEG_LIMIT) >> 2] = 0xffffffff;
  v.u32[(segOffset(s) + SEG_ATTR) >> 2] = s === 1 ? 0x9b | ATTR_L : 0x93;
}
const CODE = 0x8000;
const ARRAY = 0x10000;
const code = [
  0x31, 0xc9, // outer: xor ecx, ecx
  0x8b, 0x04, 0x8e, // inner: mov eax, [rsi+rcx*4]
  0x01, 0xc3, // add ebx, eax
  0x31, 0xda, // xor edx, ebx
  0x48, 0x83, 0xc1, 0x01, // add rcx, 1
  0x48, 0x39, 0xf9, // cmp rcx, rdi
  0x72, 0xf0, // jb inner
  0xeb, 0xec, // jmp outer
];
phys.writeBytes(CODE, Uint8Array.from(code));
for (let i = 0; i < 4096; i++) phys.write32(ARRAY + 4 * i, i * 2654435761);
v.set64(gprOffset(6), ARRAY, 0);
v.set64(gprOffset(7), 4096, 0);
v.set64(OFF_RIP, CODE, 0);
v.set64(OFF_RFLAGS, 2, 0);

const interp = new Interpreter(ctx);
interp.run(1e6); // warm up
const heap0 = process.memoryUsage().heapUsed;
const perCpu: number[] = [];
for (let r = 0; r < runs; r++) {
  const start = v.getNum(OFF_INSN_COUNT);
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  interp.run(start + per);
  const ns = Number(process.hrtime.bigint() - t0);
  const cpuUs = process.cpuUsage(c0).user;
  const n = v.getNum(OFF_INSN_COUNT) - start;
  perCpu.push(n / cpuUs);
  console.log(`run ${r + 1}: ${(n / 1e6).toFixed(0)} M instructions in ${(ns / 1e6).toFixed(0)} ms = ` +
    `${((n * 1e3) / ns).toFixed(1)} MIPS wall, ${(n / cpuUs).toFixed(1)} MIPS per CPU second`);
}
perCpu.sort((a, b) => a - b);
console.log(`median: ${perCpu[perCpu.length >> 1].toFixed(1)} MIPS per CPU second`);
const heap1 = process.memoryUsage().heapUsed;
console.log(`heap growth over the timed runs: ${((heap1 - heap0) / 1024).toFixed(0)} KiB; ebx = 0x${v.u32[gprOffset(3) >> 2]!.toString(16)}`);
