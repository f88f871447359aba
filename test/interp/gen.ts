/**
 * Random user-mode instruction sequences for the host-CPU oracle, driven by the instruction table:
 * a row is picked among the general-purpose rows the interpreter implements, encoded from its spec
 * (prefixes, REX, opcode, ModRM/SIB/displacement pointing into the scratch page, immediates) and
 * kept only when the shared decoder reads the bytes back as that row. Registers start with a mix
 * of interesting and random values; rBX, rBP, rSI, rDI point into scratch and rSP at the stack.
 *
 * Undefined flags: each instruction's flag effects are modelled (`flagEffects`); flags an
 * instruction leaves undefined are "tainted" until an instruction defines them again, a flag
 * reader is preceded by a CMP that redefines all six, and the final comparison masks what is still
 * tainted. Instructions with undefined register results are left out (SHLD/SHRD on 16 bits).
 */
import { tableRows, type TableRow } from '../../src/cpu/table.js';
import {
  F_BRANCH, F_INV64, F_IOPL, F_ONLY64, F_PRIV, F_SSE, F_STRING, F_X87, IMM_IWIB, IMM_JB, IMM_JZ, IMM_O,
} from '../../src/cpu/table-defs.js';
import { DEC_OK, Decoded } from '../../src/cpu/decoded.js';
import { decode } from '../../src/cpu/decoder.js';
import { FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF, FLAGS_ARITH } from '../../src/cpu/state.js';
import { EXCLUDED_QEMU, exclusionReason } from './gen-exclusions.js';
import { GP_REGISTRARS, missingHandlers } from '../../src/interp/dispatch.js';
import { SYSTEM_REGISTRARS } from '../../src/interp/system-register.js';

export const SCRATCH_BASE = 0x10000000;
const CODE_BASE = 0x20000000;
export const STACK_TOP = SCRATCH_BASE + 0xf00;

/**
 * xoshiro128** seeded through splitmix32: reproducible from a seed, and with 128 bits of state
 * the streams of neighbouring seeds do not overlap (xorshift32's single 2^32 cycle made seeds
 * 1004, 1009 and 1037 replay the same case).
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    let x = seed | 0;
    const mix = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix() | 1; // never all zero
  }
  next(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9);
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r >>> 0;
  }
  int(n: number): number {
    return this.next() % n;
  }
  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/**
 * Branches with a displacement (Jcc, LOOP, JCXZ, CALL/JMP rel, XBEGIN) are generated with a zero
 * one, so they fall through either way.
 */
/**
 * Rows generated after an instruction that sets them up (gen.ts `template`): the return address
 * or jump target pushed or loaded first, always the next instruction; the value POPF pops.
 */
const TEMPLATE = new Set(['ret', 'retIw', 'jmpEv', 'callEv', 'popf', 'pushES', 'pushCS', 'pushSS', 'pushDS', 'pushFS', 'pushGS']);

interface Spec {
  pfx: number; // -1 none, 0x66, 0xf2, 0xf3 (mandatory)
  np: boolean;
  escape: number[];
  opcode: number;
  plus: number; // 0, 8 (+r), 16 (+cc)
  digit: number; // -1 or ModRM.reg
  mem: number; // -1 any, 1 memory only, 0 register only
  fullModrm: number; // -1 or the whole byte
}

