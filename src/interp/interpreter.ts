/**
 * The interpreter's run loop (ARCHITECTURE.md §4): fetch through the MMU at CS:rIP, decode once
 * (a cache of decoded instructions per guest-physical page), dispatch through the dense handler
 * array, and between instructions take pending external interrupts and deliver the faults handlers
 * return, through the system layer's IDT delivery.
 *
 * Counting: every executed instruction counts one, every iteration of a REP string instruction
 * counts one (a handler call runs a bounded number of iterations, never past `stopAt`, which it
 * reads at OFF_REP_STOP, reports those beyond the first at OFF_REP_EXTRA, and re-executes itself
 * while the count is not exhausted, so interrupts are taken between slices), and delivering a
 * fault counts one (so a guest stuck in a fault loop still reaches `stopAt`).
 *
 * The decode cache (decode-cache.ts) is a map from guest-physical page to `PageCache`; stores to a
 * cached page reach `invalidatePage` (the constructor wires it when nothing else is wired).
 */
import {
  CODE_BITMAP_BASE, FLAG_IF, FLAG_TF, OFF_DR0, MODE_LONG64, MODE_PROT32, OFF_CPL, OFF_EXIT_REQUEST, OFF_HALTED,
  OFF_INSN_COUNT, OFF_INT_SHADOW, OFF_MODE, OFF_REP_EXTRA, OFF_REP_STOP, RAM_BASE, SEG_CS, SEG_BASE, SEG_LIMIT, segOffset,
  SEG_DS, SEG_SS, SEG_ATTR, ATTR_P, ATTR_DB,
} from '../cpu/state.js';
import { FAULT, FAULT_GP0, VEC_DB } from '../cpu/fault.js';
import { IX_FLAGS } from '../cpu/flags.js';
import { DEC_NEED_MORE, DEC_OK, Decoded } from '../cpu/decoded.js';
import { decode } from '../cpu/decoder.js';
import { tableRows } from '../cpu/table.js';
import { F_PRIV } from '../cpu/table-defs.js';
import { ACCESS_FETCH } from '../mmu/mmu.js';
import { TE_FETCH, TE_HOST, tlbEntryWord } from '../mmu/tlb.js';
import { DELIVER_OK, DELIVER_TRIPLE_FAULT, type SystemContext } from '../system/context.js';
import { EV_EXCEPTION, EV_EXTERNAL, deliver, deliverFault } from '../system/interrupts.js';
import { Cpu, STOP_HALT, type Handler } from './cpu.js';
import { SHADOW_MOV_SS, STOP_UNSUPPORTED } from './system-common.js';
import { GP_REGISTRARS, buildDispatch, missingHandlers, type Registrar } from './dispatch.js';
import {
  FAST, addEvGv, addEvIb, addGvEv, andEvIb, cmpEvGv, cmpEvIb, cmpGvEv, movEvGv, movGvEv, orEvGv, subEvGv, subEvIb,
  xorEvGv,
} from './fast.js';
import { jcc, jmpRel } from './control.js';
import { registerAlu } from './alu.js';
import { registerMov } from './mov.js';
import { K_ALU32, rowSpecs, specialise } from './prep.js';
import { INLINE_MISS, execInline } from './inline.js';
import { hotKind, hotOut, hotRows } from './hot-prep.js';
import { runHot } from './hot.js';
import { repTake } from './string.js';
import { warmHotLoop } from './hot-warm.js';
import { PageCache, decodeFetched } from './decode-cache.js';

/** Whether this process has run the hot loop's warm-up (hot-warm.ts). */
let warmed = false;

export const RUN_LIMIT = 0;
export const RUN_HALT = 1;
export const RUN_EXIT_REQUEST = 2;
export const RUN_TRIPLE_FAULT = 3;
export const RUN_UNSUPPORTED = 4;

