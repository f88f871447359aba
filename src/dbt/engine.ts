/**
 * The translating engine (ARCHITECTURE.md §4): an `Engine` whose run loop finds the block at CS:RIP
 * in the translation cache, runs it (a wasm function once hot, the interpreter's handlers one by
 * one until then) and takes interrupts, faults and stops at block boundaries exactly as the
 * interpreter does between instructions. CPL 0 code runs in the interpreter unless
 * `kernelExec === 'dbt'`; so do real mode, VM86 and single-stepping (TF).
 *
 * Options (`DbtOptions`, what the CLI maps its flags to):
 *   tcIndex     'phys' (default) | 'virt' | 'virt-noflush'   --tc-index
 *   threshold   executions of a block before it is translated; 0 = on first execution  --tc-threshold
 *   kernelExec  'sim' (default: CPL 0 interpreted) | 'dbt'                     --kernel-exec
 *   tcSize      blocks in the cache before a full flush (default 65536)         --tc-size
 *   inline      false: every instruction is a helper call (day-one mode, for parity checks)
 *   tcSync      true: compile synchronously so two runs give identical statistics   --tc-sync
 *   trace       receives trace lines by kind: 'in_asm' (guest code of each translated region),
 *               'out_asm' (its wasm text), 'exec' (each block entered), 'tc' (translations,
 *               invalidations, flushes), for --trace in_asm,out_asm,exec,tc
 *   onBlock     called with the instruction count after every block the translator ran (state
 *               written back): the lockstep hook that compares with a reference engine; it
 *               turns off links between blocks so control comes back after each one
 *
 * Translation and compilation are regions.ts (a `Regions` the engine owns): by default a batch of
 * regions compiles in the background while its blocks run in the interpreter, and finished modules
 * are installed at the next run() entry; run() returns early (RUN_LIMIT before stopAt) every
 * PENDING_RETURN_MS while compiles are pending so that the embedder's event loop turns. Which
 * instructions run translated then depends on host timing, never what the guest sees; `tcSync`
 * compiles in place (identical statistics).
 *
 * Counting is the interpreter's: a completed block adds its instruction count; a fault in
 * instruction i adds i + 1 (the faulting instruction counts, as the interpreter counts it before
 * delivering); a block that would pass `stopAt` is left to the interpreter, so runs stop at exactly
 * the same instruction. While a block runs, OFF_INSN_COUNT is made exact before every helper and
 * memory slow path (the TSC and devices read it). Self-modifying code: a store to a page holding translated code reaches
 * `invalidatePage` (PhysicalMemory.onCodeWrite) before it lands; the page's blocks are dropped, and
 * if the running block was one of them it stops after the storing instruction. A page invalidated
 * DEMOTE_AFTER times (code and hot data sharing it) is no longer translated (`pagesDemoted`).
 */
import { FAULT, FAULT_GP0 } from '../cpu/fault.js';
import { IX_FLAGS } from '../cpu/flags.js';
import {
  ATTR_DB, FLAG_IF, FLAG_TF, MODE_LONG64, MODE_PROT16, MODE_PROT32, MODE_REAL, MODE_VM86, OFF_CPL, OFF_CR3, OFF_EXIT_REQUEST,
  OFF_HALTED, OFF_INSN_COUNT, OFF_INT_SHADOW, OFF_MODE, OFF_REP_EXTRA, OFF_REP_STOP, OFF_RIP, SEG_ATTR, SEG_BASE, SEG_CS, SEG_DS, SEG_ES, SEG_LIMIT, SEG_SS, segOffset,
} from '../cpu/state.js';
import { tableRows } from '../cpu/table.js';
import type { Interpreter } from '../interp/interpreter.js';
import {
  RUN_EXIT_REQUEST, RUN_HALT, RUN_LIMIT, RUN_TRIPLE_FAULT, RUN_UNSUPPORTED,
} from '../interp/interpreter.js';
import { STOP_HALT } from '../interp/cpu.js';
import { repPending } from '../interp/string.js';
import { ACCESS_FETCH } from '../mmu/mmu.js';
import { DELIVER_OK, DELIVER_TRIPLE_FAULT, type SystemContext } from '../system/context.js';
import { deliverFault } from '../system/interrupts.js';
import {
  CODE_FAULT, CODE_GP, CODE_SLOW, CODE_STOP, SCRATCH_CHAINS, SCRATCH_CUR, SCRATCH_DONE, SCRATCH_ENTRY, SCRATCH_REGION,
} from './backend.js';
import { type Block, INDEX_NAMES, INDEX_PHYS, INDEX_VIRT, TranslationCache } from './cache.js';
import { ChainCache } from './chain.js';
import { Regions, type RegionHost } from './regions.js';

