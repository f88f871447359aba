/**
 * The seam between the run loop and the execution engines (the interpreter now, the translator
 * later): `run(stopAt)` executes guest instructions until the instruction counter reaches
 * `stopAt` or something needs the run loop, and says why it returned.
 *
 * Both engines are wrapped with the checked mode (checked.ts, system/debug.ts): while the guest
 * has DR0-DR3 breakpoints enabled or CR0.AM and RFLAGS.AC set, the wrapper steps the interpreter
 * through CheckedStepper instead of calling the engine; the instructions that can turn those on
 * raise EXIT_CHECK in the exit-request word, the engine stops after them, and the wrapper switches
 * without returning to the machine. RF = 1 (loaded by IRET or a task switch) stops the engine the
 * same way: the wrapper runs the next instruction alone and clears RF after it. Otherwise the only
 * cost is one test per run().
 */
import { FLAG_RF, OFF_EXIT_REQUEST, OFF_INSN_COUNT, OFF_RFLAGS } from '../cpu/state.js';
import { GP_REGISTRARS } from '../interp/dispatch.js';
import {
  Interpreter, RUN_EXIT_REQUEST, RUN_HALT, RUN_LIMIT, RUN_TRIPLE_FAULT, RUN_UNSUPPORTED,
} from '../interp/interpreter.js';
import { SYSTEM_REGISTRARS } from '../interp/system-register.js';
import type { SystemContext } from '../system/context.js';
import { EXIT_CHECK, rfPending } from '../system/debug.js';
import { createDbtEngine, type DbtOptions } from '../dbt/engine.js';
import { CHECKED_LEAVE, CheckedStepper, acWatchRegistrar } from './checked.js';

export const ENGINE_LIMIT = RUN_LIMIT;
export const ENGINE_HALT = RUN_HALT;
export const ENGINE_EXIT_REQUEST = RUN_EXIT_REQUEST;
export const ENGINE_TRIPLE_FAULT = RUN_TRIPLE_FAULT;
export const ENGINE_UNSUPPORTED = RUN_UNSUPPORTED;

export interface Engine {
  run(stopAt: number): number;
  /** A 4 KiB guest-physical page was written: drop whatever was decoded or translated from it. */
  invalidatePage(page: number): void;
  /** Counters for --stats. */
  stats(): Record<string, number>;
}

export interface EngineOptions {
  /** 'interp': everything interpreted; 'dbt' (default): user code (and with kernelExec 'dbt' also kernel code) translated. */
  engine?: 'interp' | 'dbt';
  dbt?: DbtOptions;
}

const IX_EXIT = OFF_EXIT_REQUEST >>> 2;
const IX_FLAGS = OFF_RFLAGS >>> 2;

/**
 * The interpreter with every handler set (the general-purpose and the system instructions), and
 * the translator on top of it unless `engine` is 'interp'; both behind the checked mode.
 */
export function createEngine(ctx: SystemContext, opts: EngineOptions = {}): Engine {
  const interp = new Interpreter(ctx, [...GP_REGISTRARS, ...SYSTEM_REGISTRARS, acWatchRegistrar]);
  const inner: Engine = (opts.engine ?? 'dbt') === 'dbt'
    ? createDbtEngine(ctx, interp, opts.dbt ?? {})
    : {
      run: (stopAt) => interp.run(stopAt),
      invalidatePage: (page) => interp.invalidatePage(page),
      stats: () => ({ 'instructions decoded (decode-cache misses)': interp.decodes }),
    };
  const checked = new CheckedStepper(ctx, interp);
  const u32 = ctx.views.u32;
  let entries = 0;
  return {
    run(stopAt: number): number {
      for (;;) {
        if (checked.wanted()) {
          if (!checked.active) entries++;
          checked.enter();
          const r = checked.run(stopAt);
          if (r !== CHECKED_LEAVE) return r;
        }
        checked.leave();
        if (rfPending(u32)) {
          // RF = 1 from IRET or a task switch: one instruction alone, then RF is cleared (debug.ts)
          if (ctx.views.getNum(OFF_INSN_COUNT) >= stopAt) return RUN_LIMIT;
          u32[IX_EXIT] &= ~EXIT_CHECK;
          const r = interp.step();
          if ((u32[IX_EXIT] & EXIT_CHECK) === 0) u32[IX_FLAGS] &= ~FLAG_RF; // not loaded again
          if (r === RUN_LIMIT || (r === RUN_EXIT_REQUEST && u32[IX_EXIT] === EXIT_CHECK)) continue;
          return r;
        }
        const r = inner.run(stopAt);
        if (r !== RUN_EXIT_REQUEST || (u32[IX_EXIT] & EXIT_CHECK) === 0) return r;
        u32[IX_EXIT] &= ~EXIT_CHECK;
        if (u32[IX_EXIT] !== 0) return r; // someone else asked too
      }
    },
    invalidatePage: (page) => inner.invalidatePage(page),
    stats: () => (entries === 0 ? inner.stats() : { ...inner.stats(), 'checked-mode entries (DR7 breakpoints, #AC)': entries }),
  };
}