const IX_MODE = OFF_MODE >> 2;
/** From an entry's fetch-tag word to its host-offset word (mmu/tlb.ts layout). */
const HOST_FROM_FETCH = TE_HOST - TE_FETCH;
/** DR6 (slot 6 of the debug registers) and its single-step bit. */
const IX_DR6 = (OFF_DR0 + 6 * 8) >> 2;
const DR6_BS = 1 << 14;
const IX_CPL = OFF_CPL >> 2;
const IX_EXIT = OFF_EXIT_REQUEST >> 2;
const IX_REP_EXTRA = OFF_REP_EXTRA >> 2;
const IX_COUNT = OFF_INSN_COUNT >> 2;
const IX_HALTED = OFF_HALTED >> 2;
const IX_SHADOW = OFF_INT_SHADOW >> 2;
const IX_CS_BASE = (segOffset(SEG_CS) + SEG_BASE) >> 2;
const IX_CS_LIMIT = (segOffset(SEG_CS) + SEG_LIMIT) >> 2;
const BITNESS = [16, 16, 32, 64, 16]; // by MODE_*
const FLAT_SEGS = [SEG_CS, SEG_DS, SEG_SS];
/** The fast.ts kinds of Jcc and JMP rel (rows jccJb jccJz jmpJb jmpJz): register-only. */
const KIND_JCC = FAST.findIndex(([n]) => n === 'jccJb') + 1;
const KIND_JMP_LAST = FAST.findIndex(([n]) => n === 'jmpJz') + 1;
if (KIND_JCC !== 14 || KIND_JMP_LAST !== 17) throw new Error('fast.ts order changed: update the run loop switch');

/** Stores the instructions retired so far (the current one not included) in the CPU block. */
function liveCount(u32: Uint32Array, count: number): void {
  u32[IX_COUNT] = count >>> 0;
  u32[IX_COUNT + 1] = (count / 4294967296) >>> 0;
}

export class Interpreter {
  readonly cpu: Cpu;
  readonly handlers: Handler[];
  private readonly rowPriv: Uint8Array;
  private readonly rowKind: Uint8Array;
  /** prep.ts's per-row spec (all 0 when the ALU/MOV handlers are not the registered ones). */
  private readonly rowSpec: Uint8Array;
  /** hot-prep.ts's per-row class (all 0 unless every general-purpose registrar is in use). */
  private readonly rowHot: Int32Array;
  private readonly pages = new Map<number, PageCache>();
  /** Invalidated page caches kept for reuse. */
  private readonly spare: PageCache[] = [];
  private lastPageNo = -1;
  private lastPage: PageCache | null = null;
  /** Scratch for instructions decoded each time (page-crossing, outside RAM). */
  private readonly scratch = new Decoded();
  private readonly fetchBuf = new Uint8Array(16);
  /** The fetch fast path's page: linear base, TLB fetch-tag word index and value, decode cache. */
  private fetchLin = -1;
  private fetchEntry = 0;
  private fetchTag = 0;
  private fetchHost = 0;
  private fetchPage: PageCache | null = null;
  private fetchUser = false;
  /** The instruction counter while running (OFF_INSN_COUNT is written back on exit). */
  private count = 0;
  /** Statistics: decodes done (cache misses). */
  decodes = 0;

  constructor(
    readonly ctx: SystemContext,
    registrars: Registrar[] = GP_REGISTRARS,
  ) {
    this.cpu = new Cpu(ctx);
    this.handlers = buildDispatch(registrars);
    // A privileged row without a handler is an instruction ringvm does not implement (nor CPUID
    // advertise: VMX, SVM, SGX, MONITOR, SMAP, XSAVES ...): #UD comes before the CPL check, as on a
    // CPU without the feature (the host-CPU oracle found #GP here).
    // SYSRET checks for itself: its #UD cases (outside 64-bit mode, EFER.SCE clear) come first.
    const missing = new Set(missingHandlers(registrars));
    missing.add('sysret');
    this.rowPriv = Uint8Array.from(tableRows, (row) => ((row.flags & F_PRIV) !== 0 && !missing.has(row.name) ? 1 : 0));
    this.rowKind = Uint8Array.from(this.handlers, (h) => FAST.findIndex(([, f]) => f === h) + 1);
    const inline = registrars.includes(registerAlu) && registrars.includes(registerMov);
    this.rowSpec = inline ? rowSpecs() : new Uint8Array(this.handlers.length);
    const standard = GP_REGISTRARS.every((r) => registrars.includes(r));
    this.rowHot = standard ? hotRows() : new Int32Array(this.handlers.length);
    if (ctx.phys.onCodeWrite === null) ctx.phys.onCodeWrite = (page) => this.invalidatePage(page);
    this.cpu.rip = this.cpu.loadRip();
    if (standard && !warmed) {
      warmed = true;
      try {
        warmHotLoop((c) => new Interpreter(c));
      } catch {
        // only a speed-up: a machine without it runs the same, more slowly at first
      }
    }
  }

