/**
 * The decoded form of one x86 instruction: a fixed-shape object of numbers that the decoder
 * (cpu/decoder.ts) fills in place, so decoding allocates nothing. It is the contract between the
 * decoder and its consumers (interpreter, translator, disassembler). The table row (`row`, an
 * index into `tableRows` of cpu/table.ts) says what the instruction is: handler name, mnemonic,
 * operands in SDM notation, check flags. This object says how this instance was encoded.
 *
 * Fields:
 *   status      DEC_OK (0), DEC_NEED_MORE (bytes ran out before `end`, fewer than 15 available:
 *               fetch more and retry), or a fault value from cpu/fault.ts: FAULT_UD (invalid
 *               opcode, LOCK where not allowed, a mode-invalid row, VEX/EVEX/XOP = unsupported:
 *               see `vex`), FAULT_GP0 (the instruction would be longer than 15 bytes).
 *   length      bytes consumed (meaningful for DEC_OK, and for FAULT_UD: the bytes decoded so far).
 *   row         index of the table row, -1 if none matched.
 *   map         0 one-byte, 1 0F, 2 0F38, 3 0F3A.      opcode  the opcode byte in that map.
 *   cond        low nibble of the opcode (the condition of Jcc/SETcc/CMOVcc; 0 otherwise useful).
 *   prefixes    bit set of PFX_* below.                 pfx     mandatory-prefix index MP_*.
 *   rep         0 none, 1 REP/REPE (F3), 2 REPNE (F2): the last of F2/F3 wins.
 *   lock        1 if a LOCK (F0) prefix was present (and accepted, else status is FAULT_UD).
 *   rex         the effective REX byte (0x40..0x4F) or 0. A REX not directly before the opcode is
 *               ignored (rex = 0, PFX_REX clear).
 *   opSize      effective size in bytes (2, 4, 8) of v-sized operands; byte operands are known from
 *               the row. Default-64 rows (push/pop/near branches in long mode) get 8 unless 66;
 *               forced-64 rows (near jmp/call/jcc/ret, Intel behaviour) always get 8.
 *   adSize      effective address size in bytes (2, 4, 8).
 *   seg         effective segment of the memory operand (SEG_* of cpu/state.ts): the override if
 *               any, else SS for [E/R]BP or [E/R]SP base (BP-based in 16-bit), else DS. String
 *               destinations (ES:[rDI]) are implied by the row, not by this field.
 *   segOverride -1, or the SEG_* of the effective segment prefix: the last one; in 64-bit mode
 *               the last FS/GS prefix (ES/CS/SS/DS prefixes are ignored there; PFX_SEG still
 *               records that some segment prefix was present).
 *   segLast     -1, or the SEG_* of the last segment prefix byte, effective or not (2E/3E on a Jcc
 *               are branch hints).
 *   hasModrm    0/1.  modrm  the raw ModRM byte.  mod  0..3.
 *   reg         ModRM.reg with REX.R (0..15). For rows whose opcode carries the register (Zv:
 *               50+r, B8+r, 90+r, C8+r ...) `rm` holds it (low 3 bits of the opcode with REX.B).
 *   rm          ModRM.rm with REX.B (0..15) for mod = 3 (a register operand).
 *   isMem       1 when there is a memory operand (ModRM with mod != 3, or moffs A0..A3).
 *   base        -1 none, 0..15 a GPR, BASE_RIP (16) = RIP/EIP-relative: the consumer adds the
 *               address of the next instruction.
 *   index       -1 none, 0..15.     scale  0..3 (shift count).
 *   disp        int32 displacement, sign-extended from 8/16/32 bits. For moffs (A0..A3) the
 *               address zero-extended: low 32 bits here, high 32 in dispHi (64-bit addressing).
 *   dispHi      high half of disp (sign of disp for ordinary displacements, see above for moffs).
 *   imm         first immediate as int32: Ib zero-extended, except where the SDM sign-extends
 *               (Ibs rows: 83 group, 6A push, 6B imul: sign-extended, immHi = its sign); Iw
 *               zero-extended; Iz: 16 bits zero-extended for opSize 2, else 32 bits (immHi = its
 *               sign when opSize is 8);
 *               Jb/Jz: the signed relative displacement (target = next-instruction address + imm);
 *               Ap: the offset part; imm64 (B8+r with REX.W): the low 32 bits.
 *   immHi       high 32 bits of a 64-bit immediate: imm64, or Iz sign-extended in 64-bit ops.
 *   imm2        second immediate: ENTER's Ib (level), the selector of a far pointer Ap, the
 *               second Ib of EXTRQ/INSERTQ.
 *   vex         0, or the escape byte of a VEX/EVEX/XOP encoding (0xC4, 0xC5, 0x62, 0x8F); such
 *               instructions get status FAULT_UD ("unsupported") with their true length.
 *
 * 8-bit registers: a byte-sized register number n (reg or rm) names AL, CL, DL, BL for 0..3; for
 * 4..7 it names AH, CH, DH, BH when rex === 0 and SPL, BPL, SIL, DIL when rex !== 0; 8..15 are
 * R8B..R15B (only reachable with a REX). Use byteRegIsHigh(out, n).
 */

export const DEC_OK = 0;
export const DEC_NEED_MORE = 1;

export const PFX_LOCK = 1;
export const PFX_REP = 2; // F3
export const PFX_REPNE = 4; // F2
export const PFX_OPSIZE = 8; // 66
export const PFX_ADSIZE = 16; // 67
export const PFX_REX = 32;
export const PFX_SEG = 64;

/** Mandatory-prefix index (`pfx`): the last of F2/F3 if any, else 66 if present, else none. */
export const MP_NONE = 0;
export const MP_66 = 1;
export const MP_F3 = 2;
export const MP_F2 = 3;

export const BASE_RIP = 16;

export class Decoded {
  status = 0;
  length = 0;
  row = -1;
  map = 0;
  opcode = 0;
  cond = 0;
  prefixes = 0;
  pfx = 0;
  rep = 0;
  lock = 0;
  rex = 0;
  opSize = 4;
  adSize = 4;
  seg = 3;
  segOverride = -1;
  segLast = -1;
  hasModrm = 0;
  modrm = 0;
  mod = 0;
  reg = 0;
  rm = 0;
  isMem = 0;
  base = -1;
  index = -1;
  scale = 0;
  disp = 0;
  dispHi = 0;
  imm = 0;
  immHi = 0;
  imm2 = 0;
  vex = 0;
}

/** True when byte register number n means AH/CH/DH/BH (n in 4..7 and no REX prefix). */
export const byteRegIsHigh = (d: Decoded, n: number): boolean => d.rex === 0 && n >= 4 && n < 8;
