/**
 * The translator's front end: finds a basic block in guest memory and lowers it to IR micro-ops
 * (ir.ts). A block starts at a guest-physical address and ends after a control transfer (a row
 * with F_BRANCH), before an instruction the block must not contain (privileged, IOPL-checked or
 * sensitive rows, which the simulator runs; an instruction that does not decode; one crossing the
 * page or the CS limit), at the page end, or at MAX_INSNS. Such an excluded first instruction gives
 * an empty block: the engine then runs that one instruction in the interpreter.
 *
 * Lowering: the instructions listed in `INLINE` (MOV, ADD/SUB/AND/OR/XOR/CMP/TEST, INC/DEC, LEA,
 * MOVZX/MOVSX, PUSH/POP, Jcc/JMP/CALL (direct and indirect)/RET, ADC/SBB, shifts and ROL/ROR by
 * any count, MUL/DIV and the others in ROW_KIND) become micro-ops; register forms in every mode, memory
 * forms and control transfers in 64-bit mode (not FS/GS) and in flat 32-bit code (DS/ES/SS). Everything else is
 * an IR_HELPER: the interpreter's handler for that one instruction, so every block runs from day one.
 */
import { DEC_OK, Decoded } from '../cpu/decoded.js';
import { decode } from '../cpu/decoder.js';
import { LF_ADC, LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_SBB, LF_SUB } from '../cpu/flags.js';
import { MODE_LONG64, MODE_PROT32, REG_RSP, SEG_DS, SEG_ES, SEG_FS, SEG_SS } from '../cpu/state.js';
import { F_BRANCH, F_IOPL, F_PRIV, F_SENS } from '../cpu/table-defs.js';
import { ROW_FLAGS, tableRows } from '../cpu/table.js';
import {
  ALU_ADD, ALU_AND, ALU_MOV, ALU_MUL, ALU_OR, ALU_ROL, ALU_ROR, ALU_SAR, ALU_SEXT, ALU_SHL, ALU_SHR, ALU_SUB, ALU_XOR, FD_MUL, FD_SAR, FD_SHL,
  FD_SHR, FD_MULU, FD_SHLV, FD_SHRV, FD_SARV, FD_ROLV, FD_RORV, IR_FLAGSD, IR_ALU, IR_CANON, IR_CONST, IR_EA, IR_EXITCC,
  IR_EXITHELPER, IR_EXITREL, IR_EXITT, IR_FLAGS, IR_GET, IR_HELPER, IR_INSN, IR_LOAD, IR_PUT, IR_RIPREL, IR_STORE,
  IR_BSWAP, IR_CMOV, IR_COND, IR_DIV, IrBlock, T0, T1, T2, T3,
} from './ir.js';

/** Longest block, in guest instructions. */
export const MAX_INSNS = 64;
const BITNESS = [16, 16, 32, 64, 16];

/** A decoded block: its instructions and where each starts, relative to the block's first byte. */
export interface BlockCode {
  insns: Decoded[];
  offs: number[];
  /** Bytes covered. */
  bytes: number;
  /** The last instruction is a control transfer. */
  endsBranch: boolean;
  /** The row of the privileged or sensitive instruction the block stopped before (the simulator runs it), else -1. */
  stopRow?: number;
}

/**
 * Decodes the block at guest-physical `pa` (in RAM: `u8` is the whole memory, `ramOff` the offset
 * of guest address 0) for `mode` and `cpl`. `room` is how many bytes remain before the CS limit is
 * passed (Infinity in 64-bit mode).
 */
export function decodeBlock(u8: Uint8Array, ramOff: number, pa: number, ramSize: number, mode: number, cpl: number,
  room: number): BlockCode {
  const bits = BITNESS[mode];
  const pageEnd = Math.min((Math.floor(pa / 4096) + 1) * 4096, ramSize);
  const insns: Decoded[] = [];
  const offs: number[] = [];
  let off = 0;
  let endsBranch = false;
  let stopRow = -1;
  while (insns.length < MAX_INSNS && pa + off < pageEnd) {
    const d = new Decoded();
    decode(u8, ramOff + pa + off, ramOff + pageEnd, bits, d);
    if (d.status !== DEC_OK) break;
    if (off + d.length > room) break;
    const f = ROW_FLAGS[d.row];
    if ((f & (F_IOPL | F_SENS)) !== 0 || ((f & F_PRIV) !== 0 && cpl !== 0)) {
      stopRow = d.row;
      break;
    }
    insns.push(d);
    offs.push(off);
    off += d.length;
    if ((f & F_BRANCH) !== 0 || (f & F_PRIV) !== 0 || SEG_LOAD[d.row] !== 0) {
      endsBranch = (f & F_BRANCH) !== 0;
      break;
    }
  }
  return { insns, offs, bytes: off, endsBranch, stopRow };
}

/**
 * Where control can go next from a block, as byte offsets from its first byte: the fall-through
 * (a block cut short or ending in a call: the return address), and the targets of a direct Jcc,
 * JMP or CALL. The engine translates the ones in the same page with the block (one compile for
 * the code a page's hot path will reach, instead of one per newly hot block).
 */
