/**
 * Intel-syntax disassembly of a Decoded instruction, following iced-x86's Intel formatter with
 * its default options (the oracle the tests compare against): lower case, `,` between operands
 * without a space, hexadecimal numbers as `0FFh` (0..9 in decimal), memory sizes (`dword ptr`)
 * only where the other operands leave them ambiguous, branch and RIP-relative targets as absolute
 * addresses, and the prefixes iced shows (lock, rep/repe/repne, data16/addr32 where the size
 * change is otherwise invisible, hint-taken, notrack, bnd, xacquire/xrelease). Off the hot path:
 * it builds strings and may use BigInt for 64-bit arithmetic.
 */
import { BASE_RIP, PFX_ADSIZE, PFX_LOCK, PFX_OPSIZE, type Decoded } from './decoded.js';
import { SEG_CS, SEG_DS, SEG_ES, SEG_NAMES, SEG_SS } from './state.js';
import { F_SSE, F_STRING, F_X87 } from './table-defs.js';
import { tableRows, type TableRow } from './table.js';
import { THREEDNOW_NAMES } from './table-sse.js';

export const COND_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge',
  'le', 'g'];
const CMP_PSEUDO = ['eq', 'lt', 'le', 'unord', 'neq', 'nlt', 'nle', 'ord'];
const PCLMUL_PSEUDO = ['pclmullqlqdq', 'pclmulhqlqdq', 'pclmullqhqdq', 'pclmulhqhqdq'];

const R64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'];
const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const R8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil'];
const R8H = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];

/** Name of general-purpose register n (0..15) at size 1, 2, 4 or 8. */
export function gprName(n: number, size: number, rex: boolean): string {
  if (n >= 8) {
    const b = `r${n}`;
    return size === 8 ? b : size === 4 ? `${b}d` : size === 2 ? `${b}w` : `${b}b`;
  }
  return size === 8 ? R64[n] : size === 4 ? R32[n] : size === 2 ? R16[n] : rex ? R8[n] : R8H[n];
}

/** The mnemonic of a decoded instruction (operand-size and condition variants resolved). */
export function mnemonicOf(d: Decoded): string {
  const r = tableRows[d.row];
  const sz = r.byAdSize ? d.adSize : d.opSize;
  let m = r.mnemonics[sz === 2 ? 0 : sz === 4 ? 1 : 2];
  if (r.condSuffix) m = m.slice(0, -1) + COND_NAMES[d.cond];
  else if (d.map === 1 && d.opcode === 0xc2 && (d.imm & 0xff) < 8) {
    m = 'cmp' + CMP_PSEUDO[d.imm] + m.slice(3); // cmpps xmm,xmm,1 -> cmpltps
  } else if (d.map === 3 && d.opcode === 0x44 && (d.imm & 0xee) === 0) {
    m = PCLMUL_PSEUDO[(d.imm & 1) | ((d.imm >> 3) & 2)];
  } else if (d.map === 1 && d.opcode === 0x0f) m = THREEDNOW_NAMES[d.imm & 0xff];
  return m;
}

/** iced-x86 number style: 0..9 decimal, else upper-case hex with `h`, a leading 0 before A-F. */
export function hexNum(v: bigint): string {
  if (v < 10n) return v.toString();
  const s = v.toString(16).toUpperCase();
  return (s.charCodeAt(0) > 0x39 ? '0' : '') + s + 'h';
}

/** Branch targets: zero-padded to the code size (iced's default branch_leading_zeros). */
function branchNum(v: bigint, bitness: number): string {
  if (v < 10n) return v.toString();
  const s = v.toString(16).toUpperCase().padStart(bitness / 4, '0');
  return (s.charCodeAt(0) > 0x39 ? '0' : '') + s + 'h';
}

const u64 = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const mask = (v: bigint, bytes: number): bigint => BigInt.asUintN(bytes * 8, v);

/** Operand size in bytes from an operand token's size letters. */
function opBytes(tok: string, d: Decoded): number {
  const s = tok.slice(1);
  switch (s) {
    case 'b': return 1;
    case 'w': case 'wi': return 2;
    case 'd': case 'di': case 'ss': return 4;
    case 'q': case 'qi': case 'sd': return 8;
    case 'v': return d.opSize;
    case 'z': return d.opSize === 2 ? 2 : 4;
    case 'y': return d.opSize === 8 ? 8 : 4;
    case 'x': case 'dq': case 'ps': case 'pd': return 16;
    case 't': return 10;
    case 'p': return d.opSize + 2;
    case 'a': return d.opSize * 2;
    default: return 0;
  }
}