const hex = (v: number): string => (v < 0 ? `-${(-v).toString(16)}` : v.toString(16));

export interface DbtOptions {
  tcIndex?: 'phys' | 'virt' | 'virt-noflush';
  threshold?: number;
  kernelExec?: 'sim' | 'dbt';
  tcSize?: number;
  inline?: boolean;
  /** true: compile each batch synchronously (reproducible statistics); default false: compile in
   *  the background and install finished modules at the next run() entry. */
  tcSync?: boolean;
  onBlock?: (count: number) => void;
  /** No links between blocks and no chaining: every block returns to the run loop, so a `block`
   *  trace shows each one (`--trace nochain`, as QEMU's `-d nochain`). */
  noChain?: boolean;
  trace?: (kind: 'in_asm' | 'out_asm' | 'exec' | 'tc', line: string) => void;
}

export interface DbtEngine {
  run(stopAt: number): number;
  invalidatePage(page: number): void;
  stats(): Record<string, number>;
  /** Helper calls from translated code by handler name (instructions not inlined), most first. */
  helperCalls(): [string, number][];
  /** Sensitive/privileged instructions translated user code left to the simulator, by handler name, most first. */
  sensitiveTraps(): [string, number][];
  /** Drops every translation. */
  flush(): void;
}

const IX_CPL = OFF_CPL >> 2;
const IX_RIP = OFF_RIP >> 2;
const IX_MODE = OFF_MODE >> 2;
const IX_EXIT = OFF_EXIT_REQUEST >> 2;
const IX_HALTED = OFF_HALTED >> 2;
const IX_SHADOW = OFF_INT_SHADOW >> 2;
const IX_CR3 = OFF_CR3 >> 2;
const IX_CS_BASE = (segOffset(SEG_CS) + SEG_BASE) >> 2;
const IX_CS_LIMIT = (segOffset(SEG_CS) + SEG_LIMIT) >> 2;
const IX_SS_ATTR = (segOffset(SEG_SS) + SEG_ATTR) >> 2;
const IX_REP_EXTRA = OFF_REP_EXTRA >> 2;
/** Interpreted instructions per call while CPL 0 code runs in the simulator. */
const KERNEL_SLICE = 256;
/** Instructions the interpreter runs to resume a REP cut in a helper call (string.ts SLICE). */
const REP_RESUME_SLICE = 4096;
/**
 * While modules compile in the background, run() returns (RUN_LIMIT, before stopAt) after this
 * many milliseconds so the embedder's event loop turns and the compiles can land. Where run()
 * returns does not change what the guest sees: timers fire by instruction count.
 */
const PENDING_RETURN_MS = 2;
/** Interpreted instructions per step while the block at RIP waits for its background compile. */
const WAIT_SLICE = 16384;
/** Interpreted instructions per lookup that finds a demoted page. */
const DEMOTED_SLICE = 64;
/** Jump-cache entries (a power of two). */
const JC_MASK = 4095;
/** A page whose blocks were invalidated this many times runs in the interpreter from then on. */
const DEMOTE_AFTER = 32;

/**
 * CS, SS, DS and ES are flat: base 0, 4 GiB limit, present; data segments writable and not
 * expand-down, SS 32-bit. The interpreter's segment checks then never fail and add nothing, so
 * flat 32-bit code gets inline memory accesses and branches (mode-key bit 64).
 */
