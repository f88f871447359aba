/**
 * The system-instruction handlers, registered under the instruction table's handler names
 * (docs/naming.md). The interpreter adds SYSTEM_REGISTRARS to its registrar list
 * (src/interp/dispatch.ts). Handlers live by subject: segments and far transfers
 * (system-seg.ts), descriptor tables and LAR/LSL/VERR/VERW (system-desc.ts), control/debug
 * registers, MSRs, CPUID, time and HLT (system-cr.ts), port I/O and CLI/STI (system-io.ts),
 * interrupts, IRET and fast system calls (system-int.ts), the `leak` policy's POPF (system-leak.ts).
 * SYSTEM_REGISTRARS must follow GP_REGISTRARS in the list (system-leak.ts wraps a GP handler).
 */
import type { Registrar } from './dispatch.js';
import { registerSystemCr } from './system-cr.js';
import { registerSystemDesc } from './system-desc.js';
import { registerSystemInt } from './system-int.js';
import { registerSystemIo } from './system-io.js';
import { registerSystemLeak } from './system-leak.js';
import { registerSystemSeg } from './system-seg.js';

export const SYSTEM_REGISTRARS: Registrar[] = [
  registerSystemSeg, registerSystemDesc, registerSystemCr, registerSystemIo, registerSystemInt,
  registerSystemLeak, // wraps the interpreter's POPF: must come after GP_REGISTRARS
];