/** map << 8 | opcode of the rows where iced shows data16/data32 for a 66 prefix. */
const DATA_SIZE_OPS = new Set([0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x68, 0x6a, 0xc8, 0xc9, 0xc2,
  0xc3, 0xca, 0xcb, 0xe8, 0xe9, 0xeb, 0xe0, 0xe1, 0xe2, 0xe3, 0x9a, 0xea, 0x1a0, 0x1a1, 0x1a8, 0x1a9,
  ...Array.from({ length: 16 }, (_, i) => 0x70 + i), ...Array.from({ length: 16 }, (_, i) => 0x180 + i)]);

/** x87 register forms iced prints without operands when the other register is st(1). */
const X87_SHORT = new Set(['faddp', 'fmulp', 'fsubp', 'fsubrp', 'fdivp', 'fdivrp', 'fcom', 'fcomp',
  'fucom', 'fucomp', 'fxch']);

const SIZE_NAMES: Record<number, string> = { 1: 'byte', 2: 'word', 4: 'dword', 6: 'fword', 8: 'qword',
  10: 'tbyte', 16: 'xmmword' };

/** Rows whose memory operand size is never printed (it follows from the instruction). */
const NO_SIZE = new Set(['lea', 'les', 'lds', 'lss', 'lfs', 'lgs', 'sgdt', 'sidt', 'lgdt', 'lidt', 'sldt',
  'str', 'lldt', 'ltr', 'verr', 'verw', 'smsw', 'lmsw', 'invlpg', 'movsxd', 'cmpxchg8b',
  'cmpxchg16b', 'lar', 'lsl', 'movbe', 'arpl', 'ldmxcsr', 'stmxcsr', 'nop', 'clflush', 'clflushopt', 'clwb',
  'vmptrld', 'vmptrst', 'vmclear', 'vmxon', 'invept', 'invvpid', 'invpcid', 'movnti', 'cldemote']);

export class Disassembler {
  /** Address of the instruction (for branch and RIP-relative targets); a 64-bit value. */
  ip = 0n;
  private d!: Decoded;
  private r!: TableRow;
  private bitness = 64;

  format(d: Decoded, bitness: number, ip: bigint): string {
    this.d = d;
    this.ip = ip;
    this.bitness = bitness;
    if (d.row < 0) return '(bad)';
    const r = tableRows[d.row];
    this.r = r;
    const mn = mnemonicOf(d);
    const ops = this.operands(mn);
    return this.prefixText(mn) + mn + (ops === '' ? '' : ' ' + ops);
  }

