/**
 * The rows of the instruction table the oracle's generator (gen.ts) never draws, each with the
 * reason. Every other general-purpose row valid in the mode is generated; test/interp/
 * coverage.test.ts checks that each table row is either drawn or listed here, so the list cannot
 * go stale. docs/interpreter-oracle.md prints it. Keys are handler names; `@spec` keys name one
 * row of a name shared by several encodings.
 */

const SEGMENT = 'loads a segment register or reads a descriptor: the host\'s GDT/LDT is not mirrored in the test machine (covered by the system tests and guest images)';
const IDT = 'goes through the IDT: the host kernel turns it into a signal or a system call, the test machine has no IDT (system tests)';
const HOST = 'the result is the host\'s (identification, time, randomness, processor number), not an architectural function of the inputs';
const UMIP = 'UMIP: the host kernel emulates or refuses it; ringvm\'s --sensitive policy decides (system tests)';
const XSTATE = 'x87/SSE state: not executed yet (the x87/SSE issue)';
const HASFEAT = 'the host has the feature (#GP at CPL 3), ringvm does not advertise it (#UD): each right for its CPUID';
const FSGS = 'the host enables FSGSBASE for user mode and holds its TLS base there; the test machine has CR4.FSGSBASE clear';

/** Excluded in both modes. */
export const EXCLUDED: Record<string, string> = {
  popES: SEGMENT, popSS: SEGMENT, popDS: SEGMENT, popFS: SEGMENT, popGS: SEGMENT, movSwEw: SEGMENT,
  lesGzMp: SEGMENT, ldsGzMp: SEGMENT, lssGvMp: SEGMENT, lfsGvMp: SEGMENT, lgsGvMp: SEGMENT,
  callfAp: SEGMENT, callfMp: SEGMENT, jmpfAp: SEGMENT, jmpfMp: SEGMENT, retf: SEGMENT, retfIw: SEGMENT,
  iret: SEGMENT, larGvEw: SEGMENT, lslGvEw: SEGMENT, verrEw: SEGMENT, verwEw: SEGMENT,
  int3: IDT, intIb: IDT, into: IDT, int1: IDT,
  syscall: 'enters the host kernel', sysenter: 'enters the host kernel',
  sldtMw: UMIP, sldtRv: UMIP, strMw: UMIP, strRv: UMIP, sgdtMs: UMIP, sidtMs: UMIP, smswMw: UMIP, smswRv: UMIP,
  cpuid: HOST, rdtsc: HOST, rdtscp: HOST, rdpmc: HOST, rdrandRv: HOST, rdseedRv: HOST, rdpidRy: HOST, xgetbv: HOST,
  fxsaveM: XSTATE, fxrstorM: XSTATE, ldmxcsrMd: XSTATE, stmxcsrMd: XSTATE, xsaveM: XSTATE, xrstorM: XSTATE,
  xsaveoptM: XSTATE, xsavecM: XSTATE,
  rdfsbaseRy: FSGS, rdgsbaseRy: FSGS, wrfsbaseRy: FSGS, wrgsbaseRy: FSGS,
  'nopEvGv@0F 0D reg': 'AMD hosts decode 0F 0D with a register operand as a #UD-free PREFETCH form of their own; ringvm is Intel\'s NOP',
  monitorx: 'AMD-only MONITORX/MWAITX, usable at CPL 3 on the host; ringvm implements neither',
  mwaitx: 'AMD-only MONITORX/MWAITX, usable at CPL 3 on the host; ringvm implements neither',
  vmcall: 'the host is itself a virtual machine: the hypercall reaches its hypervisor, which answers',
  vmmcall: 'the host is itself a virtual machine: the hypercall reaches its hypervisor, which answers',
  xsetbv: 'the host runs with CR4.OSXSAVE set (#GP at CPL 3), the test machine without XSAVE (#UD): both right for their state',
  xsavesM: HASFEAT, xrstorsM: HASFEAT, invpcidGyMdq: HASFEAT,
  clgi: 'the host (a virtual machine) answers #GP for SVM instructions without advertising SVM; ringvm has no SVM (#UD)',
  stgi: 'the host (a virtual machine) answers #GP for SVM instructions without advertising SVM; ringvm has no SVM (#UD)',
  serialize: 'the host (AMD EPYC) has no SERIALIZE (#UD) while ringvm executes it',
};

/** Excluded in 32-bit cases only. */
export const EXCLUDED32: Record<string, string> = {
  pushGS: 'GS holds the host C library\'s TLS selector (0x63), a host detail',
  'movMwSw@8C /5 mem': 'GS holds the host C library\'s TLS selector (0x63), a host detail',
  'movRvSw@8C /5 reg': 'GS holds the host C library\'s TLS selector (0x63), a host detail',
  sysret: 'vendor difference: the AMD host runs SYSRET outside 64-bit mode (#GP at CPL 3); the Intel SDM, QEMU and ringvm raise #UD (test/system/handlers.test.ts)',
};

/** Excluded in 64-bit cases only. */
export const EXCLUDED64: Record<string, string> = {};

/**
 * Left out of the qemu-i386 pass only (the host CPU covers them in 32-bit cases), where QEMU 7.2
 * departs from the hardware: it emulates RTM (every transaction aborts at once), raises #UD for the
 * TEST aliases F6/F7 /1 and the 0F 18 hint NOPs with a register operand; and it hangs on some
 * CMPXCHG8B cases.
 */
export const EXCLUDED_QEMU: Record<string, string> = {
  xabortIb: 'QEMU emulates RTM', xbeginJz: 'QEMU emulates RTM', xend: 'QEMU emulates RTM', xtest: 'QEMU emulates RTM',
  'testEbIb@F6 /1': 'QEMU: #UD for the TEST alias', 'testEvIz@F7 /1': 'QEMU: #UD for the TEST alias',
  'nopEvGv@0F 18': 'QEMU: #UD for the hint NOP with a register operand',
  cmpxchg8b: 'qemu-i386 hangs (the process never returns) on some CMPXCHG8B cases, e.g. seed 9000 cases 1395, 7642 of --focus32',
};

/** The reason row `name`/`spec` is not generated in `bits`-bit cases, or undefined. */
export function exclusionReason(name: string, spec: string, bits: 64 | 32): string | undefined {
  const mode = bits === 32 ? EXCLUDED32 : EXCLUDED64;
  return EXCLUDED[`${name}@${spec}`] ?? EXCLUDED[name] ?? mode[`${name}@${spec}`] ?? mode[name];
}
