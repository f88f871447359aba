/**
 * The instruction table: the single source of truth for what each opcode is (STYLE.md 2-4).
 * The map files (table-onebyte.ts, table-0f.ts, table-sse.ts, table-x87.ts) call `set()` once per
 * row; this module parses each row's opcode spec and operands once at load, gives it its handler
 * name (docs/naming.md), and builds the dense lookup the decoder indexes:
 *
 *   LOOKUP[slot << 10 | key]   slot = map << 8 | opcode
 *                              key  = is64 << 9 | pfx << 7 | (mod == 3) << 6 | reg << 3 | rm
 *
 * A row fills every key its spec matches; a more specific row (mandatory prefix, ModRM.reg,
 * mod, the whole ModRM byte) wins over a less specific one, and two rows of the same specificity
 * claiming one cell is a table bug that throws at load. The per-row arrays (ROW_FLAGS, ROW_IMM
 * ...) are what the decoder reads on its hot path; `tableRows` is what the interpreter, the
 * translator and the disassembler read.
 */
import {
  F_INV64, F_MODREG, F_ONLY64, IMM_AP, IMM_IB, IMM_IBIB, IMM_IBS, IMM_IV, IMM_IW, IMM_IWIB,
  IMM_IZ, IMM_JB, IMM_JZ, IMM_NONE, IMM_O, type RowSpec,
} from './table-defs.js';
import { defineOneByte } from './table-onebyte.js';
import { define0F } from './table-0f.js';
import { defineSse } from './table-sse.js';
import { defineX87 } from './table-x87.js';

export interface TableRow extends RowSpec {
  index: number;
  map: number;
  opcode: number; // first opcode of the row (+r/+cc rows cover 8/16)
  /** Mnemonic by operand size 2/4/8 (all three equal for most rows). */
  mnemonics: [string, string, string];
  /** Mnemonic variants select by address size instead of operand size (JCXZ/JECXZ/JRCXZ). */
  byAdSize: boolean;
  /** Mnemonic takes the condition code suffix (j*, set*, cmov*, fcmov*). */
  condSuffix: boolean;
  ops: string[];
  hasModrm: boolean;
  imm: number;
}

export const tableRows: TableRow[] = [];

export const LOOKUP = new Int16Array(1024 * 1024).fill(-1);
const LOOKUP_SCORE = new Int8Array(1024 * 1024).fill(-1);
/** Per slot (map << 8 | opcode): 1 when the opcode has a ModRM byte. */
export const SLOT_MODRM = new Uint8Array(1024);
const SLOT_SEEN = new Uint8Array(1024);

/** Operands that are not ModRM-encoded even though they start with a ModRM letter. */
const FIXED = new Set(['AL', 'CL', 'DX', 'AX', 'rAX', 'eAX', '1', 'ES', 'CS', 'SS', 'DS', 'FS', 'GS',
  'ST0', 'XMM0', 'Zb', 'Zv', 'Xb', 'Xv', 'Xz', 'Yb', 'Yv', 'Yz']);

const immOf = (op: string): number => {
  switch (op) {
    case 'Ib': return IMM_IB;
    case 'Ibs': return IMM_IBS;
    case 'Iw': return IMM_IW;
    case 'Iz': return IMM_IZ;
    case 'Iv': return IMM_IV;
    case 'Ap': return IMM_AP;
    case 'Ob': case 'Ov': return IMM_O;
    case 'Jb': return IMM_JB;
    case 'Jz': return IMM_JZ;
    default: return IMM_NONE;
  }
};

const usesModrm = (op: string): boolean =>
  !FIXED.has(op) && (op === 'STi' || /^[EGMRSCDPQNVWU]/.test(op));