  private prefixText(mn: string): string {
    const d = this.d;
    const r = this.r;
    const f = r.flags;
    let s = '';
    const op = d.map === 0 ? d.opcode : -1;
    const isJcc = (d.map === 0 && (d.opcode & 0xf0) === 0x70) || (d.map === 1 && (d.opcode & 0xf0) === 0x80);
    const nearBranch = isJcc || op === 0xe8 || op === 0xe9 || op === 0xeb || op === 0xc2 ||
      op === 0xc3 || (op === 0xff && (d.reg & 7) >= 2 && (d.reg & 7) <= 5 && (d.reg & 1) === 0);
    // HLE hints: F2/F3 with LOCK (or the implicitly locked XCHG, or F3 on a MOV store)
    const implicitLock = (op === 0x86 || op === 0x87) && d.isMem !== 0;
    const movStore = (op === 0x88 || op === 0x89 || op === 0xc6 || op === 0xc7) && d.isMem !== 0;
    if (((d.prefixes & PFX_LOCK) !== 0 || implicitLock) && d.rep !== 0 && mn !== 'cmpxchg16b') s += d.rep === 2 ? 'xacquire ' : 'xrelease ';
    else if (movStore && d.rep === 1) s += 'xrelease ';
    // an operand-size change the operands do not show
    if (DATA_SIZE_OPS.has((d.map << 8) | d.opcode) && (d.prefixes & PFX_OPSIZE) !== 0) {
      const def = this.bitness === 16 ? 2 : 4;
      if (d.opSize !== def && !(this.bitness === 64 && d.opSize === 8)) s += d.opSize === 2 ? 'data16 ' : 'data32 ';
    }
    if ((d.rex & 8) !== 0 && (op === 0xca || op === 0xcb)) s += 'data64 ';
    if ((d.prefixes & PFX_ADSIZE) !== 0 && ((op >= 0xe0 && op <= 0xe2) || (op >= 0xa0 && op <= 0xa3))) {
      s += this.bitness === 32 ? 'addr16 ' : 'addr32 ';
    }
    if ((d.prefixes & PFX_LOCK) !== 0) s += 'lock ';
    if ((f & F_STRING) !== 0) {
      if (d.rep === 1) s += /^(cmps|scas)/.test(mn) ? 'repe ' : 'rep ';
      else if (d.rep === 2) s += 'repne ';
    }
    if (op === 0xc3 && d.rep === 1) s += 'rep ';
    if (mn === 'maskmovq' || mn === 'maskmovdqu') { // implicit [rDI]
      if ((d.prefixes & PFX_ADSIZE) !== 0) s += this.bitness === 32 ? 'addr16 ' : 'addr32 ';
    }
    if (mn === 'monitor' || mn === 'monitorx') { // implicit [rAX]: iced names its prefixes
      if ((d.prefixes & PFX_ADSIZE) !== 0) s += this.bitness === 32 ? 'addr16 ' : 'addr32 ';
      if (d.segOverride >= 0 && d.segOverride !== SEG_DS) s += `${SEG_NAMES[d.segOverride]} `;
    }
    const hintSeg = d.segOverride < 0 || d.segOverride === d.segLast ? d.segLast : -1;
    if (isJcc && (hintSeg === SEG_CS || hintSeg === SEG_DS)) {
      s += hintSeg === SEG_CS ? 'hint-not-taken ' : 'hint-taken ';
    }
    if (op === 0xff && hintSeg === SEG_DS && ((d.reg & 7) === 2 || (d.reg & 7) === 4)) s += 'notrack ';
    if (nearBranch && op !== 0xeb && d.rep === 2) s += 'bnd ';
    return s;
  }

  private operands(mn: string): string {
    const r = this.r;
    const d = this.d;
    const out: string[] = [];
    let ops = r.ops;
    if ((r.flags & F_STRING) !== 0 && d.map === 0 && d.opcode >= 0xa4) ops = ops.filter((o) => o[0] === 'X' || o[0] === 'Y');
    if (mn === 'xlat') return `${d.segOverride >= 0 && d.segOverride !== SEG_DS ? SEG_NAMES[d.segOverride] + ':' : ''}[${gprName(3, d.adSize, true)}]`;
    // iced prints IMUL r, r/m, imm with r == r/m register as the two-operand form.
    if (mn === 'imul' && ops.length === 3 && d.isMem === 0 && d.reg === d.rm) ops = [ops[0], ops[2]];
    if ((r.flags & F_X87) !== 0 && ops.length === 2 && ops[0] === 'ST0' && ops[1] === 'STi' &&
      d.map === 0 && (d.opcode === 0xd8 || d.opcode === 0xdc) && false) ops = ops.slice(1);
    ops = ops.filter((o) => o !== 'XMM0'); // iced leaves the implicit xmm0 out
    const pseudo = (d.map === 1 && d.opcode === 0xc2 && (d.imm & 0xff) < 8) ||
      (d.map === 3 && d.opcode === 0x44 && (d.imm & 0xee) === 0) || (d.map === 1 && d.opcode === 0x0f);
    if (pseudo && ops[ops.length - 1] === 'Ib') {
      ops = ops.slice(0, -1); // cmpltps, pclmulhqlqdq, 3DNow!: the imm8 is in the mnemonic
    }
    if ((r.flags & F_X87) !== 0 && d.isMem === 0 && (d.rm & 7) === 1 && X87_SHORT.has(mn)) ops = [];
    let immSeen = false;
    for (let i = 0; i < ops.length; i++) {
      const t = ops[i];
      if (t === 'Ib' && immSeen) out.push(hexNum(BigInt(d.imm2 & 0xff))); // ENTER, EXTRQ
      else out.push(this.operand(t, ops, mn));
      if (t[0] === 'I') immSeen = true;
    }
    if ((mn === 'maskmovq' || mn === 'maskmovdqu') && d.segOverride >= 0 && d.segOverride !== SEG_DS) {
      out.push(SEG_NAMES[d.segOverride]);
    }
    return out.join(',');
  }