function flatSegments(u32: Uint32Array): boolean {
  for (const s of FLAT_SEGS) {
    const o = segOffset(s);
    if (u32[(o + SEG_BASE) >> 2] !== 0 || u32[(o + SEG_LIMIT) >> 2] !== 0xffffffff) return false;
    const attr = u32[(o + SEG_ATTR) >> 2];
    if ((attr & 0x80) === 0) return false;
    if (s !== SEG_CS && (attr & 0x1e) !== 0x12) return false;
  }
  return (u32[IX_SS_ATTR] & ATTR_DB) !== 0;
}
const FLAT_SEGS = [SEG_CS, SEG_SS, SEG_DS, SEG_ES];

/**
 * V8's own tiers: a module compiles lazily with its baseline compiler (Liftoff, milliseconds) and
 * hot functions move to the optimizing tier in the background (dynamic tiering; a region function
 * returns at least every run() slice, so the next call runs the optimized code). An earlier version
 * forced the optimizing tier only (`--no-liftoff`, and `--no-wasm-lazy-compilation` for background
 * compiles): with compiles in the background that left the code in the interpreter until the big
 * optimized compile landed (bench64 iters=20: 0.5-0.9 s of waiting on a loaded machine vs 25-75 ms
 * for Liftoff code; steady state the same once tiered up). No flags are set.
 */
export function createDbtEngine(ctx: SystemContext, interp: Interpreter, opts: DbtOptions = {}): DbtEngine {
  const e = new Dbt(ctx, interp, opts);
  ctx.phys.onCodeWrite = (page) => e.invalidatePage(page);
  return e;
}

class Dbt implements DbtEngine, RegionHost {
  private readonly cache: TranslationCache;
  private readonly index: number;
  private readonly threshold: number;
  private readonly kernelDbt: boolean;
  private readonly tcSize: number;
  private readonly inline: boolean;
  private readonly onBlock: ((count: number) => void) | undefined;
  private readonly trace: DbtOptions['trace'];
  /** Decoding, region compilation and the region table (regions.ts). */
  private readonly regions: Regions;
  /** The jump cache translated code probes to tail-call from one region into another (chain.ts). */
  private readonly chains: ChainCache;
  /** Chaining between regions: the run loop fills the jump cache (not when `unlinked`). */
  private readonly chainOn: boolean;

  /** The running block and the RIP it was entered at. */
  private cur: Block | null = null;
  /** Set when a store invalidated the running block: it stops after the current instruction. */
  private stopFlag = false;
  private pendingFault = 0;
  private pendingStop = 0;
  private lastCr3 = -1;
  /** The instruction count when the running block (or region call) was entered. */
  private blockCount = 0;
  /** REP string iterations beyond one per execution in the running block (interp/string.ts). */
  private repExtra = 0;
  private readonly helperByRow: Float64Array;
  /** Sensitive or privileged instructions handed to the simulator from translated user code, by row. */
  private readonly trapByRow: Float64Array;
  private jcache: (Block | undefined)[] = new Array(JC_MASK + 1);
  /** Invalidations per physical page, and the pages that stopped being translated because of them. */
  private readonly invalCount = new Map<number, number>();
  readonly demoted = new Set<number>();
  /** performance.now() after which run() returns early (Infinity: no compile pending). */
  private returnBy = Infinity;

  private st = {
    insnsTranslated: 0, insnsHelperBlocks: 0, insnsInterp: 0, blocksTranslated: 0, retranslations: 0, blocksDecoded: 0,
    translateMs: 0, lookups: 0, hits: 0, misses: 0, invalidations: 0, invalidatedBlocks: 0, flushes: 0,
    flushesCr3: 0, flushesSize: 0, faultsInBlocks: 0, smcStops: 0, invalidationsByBlocks: 0, invalidationsOther: 0, modules: 0, regions: 0, regionBlocks: 0, pagesDemoted: 0,
    modulesPending: 0, modulesStale: 0, compileWaitMs: 0, insnsInRegions: 0, chainsMade: 0, chainsBroken: 0,
    sensitiveTraps: 0, slowAccesses: 0,
  };

