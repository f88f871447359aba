/**
 * Pre-resolved forms of the hottest register-only instructions, for the run loop's `switch`
 * (ARCHITECTURE.md §4: a switch over pre-decoded small-integer kinds instead of a megamorphic
 * handler call). When an instruction enters the decode cache, `specialise` looks at its row and
 * operands and, for a 32/64-bit register-register or register-immediate ALU operation (ADD OR AND
 * SUB XOR CMP) or a 32/64-bit register MOV, returns a kind and one packed operand word; the loop
 * then executes it inline with exactly the semantics of alu.ts's `makeAlu` short path and mov.ts's
 * MOV handlers (same results, same lazy-flag words). 32/64-bit MOV between a register and memory in
 * 64-bit mode gets a kind too: the loop probes the TLB inline and calls the handler on a miss. Everything else keeps kind 0 (or its fast.ts
 * kind) and goes through the handler. Rows are recognised by their handler names, which the
 * registrars of alu.ts and mov.ts fill with exactly those handlers.
 */
import { tableRows } from '../cpu/table.js';
import type { Decoded } from '../cpu/decoded.js';
import { SEG_FS } from '../cpu/state.js';
import { LF_ADD, LF_LOGIC, LF_SUB } from '../cpu/flags.js';
import { OP_ADD, OP_AND, OP_CMP, OP_OR, OP_SUB, OP_XOR } from './alu.js';

/** ALU op on 32-bit registers (operand word: dst | src << 4 | op << 8 | imm << 11 | lazy tag << 12 | test << 20). */
export const K_ALU32 = 64;
/** ALU op on 64-bit registers (same operand word). */
export const K_ALU64 = 65;
/** MOV r32, r32 (operand word: dst | src << 4). */
export const K_MOV32 = 66;
/** MOV r64, r64. */
export const K_MOV64 = 67;

/** MOV r32, [mem] in 64-bit mode without an FS/GS base (operand word: the register). */
export const K_LD32 = 68;
/** MOV r64, [mem]. */
export const K_LD64 = 69;
/** MOV [mem], r32. */
export const K_ST32 = 70;
/** MOV [mem], r64. */
export const K_ST64 = 71;

/** Operand-word fields: an immediate source; TEST (AND without writing, LF_AUX cleared as alu.ts's aluFlags does). */
export const W_IMM = 1 << 11;
export const W_TEST = 1 << 20;

const OPS: Record<string, number> = { add: OP_ADD, or: OP_OR, and: OP_AND, sub: OP_SUB, xor: OP_XOR, cmp: OP_CMP };
const FORM_EG = 1;
const FORM_GE = 2;
const FORM_EI = 3;
const FORM_MOV_EG = 4;
const FORM_MOV_GE = 5;
const FORM_TEST_EG = 6;
const FORM_TEST_EI = 7;

/** Per table row: 0, or form | op << 4 for the rows `specialise` knows. */
export function rowSpecs(): Uint8Array {
  return Uint8Array.from(tableRows, (row) => {
    if (row.name === 'movEvGv') return FORM_MOV_EG;
    if (row.name === 'movGvEv') return FORM_MOV_GE;
    if (row.name === 'testEvGv') return FORM_TEST_EG | (OP_AND << 4);
    if (row.name === 'testEvIz') return FORM_TEST_EI | (OP_AND << 4);
    const m = /^(add|or|and|sub|xor|cmp)(EvGv|GvEv|EvIz|EvIbs|EvIb)$/.exec(row.name);
    if (m === null) return 0;
    const form = m[2] === 'EvGv' ? FORM_EG : m[2] === 'GvEv' ? FORM_GE : FORM_EI;
    return form | (OPS[m[1]] << 4);
  });
}

/**
 * For decoded instruction d of a row with spec `spec`: 0 (not specialised) or kind | word << 8,
 * the kind and its operand word.
 */
export function specialise(spec: number, d: Decoded): number {
  if (spec === 0 || (d.opSize !== 4 && d.opSize !== 8)) return 0;
  const wide = d.opSize === 8;
  if (d.mod !== 3) {
    // memory MOVs in 64-bit mode (64-bit addresses) through ES/CS/SS/DS, whose bases are 0 there
    if (d.adSize !== 8 || d.seg >= SEG_FS) return 0;
    if ((spec & 15) === FORM_MOV_GE) return (wide ? K_LD64 : K_LD32) | (d.reg << 8);
    if ((spec & 15) === FORM_MOV_EG) return (wide ? K_ST64 : K_ST32) | (d.reg << 8);
    return 0;
  }
  switch (spec & 15) {
    case FORM_MOV_EG: return (wide ? K_MOV64 : K_MOV32) | ((d.rm | (d.reg << 4)) << 8);
    case FORM_MOV_GE: return (wide ? K_MOV64 : K_MOV32) | ((d.reg | (d.rm << 4)) << 8);
    default: break;
  }
  const form = spec & 15;
  const op = spec >> 4;
  const test = form === FORM_TEST_EG || form === FORM_TEST_EI ? W_TEST : 0;
  const operands =
    (form === FORM_EG || form === FORM_TEST_EG ? d.rm | (d.reg << 4) : form === FORM_GE ? d.reg | (d.rm << 4) : d.rm | W_IMM) | test;
  // the lazy-flags tag makeAlu records: ADD, LOGIC or SUB (CMP) at size index 2 or 3
  const lf = op === OP_ADD ? LF_ADD : op === OP_SUB || op === OP_CMP ? LF_SUB : LF_LOGIC;
  const tag = (lf << 2) | (wide ? 3 : 2);
  return (wide ? K_ALU64 : K_ALU32) | ((operands | (op << 8) | (tag << 12)) << 8);
}