  private memSizeShown(tok: string, ops: string[], mn: string): boolean {
    const r = this.r;
    if (tok === 'M' || tok === 'Me' || tok === 'Ms108' || tok === 'Ms') return false;
    if ((r.flags & F_X87) !== 0) return tok !== 'Mw' || !(mn === 'fldcw' || mn === 'fnstcw' || mn === 'fnstsw');
    if ((r.flags & F_SSE) !== 0) {
      return mn.startsWith('cvtsi2') && tok[0] === 'E';
    }
    if (NO_SIZE.has(mn) || mn.startsWith('set') || mn.startsWith('prefetch')) return false;
    if (mn === 'movzx' || mn === 'movsx' || mn === 'crc32') return true;
    // A register operand of the same size makes the memory size implicit.
    const sz = opBytes(tok, this.d);
    for (const o of ops) {
      if (o === tok) continue;
      if (o[0] === 'G' || o[0] === 'Z' || o === 'rAX' || o === 'AL' || o === 'eAX') {
        if (this.regBytes(o) === sz) return false;
      }
      if (o[0] === 'S' && o !== 'SS') return false;
    }
    return true;
  }

  private regBytes(o: string): number {
    if (o === 'AL') return 1;
    if (o === 'rAX') return this.d.opSize;
    if (o === 'eAX') return this.d.opSize === 2 ? 2 : 4;
    return opBytes(o, this.d);
  }

  /** The segment override as iced shows it: only when it differs from the default segment. */
  private segPrefix(): string {
    const d = this.d;
    const ov = d.segOverride;
    const def = d.base === 4 || d.base === 5 ? SEG_SS : SEG_DS;
    return ov < 0 || ov === def ? '' : `${SEG_NAMES[ov]}:`;
  }

  private mem(tok: string, ops: string[], mn: string): string {
    const d = this.d;
    const size = opBytes(tok, d);
    let s = '';
    // the 14/94-byte (16-bit) or 28/108-byte forms are named only when not the mode's default
    const small = d.opSize === 2;
    const fpuNamed = this.bitness === 16 ? !small : small;
    if ((tok === 'Me' || tok === 'Ms108') && fpuNamed) {
      s = tok === 'Me' ? (small ? 'fpuenv14 ptr ' : 'fpuenv28 ptr ') : (small ? 'fpustate94 ptr ' : 'fpustate108 ptr ');
    }
    if (s === '' && this.memSizeShown(tok, ops, mn) && size > 0) s = `${SIZE_NAMES[size] ?? 'byte'} ptr `;
    s += this.segPrefix() + '[';
    const adBytes = d.adSize;
    if (d.base === BASE_RIP) {
      const t = this.ip + BigInt(d.length) + BigInt(d.disp);
      return s + hexNum(mask(t, adBytes === 8 ? 8 : 4)) + ']';
    }
    let inner = '';
    if (d.base >= 0) inner = gprName(d.base, adBytes, true);
    if (d.index >= 0) {
      inner += (inner === '' ? '' : '+') + gprName(d.index, adBytes, true);
      if (d.scale !== 0) inner += `*${1 << d.scale}`;
    }
    if (d.base < 0 && d.index >= 0 && d.scale === 0) inner += '*1'; // iced marks SIB index-only
    if (inner === '') {
      let v: bigint;
      if (tok[0] === 'O') v = adBytes === 8 ? u64(d.disp, d.dispHi) : BigInt(d.disp >>> 0);
      else v = mask(BigInt(d.disp), adBytes);
      return s + hexNum(v) + ']';
    }
    if (d.disp !== 0) {
      const v = d.disp;
      inner += (v < 0 ? '-' : '+') + hexNum(BigInt(Math.abs(v)));
    }
    return s + inner + ']';
  }