  constructor(readonly ctx: SystemContext, readonly interp: Interpreter, opts: DbtOptions) {
    this.cache = new TranslationCache(ctx.views.u8);
    this.index = INDEX_NAMES.indexOf(opts.tcIndex ?? 'phys');
    if (this.index < 0) throw new Error(`unknown --tc-index ${String(opts.tcIndex)}`);
    this.threshold = opts.threshold ?? 10;
    this.kernelDbt = opts.kernelExec === 'dbt';
    this.tcSize = opts.tcSize ?? 65536;
    this.inline = opts.inline ?? true;
    this.onBlock = opts.onBlock;
    this.trace = opts.trace;
    this.chains = new ChainCache(ctx.views.u32);
    this.chains.clearAll();
    const unlinked = this.onBlock !== undefined || opts.noChain === true;
    this.chainOn = this.inline && !unlinked;
    this.helperByRow = new Float64Array(tableRows.length);
    this.trapByRow = new Float64Array(tableRows.length);
    this.regions = new Regions(ctx, this, this.cache, this.chains, this.st, {
      index: this.index, tcSize: this.tcSize, inline: this.inline, tcSync: opts.tcSync ?? false,
      unlinked, trace: this.trace,
    });
  }

  // ---- the run loop ------------------------------------------------------------------------------