export function staticTargets(code: BlockCode): number[] {
  const n = code.insns.length;
  if (n === 0) return [];
  if (!code.endsBranch) return [code.bytes];
  const d = code.insns[n - 1];
  const end = code.bytes;
  const rel = end + d.imm;
  switch (ROW_KIND[d.row]) {
    case K_JCC: return [rel, end];
    case K_JMP: return [rel];
    case K_CALL: return [rel, end];
    case K_CALL_E: return [end];
    default: return [];
  }
}

/** Rows that load a segment register: the block ends after them (its translation assumed the old one). */
const SEG_LOAD = Uint8Array.from(tableRows, (r) => (/^(movSw|pop(ES|SS|DS|FS|GS)$|l(ds|es|ss|fs|gs)[A-Z])/.test(r.name) ? 1 : 0));

// ---- which rows are lowered inline -----------------------------------------------------------

const K_NONE = 0;
const K_ALU_EG = 1;
const K_ALU_GE = 2;
const K_ALU_AI = 3;
const K_ALU_EI = 4;
const K_TEST_EG = 5;
const K_TEST_AI = 6;
const K_TEST_EI = 7;
const K_MOV_EG = 8;
const K_MOV_GE = 9;
const K_MOV_ZI = 10;
const K_MOV_EI = 11;
const K_LEA = 12;
const K_INC = 13;
const K_DEC = 14;
const K_PUSH_Z = 15;
const K_POP_Z = 16;
const K_PUSH_I = 17;
const K_JCC = 18;
const K_JMP = 19;
const K_CALL = 20;
const K_RET = 21;
const K_MOVZX = 22;
const K_MOVSX = 23;
const K_JMP_E = 24;
const K_CALL_E = 25;
const K_IMUL = 26;
const K_SHIFT = 27;
const K_NEG = 28;
const K_NOT = 29;
const K_NOP = 30;
const K_MUL = 31;
const K_DIV = 32;
const K_MOFFS_LD = 33;
const K_MOFFS_ST = 34;
const K_CMOV = 35;
const K_SETCC = 36;
const K_CBW = 37;
const K_CWD = 38;
const K_XCHG = 39;
const K_BSWAP = 40;
const K_SHIFT_CL = 41;
const K_ROTATE = 42;
const K_IMUL1 = 43;
const K_PUSH_E = 44;

