/**
 * The checked mode: a careful one-instruction-at-a-time run loop for when the guest turned on
 * DR0-DR3 breakpoints or alignment checking (system/debug.ts says when). engine.ts runs it instead
 * of the interpreter's loop or translated code, so neither carries a per-instruction or per-access
 * test for these features; the translator never runs while it is on.
 *
 * Each step, as the SDM orders it (Vol. 3 17.3.1, 6.9):
 *   1. an external interrupt pending (and not shadowed) is taken first;
 *   2. instruction breakpoints: if RFLAGS.RF is clear and an enabled execute breakpoint names the
 *      linear address of CS:RIP, #DB is a fault (DR6.Bn, RIP at the instruction, RF pushed as it
 *      is: 0); RF is then cleared ("at the start of the instruction, after the check");
 *   3. the instruction runs through Interpreter.stepRaw with the MMU in checked mode (mmu.ts: #AC
 *      on misaligned CPL-3 accesses, data watches recorded);
 *   4. a fault is delivered as usual (its recorded watch hits are dropped); otherwise data-breakpoint
 *      hits and the single-step trap make one #DB trap after it (DR6 Bn and BS together).
 * REP string instructions run one iteration per step (the string handlers are swapped for
 * one-iteration wrappers while the mode is on), so a data breakpoint traps after the iteration
 * that hit, and an unfinished REP sets RF (pushed by a #DB or interrupt taken between iterations,
 * as the SDM asks, and keeping the instruction breakpoint on the REP from firing again). Each
 * iteration counts one instruction, as the SDM's REP loop and QEMU's -icount count it.
 */
import { FAULT, VEC_DB } from '../cpu/fault.js';
import { IX_FLAGS, getFlags } from '../cpu/flags.js';
import {
  FLAG_IF, FLAG_RF, FLAG_TF, FLAG_ZF, MODE_LONG64, OFF_EXIT_REQUEST, OFF_HALTED, OFF_INSN_COUNT,
  OFF_INT_SHADOW, SEG_BASE, SEG_CS, segOffset,
} from '../cpu/state.js';
import { tableRows } from '../cpu/table.js';
import { STOP_HALT, type Cpu, type Decoded, type Handler } from '../interp/cpu.js';
import {
  Interpreter, RUN_EXIT_REQUEST, RUN_HALT, RUN_LIMIT, RUN_TRIPLE_FAULT, RUN_UNSUPPORTED,
} from '../interp/interpreter.js';
import { SHADOW_MOV_SS, STOP_UNSUPPORTED } from '../interp/system-common.js';
import { DELIVER_OK, DELIVER_TRIPLE_FAULT, type SystemContext } from '../system/context.js';
import {
  DR6_B_MASK, DR6_BS, EXIT_CHECK, IX_DR6, IX_DR7, alignmentChecks, checkWanted, enabledMask, execMatches, loadWatches,
  requestCheck,
} from '../system/debug.js';
import { EV_EXCEPTION, EV_EXTERNAL, deliver, deliverFault } from '../system/interrupts.js';

/** run() result: the checked mode is no longer wanted; the caller leaves it and goes on. */
export const CHECKED_LEAVE = -1;

const IX_EXIT = OFF_EXIT_REQUEST >>> 2;
const IX_SHADOW = OFF_INT_SHADOW >>> 2;
const IX_HALTED = OFF_HALTED >>> 2;
const IX_CS_BASE = (segOffset(SEG_CS) + SEG_BASE) >>> 2;
const TWO32 = 4294967296;

/** String rows (INS/OUTS included) and whether their REPE/REPNE ends on ZF (CMPS, SCAS). */
const STRING_ROWS: Record<string, boolean> = {
  movsb: false, movsv: false, stosb: false, stosv: false, lodsb: false, lodsv: false,
  cmpsb: true, cmpsv: true, scasb: true, scasv: true,
  insbYbDX: false, insz: false, outsbDXXb: false, outsz: false,
};

export class CheckedStepper {
  /** Whether the mode is on (the MMU checks, the string handlers swapped). */
  active = false;
  /** The last step ran an iteration of a REP that is not finished. */
  private repPending = false;
  private readonly rows: number[] = [];
  private readonly plain: Handler[] = [];
  private readonly once: Handler[] = [];

