/**
 * The seam between the run loop and the execution engines (interpreter now, translator later):
 * `run(stopAt)` executes guest instructions until the instruction counter reaches `stopAt` or
 * something needs the run loop, and says why it returned.
 */
import type { SystemContext } from '../system/context.js';

export const ENGINE_LIMIT = 0;
export const ENGINE_HALT = 1;
export const ENGINE_EXIT_REQUEST = 2;
export const ENGINE_TRIPLE_FAULT = 3;
export const ENGINE_UNSUPPORTED = 4;

export interface Engine {
  run(stopAt: number): number;
  /** A 4 KiB guest-physical page was written: drop whatever was decoded or translated from it. */
  invalidatePage(page: number): void;
}

export function createEngine(ctx: SystemContext): Engine {
  return {
    run(): number {
      ctx.stopReason = 'no execution engine yet';
      return ENGINE_UNSUPPORTED;
    },
    invalidatePage(): void {},
  };
}