/** Per row: the inline kind, the ALU op (-1 = CMP-like: flags only), and the byte-size flag. */
const ROW_KIND = new Uint8Array(tableRows.length);
const movsxdRow = tableRows.findIndex((r) => r.name === 'movsxdGvEd');
const ROW_ALU = new Int8Array(tableRows.length);
const imulRow = tableRows.findIndex((r) => r.name === 'imulGvEv');
const idivRow = tableRows.findIndex((r) => r.name === 'idivEv');
const movALObRow = tableRows.findIndex((r) => r.name === 'movALOb');
const xchgAxRow = tableRows.findIndex((r) => r.name === 'xchgZvrAX');
const movObALRow = tableRows.findIndex((r) => r.name === 'movObAL');
/** Per row: the row itself for the shift-by-1 forms (D0/D1), else -1. */
const shiftOneRow = Int32Array.from(tableRows, (r) => (/^(shl|shr|sar)(Eb|Ev)1$/.test(r.name) ? r.index : -1));
const ROW_BYTE = new Uint8Array(tableRows.length);
/** Per row: 1 for ADC, 2 for SBB (ROW_ALU then holds ALU_ADD / ALU_SUB), else 0. */
const ROW_CARRY = new Uint8Array(tableRows.length);
/** Per ROL/ROR row: where the count comes from (0 the immediate, 1 the constant 1, 2 CL). */
const ROT_COUNT = new Uint8Array(tableRows.length);
const ALU_BY_NAME: Record<string, number> = {
  add: ALU_ADD, or: ALU_OR, and: ALU_AND, sub: ALU_SUB, xor: ALU_XOR, cmp: -1, adc: ALU_ADD, sbb: ALU_SUB,
};
{
  const fixed: Record<string, number> = {
    testEbGb: K_TEST_EG, testEvGv: K_TEST_EG, testALIb: K_TEST_AI, testrAXIz: K_TEST_AI, testEbIb: K_TEST_EI,
    testEvIz: K_TEST_EI, movEbGb: K_MOV_EG, movEvGv: K_MOV_EG, movGbEb: K_MOV_GE, movGvEv: K_MOV_GE,
    movZbIb: K_MOV_ZI, movZvIv: K_MOV_ZI, movEbIb: K_MOV_EI, movEvIz: K_MOV_EI, leaGvM: K_LEA, incEb: K_INC,
    incEv: K_INC, incZv: K_INC, decEb: K_DEC, decEv: K_DEC, decZv: K_DEC, pushZv: K_PUSH_Z, popZv: K_POP_Z, pushEv: K_PUSH_E,
    pushIz: K_PUSH_I, pushIbs: K_PUSH_I, jccJb: K_JCC, jccJz: K_JCC, jmpJb: K_JMP, jmpJz: K_JMP, callJz: K_CALL,
    ret: K_RET, movzxGvEb: K_MOVZX, movzxGvEw: K_MOVZX, movsxGvEb: K_MOVSX, movsxGvEw: K_MOVSX, movsxdGvEd: K_MOVSX,
    jmpEv: K_JMP_E, callEv: K_CALL_E, imulGvEv: K_IMUL, imulGvEvIz: K_IMUL, imulGvEvIbs: K_IMUL,
    negEb: K_NEG, negEv: K_NEG, notEb: K_NOT, notEv: K_NOT, nopEv: K_NOP, nopEvGv: K_NOP, mulEv: K_MUL,
    mulEb: K_MUL, imulEb: K_IMUL1, imulEv: K_IMUL1, divEv: K_DIV, idivEv: K_DIV, movALOb: K_MOFFS_LD, movrAXOv: K_MOFFS_LD, movObAL: K_MOFFS_ST, movOvrAX: K_MOFFS_ST,
    cmovccGvEv: K_CMOV, setccEb: K_SETCC, cbw: K_CBW, cwd: K_CWD, xchgZvrAX: K_XCHG, xchgEvGv: K_XCHG, xchgEbGb: K_XCHG,
    nop: K_NOP, bswapZv: K_BSWAP,
  };
  const names = new Set(tableRows.map((r) => r.name));
  for (const n of Object.keys(fixed)) if (!names.has(n)) throw new Error(`dbt front end: no table row named ${n}`);
  for (const r of tableRows) {
    let k = fixed[r.name] ?? K_NONE;
    const m = /^(add|or|and|sub|xor|cmp|adc|sbb)(EbGb|EvGv|GbEb|GvEv|ALIb|rAXIz|EbIb|EvIz|EvIbs)$/.exec(r.name);
    if (m !== null) {
      ROW_ALU[r.index] = ALU_BY_NAME[m[1]];
      ROW_CARRY[r.index] = m[1] === 'adc' ? 1 : m[1] === 'sbb' ? 2 : 0;
      const form = m[2];
      k = form === 'EbGb' || form === 'EvGv' ? K_ALU_EG : form === 'GbEb' || form === 'GvEv' ? K_ALU_GE
        : form === 'ALIb' || form === 'rAXIz' ? K_ALU_AI : K_ALU_EI;
    }
    const sh = /^(shl|shr|sar)(Eb|Ev)(Ib|1)$/.exec(r.name);
    if (sh !== null) {
      k = K_SHIFT;
      ROW_ALU[r.index] = sh[1] === 'shl' ? FD_SHL : sh[1] === 'shr' ? FD_SHR : FD_SAR;
    }
    const rot = /^(rol|ror)(Eb|Ev)(Ib|1|CL)$/.exec(r.name);
    if (rot !== null) {
      k = K_ROTATE;
      ROW_ALU[r.index] = rot[1] === 'rol' ? FD_ROLV : FD_RORV;
      ROT_COUNT[r.index] = rot[3] === 'Ib' ? 0 : rot[3] === '1' ? 1 : 2;
    }
    const shc = /^(shl|shr|sar)(Eb|Ev)CL$/.exec(r.name);
    if (shc !== null) {
      k = K_SHIFT_CL;
      ROW_ALU[r.index] = shc[1] === 'shl' ? FD_SHLV : shc[1] === 'shr' ? FD_SHRV : FD_SARV;
    }
    ROW_KIND[r.index] = k;
    ROW_BYTE[r.index] = /^(Eb|Gb|AL|Zb)/.test(r.operands) || r.name === 'movzxGvEb' || r.name === 'movsxGvEb' ? 1 : 0;
  }
}

const maskLo = (size: number, v: number): number => (size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v);

/**
 * Lowers a decoded block to IR. `mode` is the block's MODE_*; memory operands and control
 * transfers are inline in 64-bit mode (no segment limits there) and in 32-bit code whose CS, DS,
 * ES and SS are flat (`flat`: base 0, 4 GiB limit, writable data, 32-bit stack), where the
 * interpreter's segment checks cannot fail. `inline` false makes every instruction a helper call
 * (the day-one translation, kept for parity checks). `nearEdge`: the block lies within 4 GiB of
 * the end of a canonical half, where a relative branch target may be non-canonical (#GP): direct
 * branches then go to the helper, which checks.
 */
