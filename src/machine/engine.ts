/**
 * The seam between the run loop and the execution engines (the interpreter now, the translator
 * later): `run(stopAt)` executes guest instructions until the instruction counter reaches
 * `stopAt` or something needs the run loop, and says why it returned.
 */
import { GP_REGISTRARS } from '../interp/dispatch.js';
import {
  Interpreter, RUN_EXIT_REQUEST, RUN_HALT, RUN_LIMIT, RUN_TRIPLE_FAULT, RUN_UNSUPPORTED,
} from '../interp/interpreter.js';
import { SYSTEM_REGISTRARS } from '../interp/system-register.js';
import type { SystemContext } from '../system/context.js';
import { createDbtEngine, type DbtOptions } from '../dbt/engine.js';

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

/**
 * The interpreter with every handler set (the general-purpose and the system instructions), and
 * the translator on top of it unless `engine` is 'interp'.
 */
export function createEngine(ctx: SystemContext, opts: EngineOptions = {}): Engine {
  const interp = new Interpreter(ctx, [...GP_REGISTRARS, ...SYSTEM_REGISTRARS]);
  if ((opts.engine ?? 'dbt') === 'dbt') return createDbtEngine(ctx, interp, opts.dbt ?? {});
  return {
    run: (stopAt) => interp.run(stopAt),
    invalidatePage: (page) => interp.invalidatePage(page),
    stats: () => ({ 'instructions decoded (decode-cache misses)': interp.decodes }),
  };
}