  /**
   * 32-bit code whose CS, DS and SS are flat (base 0, 4 GiB limit, usable, a 32-bit stack): what
   * the hot loop assumes for its memory operands and jumps outside 64-bit mode.
   */
  private flat32(): boolean {
    const u32 = this.cpu.u32;
    if (u32[IX_MODE] !== MODE_PROT32) return false;
    for (const s of FLAT_SEGS) {
      const o = segOffset(s) >> 2;
      if ((u32[o + (SEG_BASE >> 2)] | u32[o + (SEG_BASE >> 2) + 1]) !== 0 || u32[o + (SEG_LIMIT >> 2)] !== 0xffffffff) return false;
      const attr = u32[o + (SEG_ATTR >> 2)];
      if ((attr & ATTR_P) === 0) return false;
      // CS: code, readable; DS/SS: writable expand-up data; SS also 32-bit (B)
      if (s === SEG_CS ? (attr & 0x1a) !== 0x1a : (attr & 0x1e) !== 0x12 || (s === SEG_SS && (attr & ATTR_DB) === 0)) return false;
    }
    return true;
  }

  /**
   * Drops every decoded instruction of guest-physical page `page` (a store hit it). A REP cut in
   * progress is kept: it is already decoded (its own stores land here), as on hardware.
   */
  invalidatePage(page: number): void {
    const cache = this.pages.get(page);
    if (cache !== undefined) {
      this.pages.delete(page);
      const u8 = this.cpu.u8;
      u8[CODE_BITMAP_BASE + (page >>> 3)] &= ~(1 << (page & 7));
      // Recycle it: pages that mix code and data are invalidated and refilled all the time. The
      // Decoded objects are not reused (a running handler may still hold one), only the arrays.
      cache.bits.fill(0);
      if (this.spare.length < 64) this.spare.push(cache);
    }
    if (page === this.lastPageNo) {
      this.lastPageNo = -1;
      this.lastPage = null;
    }
    this.fetchPage = null;
  }

  /** Drops the whole decode cache (after a bulk load, or when the caller cannot say which page). */
  flush(): void {
    this.cpu.repD = null; // a bulk change: whatever was cut is fetched again
    for (const page of this.pages.keys()) this.invalidatePage(page);
  }

  /** Executes one instruction (or delivers one pending event); returns a RUN_* code. */
  step(): number {
    return this.run(this.cpu.views.getNum(OFF_INSN_COUNT) + 1);
  }

  /**
   * Runs until the instruction counter reaches `stopAt`, a HLT, an exit request or a triple
   * fault; returns the RUN_* reason. OFF_RIP and OFF_INSN_COUNT are current on return.
   */
  run(stopAt: number): number {
    const cpu = this.cpu;
    this.count = cpu.views.getNum(OFF_INSN_COUNT);
    cpu.refreshMode();
    cpu.rip = cpu.loadRip();
    // REP string iterations stop at stopAt; the caller's own stop (the translator's) is put back
    const outerStop = cpu.views.getNum(OFF_REP_STOP);
    cpu.views.setNum(OFF_REP_STOP, stopAt);
    cpu.u32[IX_REP_EXTRA] = 0;
    const result = this.loop(stopAt);
    cpu.views.setNum(OFF_REP_STOP, outerStop);
    cpu.storeRip(cpu.rip);
    cpu.views.setNum(OFF_INSN_COUNT, this.count);
    return result;
  }

