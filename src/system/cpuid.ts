/**
 * CPUID: what ringvm tells a guest about the processor it runs on. The answer is honest: it reports
 * ringvm's own vendor and exactly the features ringvm implements, so that a guest which checks
 * before it uses a feature never meets an instruction or control bit we lack.
 *
 * Vendor string (leaf 0): "RingVMRingVM" — neither Intel nor AMD; where the two differ (SYSCALL in
 * legacy mode, null FS/GS loads, ...) ringvm follows the Intel SDM. QEMU can be told to report the
 * same vendor with `-cpu qemu64,vendor=RingVMRingVM`. Hypervisor leaves: CPUID.1:ECX bit 31 (the
 * "running under a hypervisor" bit) is set and leaf 0x40000000 returns the signature
 * "ringvmringvm" in EBX, ECX, EDX, as KVM, Xen and Hyper-V do with theirs.
 *
 * Feature bits, and why (keep this table in step with what the interpreter and MMU implement; the
 * CR4 and EFER masks below are derived from it so a guest cannot enable what CPUID denies):
 *   1:EDX  PSE PAE PGE (MMU paging modes), TSC MSR (RDTSC, RDMSR/WRMSR), CX8 (CMPXCHG8B),
 *          APIC (reads as IA32_APIC_BASE.EN, as the SDM specifies), SEP (SYSENTER/SYSEXIT),
 *          CMOV, PAT (the MSR exists; memory types do not change anything in an emulator).
 *          No FPU, MMX, FXSR, SSE, SSE2 yet: x87/SSE raise #UD/#NM until a later issue.
 *   1:ECX  CX16 (CMPXCHG16B), POPCNT, hypervisor (bit 31).
 *   7:ECX  UMIP (CR4.UMIP is honoured by SGDT/SIDT/SLDT/SMSW/STR).
 *   80000001:EDX  SYSCALL, NX, RDTSCP, LM.   80000001:ECX  LAHF/SAHF in 64-bit mode.
 *   80000008:EAX  physical address bits (PHYS_ADDR_BITS) and 48 linear bits.
 * Signature (1:EAX) 0x000306A9, the value the reset code leaves in EDX (machine/reset.ts).
 * Leaves above the maximum read as zeros (AMD behaviour; Intel repeats the highest basic leaf).
 */
import {
  CR4_PAE, CR4_PGE, CR4_PSE, CR4_TSD, CR4_UMIP, EFER_LME, EFER_NXE, EFER_SCE, OFF_MSR_APIC_BASE,
  REG_RAX, REG_RBX, REG_RCX, REG_RDX, gprOffset,
} from '../cpu/state.js';
import type { SystemContext } from './context.js';

export const VENDOR = 'RingVMRingVM';
export const HYPERVISOR_SIGNATURE = 'ringvmringvm';
export const BRAND = 'ringvm virtual x86-64 CPU';
export const CPU_SIGNATURE = 0x000306a9;
export const MAX_BASIC_LEAF = 7;
export const MAX_EXTENDED_LEAF = 0x80000008;
export const MAX_HYPERVISOR_LEAF = 0x40000000;
const PHYS_BITS = 40; // mirrors mode.ts PHYS_ADDR_BITS (kept local to avoid an import cycle)

export const F1_EDX_PSE = 1 << 3;
export const F1_EDX_TSC = 1 << 4;
export const F1_EDX_MSR = 1 << 5;
export const F1_EDX_PAE = 1 << 6;
export const F1_EDX_CX8 = 1 << 8;
export const F1_EDX_APIC = 1 << 9;
export const F1_EDX_SEP = 1 << 11;
export const F1_EDX_PGE = 1 << 13;
export const F1_EDX_CMOV = 1 << 15;
export const F1_EDX_PAT = 1 << 16;
export const F1_ECX_CX16 = 1 << 13;
export const F1_ECX_POPCNT = 1 << 23;
export const F1_ECX_HYPERVISOR = 1 << 31;
export const F7_ECX_UMIP = 1 << 2;
export const FX_EDX_SYSCALL = 1 << 11;
export const FX_EDX_NX = 1 << 20;
export const FX_EDX_RDTSCP = 1 << 27;
export const FX_EDX_LM = 1 << 29;
export const FX_ECX_LAHF = 1 << 0;

