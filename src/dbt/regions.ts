/**
 * The translating engine's translation side (engine.ts owns one): decodes the block at an address
 * into the translation cache, compiles a *region* (the blocks of one page and mode key, see
 * regionOf) into a wasm module, installs the finished function in the one shared table every
 * module imports, and retires regions whose blocks are invalidated or flushed. The run loop stays
 * in engine.ts: per block it only reads `retiring` (and `regionById` after a region call); it calls
 * in on a cache miss and when a block gets hot.
 *
 * Compilation: by default a batch of regions compiles in the background (WebAssembly.instantiate)
 * while its blocks run in the interpreter; finished modules wait in `ready` and are installed at
 * the next run() entry (installReady). `tcSync` compiles in place (identical statistics).
 */
import type { Decoded } from '../cpu/decoded.js';
import { disassemble } from '../cpu/disasm.js';
import { MODE_LONG64, MODE_PROT32, RAM_BASE, SEG_BASE, SEG_CS, SEG_LIMIT, WASM_PAGE, segOffset } from '../cpu/state.js';
import type { SystemContext } from '../system/context.js';
import { buildModule, regionBody, type BackendBlock, type BackendRegion } from './backend.js';
import { Block, INDEX_PHYS, type TranslationCache } from './cache.js';
import type { ChainCache } from './chain.js';
import { instantiateFlags } from './flags-module.js';
import { decodeBlock, lowerBlock, staticTargets } from './frontend.js';
import { wasmText } from './wasm/text.js';

/** A region being compiled: its lead block, its members (by index) and its back-end input. */
interface CompiledRegion {
  lead: Block;
  members: Block[];
  region: BackendRegion;
}

/** What the engine that owns the translator provides (engine.ts Dbt). */
export interface RegionHost {
  /** Pages no longer translated (too many invalidations): decode gives them an empty block. */
  readonly demoted: ReadonlySet<number>;
  /** Drops every translation: decode calls it when the cache is full. */
  flush(): void;
  /** The helper translated code imports as `exec` (runs one instruction with its handler). */
  exec(gi: number): number;
  /** A background compile started: the run loop returns early so that it can land. */
  compileStarted(): void;
}

/** The engine's options the translator reads (DbtOptions, engine.ts). */
export interface RegionOptions {
  /** INDEX_PHYS, INDEX_VIRT or INDEX_VIRT_NOFLUSH (cache.ts): what a cache key holds. */
  index: number;
  tcSize: number;
  inline: boolean;
  tcSync: boolean;
  /** No links between blocks and no chaining between regions: a lockstep hook needs control
   *  after every block, and `--trace nochain` wants every block traced. */
  unlinked: boolean;
  trace: ((kind: 'in_asm' | 'out_asm' | 'tc', line: string) => void) | undefined;
}

/** The engine's counters (engine.ts stats()) that translation adds to. */
export interface TranslationStats {
  blocksDecoded: number; flushesSize: number; translateMs: number; modules: number; modulesPending: number;
  modulesStale: number; compileWaitMs: number; regions: number; regionBlocks: number; blocksTranslated: number;
  insnsInRegions: number; retranslations: number; chainsMade: number;
}

const hex = (v: number): string => (v < 0 ? `-${(-v).toString(16)}` : v.toString(16));

const IX_CS_BASE = (segOffset(SEG_CS) + SEG_BASE) >> 2;
const IX_CS_LIMIT = (segOffset(SEG_CS) + SEG_LIMIT) >> 2;
/** Most region functions compiled in one module. */
const BATCH = 32;
/** A page's region grown past this many blocks by a late hot block is split (see regionOf). */
const SPLIT_AT = 128;
/** Most blocks a region grows to by static discovery (direct branch targets in its page). */
const DISCOVER_MAX = 160;
/** 64-bit blocks this close to the end of a canonical half branch through helpers (2^47 - 2^32). */
const EDGE = 0x800000000000 - 0x100000000;