  /** The instruction loop; kept apart from run's entry and exit so its optimised code is reused. */
  private loop(stopAt: number): number {
    const cpu = this.cpu;
    const views = cpu.views;
    const m = cpu.m;
    const u32 = cpu.u32;
    const mmu = cpu.mmu;
    const ctx = this.ctx;
    const handlers = this.handlers;
    let count = this.count;
    let result = RUN_LIMIT;

    let mode = -1;
    let user = false;
    // The previous instruction only touched registers and rIP (a prep.ts kind, Jcc, JMP rel) and
    // completed without a trap or interrupt shadow: nothing the event test, the mode/CPL test or
    // the fetch page's TLB test reads can have changed since they last passed (the interrupt
    // controller only changes through device accesses), so those are skipped. The exit request is
    // still read every time (the embedder may set it from outside).
    let quick = false;
    for (;;) {
      if (count >= stopAt) break;
      // ---- events between instructions: one combined test on the fast path ----
      let trap = false;
      let shadow = false;
      const fl = m[IX_FLAGS];
      if (quick) {
        if (u32[IX_EXIT] !== 0) {
          result = RUN_EXIT_REQUEST;
          break;
        }
      } else if ((u32[IX_EXIT] | u32[IX_SHADOW] | u32[IX_HALTED] | (fl & FLAG_TF)) !== 0 || ((fl & FLAG_IF) !== 0 && ctx.intc !== null)) {
        // single-step: TF at the start of an instruction traps (#DB) after it completes; after
        // MOV SS / POP SS the trap waits for the next instruction (checked below)
        trap = (fl & FLAG_TF) !== 0;
        if (u32[IX_EXIT] !== 0) {
          result = RUN_EXIT_REQUEST;
          break;
        }
        if (u32[IX_SHADOW] !== 0) {
          u32[IX_SHADOW] = 0;
          shadow = true;
        } else if ((m[IX_FLAGS] & FLAG_IF) !== 0 && ctx.intc !== null && ctx.intc.hasInterrupt()) {
          const vector = ctx.intc.acknowledge();
          cpu.repD = null; // an event between iterations: the REP is fetched again after it
          cpu.storeRip(cpu.rip);
          const r = deliver(ctx, vector, -1, EV_EXTERNAL);
          cpu.refreshMode();
          cpu.rip = cpu.loadRip();
          mode = -1;
          if (r !== DELIVER_OK) {
            result = r === DELIVER_TRIPLE_FAULT ? RUN_TRIPLE_FAULT : RUN_UNSUPPORTED;
            break;
          }
          count++;
          continue;
        }
        if (u32[IX_HALTED] !== 0) {
          result = RUN_HALT;
          break;
        }
      }

      // ---- fetch and decode (mode and CPL change rarely: re-read, store only on change) ----
      if (!quick && (u32[IX_MODE] !== mode || (u32[IX_CPL] === 3) !== user)) {
        mode = u32[IX_MODE];
        user = u32[IX_CPL] === 3;
        cpu.mode = mode;
        cpu.user = user;
      }
      const rip = cpu.rip;
      let f: number;
      const lin = mode === MODE_LONG64 ? rip : (u32[IX_CS_BASE] + rip) >>> 0;
      let d: Decoded | null = null;
      let h: Handler | null = null;
      // A REP that an engine-internal stop cut here, with nothing retired since, goes on as it was
      // decoded (string.ts repTake; docs/interpreter.md). Only a REP sets the record and it leaves
      // `quick` false, so a quick step cannot follow one.
      let resumed = false;
      if (!quick && cpu.repD !== null) {
        d = repTake(cpu, rip, count);
        if (d !== null) {
          h = handlers[d.row];
          resumed = true;
        }
      }
      // Fast path: the same code page as the last fetch, its TLB entry unchanged (a flush or a
      // refill changes the tag word), and the page's decode cache still alive.
      const linOff = lin & 0xfff;
      const lp = this.fetchPage;
      let kind = 0;
      let word = 0;
      if (
        !resumed && lin - linOff === this.fetchLin && lp !== null && lp.bits[linOff] === BITNESS[mode] &&
        (quick || (user === this.fetchUser && m[this.fetchEntry] === this.fetchTag &&
          u32[this.fetchEntry + HOST_FROM_FETCH] === this.fetchHost))
      ) {
        d = lp.insns[linOff] as Decoded;
        h = lp.fns[linOff] as Handler;
        kind = lp.kinds[linOff];
        word = lp.words[linOff];
      }
      if (h !== null && !resumed && !trap && !shadow && (lp as PageCache).hk[linOff] !== 0 && (mode === MODE_LONG64 || this.flat32())) {
        // a stretch of hot kinds: run them without the per-instruction checks (hot.ts)
        const n = runHot(cpu, lp as PageCache, linOff, lin - linOff, mode === MODE_LONG64, user, stopAt - count);
        if (n > 0) {
          count += n;
          quick = true;
          continue;
        }
      }
      const pa = h !== null ? 0 : mmu.translate(lin, ACCESS_FETCH, user);
      if (h === null && pa >= 0) {
        const pageNo = pa >>> 12;
        const off = pa & 0xfff;
        const page = pageNo === this.lastPageNo ? this.lastPage : this.findPage(pageNo);
        // remember this page for the fast path when its TLB entry is a plain fetch hit
        const e = tlbEntryWord(lin | 0, user) + ACCESS_FETCH;
        const tag = Math.floor(lin / 16777216) | 0;
        if (page !== null && m[e] === tag && u32[e + HOST_FROM_FETCH] === RAM_BASE + pa - off) {
          // the entry's host page too: a refill with the same tag but another frame must miss
          this.fetchHost = u32[e + HOST_FROM_FETCH];
          this.fetchLin = lin - linOff;
          this.fetchEntry = e;
          this.fetchTag = tag;
          this.fetchPage = page;
          this.fetchUser = user;
        } else this.fetchPage = null;
        if (page !== null && page.bits[off] === BITNESS[mode]) {
          d = page.insns[off] as Decoded;
          h = page.fns[off] as Handler;
        } else {
          d = this.decodeAt(lin, pa, pageNo, off, BITNESS[mode], user);
          if (d !== null && d.status === DEC_OK) h = handlers[d.row];
        }
      }
      if (d === null) f = mmu.fault;
      else if (h === null) f = d.status;
      else {
        const next = rip + d.length;
        if (mode === MODE_LONG64) cpu.nextRip = next;
        else if (next - 1 > u32[IX_CS_LIMIT]) h = null;
        else cpu.nextRip = mode === MODE_PROT32 ? next >>> 0 : next & 0xffff;
        // ---- execute ----
        if (h === null) f = FAULT_GP0;
        else {
          if (kind >= K_ALU32) {
            f = execInline(cpu, d, kind, word, user);
            if (f === INLINE_MISS) {
              liveCount(u32, count);
              f = h(cpu, d);
              kind = 0; // it may have taken the MMU's slow path: no chaining after it
            }
          } else {
            // Virtual time must be exact wherever the guest can read it (port I/O, MMIO timers,
            // RDTSC, RDMSR): the translator keeps the same count live, so both engines agree.
            liveCount(u32, count);
            switch (kind) {
            case 1: f = movGvEv(cpu, d); break;
            case 2: f = movEvGv(cpu, d); break;
            case 3: f = addEvGv(cpu, d); break;
            case 4: f = addGvEv(cpu, d); break;
            case 5: f = addEvIb(cpu, d); break;
            case 6: f = subEvGv(cpu, d); break;
            case 7: f = subEvIb(cpu, d); break;
            case 8: f = cmpEvGv(cpu, d); break;
            case 9: f = cmpGvEv(cpu, d); break;
            case 10: f = cmpEvIb(cpu, d); break;
            case 11: f = xorEvGv(cpu, d); break;
            case 12: f = andEvIb(cpu, d); break;
            case 13: f = orEvGv(cpu, d); break;
            case 14: case 15: f = jcc(cpu, d); break;
            case 16: case 17: f = jmpRel(cpu, d); break;
            default:
              // the only kind that can be a privileged row (fast kinds never are)
              f = this.rowPriv[d.row] !== 0 && u32[IX_CPL] !== 0 ? FAULT_GP0 : h(cpu, d);
              if (u32[IX_REP_EXTRA] !== 0) {
                // a REP string instruction retired several iterations (string.ts)
                count += u32[IX_REP_EXTRA];
                u32[IX_REP_EXTRA] = 0;
              }
              break;
            }
          }
        }
      }
      count++;
      quick = false;
      if (f === 0 && !trap) {
        cpu.rip = cpu.nextRip;
        // (a memory kind keeps its kind only when it hit the TLB's RAM fast path)
        quick = (kind >= K_ALU32 || (kind >= KIND_JCC && kind <= KIND_JMP_LAST)) && !shadow;
        continue;
      }
      if (trap && (f & FAULT) === 0 && u32[IX_SHADOW] !== SHADOW_MOV_SS) {
        // #DB single-step trap: DR6.BS set, the pushed RIP is the next instruction
        cpu.rip = cpu.nextRip;
        u32[IX_DR6] |= DR6_BS;
        cpu.repD = null;
        cpu.storeRip(cpu.rip);
        const r = deliver(ctx, VEC_DB, -1, EV_EXCEPTION);
        cpu.refreshMode();
        cpu.rip = cpu.loadRip();
        mode = -1;
        if (r !== DELIVER_OK) {
          result = r === DELIVER_TRIPLE_FAULT ? RUN_TRIPLE_FAULT : RUN_UNSUPPORTED;
          break;
        }
        count++;
        if (f === STOP_HALT) {
          result = RUN_HALT;
          break;
        }
        continue;
      }
      mode = -1; // whatever happened may have changed the mode
      if ((f & FAULT) !== 0) {
        // A fault: RIP still names the faulting instruction.
        mmu.fault = 0;
        cpu.repD = null;
        cpu.storeRip(cpu.rip);
        views.setNum(OFF_INSN_COUNT, count);
        const r = deliverFault(ctx, f);
        cpu.refreshMode();
        cpu.rip = cpu.loadRip();
        if (r !== DELIVER_OK) {
          result = r === DELIVER_TRIPLE_FAULT ? RUN_TRIPLE_FAULT : RUN_UNSUPPORTED;
          break;
        }
        continue;
      }
      // A STOP_* code: the instruction completed.
      cpu.rip = cpu.nextRip;
      cpu.refreshMode();
      if (f === STOP_HALT) {
        result = RUN_HALT;
        break;
      }
      if (f === STOP_UNSUPPORTED) {
        // the system layer met something ringvm does not implement (a 16-bit TSS ...)
        result = RUN_UNSUPPORTED;
        break;
      }
    }
    this.count = count;
    return result;
  }