const LEAF1_EDX =
  F1_EDX_PSE | F1_EDX_TSC | F1_EDX_MSR | F1_EDX_PAE | F1_EDX_CX8 | F1_EDX_SEP | F1_EDX_PGE | F1_EDX_CMOV | F1_EDX_PAT;
const LEAF1_ECX = F1_ECX_CX16 | F1_ECX_POPCNT | F1_ECX_HYPERVISOR;

/** CR4 bits a guest may set: exactly those whose feature CPUID reports. */
export const CR4_SUPPORTED = CR4_TSD | CR4_PSE | CR4_PAE | CR4_PGE | CR4_UMIP;
/** EFER bits a guest may set (LMA is read-only and handled by the writer). */
export const EFER_SUPPORTED = EFER_SCE | EFER_LME | EFER_NXE;

/** Four little-endian dwords of an ASCII string, starting at character 4*i. */
function strDword(s: string, i: number): number {
  let v = 0;
  for (let k = 3; k >= 0; k--) v = (v << 8) | (s.charCodeAt(i * 4 + k) & 0xff || 0);
  return v >>> 0;
}

/** Result registers of the last `cpuidLeaf` call: EAX, EBX, ECX, EDX. */
export const cpuidOut = new Uint32Array(4);

export function cpuidLeaf(ctx: SystemContext, leaf: number, sub: number): void {
  leaf >>>= 0;
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  if (leaf === 0) {
    a = MAX_BASIC_LEAF;
    b = strDword(VENDOR, 0);
    d = strDword(VENDOR, 1);
    c = strDword(VENDOR, 2);
  } else if (leaf === 1) {
    a = CPU_SIGNATURE;
    c = LEAF1_ECX;
    d = LEAF1_EDX;
    // The SDM ties the APIC bit to IA32_APIC_BASE.EN (bit 11).
    if ((ctx.views.u32[OFF_MSR_APIC_BASE >>> 2] & (1 << 11)) !== 0) d |= F1_EDX_APIC;
  } else if (leaf === 7) {
    if (sub === 0) c = F7_ECX_UMIP;
  } else if (leaf === 0x40000000) {
    a = MAX_HYPERVISOR_LEAF;
    b = strDword(HYPERVISOR_SIGNATURE, 0);
    c = strDword(HYPERVISOR_SIGNATURE, 1);
    d = strDword(HYPERVISOR_SIGNATURE, 2);
  } else if (leaf === 0x80000000) {
    a = MAX_EXTENDED_LEAF;
  } else if (leaf === 0x80000001) {
    c = FX_ECX_LAHF;
    d = FX_EDX_SYSCALL | FX_EDX_NX | FX_EDX_RDTSCP | FX_EDX_LM;
  } else if (leaf >= 0x80000002 && leaf <= 0x80000004) {
    const base = (leaf - 0x80000002) * 4;
    a = strDword(BRAND, base);
    b = strDword(BRAND, base + 1);
    c = strDword(BRAND, base + 2);
    d = strDword(BRAND, base + 3);
  } else if (leaf === 0x80000008) {
    a = PHYS_BITS | (48 << 8);
  }
  cpuidOut[0] = a;
  cpuidOut[1] = b;
  cpuidOut[2] = c;
  cpuidOut[3] = d;
}

/** The CPUID instruction: leaf in EAX, sub-leaf in ECX; results zero-extend into RAX..RDX. */
export function execCpuid(ctx: SystemContext): void {
  const v = ctx.views;
  cpuidLeaf(ctx, v.lo(gprOffset(REG_RAX)), v.lo(gprOffset(REG_RCX)));
  v.set64(gprOffset(REG_RAX), cpuidOut[0], 0);
  v.set64(gprOffset(REG_RBX), cpuidOut[1], 0);
  v.set64(gprOffset(REG_RCX), cpuidOut[2], 0);
  v.set64(gprOffset(REG_RDX), cpuidOut[3], 0);
}