function parseSpec(spec: string): Spec {
  const t = spec.split(/\s+/);
  const s: Spec = { pfx: -1, np: false, escape: [], opcode: 0, plus: 0, digit: -1, mem: -1, fullModrm: -1 };
  let i = 0;
  if (t[i] === 'NP') { s.np = true; i++; }
  else if (t[i] === '66' || t[i] === 'F2' || t[i] === 'F3') {
    // a prefix only when followed by more opcode bytes
    if (t.length > i + 1 && /^[0-9A-F]{2}/.test(t[i + 1]!)) { s.pfx = parseInt(t[i]!, 16); i++; }
  }
  if (t[i] === '0F') {
    s.escape.push(0x0f);
    i++;
    if (t[i] === '38' || t[i] === '3A') { s.escape.push(parseInt(t[i]!, 16)); i++; }
  }
  const op = t[i++]!;
  s.opcode = parseInt(op.slice(0, 2), 16);
  if (op.endsWith('+r')) s.plus = 8;
  else if (op.endsWith('+cc')) s.plus = 16;
  for (; i < t.length; i++) {
    const x = t[i]!;
    if (x.startsWith('/')) s.digit = parseInt(x.slice(1), 10);
    else if (x === 'mem') s.mem = 1;
    else if (x === 'reg') s.mem = 0;
    else if (/^[0-9A-F]{2}$/.test(x)) s.fullModrm = parseInt(x, 16);
  }
  return s;
}

export interface GenRow {
  row: TableRow;
  spec: Spec;
  /** Always faults at CPL 3 (privileged, IOPL, UD0-2, not implemented): drawn 5 times less often. */
  faults: boolean;
}

/**
 * The rows the generator draws from in 64-bit mode or (bits = 32) 32-bit protected mode: every
 * row valid in the mode that gen-exclusions.ts does not list. Privileged, IOPL-sensitive and
 * absent-feature rows are drawn too: at CPL 3 they must raise the same #GP/#UD as on the host.
 */
export function candidateRows(bits: 64 | 32 = 64, qemu = false): GenRow[] {
  const out: GenRow[] = [];
  const missing = new Set(missingHandlers([...GP_REGISTRARS, ...SYSTEM_REGISTRARS]));
  for (const row of tableRows) {
    if ((row.flags & (F_SSE | F_X87 | (bits === 64 ? F_INV64 : F_ONLY64))) !== 0) continue;
    if (exclusionReason(row.name, row.spec, bits) !== undefined) continue;
    if (qemu && (EXCLUDED_QEMU[row.name] ?? EXCLUDED_QEMU[`${row.name}@${row.spec}`]) !== undefined) continue;
    const faults = (row.flags & (F_PRIV | F_IOPL)) !== 0 || missing.has(row.name) || row.name.startsWith('ud');
    out.push({ row, spec: parseSpec(row.spec), faults });
  }
  return out;
}

/**
 * The rows that exist only outside 64-bit mode (BCD, PUSHA/POPA, INC/DEC 40-4F, PUSH ES/CS/SS/DS,
 * BOUND, ARPL, SALC ...) drawn three times as often as the others: the QEMU pass's focus.
 */
export function only32Focus(rows: GenRow[]): GenRow[] {
  const only = rows.filter((g) => (g.row.flags & F_INV64) !== 0);
  return [...only, ...only, ...rows];
}

const POINTER_REGS = [3, 5, 6, 7];

