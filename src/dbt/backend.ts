/**
 * The translator's back end: IR micro-ops (ir.ts) to WebAssembly through our encoder
 * (wasm/encoder.ts). One function holds a *region*: the translated blocks of one guest page
 * (ARCHITECTURE.md §4), `(start: i32, pageOff: i32, budget: i32, done: i32) -> i32`, entered at
 * block `start` whose first byte is at `pageOff` in the page, `done` instructions into the engine's
 * call (a region that tail-calls another passes its count on). A `loop` around a `br_table` over the blocks lets a
 * block jump straight to another block of the region (a direct successor, a loop back edge)
 * without leaving wasm while `budget` instructions remain (the exit-request word is tested by the
 * run loop before entry; inside, only a helper can set it, and the helper then ends the block). It
 * works on the one shared memory at the cpu/state.ts offsets:
 *
 *   - guest registers live in i64 locals, loaded on first use and written back only at exits
 *     and before helper calls (anything that can fault or observe them);
 *   - the lazy flags of the last flag-setting operation stay in locals (its tag is known at
 *     translation time) and reach OFF_LF_* only at those same points; a Jcc after CMP/SUB/TEST/...
 *     evaluates its condition from the locals, else asks the `cond` helper;
 *   - loads and stores probe the software TLB inline (docs/mmu.md: one tag compare and an add);
 *     on a miss the function returns before the instruction did anything (code 4), and the
 *     engine runs that instruction in the interpreter;
 *   - the block's RIP (ENTRY), its index (CUR) and the instructions completed in earlier blocks of
 *     this call (DONE) live in locals and reach their scratch words at the epilogue and before
 *     helper calls, so the engine can count exactly and helpers know their instruction's address.
 *
 * Result: 0 when block CUR completed (RIP stored), else (i << 4) | code for instruction i of block
 * CUR: code 1 = the fault the helper recorded, 2 = stop after instruction i (it completed: its
 * store hit translated code, it jumped or changed the mode), 3 = #GP(0) at i, 4 = instruction i
 * left to the interpreter (a memory access off the TLB fast path; i did not run).
 */
import type { Decoded } from '../cpu/decoded.js';
import { TC_INDEX_BASE } from '../cpu/state.js';
import type { IrBlock } from './ir.js';
import { FuncBody, I32, ModuleBuilder } from './wasm/encoder.js';
import { Emitter } from './emitter.js';

/** Scratch words at the start of the TC-index region: the region state. */
export const SCRATCH_DONE = TC_INDEX_BASE + 8;
export const SCRATCH_CUR = TC_INDEX_BASE + 12;
/** u64: RIP of the block being run. */
export const SCRATCH_ENTRY = TC_INDEX_BASE + 16;
/** The id (table index) of the region function that ran last. */
export const SCRATCH_REGION = TC_INDEX_BASE + 24;
/** Tail calls taken between regions (chain.ts), for --stats. */
export const SCRATCH_CHAINS = TC_INDEX_BASE + 28;
/** Type index of the region functions: declared first in every module. */
export const REGION_TYPE = 0;

export const CODE_FAULT = 1;
export const CODE_STOP = 2;
export const CODE_GP = 3;
/** Instruction i did not run: its memory access missed the TLB fast path; the interpreter runs it. */
export const CODE_SLOW = 4;

/** Declares the memory and helper imports; call first on a new module. */
export function declareImports(m: ModuleBuilder, memPages: number): void {
  if (m.type([I32, I32, I32, I32], [I32]) !== REGION_TYPE) throw new Error('backend: region type must come first');
  m.importMemory(memPages, -1);
  m.importTable(1);
  m.importFunc('exec', [I32], [I32]);
  m.importFunc('cond', [I32], [I32]);
  m.importFunc('lazycf', [], [I32]);
  m.importFunc('flags', [], [I32]);
}

/** What the back end needs to know about a block besides its IR. */
export interface BackendBlock {
  ir: IrBlock;
  insns: Decoded[];
  offs: number[];
  /** Global helper number of instruction 0 (instruction i is gidBase + i). */
  gidBase: number;
  /** Offset of the block's first byte in its 4 KiB page. */
  pageOff: number;
}

/** A region: blocks of one page, one mode; `link` false keeps every block exit a return. */
export interface BackendRegion {
  blocks: BackendBlock[];
  mode: number;
  user: boolean;
  link: boolean;
  /** Set by the emitter: direct block-to-block links it compiled (chains, for statistics). */
  links?: number;
  /** Table index of the function (SCRATCH_REGION), and the mode key of its blocks. */
  id: number;
  modeKey: number;
  /** Exits to RIPs outside the region look them up in the jump cache (chain.ts); needs `link`. */
  chain: boolean;
}

/** Emits one region as an exported function `name` of module m. */
export function emitRegion(m: ModuleBuilder, name: string, r: BackendRegion): void {
  const { body: f } = m.func(name, [I32, I32, I32, I32], [I32]);
  new Emitter(f, r).run();
}

/** The body of one region function on its own (for `ringvm translate` and golden tests). */
export function regionBody(r: BackendRegion): FuncBody {
  const f = new FuncBody(4);
  new Emitter(f, r).run();
  return f;
}

/** A module of regions (exports r0, r1, ...), for the engine. */
export function buildModule(memPages: number, regions: BackendRegion[]): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder();
  declareImports(m, memPages);
  regions.forEach((r, i) => emitRegion(m, `r${i}`, r));
  return m.encode();
}
