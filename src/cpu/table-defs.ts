/**
 * Vocabulary of the instruction table: the check flags a row carries as data, the immediate
 * shapes the decoder needs, and the signature of the `set()` builder that the per-map table files
 * (table-onebyte.ts, table-0f.ts, table-sse.ts, table-x87.ts) call once per row. Kept apart from
 * table.ts so the map files do not import the module that imports them.
 */

// Row flags (a bit set per row).
export const F_LOCK = 1 << 0; // LOCK allowed (with a memory destination)
export const F_BRANCH = 1 << 1; // control transfer: ends a basic block
export const F_PRIV = 1 << 2; // CPL 0 only (#GP(0) otherwise)
export const F_IOPL = 1 << 3; // CPL > IOPL matters in protected mode: CLI/STI (#GP), IN/OUT/INS/OUTS (I/O bitmap); PUSHF/POPF are F_SENS (IOPL only in VM86)
export const F_SENS = 1 << 4; // sensitive but unprivileged (SGDT, SIDT, SMSW, POPF, MOV from Sreg...)
export const F_INV64 = 1 << 5; // invalid in 64-bit mode
export const F_ONLY64 = 1 << 6; // valid only in 64-bit mode
export const F_DEF64 = 1 << 7; // default operand size 64 in long mode (66 gives 16)
export const F_F64 = 1 << 8; // operand size forced to 64 in long mode (66 ignored, Intel)
export const F_MODREG = 1 << 9; // ModRM.mod ignored: rm is always a register (MOV CR/DR)
export const F_CR = 1 << 10; // reg names a control register: only CR0/2/3/4/8 exist
export const F_DR = 1 << 11; // reg names a debug register: only DR0..DR7 exist
export const F_XACQ = 1 << 12; // LOCK-able row where F2/F3 are HLE hints (not REP)
export const F_STRING = 1 << 13; // string instruction: REP/REPNE apply
export const F_SSE = 1 << 14; // MMX/SSE/x87 data row (not a general-purpose/system row)
export const F_X87 = 1 << 15;
export const F_NOREXW = 1 << 16; // operand size ignores REX.W (e.g. Sreg moves use 16/32)

// Immediate shapes.
export const IMM_NONE = 0;
export const IMM_IB = 1; // 8-bit, zero-extended
export const IMM_IBS = 2; // 8-bit, sign-extended to the operand size
export const IMM_IW = 3; // 16-bit
export const IMM_IZ = 4; // 16 or 32 bits (32 sign-extended to 64 for 64-bit operands)
export const IMM_IV = 5; // 16, 32 or 64 bits (MOV r, imm)
export const IMM_IWIB = 6; // ENTER Iw,Ib
export const IMM_AP = 7; // far pointer: offset (16/32) then selector (16)
export const IMM_O = 8; // moffs: address of the address size
export const IMM_JB = 9; // rel8
export const IMM_JZ = 10; // rel16/rel32
export const IMM_IBIB = 11; // two Ib (EXTRQ/INSERTQ)

/** One row as written in a map file. */
export interface RowSpec {
  /** Opcode in SDM style: `[NP|66|F2|F3] [0F [38|3A]] XX[+r|+cc] [/d] [mem|reg] [MM]`. */
  spec: string;
  /** Lower-case mnemonic; `a|b|c` picks by operand size 2|4|8; `j*`/`set*`/`cmov*` take cond. */
  mnemonic: string;
  /** Operands in SDM notation, comma-separated ('' for none). */
  operands: string;
  flags: number;
  /** CPUID feature name ('' for the base architecture). */
  feature: string;
  /** Handler name when the naming rule does not derive it (see docs/naming.md). */
  name: string;
}

export type Setter = (spec: string, mnemonic: string, operands: string, flags?: number,
  feature?: string, name?: string) => void;