/** Encodes one instance of `g` into bytes, or null when the decoder does not agree. */
export function encodeRow(g: GenRow, rng: Rng, d: Decoded, bits: 64 | 32 = 64, addr16Chance = 0.15): Uint8Array | null {
  const s = g.spec;
  const b: number[] = [];
  // 16-bit addressing reaches scratch only through FS (based at SCRATCH_BASE in 32-bit cases)
  const addr16 = bits === 32 && rng.chance(addr16Chance);
  if (addr16) b.push(0x67, 0x64);
  // 66 on near branches: Intel ignores it in 64-bit mode (as ringvm does), AMD hosts honour it.
  const branch = (g.row.flags & F_BRANCH) !== 0 && bits === 64;
  if (rng.chance(0.2) && !s.np && s.pfx !== 0x66 && !branch) b.push(0x66);
  if ((g.row.flags & F_STRING) !== 0 && rng.chance(0.5)) b.push(rng.chance(0.5) ? 0xf3 : 0xf2);
  if ((g.row.flags & 1) !== 0 && rng.chance(0.1)) b.push(0xf0); // LOCK on lockable rows
  if (s.pfx >= 0) b.push(s.pfx);
  // ModRM
  let mod = rng.int(4);
  if (s.mem === 1 && mod === 3) mod = rng.int(3);
  if (s.mem === 0) mod = 3;
  const reg = s.digit >= 0 ? s.digit : rng.int(8);
  let rex = 0x40;
  if (rng.chance(0.5)) rex |= 8;
  if (s.digit < 0 && rng.chance(0.3)) rex |= 4;
  const modrmBytes: number[] = [];
  if (s.fullModrm >= 0) modrmBytes.push(s.fullModrm);
  else if (mod === 3) {
    const rm = rng.int(8);
    if (rng.chance(0.3)) rex |= 1;
    modrmBytes.push(0xc0 | (reg << 3) | rm);
  } else if (addr16) {
    // [si], [di], [bx] or [bp+disp]: the pointer registers' low 16 bits are scratch offsets
    const rm = [4, 5, 7, 6][rng.int(4)]!;
    if (rm === 6 && mod === 0) mod = 1;
    modrmBytes.push((mod << 6) | (reg << 3) | rm);
    if (mod === 1) modrmBytes.push(rng.int(0x80));
    else if (mod === 2) modrmBytes.push(rng.int(256), rng.int(8));
  } else {
    let base = POINTER_REGS[rng.int(4)]!;
    if (mod === 0 && base === 5) mod = 1;
    const useSib = rng.chance(0.3);
    if (useSib) {
      // index r8..r11 (small values) or none
      const noIndex = bits === 32 || rng.chance(0.3);
      const index = noIndex ? 4 : rng.int(4);
      if (!noIndex) rex |= 2;
      modrmBytes.push((mod << 6) | (reg << 3) | 4, (rng.int(4) << 6) | (index << 3) | base);
    } else modrmBytes.push((mod << 6) | (reg << 3) | base);
    if (mod === 1) modrmBytes.push(rng.int(256) & 0x7f);
    else if (mod === 2) modrmBytes.push(rng.int(0x800), 0, 0, 0);
    void base;
    base = 0;
  }
  const useRex = bits === 64 && rng.chance(0.7);
  if (useRex) b.push(rex);
  b.push(...s.escape);
  let op = s.opcode;
  if (s.plus === 8) {
    op += rng.int(8);
  } else if (s.plus === 16) op += rng.int(16);
  b.push(op);
  const hasModrm = g.row.hasModrm;
  if (hasModrm) b.push(...modrmBytes);
  const head = b.length;
  for (let i = 0; i < 10; i++) b.push(rng.chance(0.3) ? [0, 1, 0xff, 0x7f, 0x80][rng.int(5)]! : rng.int(256));
  const bytes = Uint8Array.from(b);
  decode(bytes, 0, bytes.length, bits, d);
  if (d.status !== DEC_OK || d.row !== g.row.index) return null;
  const out = bytes.slice(0, d.length);
  const immLen = d.length - head - (hasModrm ? 0 : 0);
  if (g.row.imm === IMM_JB || g.row.imm === IMM_JZ) out.fill(0, head);
  else if (g.row.imm === IMM_O) {
    const a = SCRATCH_BASE + rng.int(0xf00);
    const n = d.adSize;
    for (let i = 0; i < n; i++) out[out.length - n + i] = i < 4 ? (a >>> (8 * i)) & 0xff : 0;
  } else if (g.row.imm === IMM_IWIB) {
    out[out.length - 1] = rng.int(4);
    out[out.length - 2] = 0;
    out[out.length - 3] = rng.int(16); // AMD probes the final rSP of a big frame; Intel does not
  }
  void immLen;
  // SHLD/SHRD with 16-bit operands have undefined results for counts above 16.
  if ((g.row.name.startsWith('shld') || g.row.name.startsWith('shrd')) && d.opSize === 2) return null;
  // BSWAP of a 16-bit register is undefined.
  if (g.row.name === 'bswapZv' && d.opSize === 2) return null;
  return out;
}