  private operand(tok: string, ops: string[], mn: string): string {
    const d = this.d;
    const rex = d.rex !== 0;
    switch (tok) {
      case 'AL': return 'al';
      case 'CL': return 'cl';
      case 'DX': return 'dx';
      case 'AX': return 'ax';
      case 'rAX': return gprName(0, d.opSize, rex);
      case 'eAX': return gprName(0, d.opSize === 2 ? 2 : 4, rex);
      case '1': return '1';
      case 'ES': case 'CS': case 'SS': case 'DS': case 'FS': case 'GS': return tok.toLowerCase();
      case 'ST0': return 'st';
      case 'STi': return `st(${d.rm & 7})`;
      case 'XMM0': return 'xmm0';
      case 'Zb': return gprName(d.rm, 1, rex);
      case 'Zv': return gprName(d.rm, d.opSize, rex);
      case 'Xb': case 'Xv': case 'Xz': return this.strMem(6, true);
      case 'Yb': case 'Yv': case 'Yz': return this.strMem(7, false);
    }
    const k = tok[0];
    switch (k) {
      case 'I': return this.imm(tok);
      case 'J': {
        const sz = d.opSize === 2 && mn !== 'xbegin' ? 2 : this.bitness === 64 ? 8 : 4;
        const t = mask(this.ip + BigInt(d.length) + BigInt(d.imm), sz);
        const short = tok === 'Jb' && (d.opcode === 0xeb || (d.opcode & 0xf0) === 0x70) && d.map === 0;
        return (short ? 'short ' : '') + branchNum(t, sz * 8);
      }
      case 'A': return `${branchNum(mask(BigInt(d.imm), d.opSize), d.opSize * 8)},${branchNum(BigInt(d.imm2), 16)}`;
      case 'O': return this.mem(tok, ops, mn);
      case 'G': return gprName(d.reg, opBytes(tok, d), rex);
      case 'S': return SEG_NAMES[d.reg & 7];
      case 'C': return `cr${d.reg}`;
      case 'D': return `dr${d.reg}`;
      case 'P': return `mm${d.reg & 7}`;
      case 'V': return `xmm${d.reg}`;
    }
    if (d.isMem !== 0) {
      if (mn === 'lea') return gprName(0, 0, true) === '' ? '' : this.memNoSeg(tok, ops, mn);
      return this.mem(tok, ops, mn);
    }
    switch (k) {
      case 'E': case 'R': case 'M':
        if (mn === 'lar' || mn === 'lsl') return gprName(d.rm, d.opSize, rex);
        if (mn === 'movsxd') return gprName(d.rm, d.opSize === 8 ? 4 : d.opSize, rex);
        if ((this.r.flags & F_SSE) !== 0 && opBytes(tok, d) < 4) return gprName(d.rm, 4, rex);
        return gprName(d.rm, opBytes(tok, d) || d.opSize, rex);
      case 'Q': case 'N': return `mm${d.rm & 7}`;
      case 'W': case 'U': return `xmm${d.rm}`;
    }
    return tok;
  }

  private memNoSeg(tok: string, ops: string[], mn: string): string {
    const d = this.d;
    const save = d.segOverride;
    d.segOverride = -1;
    const s = this.mem(tok, ops, mn);
    d.segOverride = save;
    return s;
  }

  private strMem(reg: number, src: boolean): string {
    const d = this.d;
    let seg = '';
    if (d.segOverride >= 0 && d.segOverride !== SEG_DS) seg = `${SEG_NAMES[src ? d.segOverride : SEG_ES]}:`;
    return `${seg}[${gprName(reg, d.adSize, true)}]`;
  }

  private imm(tok: string): string {
    const d = this.d;
    switch (tok) {
      case 'Ib': return hexNum(BigInt(d.imm & 0xff));
      case 'Ibs': return hexNum(mask(BigInt(d.imm), d.opSize));
      case 'Iw': return hexNum(BigInt(d.imm & 0xffff));
      case 'Iz': return hexNum(d.opSize === 8 ? mask(BigInt(d.imm), 8) : mask(BigInt(d.imm), d.opSize));
      case 'Iv': return hexNum(d.opSize === 8 ? u64(d.imm, d.immHi) : mask(BigInt(d.imm), d.opSize));
    }
    return tok;
  }
}


const shared = new Disassembler();
/** Formats one decoded instruction at address ip (bigint) in Intel syntax. */
export const disassemble = (d: Decoded, bitness: number, ip: bigint): string =>
  shared.format(d, bitness, ip);
