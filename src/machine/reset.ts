/**
 * The CPU state after RESET (SDM Vol. 3 §9.1.1, Table 9-1): real mode, CS.selector F000 with base
 * FFFF0000, IP FFF0, RFLAGS 2, CR0 60000010, EDX the processor signature, segments with limit
 * FFFF. A loader then puts the CPU in the state its boot protocol promises.
 */
import {
  OFF_CR0, OFF_CPL, OFF_MODE, OFF_RFLAGS, OFF_RIP, MODE_REAL, SEG_ATTR, SEG_BASE, SEG_CS, SEG_LIMIT,
  SEG_LDTR, SEG_SELECTOR, SEG_TR, OFF_IDTR_LIMIT, OFF_GDTR_LIMIT, REG_RDX, OFF_MSR_PAT, OFF_MSR_APIC_BASE,
  OFF_DR0, gprOffset, segOffset, type StateViews,
} from '../cpu/state.js';

/** Family 6, model 0x3A-like signature reported in EDX at reset and by CPUID leaf 1 EAX. */
export const RESET_SIGNATURE = 0x000306a9;

export function powerOnReset(v: StateViews): void {
  v.u8.fill(0, 0, 0x1000);
  v.set64(OFF_RFLAGS, 2, 0);
  v.set64(OFF_CR0, 0x60000010, 0);
  v.set64(gprOffset(REG_RDX), RESET_SIGNATURE, 0);
  for (let s = 0; s < 8; s++) {
    const o = segOffset(s);
    v.u32[(o + SEG_SELECTOR) >>> 2] = 0;
    v.set64(o + SEG_BASE, 0, 0);
    v.u32[(o + SEG_LIMIT) >>> 2] = 0xffff;
    // present, read/write data (accessed); CS: present execute/read code (accessed)
    v.u32[(o + SEG_ATTR) >>> 2] = 0x93;
  }
  const cs = segOffset(SEG_CS);
  v.u32[(cs + SEG_SELECTOR) >>> 2] = 0xf000;
  v.set64(cs + SEG_BASE, 0xffff0000, 0);
  v.u32[(cs + SEG_ATTR) >>> 2] = 0x9b;
  v.u32[(segOffset(SEG_LDTR) + SEG_ATTR) >>> 2] = 0x82;
  v.u32[(segOffset(SEG_TR) + SEG_ATTR) >>> 2] = 0x8b;
  v.u32[OFF_GDTR_LIMIT >>> 2] = 0xffff;
  v.u32[OFF_IDTR_LIMIT >>> 2] = 0xffff;
  v.set64(OFF_RIP, 0xfff0, 0);
  v.u32[OFF_MODE >>> 2] = MODE_REAL;
  v.u32[OFF_CPL >>> 2] = 0;
  v.set64(OFF_MSR_PAT, 0x00070406, 0x00070406);
  v.set64(OFF_MSR_APIC_BASE, 0xfee00900, 0); // enabled, BSP
  v.set64(OFF_DR0 + 6 * 8, 0xffff0ff0, 0); // DR6 and DR7 reset values (SDM Vol. 3 Table 10-1)
  v.set64(OFF_DR0 + 7 * 8, 0x00000400, 0);
}