export class Regions {
  /** Region functions by id (the shared table every module imports) and their blocks. The run
   *  loop reads regionById to find the block a region call returned from. */
  private readonly table = new WebAssembly.Table({ element: 'anyfunc', initial: 256 });
  readonly regionById = new Map<number, Block[]>();
  private regionSeq = 0;
  /** Blocks whose current translation is each region's function, and ids free for reuse (the
   *  table does not grow without bound over many flushes and retranslations). */
  private readonly refs = new Map<number, number>();
  private readonly freeIds: number[] = [];
  /** Regions dropped from the table whose block lists stay until the run loop turns (sweepRegions). */
  readonly retiring: number[] = [];
  /** Global helper numbering: decoded instruction, its block index and offset (read by exec). */
  dec: Decoded[] = [];
  decIdx: number[] = [];
  decOff: number[] = [];
  /** Blocks past half the threshold, compiled with the next batch (the run loop adds them). */
  warm: Block[] = [];
  /** Module sequence numbers, and the background compiles that finished, waiting for run(). */
  private seq = 0;
  private ready: { inst: WebAssembly.Instance | null; regions: CompiledRegion[]; seq: number; t: number }[] = [];
  private compileError: unknown = null;
  /** Physical page * 128 + mode key of the regions being compiled in the background. */
  private readonly pagesCompiling = new Set<number>();
  /** Every cache key ever translated, to count retranslations. */
  private readonly everTranslated = new Set<number>();
  private readonly memPages: number;
  private readonly imports: WebAssembly.Imports;
  private readonly index: number;
  private readonly tcSize: number;
  private readonly inline: boolean;
  private readonly tcSync: boolean;
  private readonly unlinked: boolean;
  private readonly trace: RegionOptions['trace'];

  constructor(
    private readonly ctx: SystemContext,
    private readonly host: RegionHost,
    private readonly cache: TranslationCache,
    private readonly chains: ChainCache,
    private readonly st: TranslationStats,
    opts: RegionOptions,
  ) {
    this.index = opts.index;
    this.tcSize = opts.tcSize;
    this.inline = opts.inline;
    this.tcSync = opts.tcSync;
    this.unlinked = opts.unlinked;
    this.trace = opts.trace;
    this.memPages = ctx.views.memory.buffer.byteLength / WASM_PAGE;
    this.imports = {
      env: {
        mem: ctx.views.memory,
        tbl: this.table,
        exec: (gi: number): number => host.exec(gi),
        // cpu/flags.ts's evaluators in wasm (flags-module.ts): lazycf, flags (the whole RFLAGS
        // brought up to date: ROL/ROR keep SF, ZF, PF and AF of a lazy operation) and cond
        ...instantiateFlags(ctx.views.memory),
      },
    };
  }

  /** True while b's page (its mode key) has a region compiling in the background. */
  pageCompiling(b: Block): boolean {
    return this.pagesCompiling.has(pageId(b));
  }

  /** Drops the helper numbering (after a flush, when no block that uses it is running). */
  forgetDecoded(): void {
    this.dec = [];
    this.decIdx = [];
    this.decOff = [];
  }

  /**
   * Decodes the block at physical address pa (cache key, linear address, RIP, mode) into the cache
   * and numbers its instructions for exec. A demoted page gets an empty block, not cached.
   */
  decode(key: number, pa: number, lin: number, rip: number, mode: number, cpl: number, user: boolean): Block {
    const u32 = this.ctx.views.u32;
    if (this.cache.count >= this.tcSize) {
      this.host.flush();
      this.st.flushesSize++;
    }
    const room = mode === MODE_LONG64 ? Infinity : u32[IX_CS_LIMIT] - rip + 1;
    if (this.host.demoted.has(Math.floor(pa / 4096))) {
      // code and hot data share this page: leave it to the interpreter (an empty block)
      const e = new Block(key, pa, lin, rip, mode, user, [], [], 0, false, 0, 0, 0, ((key % 128) + 128) % 128);
      e.demoted = true;
      return e;
    }
    const code = decodeBlock(this.ctx.views.u8, RAM_BASE, pa, this.ctx.phys.ramSize, mode, cpl, room);
    const gidBase = this.dec.length;
    for (let i = 0; i < code.insns.length; i++) {
      this.dec.push(code.insns[i]);
      this.decIdx.push(i);
      this.decOff.push(code.offs[i]);
    }
    const modeKey = ((key % 128) + 128) % 128;
    const b = new Block(key, pa, lin, rip, mode, user, code.insns, code.offs, code.bytes, code.endsBranch, gidBase,
      u32[IX_CS_BASE], u32[IX_CS_LIMIT], modeKey);
    b.trapRow = code.stopRow !== undefined && code.insns.length === 0 ? code.stopRow : -1;
    this.st.blocksDecoded++;
    if (code.insns.length > 0 && this.cache.add(b)) this.ctx.mmu.invalidatePhysPage(Math.floor(pa / 4096));
    return b;
  }