  run(stopAt: number): number {
    const ctx = this.ctx;
    const interp = this.interp;
    const cpu = interp.cpu;
    const views = ctx.views;
    const u32 = views.u32;
    const m = cpu.m;
    const mmu = ctx.mmu;
    const regions = this.regions;
    regions.installReady();
    let count = views.getNum(OFF_INSN_COUNT);
    views.setNum(OFF_REP_STOP, stopAt); // REP iterations stop there too (interp.run restores it)
    this.returnBy = this.st.modulesPending > 0 ? performance.now() + PENDING_RETURN_MS : Infinity;
    for (;;) {
      if (regions.retiring.length > 0) regions.sweepRegions();
      if (count >= stopAt) return this.finish(count, RUN_LIMIT);
      if (this.returnBy !== Infinity && performance.now() > this.returnBy) return this.finish(count, RUN_LIMIT);
      if (u32[IX_EXIT] !== 0) return this.finish(count, RUN_EXIT_REQUEST);
      // Anything that is not plain straight-line code goes through the interpreter, one step.
      const cpl = u32[IX_CPL];
      if (
        u32[IX_SHADOW] !== 0 || u32[IX_HALTED] !== 0 ||
        ((m[IX_FLAGS] & FLAG_IF) !== 0 && ctx.intc !== null && ctx.intc.hasInterrupt()) ||
        (cpl !== 3 && !this.kernelDbt) || (m[IX_FLAGS] & FLAG_TF) !== 0 ||
        u32[IX_MODE] === MODE_REAL || u32[IX_MODE] === MODE_VM86 ||
        // 16-bit code entered above 0xFFFF (a 32-bit EIP through a gate): IP wraps to 16 bits
        // after each instruction, which a block of consecutive bytes would not do
        (u32[IX_MODE] === MODE_PROT16 && u32[IX_RIP] > 0xffff)
      ) {
        const slice = cpl !== 3 && !this.kernelDbt ? KERNEL_SLICE : 1;
        const r = this.interpRun(Math.min(stopAt, count + slice), count);
        count = views.getNum(OFF_INSN_COUNT);
        if (r !== RUN_LIMIT) return r;
        continue;
      }
      if (repPending(cpu, count)) {
        // A REP a helper call (exec) cut here: the interpreter resumes it as decoded, without
        // reading its bytes again (it may have stored over them; interp/string.ts repCut).
        const r = this.interpRun(Math.min(stopAt, count + REP_RESUME_SLICE), count);
        count = views.getNum(OFF_INSN_COUNT);
        if (r !== RUN_LIMIT) return r;
        continue;
      }
      if (this.index !== INDEX_PHYS) {
        const cr3 = u32[IX_CR3];
        if (cr3 !== this.lastCr3) {
          if (this.lastCr3 !== -1 && this.index === INDEX_VIRT) {
            this.flush();
            this.st.flushesCr3++;
          }
          this.lastCr3 = cr3;
        }
      }
      cpu.refreshMode();
      const mode = cpu.mode;
      const user = cpu.user;
      const rip = cpu.loadRip();
      const lin = mode === MODE_LONG64 ? rip : (u32[IX_CS_BASE] + rip) >>> 0;
      const pa = mmu.translate(lin, ACCESS_FETCH, user);
      mmu.fault = 0;
      const ssb = (u32[IX_SS_ATTR] & ATTR_DB) !== 0 ? 1 : 0;
      const modeKey = mode | (cpl << 3) | (ssb << 5) | (mode === MODE_PROT32 && flatSegments(u32) ? 64 : 0);
      let b: Block | null = null;
      // The jump cache: the last block entered at this linear PC, checked against the mode key and,
      // under phys indexing, the physical address the PC maps to now.
      const jc = (lin ^ (lin / 4096)) & JC_MASK;
      const jb = this.jcache[jc];
      this.st.lookups++;
      if (jb !== undefined && jb.valid && jb.lin === lin && jb.modeKey === modeKey && jb.pa === pa &&
        (mode === MODE_LONG64 || (jb.rip === rip && jb.csBase === u32[IX_CS_BASE] && jb.csLimit === u32[IX_CS_LIMIT]))) {
        b = jb;
        this.st.hits++;
      } else if (pa >= 0 && ctx.phys.isRam(pa, 1)) {
        const key = (this.index === INDEX_PHYS ? pa : lin) * 128 + modeKey;
        b = this.cache.get(key) ?? null;
        if (b !== null && mode !== MODE_LONG64 &&
          (b.rip !== rip || b.csBase !== u32[IX_CS_BASE] || b.csLimit !== u32[IX_CS_LIMIT])) {
          b = null;
        }
        if (b === null) {
          this.st.misses++;
          b = regions.decode(key, pa, lin, rip, mode, cpl, user);
        } else this.st.hits++;
        if (b.n > 0 && b.lin === lin) this.jcache[jc] = b;
      }
      if (b !== null && b.fn === null && b.n > 0 && (b.compiling || regions.pageCompiling(b))) {
        // Its translation (or its page's) is on the way: the interpreter runs until run() returns
        // to let the compile land (much faster than helper calls block by block). A block of a
        // page being compiled, found at an odd address where an interpreter step ended, does not
        // start another compile of the page.
        const r = this.interpRun(Math.min(stopAt, count + WAIT_SLICE), count);
        count = views.getNum(OFF_INSN_COUNT);
        if (r !== RUN_LIMIT) return r;
        if (performance.now() > this.returnBy) return this.finish(count, RUN_LIMIT);
        continue;
      }
      if (b !== null && b.n === 0 && b.trapRow >= 0) this.trapByRow[b.trapRow]++;
      if (b === null || b.n === 0 || count + b.n > stopAt) {
        // Not translatable here (fetch fault, MMIO, an instruction blocks exclude) or would pass
        // stopAt: the interpreter runs the next instruction(s).
        if (b !== null && b.demoted) {
          // a demoted page: the interpreter steps through it without a lookup per instruction
          // until control leaves the page (at a branch target: a block start)
          const r = this.interpDemoted(Math.min(stopAt, count + DEMOTED_SLICE), count, lin - (lin % 4096), mode);
          count = views.getNum(OFF_INSN_COUNT);
          if (r !== RUN_LIMIT) return r;
          continue;
        }
        const r = this.interpRun(b === null || b.n === 0 ? count + 1 : stopAt, count);
        count = views.getNum(OFF_INSN_COUNT);
        if (r !== RUN_LIMIT) return r;
        continue;
      }
      if (b.fn === null) {
        b.hits++;
        if (b.hits > this.threshold && !b.compiling) regions.compile(b);
        else if (b.hits * 2 === this.threshold + (this.threshold & 1)) regions.warm.push(b);
      }
      // ---- run the block ----
      if (this.trace !== undefined) this.trace('exec', `exec ${hex(rip)} ${b.n} insns${b.fn !== null ? '' : ' (helpers)'}`);
      this.cur = b;
      this.stopFlag = false;
      this.pendingStop = 0;
      cpu.rip = rip;
      this.blockCount = count;
      let res: number;
      let cb = b; // the block that was running when control came back
      let done = 0; // instructions completed in earlier blocks of the same call
      if (b.fn !== null) {
        const budget = stopAt - count;
        if (this.chainOn) this.chains.fill(lin, b.regionId, b.regionIdx, b.n, b.pa, b.modeKey);
        res = b.fn(b.regionIdx, b.pa & 0xfff, budget > 0x7fffffff ? 0x7fffffff : budget, 0);
        done = u32[SCRATCH_DONE >> 2];
        // the region that returned: b's, or one that b's tail-called (chain.ts)
        cb = (regions.regionById.get(u32[SCRATCH_REGION >> 2]) ?? b.region)[u32[SCRATCH_CUR >> 2]];
      } else {
        res = 0;
        this.setEntry(rip);
        u32[SCRATCH_DONE >> 2] = 0;
        for (let i = 0; i < b.n; i++) {
          res = this.exec(b.gidBase + i);
          if (res !== 0) break;
        }
        if (res === 0 && !b.endsBranch) cpu.storeRip(this.wrap(rip + b.bytes, mode));
      }
      this.cur = null;
      const n = done + (res === 0 ? cb.n : (res >> 4) + 1) + this.repExtra;
      this.repExtra = 0;
      count += n;
      if (b.fn !== null) this.st.insnsTranslated += n;
      else this.st.insnsHelperBlocks += n;
      if (res === 0) {
        if (this.onBlock !== undefined) this.onBlock(count);
        continue;
      }
      const i = res >> 4;
      const code = res & 15;
      if (code === CODE_SLOW) {
        // Instruction i's memory access missed the TLB fast path, before i changed anything (n
        // counted it: take it back). The interpreter runs it from its own RIP: TLB fill, MMIO,
        // a store into translated code (invalidation, attributed to this block), or its fault.
        count--;
        if (b.fn !== null) this.st.insnsTranslated--;
        this.st.slowAccesses++;
        cpu.storeRip(this.wrap(this.entryRip(mode) + cb.offs[i], mode));
        this.cur = cb;
        this.stopFlag = false;
        const r = this.interpRun(count + 1, count);
        if (this.stopFlag) this.st.smcStops++; // it wrote into the running block's page
        this.cur = null;
        count = views.getNum(OFF_INSN_COUNT);
        if (r !== RUN_LIMIT) return r;
        if (this.onBlock !== undefined) this.onBlock(count);
        continue;
      }
      if (code === CODE_STOP) {
        if (this.stopFlag) this.st.smcStops++;
        if (this.onBlock !== undefined) this.onBlock(count);
        if (this.pendingStop === STOP_HALT) return this.finish(count, RUN_HALT);
        continue;
      }
      // A fault in instruction i: deliver it with RIP at that instruction, as the interpreter does.
      const f = code === CODE_GP ? FAULT_GP0 : this.pendingFault;
      this.st.faultsInBlocks++;
      mmu.fault = 0;
      cpu.storeRip(this.wrap(this.entryRip(mode) + cb.offs[i], mode));
      views.setNum(OFF_INSN_COUNT, count);
      const r = deliverFault(ctx, f);
      cpu.refreshMode();
      if (r !== DELIVER_OK) return this.finish(count, r === DELIVER_TRIPLE_FAULT ? RUN_TRIPLE_FAULT : RUN_UNSUPPORTED);
    }
  }