  /**
   * Executes the instruction at RIP and returns what its handler returned: 0, a fault value (not
   * delivered: RIP and registers are as before it, mmu.fault is cleared) or a STOP_* code. No
   * interrupts, no instruction counting: for tests and for lockstep comparison with the translator.
   */
  stepRaw(): number {
    const cpu = this.cpu;
    cpu.repD = null; // the checked mode runs REPs an iteration at a time, fetching each
    cpu.refreshMode();
    cpu.rip = cpu.loadRip();
    const mode = cpu.mode;
    const rip = cpu.rip;
    const d = this.lookup(mode, rip, cpu.user);
    let f: number;
    if (d === null) f = cpu.mmu.fault;
    else if (d.status !== DEC_OK) f = d.status;
    else {
      const next = rip + d.length;
      if (mode !== MODE_LONG64 && next - 1 > cpu.u32[IX_CS_LIMIT]) f = FAULT_GP0;
      else if (this.rowPriv[d.row] !== 0 && cpu.u32[IX_CPL] !== 0) f = FAULT_GP0;
      else {
        cpu.nextRip = mode === MODE_LONG64 ? next : mode === MODE_PROT32 ? next >>> 0 : next & 0xffff;
        f = this.handlers[d.row](cpu, d);
      }
    }
    cpu.mmu.fault = 0;
    if (f === 0 || (f & FAULT) === 0) cpu.storeRip(cpu.nextRip);
    return f;
  }

