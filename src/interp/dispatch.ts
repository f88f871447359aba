/**
 * From handler names to the dense dispatch array: every handler file registers its functions
 * under the table's handler names (docs/naming.md), and `buildDispatch` turns the table rows into
 * one array indexed by row, so the run loop makes one indexed call per instruction. A row with no
 * handler gets one that raises #UD (x87 rows: #NM when CR0.EM or CR0.TS is set, as the SDM says),
 * and is listed by `missingHandlers` so gaps are visible.
 *
 * System handlers (src/interp/system-*.ts, the system engineer's) are registered the same way:
 * their registrar is passed in the `registrars` list.
 */
import { CR0_EM, CR0_TS, OFF_CR0 } from '../cpu/state.js';
import { FAULT_NM, FAULT_UD } from '../cpu/fault.js';
import { F_SSE, F_X87 } from '../cpu/table-defs.js';
import { tableRows } from '../cpu/table.js';
import type { Handler } from './cpu.js';
import { registerAlu } from './alu.js';
import { registerMov } from './mov.js';
import { registerStack } from './stack.js';
import { registerControl } from './control.js';
import { registerShift } from './shift.js';
import { registerMulDiv } from './muldiv.js';
import { registerBits } from './bits.js';
import { registerString } from './string.js';
import { registerBcd } from './bcd.js';
import { registerMisc } from './misc.js';
import { registerFast } from './fast.js';

export type Registrar = (h: Map<string, Handler>) => void;

/** The general-purpose registrars of this folder. */
export const GP_REGISTRARS: Registrar[] = [
  registerAlu, registerMov, registerStack, registerControl, registerShift, registerMulDiv, registerBits,
  registerString, registerBcd, registerMisc, registerFast,
];

const undefinedOpcode: Handler = () => FAULT_UD;

/** x87 without an FPU implementation: #NM when EM or TS asks the OS to step in, else #UD. */
const noFpu: Handler = (cpu) => ((cpu.u32[OFF_CR0 >> 2] & (CR0_EM | CR0_TS)) !== 0 ? FAULT_NM : FAULT_UD);
/** SSE/MMX without an implementation: #UD under EM, #NM under TS, else #UD. */
const noSse: Handler = (cpu) => {
  const cr0 = cpu.u32[OFF_CR0 >> 2];
  return (cr0 & CR0_EM) === 0 && (cr0 & CR0_TS) !== 0 ? FAULT_NM : FAULT_UD;
};

export function handlerMap(registrars: Registrar[]): Map<string, Handler> {
  const h = new Map<string, Handler>();
  for (const r of registrars) r(h);
  return h;
}

/** One handler per table row. */
export function buildDispatch(registrars: Registrar[]): Handler[] {
  const h = handlerMap(registrars);
  return tableRows.map((row) => {
    const f = h.get(row.name);
    if (f !== undefined) return f;
    if ((row.flags & F_X87) !== 0) return noFpu;
    if ((row.flags & F_SSE) !== 0) return noSse;
    return undefinedOpcode;
  });
}

/** Names of non-x87/SSE rows that have no handler among the given registrars. */
export function missingHandlers(registrars: Registrar[]): string[] {
  const h = handlerMap(registrars);
  const out = new Set<string>();
  for (const row of tableRows) {
    if ((row.flags & (F_X87 | F_SSE)) !== 0) continue;
    if (!h.has(row.name)) out.add(row.name);
  }
  return [...out];
}