const ALL = FLAGS_ARITH;

/**
 * Flag effects of one decoded instruction: [reads, defines, undefines]. Conservative where the
 * count is in CL (unknown at generation): the instruction may define nothing and undefine all.
 */
export function flagEffects(name: string, d: Decoded): [number, number, number] {
  const op = name.replace(/(rAX|[A-Z]).*$/, ''); // addrAXIz -> add
  const bits = (name.includes('Eb') && !name.startsWith('movzx') && !name.startsWith('movsx') ? 1 : d.opSize) * 8;
  switch (op) {
    case 'add': case 'sub': case 'cmp': case 'neg': case 'xadd': case 'cmpxchg': case 'cmps': case 'scas':
    case 'cmpsb': case 'cmpsv': case 'scasb': case 'scasv':
      return [0, ALL, 0];
    case 'adc': case 'sbb':
      return [FLAG_CF, ALL, 0];
    case 'and': case 'or': case 'xor': case 'test':
      return [0, ALL & ~FLAG_AF, FLAG_AF];
    case 'inc': case 'dec':
      return [0, ALL & ~FLAG_CF, 0];
    case 'mul': case 'imul':
      return [0, FLAG_CF | FLAG_OF, FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF];
    case 'div': case 'idiv':
      return [0, 0, ALL];
    case 'bt': case 'bts': case 'btr': case 'btc':
      return [0, FLAG_CF, FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF];
    case 'bsf': case 'bsr':
      return [0, FLAG_ZF, FLAG_CF | FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF];
    case 'lzcnt': case 'tzcnt':
      return [0, FLAG_CF | FLAG_ZF, FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF];
    case 'popcnt':
      return [0, ALL, 0];
    case 'daa': case 'das':
      return [FLAG_CF | FLAG_AF, ALL & ~FLAG_OF, FLAG_OF];
    case 'aaa': case 'aas':
      return [FLAG_AF, FLAG_CF | FLAG_AF, FLAG_OF | FLAG_SF | FLAG_ZF | FLAG_PF];
    case 'aam': case 'aad':
      return [0, FLAG_SF | FLAG_ZF | FLAG_PF, FLAG_OF | FLAG_AF | FLAG_CF];
    case 'salc':
      return [FLAG_CF, 0, 0];
    case 'cmpxchg8b':
      return [0, FLAG_ZF, 0];
    case 'adcx':
      return [FLAG_CF, FLAG_CF, 0];
    case 'adox':
      return [FLAG_OF, FLAG_OF, 0];
    case 'clc': case 'stc':
      return [0, FLAG_CF, 0];
    case 'cmc':
      return [FLAG_CF, FLAG_CF, 0];
    case 'sahf':
      return [0, ALL & ~FLAG_OF, 0];
    case 'lahf': case 'pushf': case 'setcc': case 'cmovcc': case 'jcc':
      return [ALL, 0, 0];
    case 'loope': case 'loopne':
      return [FLAG_ZF, 0, 0];
    case 'shl': case 'sal': case 'shr': case 'sar': case 'rol': case 'ror': case 'rcl': case 'rcr':
    case 'shld': case 'shrd': {
      const rd = op === 'rcl' || op === 'rcr' ? FLAG_CF : 0;
      if (name.endsWith('CL')) return [rd, 0, ALL];
      const c = name.endsWith('1') && !name.endsWith('Ib') ? 1 : d.imm & (d.opSize === 8 && bits === 64 ? 0x3f : 0x1f);
      if (c === 0) return [rd, 0, 0];
      const of1 = c === 1 ? FLAG_OF : 0;
      if (op === 'rol' || op === 'ror') return [0, 0, FLAG_CF | FLAG_OF];
      if (op === 'rcl' || op === 'rcr') return [rd, 0, FLAG_CF | FLAG_OF];
      const cfDef = c <= bits ? FLAG_CF : 0;
      return [rd, FLAG_SF | FLAG_ZF | FLAG_PF | cfDef | of1, FLAG_AF | (FLAG_CF & ~cfDef) | (FLAG_OF & ~of1)];
    }
    default:
      return [0, 0, 0];
  }
}