export function lowerBlock(code: BlockCode, mode: number, inline = true, flat = false, nearEdge = false): IrBlock {
  const ir = new IrBlock();
  const long = mode === MODE_LONG64;
  const sw = long ? 8 : flat && mode === MODE_PROT32 ? 4 : 0;
  const n = code.insns.length;
  let lastHelper = false;
  for (let i = 0; i < n; i++) {
    const d = code.insns[i];
    const off = code.offs[i];
    ir.emit(IR_INSN, i, off, d.length);
    const ok = inline && !(nearEdge && ROW_KIND[d.row] >= K_JCC && ROW_KIND[d.row] <= K_CALL) &&
      lowerOne(ir, d, i, off, sw);
    lastHelper = !ok;
    if (!ok) ir.emit(IR_HELPER, i);
  }
  if (!code.endsBranch) ir.emit(IR_EXITREL, code.bytes);
  else if (lastHelper) ir.emit(IR_EXITHELPER);
  return ir;
}

/** Register operand access for `size` bytes: 8-bit numbers 4..7 name AH..BH without REX. */
function getReg(ir: IrBlock, t: number, d: Decoded, r: number, size: number): void {
  const high = size === 1 && d.rex === 0 && r >= 4 && r < 8;
  ir.emit(IR_GET, t, high ? r - 4 : r, size, high ? 1 : 0);
}
function putReg(ir: IrBlock, d: Decoded, r: number, size: number, t: number): void {
  const high = size === 1 && d.rex === 0 && r >= 4 && r < 8;
  ir.emit(IR_PUT, high ? r - 4 : r, size, high ? 1 : 0, t);
}

/** The immediate as a constant masked to `size` (sign-extension was done by the decoder). */
function constImm(ir: IrBlock, t: number, d: Decoded, size: number): void {
  ir.emit(IR_CONST, t, maskLo(size, d.imm), size === 8 ? d.immHi : 0);
}

