/**
 * Every base-architecture row that is not privileged, I/O or sensitive (those are the system
 * engineer's) has a general-purpose handler under its table name, so a renamed row cannot
 * silently turn into #UD.
 */
import { describe, expect, it } from 'vitest';
import { tableRows } from '../../src/cpu/table.js';
import { F_IOPL, F_PRIV, F_SENS, F_SSE, F_X87, F_BRANCH } from '../../src/cpu/table-defs.js';
import { GP_REGISTRARS, handlerMap } from '../../src/interp/dispatch.js';

/** Unprivileged rows the system side implements (far transfers, interrupts, segment loads, ...). */
const SYSTEM_SIDE = /^(movSwEw|pop(ES|SS|DS|FS|GS)|callf|jmpf|retf|int|iret|into|l[defgs]sG|lssGvMp|syscall|sysenter|cpuid|rdtsc|rdpmc|rdpid|rdrand|rdseed|xgetbv|rsm|getsec|lar|lsl|verr|verw|arpl|hlt|monitorx|mwaitx|rdpru|rdpkru|wrpkru|encl|vmcall|vmfunc|vmmcall|pconfig|wbnoinvd|x[a-z]*M)/;

describe('dispatch', () => {
  it('has a handler for every general-purpose row', () => {
    const h = handlerMap(GP_REGISTRARS);
    const missing = tableRows
      .filter((r) => (r.flags & (F_PRIV | F_IOPL | F_SENS | F_SSE | F_X87)) === 0)
      .filter((r) => (r.feature === '' || ['popcnt', 'lzcnt', 'bmi1', 'movbe', 'cmov', 'cx16', 'adx'].includes(r.feature)))
      .filter((r) => !SYSTEM_SIDE.test(r.name) && !h.has(r.name))
      .map((r) => `${r.name} (${r.spec})`);
    expect(missing).toEqual([]);
    void F_BRANCH;
  });
});