export interface GenCase {
  code: Uint8Array;
  regs: bigint[];
  rflags: number;
  mem: Uint8Array;
  /** Flags whose final value is undefined (masked in the comparison). */
  taint: number;
  /** Flags undefined at any point (masked when the case faults part-way). */
  anyTaint: number;
  names: string[];
  /** Table row index of each drawn instruction (set-up instructions and the inserted CMPs not included). */
  rows: number[];
}

const INTERESTING = [0n, 1n, 0xffffffffffffffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x8000000000000000n,
  0x7fffffffffffffffn, 0x100000000n, 0xffn, 0x80n, 0x7fn, 0xffffn, 0x8000n];

function randomReg(rng: Rng): bigint {
  const k = rng.int(4);
  if (k === 0) return INTERESTING[rng.int(INTERESTING.length)]!;
  if (k === 1) return BigInt(rng.int(64));
  return (BigInt(rng.next()) << 32n) | BigInt(rng.next());
}

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

/**
 * A TEMPLATE row and the instruction that sets it up, for code at offset `at`: RET/RET Iw after a
 * PUSH of the address after them; JMP/CALL Ev through a register loaded by MOV, or through [rSP]
 * after a PUSH, to the next instruction; POPF after a PUSH of random flags (TF and AC never set:
 * a trap or alignment checks would stop the host, not the case); PUSH Sreg into a slot zeroed by
 * PUSH 0 / LEA rSP,[rSP+n] (a 32/64-bit push of a selector writes 2 bytes on recent Intel and
 * ringvm, zero-extends on AMD: the SDM allows both, and a zero slot makes them agree).
 */
function template(name: string, rng: Rng, at: number, bits: 64 | 32): [Uint8Array, Uint8Array] {
  let insn: number[];
  if (name.startsWith('push')) {
    const op = { pushES: [0x06], pushCS: [0x0e], pushSS: [0x16], pushDS: [0x1e], pushFS: [0x0f, 0xa0], pushGS: [0x0f, 0xa8] }[name]!;
    const pfx = rng.chance(0.2) ? [0x66] : bits === 64 && rng.chance(0.3) ? [0x48] : [];
    const slot = bits === 64 ? 8 : 4;
    return [Uint8Array.of(0x6a, 0x00, ...(bits === 64 ? [0x48] : []), 0x8d, 0x64, 0x24, slot), Uint8Array.of(...pfx, ...op)];
  }
  if (name === 'popf') {
    const v = rng.next() & (0xcd5 | 0x200 | 0x3000);
    if (rng.chance(0.2)) return [Uint8Array.of(0x66, 0x68, v & 0xff, v >>> 8), Uint8Array.of(0x66, 0x9d)];
    return [Uint8Array.of(0x68, ...le32(v)), Uint8Array.of(0x9d)];
  }
  if (name === 'ret' || name === 'retIw') {
    insn = name === 'ret' ? [0xc3] : [0xc2, [0, 2, 4, 8, 16][rng.int(5)]!, 0];
    return [Uint8Array.of(0x68, ...le32(CODE_BASE + at + 5 + insn.length)), Uint8Array.from(insn)];
  }
  const digit = name === 'callEv' ? 2 : 4;
  if (rng.chance(0.3)) {
    insn = [0xff, (digit << 3) | 4, 0x24]; // [rSP]
    return [Uint8Array.of(0x68, ...le32(CODE_BASE + at + 5 + insn.length)), Uint8Array.from(insn)];
  }
  let r = rng.int(bits === 64 ? 16 : 8);
  if (r === 4) r = 0;
  const rex = r >= 8 ? [0x41] : [];
  insn = [...rex, 0xff, 0xc0 | (digit << 3) | (r & 7)];
  const setupLen = rex.length + 5;
  return [Uint8Array.of(...rex, 0xb8 + (r & 7), ...le32(CODE_BASE + at + setupLen + insn.length)), Uint8Array.from(insn)];
}