  /**
   * Translates b together with the other blocks already found in its page (same mode key): one
   * region function in which they branch to each other directly. Links need 64-bit or flat 32-bit
   * code (page offsets of linear and physical addresses then agree, no CS limit to check); under
   * virtual indexing a region keeps to one linear page (regionOf). The regions of other pages holding *warm* blocks (past half the threshold,
   * not yet translated) are compiled in the same module: one compile for many functions.
   */
  compile(b: Block): void {
    const t0 = performance.now();
    const regions: CompiledRegion[] = [this.regionOf(b)];
    const pages = new Set([Math.floor(b.pa / 4096) * 128 + b.modeKey]);
    for (const w of this.warm) {
      if (regions.length >= BATCH) break;
      const id = Math.floor(w.pa / 4096) * 128 + w.modeKey;
      if (!w.valid || w.fn !== null || w.compiling || pages.has(id)) continue;
      pages.add(id);
      regions.push(this.regionOf(w));
    }
    this.warm = this.warm.filter((w) => w.valid && w.fn === null && !pages.has(Math.floor(w.pa / 4096) * 128 + w.modeKey));
    for (const r of regions) r.region.id = this.freeIds.pop() ?? ++this.regionSeq;
    const bytes = buildModule(this.memPages, regions.map((r) => r.region));
    const seq = ++this.seq;
    if (this.tcSync) {
      this.install(new WebAssembly.Instance(new WebAssembly.Module(bytes), this.imports), regions, seq);
    } else {
      // Compile off the main thread; the blocks keep running through helpers (or their older
      // translation) until the module is installed at a later run() entry.
      for (const { members } of regions) for (const x of members) x.compiling = true;
      for (const { lead } of regions) this.pagesCompiling.add(pageId(lead));
      this.st.modulesPending++;
      this.host.compileStarted();
      const t1 = performance.now();
      WebAssembly.instantiate(bytes, this.imports).then(
        (res) => {
          this.ready.push({ inst: res.instance, regions, seq, t: t1 });
        },
        (err: unknown) => {
          this.ready.push({ inst: null, regions, seq, t: t1 });
          this.compileError = err;
        },
      );
    }
    const tr = this.trace;
    if (tr !== undefined) {
      for (const { lead, members, region } of regions) {
        const bits = lead.mode === MODE_LONG64 ? 64 : lead.mode === MODE_PROT32 ? 32 : 16;
        tr('tc', `translate page ${hex(Math.floor(lead.pa / 4096) * 4096)}: ${members.length} blocks`);
        for (const x of members) {
          tr('in_asm', `block ${hex(x.lin)} (pa ${hex(x.pa)}):`);
          x.insns.forEach((d, i) => tr('in_asm', `  ${hex(x.lin + x.offs[i])}  ${disassemble(d, bits, BigInt(x.lin + x.offs[i]))}`));
        }
        const body = regionBody(region);
        for (const l of wasmText(body.code.buf, body.code.len)) tr('out_asm', l);
      }
    }
    this.st.translateMs += performance.now() - t0;
  }