/** Emits the micro-ops of one instruction; false when it must run as a helper (nothing emitted). */
/** sw: stack and branch width: 8 in 64-bit mode, 4 in flat 32-bit code, 0 otherwise. */
function lowerOne(ir: IrBlock, d: Decoded, i: number, off: number, sw: number): boolean {
  const long = sw === 8;
  const kind = ROW_KIND[d.row];
  if (kind === K_NONE || d.lock !== 0) return false;
  const size = ROW_BYTE[d.row] !== 0 ? 1 : d.opSize;
  // Memory operands: 64-bit mode, flat segments only (FS/GS bases and limits go to the helper).
  const mem = d.hasModrm !== 0 && d.mod !== 3;
  if (mem && (long ? d.seg >= SEG_FS : sw === 0 || !(d.seg === SEG_DS || d.seg === SEG_ES || d.seg === SEG_SS))) return false;
  const memOp = (t: number): void => ir.emit(IR_EA, t, d.base, d.index, d.scale, i);
  const alu = ROW_ALU[d.row];
  switch (kind) {
    case K_ALU_EG:
    case K_ALU_GE:
    case K_ALU_AI:
    case K_ALU_EI:
    case K_TEST_EG:
    case K_TEST_AI:
    case K_TEST_EI: {
      const test = kind >= K_TEST_EG;
      const op = test ? ALU_AND : alu < 0 ? ALU_SUB : alu;
      const writes = !test && alu >= 0;
      const carry = test ? 0 : ROW_CARRY[d.row];
      const lf = carry === 1 ? LF_ADC : carry === 2 ? LF_SBB : op === ALU_ADD ? LF_ADD : op === ALU_SUB ? LF_SUB : LF_LOGIC;
      const dstIsRm = kind === K_ALU_EG || kind === K_ALU_EI || kind === K_TEST_EG || kind === K_TEST_EI;
      // T0 = destination operand, T1 = source, T2 = result
      if (kind === K_ALU_AI || kind === K_TEST_AI) getReg(ir, T0, d, 0, size);
      else if (dstIsRm) {
        if (mem) {
          memOp(T2);
          ir.emit(IR_LOAD, T0, T2, size, i, d.seg);
        } else getReg(ir, T0, d, d.rm, size);
      } else getReg(ir, T0, d, d.reg, size);
      if (kind === K_ALU_EG || kind === K_TEST_EG) getReg(ir, T1, d, d.reg, size);
      else if (kind === K_ALU_GE) {
        if (mem) {
          memOp(T2);
          ir.emit(IR_LOAD, T1, T2, size, i, d.seg);
        } else getReg(ir, T1, d, d.rm, size);
      } else constImm(ir, T1, d, size);
      if (carry !== 0) {
        // ADC/SBB: T3 = CF in, then dst +/- (src + CF) (mod 2^size: the same result); the lazy
        // record keeps the original src and CF in AUX, as the interpreter's
        ir.emit(IR_COND, T3, 2);
        ir.emit(IR_ALU, ALU_ADD, size, T3, T3, T1);
        ir.emit(IR_ALU, op, size, T3, T0, T3);
        if (mem && dstIsRm) ir.emit(IR_STORE, T2, T3, size, i, d.seg);
        else putReg(ir, d, kind === K_ALU_AI ? 0 : dstIsRm ? d.rm : d.reg, size, T3);
        ir.emit(IR_FLAGS, lf, size, T0, T1, T3);
        return true;
      }
      if (writes && dstIsRm && mem) {
        // T2 still holds the address: the result goes to T3, stored before the flags are recorded
        ir.emit(IR_ALU, op, size, T3, T0, T1);
        ir.emit(IR_STORE, T2, T3, size, i, d.seg);
        ir.emit(IR_FLAGS, lf, size, T0, T1, T3);
        return true;
      }
      ir.emit(IR_ALU, op, size, T2, T0, T1);
      if (writes) putReg(ir, d, kind === K_ALU_AI ? 0 : dstIsRm ? d.rm : d.reg, size, T2);
      ir.emit(IR_FLAGS, lf, size, T0, T1, T2);
      return true;
    }
    case K_MOV_EG:
    case K_MOV_EI:
      if (kind === K_MOV_EG) getReg(ir, T0, d, d.reg, size);
      else constImm(ir, T0, d, size);
      if (mem) {
        memOp(T1);
        ir.emit(IR_STORE, T1, T0, size, i, d.seg);
      } else putReg(ir, d, d.rm, size, T0);
      return true;
    case K_MOV_GE:
    case K_MOVZX:
    case K_MOVSX: {
      const src = kind === K_MOV_GE ? size : ROW_BYTE[d.row] !== 0 ? 1 : d.row === movsxdRow ? 4 : 2;
      if (kind === K_MOVSX && d.row === movsxdRow && d.opSize !== 8) return false;
      if (mem) {
        memOp(T1);
        ir.emit(IR_LOAD, T0, T1, src, i, d.seg);
      } else getReg(ir, T0, d, d.rm, src);
      if (kind === K_MOVSX) ir.emit(IR_ALU, ALU_SEXT, src, T0, T0, T0);
      putReg(ir, d, d.reg, kind === K_MOV_GE ? size : d.opSize, T0);
      return true;
    }
    case K_IMUL:
      // Gv = Ev * (Gv or the immediate), truncated; CF = OF = the product did not fit
      if (mem) {
        memOp(T1);
        ir.emit(IR_LOAD, T0, T1, size, i, d.seg);
      } else getReg(ir, T0, d, d.rm, size);
      if (d.row === imulRow) getReg(ir, T1, d, d.reg, size);
      else constImm(ir, T1, d, size);
      ir.emit(IR_ALU, ALU_MUL, size, T2, T0, T1);
      putReg(ir, d, d.reg, size, T2);
      ir.emit(IR_FLAGSD, FD_MUL, size, T0, T1, T2);
      return true;
    case K_SHIFT: {
      // register forms with a count of 1..size*8-1 (count 0 and larger ones go to the helper)
      const count = (d.row === shiftOneRow[d.row] ? 1 : d.imm) & (size === 8 ? 0x3f : 0x1f);
      const fd = ROW_ALU[d.row];
      if (mem || count === 0 || count >= size * 8) {
        // memory, a zero count or one past an 8/16-bit width: the variable-count form, count constant
        const fdv = fd === FD_SHL ? FD_SHLV : fd === FD_SHR ? FD_SHRV : FD_SARV;
        if (mem) {
          memOp(T3);
          ir.emit(IR_LOAD, T0, T3, size, i, d.seg);
        } else getReg(ir, T0, d, d.rm, size);
        ir.emit(IR_CONST, T1, count, 0);
        ir.emit(IR_ALU, fd === FD_SHL ? ALU_SHL : fd === FD_SHR ? ALU_SHR : ALU_SAR, size, T2, T0, T1);
        if (mem) ir.emit(IR_STORE, T3, T2, size, i, d.seg);
        else putReg(ir, d, d.rm, size, T2);
        ir.emit(IR_FLAGSD, fdv, size, T0, T1, T2);
        return true;
      }
      getReg(ir, T0, d, d.rm, size);
      ir.emit(IR_CONST, T1, count, 0);
      ir.emit(IR_ALU, fd === FD_SHL ? ALU_SHL : fd === FD_SHR ? ALU_SHR : ALU_SAR, size, T2, T0, T1);
      putReg(ir, d, d.rm, size, T2);
      ir.emit(IR_FLAGSD, fd, size, T0, count, T2);
      return true;
    }
    case K_SHIFT_CL: {
      // SHL/SHR/SAR by CL, masked to 5 (6) bits: a memory operand is written back even for a zero
      // count (as the interpreter does); FLAGSD with a count temporary leaves the flags alone for 0
      const fd = ROW_ALU[d.row];
      if (mem) {
        memOp(T3);
        ir.emit(IR_LOAD, T0, T3, size, i, d.seg);
      } else getReg(ir, T0, d, d.rm, size);
      getReg(ir, T1, d, 1, 1);
      ir.emit(IR_CONST, T2, size === 8 ? 0x3f : 0x1f, 0);
      ir.emit(IR_ALU, ALU_AND, 8, T1, T1, T2);
      ir.emit(IR_ALU, fd === FD_SHLV ? ALU_SHL : fd === FD_SHRV ? ALU_SHR : ALU_SAR, size, T2, T0, T1);
      if (mem) ir.emit(IR_STORE, T3, T2, size, i, d.seg);
      else putReg(ir, d, d.rm, size, T2);
      ir.emit(IR_FLAGSD, fd, size, T0, T1, T2);
      return true;
    }
    case K_ROTATE: {
      // ROL/ROR by an immediate, 1 or CL, register or memory (written back even for a zero count,
      // as the interpreter does): the count masked to 5 (6) bits, the rotation modulo the width
      const fd = ROW_ALU[d.row];
      const src = ROT_COUNT[d.row];
      if (mem) {
        memOp(T3);
        ir.emit(IR_LOAD, T0, T3, size, i, d.seg);
      } else getReg(ir, T0, d, d.rm, size);
      const cmask = size === 8 ? 0x3f : 0x1f;
      if (src === 2) {
        getReg(ir, T1, d, 1, 1);
        ir.emit(IR_CONST, T2, cmask, 0);
        ir.emit(IR_ALU, ALU_AND, 8, T1, T1, T2);
      } else ir.emit(IR_CONST, T1, (src === 1 ? 1 : d.imm) & cmask, 0);
      ir.emit(IR_ALU, fd === FD_ROLV ? ALU_ROL : ALU_ROR, size, T2, T0, T1);
      if (mem) ir.emit(IR_STORE, T3, T2, size, i, d.seg);
      else putReg(ir, d, d.rm, size, T2);
      ir.emit(IR_FLAGSD, fd, size, T0, T1, T2);
      return true;
    }
    case K_NEG:
    case K_NOT: {
      // NEG: lazy SUB with DST = 0, as the interpreter records it; NOT: no flags
      if (mem) {
        memOp(T3);
        ir.emit(IR_LOAD, T1, T3, size, i, d.seg);
      } else getReg(ir, T1, d, d.rm, size);
      if (kind === K_NEG) {
        ir.emit(IR_CONST, T0, 0, 0);
        ir.emit(IR_ALU, ALU_SUB, size, T2, T0, T1);
      } else {
        ir.emit(IR_CONST, T0, maskLo(size, -1), size === 8 ? -1 : 0);
        ir.emit(IR_ALU, ALU_XOR, size, T2, T1, T0);
      }
      if (mem) ir.emit(IR_STORE, T3, T2, size, i, d.seg);
      else putReg(ir, d, d.rm, size, T2);
      if (kind === K_NEG) ir.emit(IR_FLAGS, LF_SUB, size, T0, T1, T2);
      return true;
    }
    case K_NOP:
      return true;
    case K_MUL:
      if (size === 1 || size === 2) {
        // AX = AL * r/m8, DX:AX = AX * r/m16 (unsigned; exact in i64)
        if (mem) {
          memOp(T1);
          ir.emit(IR_LOAD, T1, T1, size, i, d.seg);
        } else getReg(ir, T1, d, d.rm, size);
        getReg(ir, T0, d, 0, size);
        ir.emit(IR_ALU, ALU_MUL, 8, T2, T0, T1);
        putReg(ir, d, 0, 2, T2);
        if (size === 2) {
          ir.emit(IR_CONST, T0, 16, 0);
          ir.emit(IR_ALU, ALU_SHR, 8, T3, T2, T0);
          putReg(ir, d, 2, 2, T3);
        }
        ir.emit(IR_FLAGSD, FD_MULU, size, T2, 0, T2);
        return true;
      }
      // EDX:EAX = EAX * r/m32 (unsigned); the 64-bit product of two 32-bit values is exact in i64
      if (d.opSize !== 4) return false;
      if (mem) {
        memOp(T1);
        ir.emit(IR_LOAD, T1, T1, 4, i, d.seg);
      } else getReg(ir, T1, d, d.rm, 4);
      getReg(ir, T0, d, 0, 4);
      ir.emit(IR_ALU, ALU_MUL, 8, T2, T0, T1);
      putReg(ir, d, 0, 4, T2);
      ir.emit(IR_CONST, T0, 32, 0);
      ir.emit(IR_ALU, ALU_SHR, 8, T3, T2, T0);
      putReg(ir, d, 2, 4, T3);
      ir.emit(IR_FLAGSD, FD_MULU, 4, T2, 0, T2);
      return true;
    case K_IMUL1: {
      // AX = AL * r/m8, DX:AX = AX * r/m16, EDX:EAX = EAX * r/m32 (signed; exact in i64); flags as
      // FD_MUL: CF = OF = the product does not fit the size, SF/ZF/PF of its low part
      if (size === 8) return false;
      if (mem) {
        memOp(T1);
        ir.emit(IR_LOAD, T1, T1, size, i, d.seg);
      } else getReg(ir, T1, d, d.rm, size);
      getReg(ir, T0, d, 0, size);
      ir.emit(IR_ALU, ALU_SEXT, size, T2, T0, T0);
      ir.emit(IR_ALU, ALU_SEXT, size, T3, T1, T1);
      ir.emit(IR_ALU, ALU_MUL, 8, T2, T2, T3);
      putReg(ir, d, 0, size === 1 ? 2 : size, T2);
      if (size !== 1) {
        ir.emit(IR_CONST, T3, size * 8, 0);
        ir.emit(IR_ALU, ALU_SHR, 8, T3, T2, T3);
        putReg(ir, d, 2, size, T3);
      }
      ir.emit(IR_ALU, ALU_MOV, size, T2, T2, T2);
      ir.emit(IR_FLAGSD, FD_MUL, size, T0, T1, T2);
      return true;
    }
    case K_DIV: {
      // 32- and 64-bit DIV/IDIV: the divisor (may fault) first, then rDX:rAX; the common cases
      // divide inline, the rest (#DE, a wide dividend) run the helper; no flags change
      const size = d.opSize;
      if (size !== 4 && size !== 8) return false;
      if (mem) {
        memOp(T2);
        ir.emit(IR_LOAD, T2, T2, size, i, d.seg);
      } else getReg(ir, T2, d, d.rm, size);
      getReg(ir, T0, d, 0, size);
      getReg(ir, T1, d, 2, size);
      ir.emit(IR_DIV, d.row === idivRow ? 1 : 0, size, i);
      putReg(ir, d, 0, size, T0);
      putReg(ir, d, 2, size, T1);
      return true;
    }
    case K_CMOV:
      // the source is read (and may fault) whatever the condition; a 32-bit CMOV zero-extends the
      // destination even when the condition is false (PUT of 4 bytes does)
      if (mem) {
        memOp(T0);
        ir.emit(IR_LOAD, T0, T0, size, i, d.seg);
      } else getReg(ir, T0, d, d.rm, size);
      getReg(ir, T1, d, d.reg, size);
      ir.emit(IR_CMOV, d.cond, T1, T0);
      putReg(ir, d, d.reg, size, T1);
      return true;
    case K_SETCC:
      ir.emit(IR_COND, T0, d.cond);
      if (mem) {
        memOp(T1);
        ir.emit(IR_STORE, T1, T0, 1, i, d.seg);
      } else putReg(ir, d, d.rm, 1, T0);
      return true;
    case K_CBW:
      // AX = sext(AL), EAX = sext(AX), RAX = sext(EAX)
      getReg(ir, T0, d, 0, d.opSize >> 1);
      ir.emit(IR_ALU, ALU_SEXT, d.opSize >> 1, T0, T0, T0);
      putReg(ir, d, 0, d.opSize, T0);
      return true;
    case K_CWD:
      // rDX = the sign of rAX, all ones or zero
      getReg(ir, T0, d, 0, d.opSize);
      if (d.opSize !== 8) ir.emit(IR_ALU, ALU_SEXT, d.opSize, T0, T0, T0);
      ir.emit(IR_CONST, T1, 63, 0);
      ir.emit(IR_ALU, ALU_SAR, 8, T2, T0, T1);
      putReg(ir, d, 2, d.opSize, T2);
      return true;
    case K_XCHG: {
      // register forms only (XCHG with memory is locked: the helper)
      if (mem) return false;
      const a = d.row === xchgAxRow ? 0 : d.reg;
      getReg(ir, T0, d, a, size);
      getReg(ir, T1, d, d.rm, size);
      putReg(ir, d, a, size, T1);
      putReg(ir, d, d.rm, size, T0);
      return true;
    }
    case K_BSWAP:
      if (d.opSize === 2) return false; // undefined; the interpreter's choice (0) stays in one place
      getReg(ir, T0, d, d.rm, d.opSize);
      ir.emit(IR_BSWAP, T0, d.opSize);
      putReg(ir, d, d.rm, d.opSize, T0);
      return true;
    case K_MOFFS_LD:
    case K_MOFFS_ST: {
      // MOV between the accumulator and an absolute address (no ModRM: check the segment here);
      // a 64-bit address whose high half is not the sign of its low half goes to the helper (the
      // EA micro-op extends disp from 32 bits)
      const sz = d.row === movALObRow || d.row === movObALRow ? 1 : d.opSize;
      if (long ? d.seg >= SEG_FS : sw === 0 || !(d.seg === SEG_DS || d.seg === SEG_ES || d.seg === SEG_SS)) return false;
      if (d.adSize === 8 && d.dispHi !== (d.disp < 0 ? -1 : 0)) return false;
      memOp(T1);
      if (kind === K_MOFFS_LD) {
        ir.emit(IR_LOAD, T0, T1, sz, i, d.seg);
        putReg(ir, d, 0, sz, T0);
      } else {
        getReg(ir, T0, d, 0, sz);
        ir.emit(IR_STORE, T1, T0, sz, i, d.seg);
      }
      return true;
    }
    case K_MOV_ZI:
      constImm(ir, T0, d, size);
      putReg(ir, d, d.rm, size, T0);
      return true;
    case K_LEA:
      if (!mem || (!long && d.base === 16)) return false;
      ir.emit(IR_EA, T0, d.base, d.index, d.scale, i);
      putReg(ir, d, d.reg, d.opSize, T0);
      return true;
    case K_INC:
    case K_DEC: {
      const op = kind === K_INC ? ALU_ADD : ALU_SUB;
      const lf = kind === K_INC ? LF_INC : LF_DEC;
      const rmReg = d.rm; // FE/FF /0 /1 register form and 40+r/48+r both carry it in rm
      if (mem) {
        memOp(T2);
        ir.emit(IR_LOAD, T0, T2, size, i, d.seg);
      } else getReg(ir, T0, d, rmReg, size);
      ir.emit(IR_CONST, T1, 1, 0);
      ir.emit(IR_ALU, op, size, T3, T0, T1);
      if (mem) ir.emit(IR_STORE, T2, T3, size, i, d.seg);
      else putReg(ir, d, rmReg, size, T3);
      ir.emit(IR_FLAGS, lf, size, T0, T1, T3);
      return true;
    }
    case K_PUSH_Z:
    case K_PUSH_I:
    case K_PUSH_E:
      if (sw === 0 || d.opSize !== sw) return false;
      if (kind === K_PUSH_Z) getReg(ir, T0, d, d.rm, sw);
      else if (kind === K_PUSH_E) {
        // PUSH r/m: the operand is read (at an rSP-based address: rSP before the push) first
        if (mem) {
          memOp(T1);
          ir.emit(IR_LOAD, T0, T1, sw, i, d.seg);
        } else getReg(ir, T0, d, d.rm, sw);
      } else ir.emit(IR_CONST, T0, d.imm, sw === 8 ? d.immHi : 0);
      getReg(ir, T1, d, REG_RSP, sw);
      ir.emit(IR_CONST, T2, sw, 0);
      ir.emit(IR_ALU, ALU_SUB, sw, T1, T1, T2);
      ir.emit(IR_STORE, T1, T0, sw, i, SEG_SS);
      putReg(ir, d, REG_RSP, sw, T1);
      return true;
    case K_POP_Z:
      if (sw === 0 || d.opSize !== sw) return false;
      getReg(ir, T1, d, REG_RSP, sw);
      ir.emit(IR_LOAD, T0, T1, sw, i, SEG_SS);
      ir.emit(IR_CONST, T2, sw, 0);
      ir.emit(IR_ALU, ALU_ADD, sw, T1, T1, T2);
      putReg(ir, d, REG_RSP, sw, T1);
      putReg(ir, d, d.rm, sw, T0);
      return true;
    case K_JCC:
      if (sw === 0 || d.opSize !== sw) return false;
      ir.emit(IR_EXITCC, d.cond, off + d.length + d.imm, off + d.length);
      return true;
    case K_JMP:
      if (sw === 0 || d.opSize !== sw) return false;
      ir.emit(IR_EXITREL, off + d.length + d.imm);
      return true;
    case K_CALL:
      if (sw === 0 || d.opSize !== sw) return false;
      ir.emit(IR_RIPREL, T0, off + d.length);
      getReg(ir, T1, d, REG_RSP, sw);
      ir.emit(IR_CONST, T2, sw, 0);
      ir.emit(IR_ALU, ALU_SUB, sw, T1, T1, T2);
      ir.emit(IR_STORE, T1, T0, sw, i, SEG_SS);
      putReg(ir, d, REG_RSP, sw, T1);
      ir.emit(IR_EXITREL, off + d.length + d.imm);
      return true;
    case K_JMP_E:
    case K_CALL_E:
      // indirect: the target (register or memory) is read and checked before anything is pushed
      if (sw === 0 || d.opSize !== sw) return false;
      if (mem) {
        memOp(T1);
        ir.emit(IR_LOAD, T0, T1, sw, i, d.seg);
      } else getReg(ir, T0, d, d.rm, sw);
      if (long) ir.emit(IR_CANON, T0, i);
      if (kind === K_CALL_E) {
        ir.emit(IR_RIPREL, T3, off + d.length);
        getReg(ir, T1, d, REG_RSP, sw);
        ir.emit(IR_CONST, T2, sw, 0);
        ir.emit(IR_ALU, ALU_SUB, sw, T1, T1, T2);
        ir.emit(IR_STORE, T1, T3, sw, i, SEG_SS);
        putReg(ir, d, REG_RSP, sw, T1);
      }
      ir.emit(IR_EXITT, T0);
      return true;
    case K_RET:
      if (sw === 0 || d.opSize !== sw) return false;
      getReg(ir, T1, d, REG_RSP, sw);
      ir.emit(IR_LOAD, T0, T1, sw, i, SEG_SS);
      if (long) ir.emit(IR_CANON, T0, i);
      ir.emit(IR_CONST, T2, sw, 0);
      ir.emit(IR_ALU, ALU_ADD, sw, T1, T1, T2);
      putReg(ir, d, REG_RSP, sw, T1);
      ir.emit(IR_EXITT, T0);
      return true;
    default:
      return false;
  }
}
