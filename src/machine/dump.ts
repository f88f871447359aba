/**
 * A one-screen register dump in the spirit of QEMU's `info registers`, printed when a guest stops
 * abnormally (triple fault, unsupported feature) and by `--dump-on-exit`.
 */
import {
  GPR_NAMES64, OFF_CPL, OFF_CR0, OFF_CR2, OFF_CR3, OFF_CR4, OFF_EFER, OFF_GDTR_BASE, OFF_GDTR_LIMIT,
  OFF_IDTR_BASE, OFF_IDTR_LIMIT, OFF_INSN_COUNT, OFF_LAST_VECTOR, OFF_MODE, OFF_RFLAGS, OFF_RIP,
  SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_NAMES, SEG_SELECTOR, gprOffset, segOffset, type StateViews,
} from '../cpu/state.js';

const MODE_NAMES = ['real', 'protected 16-bit', 'protected 32-bit', 'long 64-bit', 'virtual-8086'];

/** A 64-bit slot of the CPU block as 16 hex digits. */
export const hex64 = (v: StateViews, off: number): string =>
  v.hi(off).toString(16).padStart(8, '0') + v.lo(off).toString(16).padStart(8, '0');
/** A 32-bit value as hex, zero-padded to `w` digits. */
export const hex = (n: number, w = 0): string => (n >>> 0).toString(16).padStart(w, '0');

function flagString(f: number): string {
  const names: [number, string][] = [
    [11, 'OF'], [10, 'DF'], [9, 'IF'], [8, 'TF'], [7, 'SF'], [6, 'ZF'], [4, 'AF'], [2, 'PF'], [0, 'CF'],
  ];
  return names.filter(([b]) => (f >>> b) & 1).map(([, n]) => n).join(' ') + ` IOPL=${(f >>> 12) & 3}`;
}

export function registerDump(v: StateViews): string {
  const lines: string[] = [];
  for (let r = 0; r < 16; r += 4) {
    lines.push(
      [0, 1, 2, 3].map((i) => `${GPR_NAMES64[r + i].toUpperCase().padStart(3)}=${hex64(v, gprOffset(r + i))}`).join(' '),
    );
  }
  const mode = v.u32[OFF_MODE >>> 2];
  lines.push(
    `RIP=${hex64(v, OFF_RIP)} RFL=${hex(v.lo(OFF_RFLAGS), 8)} [${flagString(v.lo(OFF_RFLAGS))}] ` +
      `CPL=${v.u32[OFF_CPL >>> 2]} mode=${MODE_NAMES[mode] ?? mode}`,
  );
  for (let s = 0; s < 8; s++) {
    const o = segOffset(s);
    lines.push(
      `${SEG_NAMES[s].toUpperCase().padEnd(4)} sel=${hex(v.u32[(o + SEG_SELECTOR) >>> 2], 4)} ` +
        `base=${hex64(v, o + SEG_BASE)} limit=${hex(v.u32[(o + SEG_LIMIT) >>> 2], 8)} ` +
        `attr=${hex(v.u32[(o + SEG_ATTR) >>> 2], 4)}`,
    );
  }
  lines.push(
    `GDT=${hex64(v, OFF_GDTR_BASE)}/${hex(v.u32[OFF_GDTR_LIMIT >>> 2], 4)} ` +
      `IDT=${hex64(v, OFF_IDTR_BASE)}/${hex(v.u32[OFF_IDTR_LIMIT >>> 2], 4)}`,
  );
  lines.push(
    `CR0=${hex(v.lo(OFF_CR0), 8)} CR2=${hex64(v, OFF_CR2)} CR3=${hex64(v, OFF_CR3)} ` +
      `CR4=${hex(v.lo(OFF_CR4), 8)} EFER=${hex(v.lo(OFF_EFER), 8)}`,
  );
  lines.push(`instructions=${v.getNum(OFF_INSN_COUNT)} last vector=${v.u32[OFF_LAST_VECTOR >>> 2]}`);
  return lines.join('\n');
}