  /**
   * Gives the members of each compiled region their function. A region whose blocks were
   * invalidated or flushed while it compiled is dropped whole: its code links among them.
   */
  private install(inst: WebAssembly.Instance, regions: CompiledRegion[], seq: number): void {
    regions.forEach(({ lead, members, region }, k) => {
      const id = region.id;
      this.pagesCompiling.delete(pageId(lead));
      for (const x of members) x.compiling = false;
      if (members.some((x) => !x.valid || this.cache.get(x.key) !== x)) {
        this.st.modulesStale++;
        this.freeIds.push(id); // never installed
        return;
      }
      const fn = inst.exports[`r${k}`] as (start: number, pageOff: number, budget: number, done: number) => number;
      if (id >= this.table.length) this.table.grow(Math.max(id + 1 - this.table.length, this.table.length));
      this.table.set(id, fn);
      this.regionById.set(id, members);
      const links = region.links ?? 0;
      this.st.chainsMade += links;
      members.forEach((x, j) => {
        if (x.seq > seq) return; // a newer translation already landed
        if (x.fn === null) {
          this.st.blocksTranslated++;
          this.st.insnsInRegions += x.n;
          // the same key translated again after an invalidation or a flush
          if (this.everTranslated.has(x.key)) this.st.retranslations++;
          else this.everTranslated.add(x.key);
        }
        // a block moving to this region leaves its old one (ids are new per compile)
        this.refs.set(id, (this.refs.get(id) ?? 0) + 1);
        if (x.fn !== null) this.release(x.regionId);
        x.fn = fn;
        x.regionId = id;
        x.seq = seq;
        x.regionLinks = links;
        x.regionIdx = j;
        x.region = members;
      });
      // every member already had a newer translation: nothing will run this one
      if ((this.refs.get(id) ?? 0) === 0) this.retire(id);
      this.st.regions++;
      this.st.regionBlocks += members.length;
    });
    this.st.modules++;
  }

  /** Installs the modules whose background compile finished (called at run() entry). */
  installReady(): void {
    if (this.ready.length === 0) return;
    const list = this.ready;
    this.ready = [];
    const now = performance.now();
    for (const r of list) {
      this.st.modulesPending--;
      this.st.compileWaitMs += now - r.t;
      if (r.inst === null) {
        for (const { lead, members } of r.regions) {
          this.pagesCompiling.delete(pageId(lead));
          for (const x of members) x.compiling = false;
        }
        throw new Error(`dbt: a generated module did not compile: ${String(this.compileError)}`);
      }
      this.install(r.inst, r.regions, r.seq);
    }
  }

  /** The region that holds block b: b alone, or every current block of its page and mode key. */
  private regionOf(b: Block): CompiledRegion {
    const flat = (b.modeKey & 64) !== 0;
    const link = (b.mode === MODE_LONG64 || flat) && this.inline && !this.unlinked;
    let members: Block[] = [b];
    if (link) {
      this.discover(b);
      const page = this.cache.pages.get(Math.floor(b.pa / 4096)) ?? [];
      // Links go by page offset from the entry block's linear page. Under physical indexing any
      // alias of the page is the same code; under virtual indexing a region holds the blocks of
      // one linear page only (the same physical page seen at another address is another key).
      const linPage = b.lin - (b.pa & 0xfff);
      const all = page.filter((x) => x.valid && x.modeKey === b.modeKey && x.n > 0 && this.cache.get(x.key) === x &&
        (this.index === INDEX_PHYS || x.lin - (x.pa & 0xfff) === linPage));
      // A page that already has a region and would grow past SPLIT_AT blocks gets a second region
      // with only the blocks that have none (an indirect target got hot, and what it reaches):
      // recompiling everything made one huge function whose code was slower (bench64 iters=200:
      // 104 + 109 blocks in one 118 KB function after 340 M instructions). Control passes between
      // the two through the run loop, so small pages are still recompiled whole (bench/dbt.ts
      // branchy: 430 MIPS whole, 365 split).
      const fresh = all.filter((x) => x.fn === null);
      members = fresh.length < all.length && all.length > SPLIT_AT ? fresh : all;
      if (!members.includes(b)) members.push(b);
      // in address order: most branches go forward, and the emitter enters a later block of the
      // region with a plain forward `br` (earlier ones through its dispatch loop)
      members.sort((x, y) => x.pa - y.pa);
    }
    const blocks: BackendBlock[] = members.map((x) => ({
      ir: lowerBlock({ insns: x.insns, offs: x.offs, bytes: x.bytes, endsBranch: x.endsBranch }, x.mode, this.inline, flat,
        x.mode === MODE_LONG64 && (x.lin >= EDGE || x.lin < -EDGE)),
      insns: x.insns, offs: x.offs, gidBase: x.gidBase, pageOff: x.pa & 0xfff,
    }));
    // id: set by compile(); links (and so chaining out) only where pages agree (see above)
    return { lead: b, members, region: { blocks, mode: b.mode, user: b.user, link, id: 0, modeKey: b.modeKey, chain: link } };
  }

