/**
 * The one memory layout: every byte of guest-visible state lives in a single WebAssembly.Memory,
 * at the fixed offsets defined here and nowhere else (ARCHITECTURE.md §3). The interpreter reads
 * them through typed-array views; translated wasm code will use the same numbers as constant
 * addresses. Offsets are in bytes from the start of the memory.
 *
 *   0x000000  CPU block        registers, flags, segments, control registers, MSRs, counters
 *   0x010000  TLB              software TLB (see mmu/tlb.ts)
 *   0x090000  TC index         translation-cache hash table (see dbt/)
 *   0x0D0000  code-page bitmap one bit per 4 KiB guest-physical page holding translated code
 *   0x100000  guest RAM        guest physical address 0 is at this offset
 *
 * Plain exported numbers, not `const enum`: per-file transpilers (tsx, vitest) do not inline
 * const enums across files (STYLE.md point 6).
 */

// ---- regions -------------------------------------------------------------------------------

export const CPU_BASE = 0x000000;
export const CPU_SIZE = 0x010000;
export const TLB_BASE = 0x010000;
export const TLB_SIZE = 0x080000;
export const TC_INDEX_BASE = 0x090000;
export const TC_INDEX_SIZE = 0x040000;
export const CODE_BITMAP_BASE = 0x0d0000;
/** 128 KiB of bits: 1 Mi pages of 4 KiB, enough for the whole 4 GiB physical space. */
export const CODE_BITMAP_SIZE = 0x020000;
export const RAM_BASE = 0x100000;

/** Largest guest RAM we accept: the 4 GiB wasm32 limit less the regions above and the MMIO hole. */
export const MAX_RAM = 3 * 1024 * 1024 * 1024;
export const WASM_PAGE = 65536;

// ---- general-purpose registers: 16 slots of 64 bits, x86 encoding order --------------------

export const REG_RAX = 0;
export const REG_RCX = 1;
export const REG_RDX = 2;
export const REG_RBX = 3;
export const REG_RSP = 4;
export const REG_RBP = 5;
export const REG_RSI = 6;
export const REG_RDI = 7;
export const REG_R8 = 8;
export const REG_R15 = 15;
export const GPR_NAMES64 = [
  'rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
];

/** Byte offset of register r (0..15); the low half is at +0, the high half at +4. */
export const OFF_GPR = 0x000;
export const gprOffset = (r: number): number => OFF_GPR + r * 8;

export const OFF_RIP = 0x080; // 64-bit
export const OFF_RFLAGS = 0x088; // 64-bit; the arithmetic flags may be stale while LF_OP != 0

// ---- lazy flags: the last flag-setting operation, its operands and result --------------------
// Materialised into RFLAGS only when read (see cpu/flags.ts). All 32-bit words.

export const OFF_LF_OP = 0x090; // operation tag (0 = RFLAGS is up to date)
export const OFF_LF_RES = 0x098; // result, 64-bit
export const OFF_LF_SRC = 0x0a0; // source operand, 64-bit
export const OFF_LF_DST = 0x0a8; // destination operand before the operation, 64-bit
export const OFF_LF_AUX = 0x0b0; // carry-in, shift count and similar, 32-bit

// ---- segment registers and the system segments: 32 bytes each ----------------------------------

export const SEG_ES = 0;
export const SEG_CS = 1;
export const SEG_SS = 2;
export const SEG_DS = 3;
export const SEG_FS = 4;
export const SEG_GS = 5;
export const SEG_LDTR = 6;
export const SEG_TR = 7;
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr'];

export const OFF_SEG = 0x100;
export const SEG_STRIDE = 32;
/** Fields inside one segment slot. */
export const SEG_SELECTOR = 0; // u32, 16 bits used
/**
 * u32: descriptor bits 40..55 shifted down by 40: bits 0..3 type, 4 S, 5..6 DPL, 7 P (the access
 * byte); bits 8..11 always 0 (limit 19:16 lives in SEG_LIMIT); 12 AVL, 13 L, 14 D/B, 15 G.
 */
