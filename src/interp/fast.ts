/**
 * The hottest handlers as module constants, so the run loop can call them directly from a
 * `switch` instead of through the dense handler array: a direct call of a constant closure is
 * monomorphic and TurboFan can inline it with its captured operation and form folded in, while a
 * call through the array is megamorphic. They are the same function objects that `registerFast`
 * puts in the handler map, so the semantics live in one place (alu.ts, mov.ts, control.ts); the
 * loop only uses a kind when the row's registered handler is that very object.
 */
import { F_EG, F_EI, F_GE, OP_ADD, OP_AND, OP_CMP, OP_OR, OP_SUB, OP_XOR, makeAlu } from './alu.js';
import { movEG, movGE } from './mov.js';
import { jcc, jmpRel } from './control.js';
import type { Handler } from './cpu.js';

export const movGvEv = movGE(false);
export const movEvGv = movEG(false);
export const addEvGv = makeAlu(OP_ADD, F_EG, false);
export const addGvEv = makeAlu(OP_ADD, F_GE, false);
export const addEvIb = makeAlu(OP_ADD, F_EI, false);
export const subEvGv = makeAlu(OP_SUB, F_EG, false);
export const subEvIb = makeAlu(OP_SUB, F_EI, false);
export const cmpEvGv = makeAlu(OP_CMP, F_EG, false);
export const cmpGvEv = makeAlu(OP_CMP, F_GE, false);
export const cmpEvIb = makeAlu(OP_CMP, F_EI, false);
export const xorEvGv = makeAlu(OP_XOR, F_EG, false);
export const andEvIb = makeAlu(OP_AND, F_EI, false);
export const orEvGv = makeAlu(OP_OR, F_EG, false);

/** Kind k (1-based) is FAST[k - 1]; the run loop's switch lists the same order. */
export const FAST: [string, Handler][] = [
  ['movGvEv', movGvEv], ['movEvGv', movEvGv], ['addEvGv', addEvGv], ['addGvEv', addGvEv], ['addEvIb', addEvIb],
  ['subEvGv', subEvGv], ['subEvIb', subEvIb], ['cmpEvGv', cmpEvGv], ['cmpGvEv', cmpGvEv], ['cmpEvIb', cmpEvIb],
  ['xorEvGv', xorEvGv], ['andEvIb', andEvIb], ['orEvGv', orEvGv], ['jccJb', jcc], ['jccJz', jcc], ['jmpJb', jmpRel],
  ['jmpJz', jmpRel],
];

/** Sign-extended imm8 rows are named ...Ibs by the table (older tables said ...Ib): both map here. */
export function registerFast(h: Map<string, Handler>): void {
  for (const [name, f] of FAST) {
    h.set(name, f);
    if (name.endsWith('EvIb')) h.set(`${name}s`, f);
  }
}