  private finish(count: number, result: number): number {
    this.ctx.views.setNum(OFF_INSN_COUNT, count);
    return result;
  }

  /** Interprets one instruction at a time while the linear RIP stays in the page at `page`. */
  private interpDemoted(stopAt: number, count: number, page: number, mode: number): number {
    const cpu = this.interp.cpu;
    const u32 = this.ctx.views.u32;
    for (;;) {
      const r = this.interpRun(count + 1, count);
      count = this.ctx.views.getNum(OFF_INSN_COUNT);
      if (r !== RUN_LIMIT || count >= stopAt || u32[IX_EXIT] !== 0 || u32[IX_MODE] !== mode) return r;
      const rip = cpu.loadRip();
      const lin = mode === MODE_LONG64 ? rip : (u32[IX_CS_BASE] + rip) >>> 0;
      if (lin - (lin % 4096) !== page) return r;
    }
  }

  private interpRun(stopAt: number, count: number): number {
    this.ctx.views.setNum(OFF_INSN_COUNT, count);
    const r = this.interp.run(stopAt);
    this.st.insnsInterp += this.ctx.views.getNum(OFF_INSN_COUNT) - count;
    return r;
  }

  /**
   * Makes OFF_INSN_COUNT exact for instruction i of the running block (instructions retired before
   * it), so the TSC, timers and devices that a helper's instruction reads see the live virtual
   * time.
   */
  private liveCount(i: number): void {
    this.ctx.views.setNum(OFF_INSN_COUNT, this.blockCount + this.ctx.views.u32[SCRATCH_DONE >> 2] + i);
  }

