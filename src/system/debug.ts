/**
 * The debug registers' breakpoints (SDM Vol. 3 ch. 17) and alignment checking (#AC, SDM Vol. 3
 * 6.15) as the system layer sees them: when they need the checked mode, what DR7 asks for, which
 * instruction breakpoints match a linear RIP, and the data watches the MMU's slow path matches.
 *
 * Both features cost nothing while unused because the engines never look for them: the checked
 * mode (machine/checked.ts) runs instead of the normal engines whenever `checkWanted` is true,
 * i.e. DR7 enables any of DR0-DR3, or CR0.AM and RFLAGS.AC are both set (the CPL-3 part of the
 * #AC condition is tested per access, through the MMU's `user` flag). Whatever can make it true
 * calls `requestCheck`, which raises a bit of the exit-request word so the running engine stops
 * after the instruction and the run loop switches modes: MOV DR7, MOV CR0, POPF, IRET, SYSRET,
 * STAC and task switches (wired in machine/engine.ts, interp/system-cr.ts and task.ts).
 *
 * RF (resume flag) gets the same treatment outside the checked mode: the engines never clear it,
 * so when IRET or a task switch loads RF = 1 the run loop runs the next instruction alone and then
 * clears RF, as the SDM says, unless that instruction loaded it again.
 *
 * DR7 (SDM Fig. 17-1): L0/G0..L3/G3 in bits 0-7; for breakpoint n, R/Wn in bits 16+4n (00 execute,
 * 01 data write, 10 I/O (CR4.DE; not supported: CR4.DE cannot be set), 11 data read or write) and
 * LENn in bits 18+4n (00 1 byte, 01 2, 10 8, 11 4 bytes; the address is masked to the length).
 */
import {
  CR0_AM, EFER_LMA, FLAG_AC, FLAG_RF, OFF_CR0, OFF_DR0, OFF_EFER, OFF_EXIT_REQUEST, OFF_RFLAGS, type StateViews,
} from '../cpu/state.js';
import type { Mmu } from '../mmu/mmu.js';

/** The exit-request bit that asks the run loop to re-evaluate the checked mode (the machine uses 1). */
export const EXIT_CHECK = 2;

export const DR6_B_MASK = 0xf;
export const DR6_BD = 1 << 13;
export const DR6_BS = 1 << 14;
export const DR7_ENABLES = 0xff;
export const DR7_GD = 1 << 13;

export const RW_EXEC = 0;
export const RW_WRITE = 1;
export const RW_IO = 2;
export const RW_ACCESS = 3;

const IX_CR0 = OFF_CR0 >>> 2;
const IX_FLAGS = OFF_RFLAGS >>> 2;
const IX_EFER = OFF_EFER >>> 2;
const IX_EXIT = OFF_EXIT_REQUEST >>> 2;
/** Word index of DRn's low half. */
const ixDr = (n: number): number => (OFF_DR0 + n * 8) >>> 2;
export const IX_DR6 = ixDr(6);
export const IX_DR7 = ixDr(7);

/** Bytes covered by a LEN field (00 1, 01 2, 10 8, 11 4). */
const LEN_BYTES = [1, 2, 8, 4];

/** True when the checked mode must run: a DR0-DR3 breakpoint is enabled, or CR0.AM and AC are set. */
export function checkWanted(u32: Uint32Array): boolean {
  return (u32[IX_DR7] & DR7_ENABLES) !== 0 || (u32[IX_CR0] & u32[IX_FLAGS] & CR0_AM & FLAG_AC) !== 0;
}

/** True when RFLAGS.RF is set: the run loop must clear it after the next instruction completes. */
export function rfPending(u32: Uint32Array): boolean {
  return (u32[IX_FLAGS] & FLAG_RF) !== 0;
}

/**
 * Called after anything that may have made `checkWanted` true, or loaded RF (IRET, a task switch):
 * stop the engine after this instruction.
 */
export function requestCheck(views: StateViews): void {
  const u32 = views.u32;
  if (checkWanted(u32) || rfPending(u32)) u32[IX_EXIT] |= EXIT_CHECK;
}

/** True when alignment faults are on for CPL-3 data accesses (CR0.AM and RFLAGS.AC). */
export function alignmentChecks(u32: Uint32Array): boolean {
  return (u32[IX_CR0] & u32[IX_FLAGS] & CR0_AM & FLAG_AC) !== 0;
}

/** Breakpoint n's R/W field. */
export const drType = (dr7: number, n: number): number => (dr7 >>> (16 + 4 * n)) & 3;
/** Breakpoint n's length in bytes. */
export const drLength = (dr7: number, n: number): number => LEN_BYTES[(dr7 >>> (18 + 4 * n)) & 3];
/** The B0-B3 bits whose breakpoint DR7 enables (L or G). */
export function enabledMask(dr7: number): number {
  let m = 0;
  for (let n = 0; n < 4; n++) if (((dr7 >>> (2 * n)) & 3) !== 0) m |= 1 << n;
  return m;
}

/** DRn (n < 4) as a linear address: the canonical 64-bit value in long mode, 32 bits otherwise. */
function drAddress(views: StateViews, n: number, long: boolean): number {
  const u32 = views.u32;
  const lo = u32[ixDr(n)];
  return long ? (u32[ixDr(n) + 1] | 0) * 4294967296 + lo : lo;
}

/**
 * The B0-B3 bits of the execute breakpoints (R/W 00) whose address is `lin`, enabled or not, as
 * DR6 reports them (the SDM lets disabled matches set their bit; QEMU does the same for execute
 * breakpoints). The caller raises #DB only when an enabled one is among them.
 */
export function execMatches(views: StateViews, lin: number): number {
  const dr7 = views.u32[IX_DR7];
  const long = (views.u32[IX_EFER] & EFER_LMA) !== 0;
  let hits = 0;
  for (let n = 0; n < 4; n++) {
    if (drType(dr7, n) === RW_EXEC && drAddress(views, n, long) === lin) hits |= 1 << n;
  }
  return hits;
}

/**
 * Loads the data watches of DR0-DR3 into the MMU (for `Mmu.checkAccess`): breakpoints of type
 * 01 watch writes, 11 reads and writes, each over its LEN bytes at the address masked to LEN.
 * Disabled ones are loaded too (they may set their DR6 bit alongside an enabled hit).
 */
export function loadWatches(views: StateViews, mmu: Mmu): void {
  const dr7 = views.u32[IX_DR7];
  const long = (views.u32[IX_EFER] & EFER_LMA) !== 0;
  let reads = 0;
  let writes = 0;
  for (let n = 0; n < 4; n++) {
    const t = drType(dr7, n);
    if (t !== RW_WRITE && t !== RW_ACCESS) continue;
    const len = drLength(dr7, n);
    const a = drAddress(views, n, long);
    mmu.watchBase[n] = a - ((a >>> 0) & (len - 1));
    mmu.watchLen[n] = len;
    writes |= 1 << n;
    if (t === RW_ACCESS) reads |= 1 << n;
  }
  mmu.watchReads = reads;
  mmu.watchWrites = writes;
}