export const SEG_ATTR = 4;
export const ATTR_P = 1 << 7;
export const ATTR_S = 1 << 4;
export const ATTR_L = 1 << 13;
export const ATTR_DB = 1 << 14;
export const ATTR_G = 1 << 15;
export const SEG_LIMIT = 8; // u32, byte-granular (already scaled by G)
export const SEG_BASE = 16; // u64
export const segOffset = (s: number): number => OFF_SEG + s * SEG_STRIDE;

// ---- descriptor-table registers -------------------------------------------------------------

export const OFF_GDTR_BASE = 0x200; // u64
export const OFF_GDTR_LIMIT = 0x208; // u32
export const OFF_IDTR_BASE = 0x210; // u64
export const OFF_IDTR_LIMIT = 0x218; // u32

// ---- control registers, EFER, privilege and mode ----------------------------------------------

export const OFF_CR0 = 0x220; // u64
export const OFF_CR2 = 0x228; // u64
export const OFF_CR3 = 0x230; // u64
export const OFF_CR4 = 0x238; // u64
export const OFF_CR8 = 0x240; // u64
export const OFF_EFER = 0x248; // u64
export const OFF_XCR0 = 0x250; // u64
export const OFF_DR0 = 0x258; // 8 debug registers DR0..DR7, u64 each (DR4/5 alias DR6/7)

export const OFF_CPL = 0x2a0; // u32: current privilege level 0..3
/** u32: the code mode, one of the MODE_* values; recomputed on every CS, CR0 or EFER change. */
export const OFF_MODE = 0x2a4;
export const MODE_REAL = 0;
export const MODE_PROT16 = 1;
export const MODE_PROT32 = 2;
export const MODE_LONG64 = 3;
export const MODE_VM86 = 4;

/** u64: guest instructions retired since power-on; virtual time is counted in these. */
export const OFF_INSN_COUNT = 0x2a8;
/** u64: the instruction count at which the next timer fires (engines stop a run there). */
export const OFF_NEXT_DEADLINE = 0x2b0;
/** u32: nonzero asks the running engine to return to the run loop at the next boundary. */
export const OFF_EXIT_REQUEST = 0x2b8;
/** u32: 1 while the CPU is in HLT. */
export const OFF_HALTED = 0x2bc;
/** u32: 1 for the instruction after MOV SS / POP SS / STI (interrupts are held off). */
export const OFF_INT_SHADOW = 0x2c0;
/** u32: sensitive-instruction policy (system/ defines the values). */
export const OFF_POLICY = 0x2c4;
/** u32: the last interrupt or exception vector delivered, for dumps. */
export const OFF_LAST_VECTOR = 0x2c8;
/** u64: the linear address of the pending page fault (copied to CR2 when #PF is delivered). */
export const OFF_FAULT_ADDR = 0x2d0;
/**
 * u64: the instruction count at which the running engine stops (its `stopAt`). A REP string
 * instruction, whose every iteration counts as one instruction, runs no iteration past it.
 */
export const OFF_REP_STOP = 0x2d8;
/**
 * u32: iterations beyond one that the last REP string instruction retired (or, when it faulted,
 * completed before the fault); the engine adds them to its count and writes 0 back.
 */
export const OFF_REP_EXTRA = 0x2cc;

// ---- model-specific registers kept in the block, u64 each ---------------------------------------

export const OFF_MSR_STAR = 0x300;
export const OFF_MSR_LSTAR = 0x308;
export const OFF_MSR_CSTAR = 0x310;
export const OFF_MSR_SFMASK = 0x318;
export const OFF_MSR_KERNEL_GS_BASE = 0x320;
export const OFF_MSR_SYSENTER_CS = 0x328;
export const OFF_MSR_SYSENTER_ESP = 0x330;
export const OFF_MSR_SYSENTER_EIP = 0x338;
export const OFF_MSR_TSC_OFFSET = 0x340;
export const OFF_MSR_APIC_BASE = 0x348;
export const OFF_MSR_PAT = 0x350;
export const OFF_MSR_TSC_AUX = 0x358;

// ---- x87 / SSE state (executed by a later issue; the room is reserved now) ----------------------