  /** RIP of the running block's first instruction (the region function keeps it in scratch). */
  private entryRip(mode: number): number {
    const u32 = this.ctx.views.u32;
    const lo = u32[SCRATCH_ENTRY >> 2];
    return mode === MODE_LONG64 ? (u32[(SCRATCH_ENTRY >> 2) + 1] | 0) * 4294967296 + lo : lo;
  }

  private setEntry(rip: number): void {
    this.ctx.views.setNum(SCRATCH_ENTRY, rip);
  }

  private wrap(rip: number, mode: number): number {
    return mode === MODE_LONG64 ? rip : mode === MODE_PROT32 ? rip >>> 0 : rip & 0xffff;
  }

  // ---- helpers called from translated code -------------------------------------------------------

  /** Runs global instruction gi with the interpreter's handler; 0 or (i << 4) | code. */
  exec(gi: number): number {
    const cpu = this.interp.cpu;
    const regions = this.regions;
    const d = regions.dec[gi];
    const i = regions.decIdx[gi];
    const mode = cpu.mode;
    const rip = this.wrap(this.entryRip(mode) + regions.decOff[gi], mode);
    const next = this.wrap(rip + d.length, mode);
    cpu.rip = rip;
    cpu.nextRip = next;
    if (this.cur !== null && this.cur.fn !== null) this.helperByRow[d.row]++;
    this.liveCount(i);
    const f = this.interp.handlers[d.row](cpu, d);
    // A REP string instruction that retired several iterations ends the block: they are counted
    // before anything else reads the count.
    const extra = cpu.u32[IX_REP_EXTRA];
    if (extra !== 0) {
      cpu.u32[IX_REP_EXTRA] = 0;
      this.repExtra += extra;
    }
    if (f === 0) {
      cpu.storeRip(cpu.nextRip);
      const u32 = cpu.u32;
      if (cpu.nextRip !== next || extra !== 0 || u32[IX_SHADOW] !== 0 || u32[IX_EXIT] !== 0 || this.stopFlag) return (i << 4) | CODE_STOP;
      return 0;
    }
    if ((f & FAULT) !== 0) {
      this.pendingFault = f;
      cpu.mmu.fault = 0;
      return (i << 4) | CODE_FAULT;
    }
    // STOP_*: the instruction completed, the mode may have changed.
    this.pendingStop = f;
    cpu.storeRip(cpu.nextRip);
    cpu.refreshMode();
    return (i << 4) | CODE_STOP;
  }

