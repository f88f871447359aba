/**
 * Micro-benchmark of the MMU's TLB-hit paths: read32 / write32 / fetch8 per second on a working set
 * that fits the TLB, under 32-bit paging and 4-level paging (high-half addresses), and the cost of a
 * miss (walk + fill). Run: npx tsx bench/mmu.ts
 */
import { OFF_CR0, OFF_CR3, OFF_CR4, OFF_EFER, RAM_BASE, StateViews } from '../src/cpu/state.js';
import { canonical, Mmu } from '../src/mmu/mmu.js';
import { PhysicalMemory } from '../src/mmu/physmem.js';

const RAM = 32 << 20;
const pages = (RAM_BASE + RAM) / 65536;
const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
const views = new StateViews(memory);
const phys = new PhysicalMemory(views, RAM);
const mmu = new Mmu(views, phys);
const w32 = (pa: number, v: number): void => phys.write32(pa, v >>> 0);

// 32-bit paging: 16 MiB identity-mapped with 4 KiB pages (PD at 0x1000, PTs at 0x10000..).
w32(0x1000 + 0, 0);
for (let t = 0; t < 4; t++) {
  w32(0x1000 + t * 4, (0x10000 + t * 0x1000) | 7);
  for (let i = 0; i < 1024; i++) w32(0x10000 + t * 0x1000 + i * 4, ((t * 1024 + i) * 4096) | 0x67);
}
// 4-level: high half 0xffff800000000000 + x -> x for 16 MiB (PML4 0x20000, PDPT 0x21000, PD 0x22000, PTs 0x10000 reused)
w32(0x20000 + 256 * 8, 0x21000 | 7);
w32(0x21000, 0x22000 | 7);
for (let t = 0; t < 4; t++) w32(0x22000 + t * 8, (0x30000 + t * 0x1000) | 7);
for (let t = 0; t < 4; t++) for (let i = 0; i < 512; i++) w32(0x30000 + t * 0x1000 + i * 8, ((t * 512 + i) * 4096) | 0x67);

function setMode(long: boolean): void {
  views.u32[OFF_CR0 >> 2] = 0x80010001;
  views.u32[OFF_CR3 >> 2] = long ? 0x20000 : 0x1000;
  views.u32[OFF_CR4 >> 2] = long ? 0x20 : 0;
  views.u32[OFF_EFER >> 2] = long ? 0xd00 : 0;
  mmu.flushAll();
}

const N = 20_000_000;
let sink = 0;

function report(name: string, ns: number, n: number): void {
  console.log(`${name.padEnd(34)} ${(n / (ns / 1e9) / 1e6).toFixed(1).padStart(7)} M/s  ${(ns / n).toFixed(2)} ns`);
}

// One loop per operation, so each call site stays monomorphic as it would in the interpreter.
function benchRead32(name: string, base: number, span: number): void {
  let x = 0; // an int32 accumulator: summing into a double would cost more than the read
  for (let i = 0; i < span; i += 4) x ^= mmu.read32(base + i, false);
  const t0 = process.hrtime.bigint();
  for (let i = 0, a = 0; i < N; i++, a = (a + 4) & (span - 1)) x ^= mmu.read32(base + a, false);
  report(name, Number(process.hrtime.bigint() - t0), N);
  sink += x;
}
function benchWrite32(name: string, base: number, span: number): void {
  for (let i = 0; i < span; i += 4) mmu.write32(base + i, i, false);
  const t0 = process.hrtime.bigint();
  for (let i = 0, a = 0; i < N; i++, a = (a + 4) & (span - 1)) mmu.write32(base + a, i, false);
  report(name, Number(process.hrtime.bigint() - t0), N);
}
function benchFetch8(name: string, base: number, span: number): void {
  let x = 0;
  for (let i = 0; i < span; i += 4) x ^= mmu.fetch8(base + i, true);
  const t0 = process.hrtime.bigint();
  for (let i = 0, a = 0; i < N; i++, a = (a + 1) & (span - 1)) x ^= mmu.fetch8(base + a, true);
  report(name, Number(process.hrtime.bigint() - t0), N);
  sink += x;
}
function benchTranslate(name: string, base: number, span: number): void {
  let x = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0, a = 0; i < N; i++, a = (a + 4) & (span - 1)) x ^= mmu.translate(base + a, 2, false);
  report(name, Number(process.hrtime.bigint() - t0), N);
  sink += x;
}
function benchMiss(name: string, base: number): void {
  const M = 500_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < M; i++) {
    mmu.flushPage(base + ((i * 4096) & 0x3fffff));
    sink += mmu.read32(base + ((i * 4096) & 0x3fffff), false);
  }
  report(name, Number(process.hrtime.bigint() - t0), M);
}

// 32-bit paging also maps 0xC0000000.. (a 3 GiB/1 GiB kernel split) onto the same 16 MiB.
for (let t = 0; t < 4; t++) w32(0x1000 + (768 + t) * 4, (0x10000 + t * 0x1000) | 7);

for (const [long, hiHalf] of [[false, false], [false, true], [true, true]]) {
  setMode(long);
  const base = (long ? canonical(0, 0xffff8000) : hiHalf ? 0xc0000000 : 0) + 0x400000; // clear of the page tables
  const tag = long ? '4-level' : hiHalf ? '32-bit hi' : '32-bit lo';
  benchRead32(`read32  TLB hit, ${tag}, 64 KiB`, base, 0x10000);
  benchRead32(`read32  TLB hit, ${tag}, 4 MiB`, base, 0x400000);
  benchWrite32(`write32 TLB hit, ${tag}, 64 KiB`, base, 0x10000);
  benchFetch8(`fetch8  TLB hit, ${tag}, 64 KiB`, base, 0x10000);
  benchTranslate(`translate(fetch) hit, ${tag}`, base, 0x10000);
  benchMiss(`read32  INVLPG + miss, ${tag}`, base);
}
if (sink === 0.5) console.log(sink);
if (mmu.fault !== 0) throw new Error(`unexpected fault ${mmu.fault}`);