export const OFF_XMM = 0x400; // 16 registers of 16 bytes
export const OFF_MXCSR = 0x500;
export const OFF_FPU = 0x540; // x87 control/status/tag words and 8 registers of 16 bytes

// ---- RFLAGS bits ---------------------------------------------------------------------------

export const FLAG_CF = 1 << 0;
export const FLAG_FIXED1 = 1 << 1; // always 1
export const FLAG_PF = 1 << 2;
export const FLAG_AF = 1 << 4;
export const FLAG_ZF = 1 << 6;
export const FLAG_SF = 1 << 7;
export const FLAG_TF = 1 << 8;
export const FLAG_IF = 1 << 9;
export const FLAG_DF = 1 << 10;
export const FLAG_OF = 1 << 11;
export const FLAG_IOPL = 3 << 12;
export const FLAG_NT = 1 << 14;
export const FLAG_RF = 1 << 16;
export const FLAG_VM = 1 << 17;
export const FLAG_AC = 1 << 18;
export const FLAG_VIF = 1 << 19;
export const FLAG_VIP = 1 << 20;
export const FLAG_ID = 1 << 21;
export const FLAGS_ARITH = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;

// ---- control-register bits -------------------------------------------------------------------

export const CR0_PE = 1 << 0;
export const CR0_MP = 1 << 1;
export const CR0_EM = 1 << 2;
export const CR0_TS = 1 << 3;
export const CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5;
export const CR0_WP = 1 << 16;
export const CR0_AM = 1 << 18;
export const CR0_NW = 1 << 29;
export const CR0_CD = 1 << 30;
export const CR0_PG = 1 << 31; // negative as an int32: compare with `(cr0 & CR0_PG) !== 0`

export const CR4_VME = 1 << 0;
export const CR4_PVI = 1 << 1;
export const CR4_TSD = 1 << 2;
export const CR4_DE = 1 << 3;
export const CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5;
export const CR4_MCE = 1 << 6;
export const CR4_PGE = 1 << 7;
export const CR4_OSFXSR = 1 << 9;
export const CR4_OSXMMEXCPT = 1 << 10;
export const CR4_UMIP = 1 << 11;
export const CR4_FSGSBASE = 1 << 16;
export const CR4_OSXSAVE = 1 << 18;
export const CR4_SMEP = 1 << 20;
export const CR4_SMAP = 1 << 21;

export const EFER_SCE = 1 << 0;
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;
export const EFER_NXE = 1 << 11;

/**
 * Typed-array views over the one memory. Created once per Machine; every engine and device that
 * needs guest state holds the same views (no copies, no per-access allocation).
 */
export class StateViews {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly dv: DataView;

  constructor(readonly memory: WebAssembly.Memory) {
    const buf = memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.u16 = new Uint16Array(buf);
    this.u32 = new Uint32Array(buf);
    this.i32 = new Int32Array(buf);
    this.dv = new DataView(buf);
  }

  /** Low 32 bits of a 64-bit slot. */
  lo(off: number): number {
    return this.u32[off >>> 2];
  }
  /** High 32 bits of a 64-bit slot. */
  hi(off: number): number {
    return this.u32[(off + 4) >>> 2];
  }
  set64(off: number, lo: number, hi: number): void {
    this.u32[off >>> 2] = lo;
    this.u32[(off + 4) >>> 2] = hi;
  }
  /** A 64-bit slot as a JS number (exact below 2^53); for dumps and the loader, not hot paths. */
  getNum(off: number): number {
    return this.u32[(off + 4) >>> 2] * 0x100000000 + this.u32[off >>> 2];
  }
  setNum(off: number, v: number): void {
    this.u32[off >>> 2] = v >>> 0;
    this.u32[(off + 4) >>> 2] = Math.floor(v / 0x100000000) >>> 0;
  }
  getBig(off: number): bigint {
    return this.dv.getBigUint64(off, true);
  }
  setBig(off: number, v: bigint): void {
    this.dv.setBigUint64(off, BigInt.asUintN(64, v), true);
  }
}
