/**
 * The `leak` policy's effect on POPF: a classic trap-and-emulate monitor runs the guest kernel
 * deprivileged (ring 1, IOPL 0), so the kernel's POPF silently keeps IF and IOPL as they were
 * instead of faulting — the behaviour that made x86 not classically virtualizable. This wraps the
 * interpreter's own POPF handler (src/interp/stack.ts, which implements the architectural rules)
 * rather than duplicating it; under `emulate` and `umip` the wrapper calls straight through.
 */
import { FLAG_IF, FLAG_IOPL, MODE_REAL, OFF_CPL, OFF_RFLAGS } from '../cpu/state.js';
import { POLICY_LEAK } from '../system/context.js';
import type { Handler } from './cpu.js';
import type { Registrar } from './dispatch.js';

const KEPT = FLAG_IF | FLAG_IOPL;

export const registerSystemLeak: Registrar = (h) => {
  const popf = h.get('popf');
  if (popf === undefined) return;
  const wrapped: Handler = (cpu, d) => {
    if (cpu.ctx.policy !== POLICY_LEAK || cpu.mode === MODE_REAL || cpu.u32[OFF_CPL >> 2] !== 0) return popf(cpu, d);
    const ix = OFF_RFLAGS >> 2;
    const before = cpu.u32[ix] & KEPT;
    const r = popf(cpu, d);
    if (r === 0) cpu.u32[ix] = (cpu.u32[ix] & ~KEPT) | before;
    return r;
  };
  h.set('popf', wrapped);
};