  /** A background compile started (regions.ts): run() returns within PENDING_RETURN_MS so it can land. */
  compileStarted(): void {
    if (this.returnBy === Infinity) this.returnBy = performance.now() + PENDING_RETURN_MS;
  }

  // ---- invalidation ------------------------------------------------------------------------------

  invalidatePage(page: number): void {
    this.interp.invalidatePage(page);
    const cur = this.cur;
    // While translated code runs, any page with blocks may be the running one: the block entered
    // from the run loop (cur) or one a link or chain reached since, in another region or page.
    // The running block then stops after the storing instruction (exec() returns CODE_STOP; an
    // inline store never reaches a code page: those have no fast write entry).
    const blocks = this.cache.pages.get(page);
    if (cur !== null && blocks !== undefined && blocks.length > 0) this.stopFlag = true;
    this.st.chainsBroken += this.regions.chainsOf(blocks);
    this.regions.retireRegions(blocks);
    const n = this.cache.invalidatePage(page);
    if (n > 0) {
      if (this.trace !== undefined) this.trace('tc', `invalidate page ${hex(page * 4096)}: ${n} blocks`);
      this.st.invalidations++;
      // by cause: a store made while a block ran (translated code or its helpers), or anything
      // else (the interpreter, devices, the loader)
      if (cur !== null) this.st.invalidationsByBlocks++;
      else this.st.invalidationsOther++;
      this.st.invalidatedBlocks += n;
      const k = (this.invalCount.get(page) ?? 0) + 1;
      this.invalCount.set(page, k);
      if (k === DEMOTE_AFTER) {
        this.demoted.add(page);
        this.st.pagesDemoted++;
      }
    }
  }

  flush(): void {
    if (this.trace !== undefined) this.trace('tc', `flush: ${this.cache.count} blocks`);
    for (const list of this.cache.pages.values()) {
      this.st.chainsBroken += this.regions.chainsOf(list);
      this.regions.retireRegions(list);
    }
    // retiring emptied every entry already; clearing the whole cache as well costs ~10 µs and
    // keeps a missed entry from ever tail-calling a cleared table slot (a trap in the host)
    this.chains.clearAll();
    if (this.cur !== null) this.stopFlag = true;
    this.interp.flush();
    this.cache.flush();
    this.jcache = new Array(JC_MASK + 1);
    this.regions.warm = [];
    this.st.flushes++;
    if (this.cur === null) this.regions.forgetDecoded();
  }

  stats(): Record<string, number> {
    const traps = byName(this.trapByRow);
    const out: Record<string, number> = {
      ...this.st, cachedBlocks: this.cache.count, sensitiveTraps: traps.reduce((a, [, n]) => a + n, 0),
      // tail calls from one region into another through the jump cache
      chainsTaken: this.ctx.views.u32[SCRATCH_CHAINS >> 2],
      // translation cost per guest instruction placed in a region, microseconds
      translateUsPerInsn: this.st.insnsInRegions > 0 ? (this.st.translateMs * 1000) / this.st.insnsInRegions : 0,
    };
    // the ten most called helpers: what the front end should inline next
    for (const [name, n] of this.helperCalls().slice(0, 10)) out[`helper ${name}`] = n;
    for (const [name, n] of traps) out[`trap ${name}`] = n;
    return out;
  }

  helperCalls(): [string, number][] {
    return byName(this.helperByRow);
  }

  /** Sensitive or privileged instructions that translated user code handed to the simulator, by handler name. */
  sensitiveTraps(): [string, number][] {
    return byName(this.trapByRow);
  }
}

/** Per-row counts summed by handler name, most first. */
function byName(counts: Float64Array): [string, number][] {
  const m = new Map<string, number>();
  counts.forEach((n, row) => {
    if (n > 0) m.set(tableRows[row].name, (m.get(tableRows[row].name) ?? 0) + n);
  });
  return [...m.entries()].sort((a, b) => b[1] - a[1]);
}