  /**
   * Decodes the blocks of b's page that its known blocks reach by direct branches, calls' return
   * addresses and fall-through (same mode key), so the region is compiled once with the code its
   * page will run rather than again each time another block of it gets hot.
   */
  private discover(b: Block): void {
    const page = Math.floor(b.pa / 4096);
    const list = this.cache.pages.get(page);
    if (list === undefined) return;
    const pageBase = b.pa - (b.pa & 0xfff);
    const linBase = b.lin - (b.pa & 0xfff);
    const cpl = (b.modeKey >> 3) & 3;
    const seen = new Set<number>();
    const work: Block[] = [];
    for (const x of list) {
      if (!x.valid || x.modeKey !== b.modeKey || this.cache.get(x.key) !== x) continue;
      if (this.index !== INDEX_PHYS && x.lin - (x.pa & 0xfff) !== linBase) continue;
      seen.add(x.pa & 0xfff);
      work.push(x);
    }
    while (work.length > 0 && seen.size < DISCOVER_MAX && this.cache.count + 1 < this.tcSize) {
      const x = work.pop() as Block;
      for (const rel of staticTargets(x)) {
        const off = (x.pa & 0xfff) + rel;
        if (off < 0 || off >= 4096 || seen.has(off)) continue;
        seen.add(off);
        const lin = linBase + off;
        // the run loop's key for this code: its physical or its linear address
        const key = (this.index === INDEX_PHYS ? pageBase + off : lin) * 128 + b.modeKey;
        let y = this.cache.get(key);
        if (y === undefined) y = this.decode(key, pageBase + off, lin, b.mode === MODE_LONG64 ? lin : lin >>> 0, b.mode, cpl, b.user);
        if (y.n > 0 && y.valid) work.push(y);
      }
    }
  }

  /** Links compiled into the regions that hold some of `blocks` (each region counted once). */
  chainsOf(blocks: Block[] | undefined): number {
    if (blocks === undefined) return 0;
    let n = 0;
    const seen = new Set<Block[]>();
    for (const b of blocks) {
      if (b.fn === null || !b.valid || seen.has(b.region)) continue;
      seen.add(b.region);
      n += b.regionLinks;
    }
    return n;
  }

  /**
   * Empties the jump-cache entries into the regions holding some of `blocks` and drops their
   * functions from the table (a running one finishes: a table slot only serves new calls); their
   * block lists stay until the run loop next turns (sweepRegions), for the region that returns.
   */
  retireRegions(blocks: Block[] | undefined): void {
    if (blocks === undefined) return;
    for (const b of blocks) {
      const id = b.regionId;
      if (b.fn === null || id === 0) continue;
      this.retire(id);
    }
  }

  /**
   * One block fewer runs region `id`. A region no block runs any more is retired now: a page
   * invalidation finds regions through their blocks, and this one would keep its jump-cache
   * entries into code that may go stale.
   */
  private release(id: number): void {
    const left = (this.refs.get(id) ?? 1) - 1;
    this.refs.set(id, left);
    if (left === 0) this.retire(id);
  }

  private retire(id: number): void {
    if (this.retiring.includes(id)) return;
    this.chains.dropRegion(id);
    this.table.set(id, null);
    this.retiring.push(id);
  }

  /** Drops the block lists of the regions retired since the run loop last turned; frees their ids. */
  sweepRegions(): void {
    for (const id of this.retiring) {
      this.regionById.delete(id);
      this.refs.delete(id);
      this.freeIds.push(id);
    }
    this.retiring.length = 0;
  }
}

/** A block's page and mode key: what a region is compiled for. */
function pageId(b: Block): number {
  return Math.floor(b.pa / 4096) * 128 + b.modeKey;
}