  constructor(
    readonly ctx: SystemContext,
    readonly interp: Interpreter,
  ) {
    tableRows.forEach((row, i) => {
      const cc = STRING_ROWS[row.name];
      if (cc === undefined) return;
      this.rows.push(i);
      this.plain.push(interp.handlers[i]);
      this.once.push(this.oneIteration(interp.handlers[i], cc));
    });
  }

  /** True when the guest state asks for the checked mode. */
  wanted(): boolean {
    return checkWanted(this.ctx.views.u32);
  }

  enter(): void {
    if (this.active) return;
    this.active = true;
    this.repPending = false;
    this.ctx.mmu.setChecked(true);
    for (let k = 0; k < this.rows.length; k++) this.interp.handlers[this.rows[k]] = this.once[k];
  }

  leave(): void {
    if (!this.active) return;
    this.active = false;
    this.ctx.mmu.setChecked(false);
    for (let k = 0; k < this.rows.length; k++) this.interp.handlers[this.rows[k]] = this.plain[k];
  }

  /**
   * Steps until the instruction counter reaches `stopAt`, an exit request, a halt or a stop, as
   * Interpreter.run does (same RUN_* codes and counting), or CHECKED_LEAVE once the mode is no
   * longer wanted. OFF_RIP and OFF_INSN_COUNT are current on return.
   */
  run(stopAt: number): number {
    const ctx = this.ctx;
    const views = ctx.views;
    const u32 = views.u32;
    const m = views.i32;
    const mmu = ctx.mmu;
    const cpu = this.interp.cpu;
    let count = views.getNum(OFF_INSN_COUNT);
    for (;;) {
      if (count >= stopAt) return this.done(count, RUN_LIMIT);
      u32[IX_EXIT] &= ~EXIT_CHECK; // we are the re-evaluation it asks for
      if (u32[IX_EXIT] !== 0) return this.done(count, RUN_EXIT_REQUEST);
      if (!this.wanted()) return this.done(count, CHECKED_LEAVE);
      // ---- events before the instruction ----
      if (u32[IX_SHADOW] !== 0) u32[IX_SHADOW] = 0;
      else if ((m[IX_FLAGS] & FLAG_IF) !== 0 && ctx.intc !== null && ctx.intc.hasInterrupt()) {
        const vector = ctx.intc.acknowledge();
        views.setNum(OFF_INSN_COUNT, count);
        const r = this.deliverEvent(vector, EV_EXTERNAL);
        if (r !== RUN_LIMIT) return this.done(count, r);
        count++;
        continue;
      }
      if (u32[IX_HALTED] !== 0) return this.done(count, RUN_HALT);
      // ---- instruction breakpoints: a fault before the instruction, unless RF ----
      cpu.refreshMode();
      const rip = cpu.loadRip();
      const dr7 = u32[IX_DR7];
      const enabled = enabledMask(dr7);
      if ((m[IX_FLAGS] & FLAG_RF) === 0 && enabled !== 0) {
        const lin = cpu.mode === MODE_LONG64 ? rip : (u32[IX_CS_BASE] + rip) >>> 0;
        const hits = execMatches(views, lin);
        if ((hits & enabled) !== 0) {
          u32[IX_DR6] = (u32[IX_DR6] & ~DR6_B_MASK) | hits;
          count++;
          views.setNum(OFF_INSN_COUNT, count);
          const r = this.deliverEvent(VEC_DB, EV_EXCEPTION);
          if (r !== RUN_LIMIT) return this.done(count, r);
          continue;
        }
      }
      m[IX_FLAGS] &= ~FLAG_RF;
      // ---- the instruction ----
      const trap = (m[IX_FLAGS] & FLAG_TF) !== 0;
      loadWatches(views, mmu);
      mmu.watchHits = 0;
      mmu.alignCheck = alignmentChecks(u32);
      this.repPending = false;
      views.setNum(OFF_INSN_COUNT, count); // virtual time as the interpreter keeps it live
      const f = this.interp.stepRaw();
      mmu.alignCheck = false;
      const watched = mmu.watchHits;
      count++;
      if ((f & FAULT) !== 0) {
        views.setNum(OFF_INSN_COUNT, count);
        const r = deliverFault(ctx, f);
        cpu.refreshMode();
        if (r !== DELIVER_OK) return this.done(count, r === DELIVER_TRIPLE_FAULT ? RUN_TRIPLE_FAULT : RUN_UNSUPPORTED);
        continue;
      }
      // completed: an unfinished REP leaves RF set (see the header)
      if (this.repPending) m[IX_FLAGS] |= FLAG_RF;
      const dataTrap = (watched & enabledMask(u32[IX_DR7])) !== 0;
      const stepTrap = trap && u32[IX_SHADOW] !== SHADOW_MOV_SS;
      if (dataTrap || stepTrap) {
        if (dataTrap) u32[IX_DR6] = (u32[IX_DR6] & ~DR6_B_MASK) | watched;
        if (stepTrap) u32[IX_DR6] |= DR6_BS;
        views.setNum(OFF_INSN_COUNT, count);
        const r = this.deliverEvent(VEC_DB, EV_EXCEPTION);
        count++;
        if (r !== RUN_LIMIT) return this.done(count, r);
      }
      cpu.refreshMode();
      if (f === STOP_HALT) return this.done(count, RUN_HALT);
      if (f === STOP_UNSUPPORTED) return this.done(count, RUN_UNSUPPORTED);
    }
  }