  /**
   * The decoded instruction at CS:rip, from the cache or freshly decoded. Returns null when the
   * fetch faulted (mmu.fault holds the fault); a decoded instruction may carry a fault status.
   */
  private lookup(mode: number, rip: number, user: boolean): Decoded | null {
    const cpu = this.cpu;
    const bits = BITNESS[mode];
    const lin = mode === MODE_LONG64 ? rip : (cpu.u32[IX_CS_BASE] + rip) >>> 0;
    const pa = cpu.mmu.translate(lin, ACCESS_FETCH, user);
    if (pa < 0) return null;
    const pageNo = Math.floor(pa / 4096);
    const off = pa & 0xfff;
    let page = this.lastPage;
    if (pageNo !== this.lastPageNo) {
      page = this.pages.get(pageNo) ?? null;
      if (page !== null) {
        this.lastPage = page;
        this.lastPageNo = pageNo;
      }
    }
    if (page !== null && page.bits[off] === bits) return page.insns[off] as Decoded;
    return this.decodeAt(lin, pa, pageNo, off, bits, user);
  }

  /** The cache of page `pageNo` (made the current one), or null. */
  private findPage(pageNo: number): PageCache | null {
    const page = this.pages.get(pageNo);
    if (page === undefined) return null;
    this.lastPage = page;
    this.lastPageNo = pageNo;
    return page;
  }