/** One random case of `n` instructions. */
export function genCase(rows: GenRow[], rng: Rng, n: number, bits: 64 | 32 = 64, addr16Chance = 0.15): GenCase {
  const d = new Decoded();
  const parts: Uint8Array[] = [];
  const names: string[] = [];
  const drawn: number[] = [];
  let taint = 0;
  let anyTaint = 0;
  const smallRegs: number[] = [];
  while (names.length < n) {
    const g = rows[rng.int(rows.length)]!;
    if (g.faults && rng.chance(0.8)) continue; // a fault ends the case: keep most cases running
    if (TEMPLATE.has(g.row.name)) {
      const at = parts.reduce((a, p) => a + p.length, 0);
      const [setup, insn] = template(g.row.name, rng, at, bits);
      decode(insn, 0, insn.length, bits, d);
      if (d.status !== DEC_OK || d.row !== g.row.index) throw new Error(`template for ${g.row.name} decodes otherwise`);
      parts.push(setup, insn);
      drawn.push(g.row.index);
      names.push(g.row.name.startsWith('push') ? 'push0;lea' : g.row.name === 'popf' || g.row.name.startsWith('ret') || (insn[insn.length - 1] === 0x24) ? 'pushIz' : 'movZvIv', g.row.name);
      if (g.row.name === 'popf') taint = 0; // POPF defines every flag
      continue;
    }
    const bytes = encodeRow(g, rng, d, bits, addr16Chance);
    if (bytes === null) continue;
    const [rd, def0, undef] = flagEffects(g.row.name, d);
    const def = d.rep !== 0 && (g.row.flags & F_STRING) !== 0 ? 0 : def0; // a zero count defines nothing
    if ((rd & taint) !== 0) {
      const modrm = 0xc0 | (rng.int(8) << 3) | rng.int(8);
      parts.push(bits === 64 ? Uint8Array.of(0x48, 0x39, modrm) : Uint8Array.of(0x39, modrm)); // cmp r, r
      names.push('cmpEvGv');
      taint = 0;
    }
    parts.push(bytes);
    names.push(g.row.name);
    drawn.push(g.row.index);
    // a register bit offset reaches far beyond the operand: keep it inside scratch
    if (/^bt[src]?EvGv$/.test(g.row.name) && d.mod !== 3) smallRegs.push(d.reg);
    taint = (taint & ~def) | undef;
    anyTaint |= taint;
  }
  const len = parts.reduce((a, p) => a + p.length, 0);
  const code = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    code.set(p, o);
    o += p.length;
  }
  const regs: bigint[] = [];
  for (let r = 0; r < 16; r++) regs.push(randomReg(rng));
  for (const r of POINTER_REGS) regs[r] = BigInt(SCRATCH_BASE + 0x100 + rng.int(0xd00));
  for (let r = 8; r < 12; r++) if (rng.chance(0.8)) regs[r] = BigInt(rng.int(32));
  regs[1] = rng.chance(0.5) ? BigInt(rng.int(20)) : regs[1]!; // short REP counts, mostly
  regs[4] = BigInt(STACK_TOP);
  for (const r of smallRegs) if (r !== 4) regs[r] = BigInt.asUintN(64, BigInt(rng.int(4096) - 2048));
  if (bits === 32) for (let r = 0; r < 16; r++) regs[r] = r < 8 ? regs[r]! & 0xffffffffn : 0n;
  const mem = new Uint8Array(4096);
  for (let i = 0; i < mem.length; i++) mem[i] = rng.chance(0.5) ? 0 : rng.int(256);
  return { code, regs, rflags: rng.next() & 0xcd5 & ~0x400 | (rng.chance(0.1) ? 0x400 : 0), mem, taint, anyTaint, names, rows: drawn };
}