  private done(count: number, result: number): number {
    this.ctx.views.setNum(OFF_INSN_COUNT, count);
    return result;
  }

  /** Delivers an event with OFF_RIP as it stands; RUN_LIMIT when delivered, else the stop code. */
  private deliverEvent(vector: number, kind: number): number {
    const r = deliver(this.ctx, vector, -1, kind);
    this.interp.cpu.refreshMode();
    if (r === DELIVER_OK) return RUN_LIMIT;
    return r === DELIVER_TRIPLE_FAULT ? RUN_TRIPLE_FAULT : RUN_UNSUPPORTED;
  }

  /**
   * A string handler that runs one iteration of a REP: it hands `plain` a count of 1, then puts
   * back the real count less one and re-runs the instruction (nextRip = rip) while the count or,
   * for CMPS/SCAS, ZF says the REP goes on. A fault restores the count as it was.
   */
  private oneIteration(plain: Handler, zfEnds: boolean): Handler {
    return (cpu: Cpu, d: Decoded): number => {
      if (d.rep === 0) return plain(cpu, d);
      const m = cpu.m;
      const as = d.adSize;
      const lo0 = m[2];
      const hi0 = m[3];
      const lo = as === 2 ? lo0 & 0xffff : lo0 >>> 0;
      const hi = as === 8 ? hi0 >>> 0 : 0;
      if (lo === 0 && hi === 0) return plain(cpu, d);
      if (as === 2) cpu.u16[4] = 1;
      else {
        m[2] = 1;
        m[3] = 0;
      }
      const f = plain(cpu, d);
      if ((f & FAULT) !== 0) {
        m[2] = lo0;
        m[3] = hi0;
        return f;
      }
      let left: number;
      if (as === 2) {
        left = (lo - 1) & 0xffff;
        cpu.u16[4] = left;
      } else if (as === 4) {
        left = (lo - 1) >>> 0;
        m[2] = left | 0;
        m[3] = 0;
      } else {
        left = hi * TWO32 + lo - 1; // exact below 2^53; only its zeroness matters above
        m[2] = lo === 0 ? -1 : (lo - 1) | 0;
        m[3] = lo === 0 ? (hi - 1) | 0 : hi0;
        if (hi !== 0) left = 1;
      }
      let more = left !== 0;
      if (more && zfEnds) {
        const zf = (getFlags(m) & FLAG_ZF) !== 0;
        if (d.rep === 1 ? !zf : zf) more = false;
      }
      if (more) {
        cpu.nextRip = cpu.rip;
        this.repPending = true;
      }
      return 0;
    };
  }
}

/** Interpreter rows whose handler may set RFLAGS.AC or RF: wrapped by `acWatchRegistrar`. */
const AC_SETTERS = ['popf', 'iret', 'sysret', 'stac'];

/**
 * Registrar (run after the others) that wraps the handlers that can set RFLAGS.AC or RF so that,
 * when they turn on the conditions of the checked mode or load RF = 1, the running engine stops
 * after them (system/debug.ts requestCheck). The
 * wrapper costs those (rare, non-hot) instructions one call and one test; nothing else changes.
 */
export function acWatchRegistrar(h: Map<string, Handler>): void {
  for (const name of AC_SETTERS) {
    const inner = h.get(name);
    if (inner === undefined) continue;
    h.set(name, (cpu: Cpu, d: Decoded): number => {
      const f = inner(cpu, d);
      requestCheck(cpu.views);
      return f;
    });
  }
}
