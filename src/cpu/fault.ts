/**
 * Faults are values (STYLE.md point 8). Any layer that can fault returns or records one int:
 *
 *   0                                   no fault
 *   FAULT | vector | HAS_ERROR | (errorCode << 16)
 *
 * so no object is allocated and nothing is thrown on the hot path. A page fault's linear address
 * travels in the CPU block at OFF_FAULT_ADDR until delivery copies it to CR2.
 */

export const FAULT = 0x100;
export const HAS_ERROR = 0x200;

export const VEC_DE = 0; // divide error
export const VEC_DB = 1; // debug
export const VEC_NMI = 2;
export const VEC_BP = 3; // breakpoint (INT3)
export const VEC_OF = 4; // overflow (INTO)
export const VEC_BR = 5; // BOUND range exceeded
export const VEC_UD = 6; // invalid opcode
export const VEC_NM = 7; // device not available
export const VEC_DF = 8; // double fault (error code 0)
export const VEC_TS = 10; // invalid TSS (error code)
export const VEC_NP = 11; // segment not present (error code)
export const VEC_SS = 12; // stack-segment fault (error code)
export const VEC_GP = 13; // general protection (error code)
export const VEC_PF = 14; // page fault (error code)
export const VEC_MF = 16; // x87 floating-point error
export const VEC_AC = 17; // alignment check (error code 0)
export const VEC_MC = 18;
export const VEC_XM = 19; // SIMD floating-point
export const VEC_VE = 20;
export const VEC_CP = 21; // control protection (error code)

export const VECTOR_NAMES = [
  '#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', 'CSO', '#TS', '#NP', '#SS', '#GP',
  '#PF', 'res15', '#MF', '#AC', '#MC', '#XM', '#VE', '#CP',
];

/** Which exception vectors push an error code (SDM Vol. 3 Table 6-1). */
export const vectorHasErrorCode = (v: number): boolean =>
  v === 8 || (v >= 10 && v <= 14) || v === 17 || v === 21;

export const fault = (vector: number): number => FAULT | vector;
export const faultWithCode = (vector: number, errorCode: number): number =>
  FAULT | HAS_ERROR | vector | ((errorCode & 0xffff) << 16);

export const faultVector = (f: number): number => f & 0xff;
export const faultHasError = (f: number): boolean => (f & HAS_ERROR) !== 0;
export const faultErrorCode = (f: number): number => (f >>> 16) & 0xffff;

export const FAULT_UD = FAULT | VEC_UD;
export const FAULT_DE = FAULT | VEC_DE;
export const FAULT_GP0 = FAULT | HAS_ERROR | VEC_GP;
export const FAULT_SS0 = FAULT | HAS_ERROR | VEC_SS;
export const FAULT_NM = FAULT | VEC_NM;

/** Page-fault error-code bits. */
export const PF_P = 1; // the page was present (protection violation)
export const PF_W = 2; // the access was a write
export const PF_U = 4; // the access was from user mode (CPL 3)
export const PF_RSVD = 8; // a reserved bit was set in a paging structure
export const PF_I = 16; // the access was an instruction fetch

export function describeFault(f: number): string {
  const v = faultVector(f);
  const name = VECTOR_NAMES[v] ?? `vector ${v}`;
  return faultHasError(f) ? `${name}(0x${faultErrorCode(f).toString(16)})` : name;
}