  /** Decodes the instruction at linear `lin` (physical `pa`), caching it when it lies in one RAM page. */
  private decodeAt(lin: number, pa: number, pageNo: number, off: number, bits: number, user: boolean): Decoded | null {
    const cpu = this.cpu;
    const phys = this.ctx.phys;
    this.decodes++;
    const pageEnd = (pageNo + 1) * 4096;
    if (phys.isRam(pa, 1)) {
      const avail = Math.min(pageEnd, phys.ramSize) - pa;
      const d = new Decoded();
      decode(cpu.u8, RAM_BASE + pa, RAM_BASE + pa + avail, bits, d);
      if (d.status !== DEC_NEED_MORE) {
        if (avail >= 15 || pa + avail === pageEnd) this.store(pageNo, off, bits, d);
        return d;
      }
    }
    // Page-crossing or outside RAM: fetched through the MMU and decoded each time.
    return decodeFetched(cpu.mmu, lin, bits, user, this.fetchBuf, this.scratch);
  }

  private store(pageNo: number, off: number, bits: number, d: Decoded): void {
    let page = this.pages.get(pageNo);
    if (page === undefined) {
      page = this.spare.pop() ?? new PageCache();
      this.pages.set(pageNo, page);
      const u8 = this.cpu.u8;
      u8[CODE_BITMAP_BASE + (pageNo >>> 3)] |= 1 << (pageNo & 7);
      // stores to the page must now take the slow path, which calls onCodeWrite
      this.cpu.mmu.invalidatePhysPage(pageNo);
    }
    page.insns[off] = d;
    page.fns[off] = d.status === DEC_OK ? this.handlers[d.row] : undefined;
    const spec = d.status === DEC_OK ? specialise(this.rowSpec[d.row], d) : 0;
    page.kinds[off] = spec !== 0 ? spec & 0xff : d.status === DEC_OK ? this.rowKind[d.row] : 0;
    page.words[off] = spec >> 8;
    page.bits[off] = d.status === DEC_OK ? bits : 0; // faulting decodes are not cached
    page.hk[off] = d.status === DEC_OK ? hotKind(this.rowHot[d.row], d, bits) : 0;
    page.ha[off] = hotOut[0];
    page.himm[off] = hotOut[1];
    page.hdisp[off] = hotOut[2];
    this.lastPage = page;
    this.lastPageNo = pageNo;
  }
}