function addRow(r: RowSpec): void {
  const toks = r.spec.trim().split(/\s+/);
  let pfx = -1; // -1 any, else MP_* (NP = 0)
  let t = 0;
  if (toks.length > 1 && ['NP', '66', 'F3', 'F2'].includes(toks[0])) {
    pfx = ['NP', '66', 'F3', 'F2'].indexOf(toks[0]);
    t = 1;
  }
  let map = 0;
  if (toks[t] === '0F' && t + 1 < toks.length) {
    map = 1;
    t++;
    if ((toks[t] === '38' || toks[t] === '3A') && t + 1 < toks.length) {
      map = toks[t] === '38' ? 2 : 3;
      t++;
    }
  }
  const opTok = toks[t++];
  let count = 1;
  let opHex = opTok;
  if (opTok.endsWith('+r')) { count = 8; opHex = opTok.slice(0, -2); }
  if (opTok.endsWith('+cc')) { count = 16; opHex = opTok.slice(0, -3); }
  const opcode = parseInt(opHex, 16);
  let reg = -1;
  let mod = -1; // -1 any, 0 memory, 1 register
  let rm = -1;
  let noLookup = false;
  for (; t < toks.length; t++) {
    const k = toks[t];
    if (k[0] === '/') reg = Number(k.slice(1));
    else if (k === 'mem') mod = 0;
    else if (k === 'reg') mod = 1;
    else if (k === '-') noLookup = true;
    else if (/^[0-9A-F]{2}$/.test(k)) {
      const m = parseInt(k, 16);
      if (m < 0xc0) throw new Error(`table: ${r.spec}: ModRM byte must have mod=3`);
      mod = 1; reg = (m >> 3) & 7; rm = m & 7;
    } else throw new Error(`table: bad spec token ${k} in ${r.spec}`);
  }
  const ops = r.operands === '' ? [] : r.operands.split(',');
  const hasModrm = reg >= 0 || ops.some(usesModrm);
  // Memory-only / register-only operands restrict mod unless the spec says otherwise.
  if (mod < 0 && !(r.flags & F_MODREG)) {
    if (ops.some((o) => o[0] === 'M' && !FIXED.has(o))) mod = 0;
    else if (ops.some((o) => (o[0] === 'R' || o[0] === 'N' || o[0] === 'U') && !FIXED.has(o))) mod = 1;
  }
  let imm = IMM_NONE;
  for (const o of ops) if (immOf(o) !== IMM_NONE) imm = imm === IMM_NONE ? immOf(o) : imm;
  if (r.operands === 'Iw,Ib') imm = IMM_IWIB;
  if (r.operands.endsWith('Ib,Ib')) imm = IMM_IBIB;
  let mnem = r.mnemonic;
  const byAdSize = mnem.startsWith('@');
  if (byAdSize) mnem = mnem.slice(1);
  const parts = mnem.split('|');
  const mnemonics: [string, string, string] = parts.length === 3
    ? [parts[0], parts[1], parts[2]] : [parts[0], parts[0], parts[0]];
  const condSuffix = mnemonics[0].endsWith('*');
  const name = r.name !== '' ? r.name
    : (condSuffix ? mnemonics[0].slice(0, -1) + 'cc' : mnemonics[0]) + ops.join('');
  const index = tableRows.length;
  if (index > 0x7fff) throw new Error('table: too many rows');
  tableRows.push({ ...r, name, index, map, opcode, mnemonics, byAdSize, condSuffix, ops, hasModrm,
    imm });
  if (noLookup) return;
  const score = (pfx >= 0 ? 1 : 0) + (reg >= 0 ? 2 : 0) + (mod >= 0 ? 2 : 0) + (rm >= 0 ? 4 : 0);
  for (let c = 0; c < count; c++) {
    const slot = (map << 8) | (opcode + c);
    const m = hasModrm ? 1 : 0;
    if (SLOT_SEEN[slot] && SLOT_MODRM[slot] !== m) throw new Error(`table: ${r.spec}: ModRM mismatch`);
    SLOT_SEEN[slot] = 1;
    SLOT_MODRM[slot] = m;
    for (let key = 0; key < 1024; key++) {
      const k64 = key >> 9;
      if ((r.flags & F_INV64) && k64) continue;
      if ((r.flags & F_ONLY64) && !k64) continue;
      const kp = (key >> 7) & 3;
      if (pfx >= 0 && kp !== pfx) continue;
      const kreg = (key >> 6) & 1;
      if (hasModrm) {
        if (mod >= 0 && kreg !== mod) continue;
        if (reg >= 0 && ((key >> 3) & 7) !== reg) continue;
        if (rm >= 0 && (key & 7) !== rm) continue;
      }
      const cell = (slot << 10) | key;
      const old = LOOKUP_SCORE[cell];
      if (old > score) continue;
      if (old === score) {
        throw new Error(`table: duplicate row ${r.spec} (${name}) vs ${tableRows[LOOKUP[cell]].spec}`);
      }
      LOOKUP[cell] = index;
      LOOKUP_SCORE[cell] = score;
    }
  }
}

function set(spec: string, mnemonic: string, operands: string, flags = 0, feature = '',
  name = ''): void {
  addRow({ spec, mnemonic, operands, flags, feature, name });
}

defineOneByte(set);
define0F(set);
defineSse(set);
defineX87(set);

export const ROW_COUNT = tableRows.length;
export const ROW_FLAGS = Int32Array.from(tableRows, (r) => r.flags);
export const ROW_IMM = Uint8Array.from(tableRows, (r) => r.imm);

export const rowByName = (name: string): number => {
  const i = tableRows.findIndex((r) => r.name === name);
  if (i < 0) throw new Error(`table: no row named ${name}`);
  return i;
};

