/**
 * The x86 decoder: bytes at a position, in 16-, 32- or 64-bit code, become one Decoded
 * (cpu/decoded.ts) filled in place. The order follows the SDM's instruction format (Vol. 2
 * ch. 2): legacy prefixes in any order, a REX only when directly before the opcode, the
 * escape bytes 0F / 0F 38 / 0F 3A, the opcode, ModRM, SIB, displacement, immediate. What the
 * opcode is comes from the table (cpu/table.ts): one array lookup keyed by map, opcode, mode,
 * mandatory prefix and ModRM. The verdicts the CPU gives before executing anything are decided
 * here: #UD for no row, a mode-invalid row, a LOCK the row does not allow, an absent control or
 * debug register, and VEX/EVEX/XOP encodings (decoded for their length only); #GP(0) when the
 * instruction would be longer than 15 bytes. No allocation, no exceptions.
 */
import {
  BASE_RIP, DEC_NEED_MORE, DEC_OK, MP_66, MP_F2, MP_F3, MP_NONE, PFX_ADSIZE, PFX_LOCK, PFX_OPSIZE,
  PFX_REP, PFX_REPNE, PFX_REX, PFX_SEG, type Decoded,
} from './decoded.js';
import { FAULT_GP0, FAULT_UD } from './fault.js';
import { SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS } from './state.js';
import {
  F_CR, F_DEF64, F_DR, F_F64, F_LOCK, F_MODREG, F_NOREXW, IMM_AP, IMM_IB, IMM_IBIB, IMM_IBS,
  IMM_IV, IMM_IW, IMM_IWIB, IMM_IZ, IMM_JB, IMM_JZ, IMM_NONE, IMM_O,
} from './table-defs.js';
import { LOOKUP, ROW_FLAGS, ROW_IMM, SLOT_MODRM, rowByName } from './table.js';
import { THREEDNOW_NAMES } from './table-sse.js';

const ROW_NOP = rowByName('nop');
const ROW_PAUSE = rowByName('pause');
const ROW_3DNOW = rowByName('3dnowPqQqIb');

/**
 * Sets status for running out of bytes, `needEnd` being the position just past the byte that was
 * needed: #GP(0) when that is beyond 15 bytes, else "need more".
 */
function outOfBytes(out: Decoded, needEnd: number, pos: number): void {
  const p = needEnd;
  if (p - pos > 15) {
    out.status = FAULT_GP0;
    out.length = 15;
  } else {
    out.status = DEC_NEED_MORE;
    out.length = p - pos;
  }
}

/**
 * Parses the memory form of ModRM (mod != 3) starting after the ModRM byte at p. Returns the
 * position after SIB and displacement, or -1 when it needs a byte at or beyond lim.
 */
function decodeMem(bytes: Uint8Array, p: number, lim: number, modrm: number, adSize: number,
  rex: number, ripRel: boolean, out: Decoded): number {
  const mod = modrm >> 6;
  const rm = modrm & 7;
  out.isMem = 1;
  out.index = -1;
  out.scale = 0;
  let ss = false;
  if (adSize === 2) {
    switch (rm) {
      case 0: out.base = 3; out.index = 6; break; // bx+si
      case 1: out.base = 3; out.index = 7; break; // bx+di
      case 2: out.base = 5; out.index = 6; ss = true; break; // bp+si
      case 3: out.base = 5; out.index = 7; ss = true; break; // bp+di
      case 4: out.base = 6; break;
      case 5: out.base = 7; break;
      case 6: out.base = 5; ss = true; break;
      default: out.base = 3; break;
    }
    if (mod === 0) {
      if (rm === 6) {
        if (p + 2 > lim) return -1;
        out.base = -1;
        ss = false;
        out.disp = (bytes[p] | (bytes[p + 1] << 8)) << 16 >> 16;
        p += 2;
      } else out.disp = 0;
    } else if (mod === 1) {
      if (p >= lim) return -1;
      out.disp = (bytes[p++] << 24) >> 24;
    } else {
      if (p + 2 > lim) return -1;
      out.disp = (bytes[p] | (bytes[p + 1] << 8)) << 16 >> 16;
      p += 2;
    }
    out.dispHi = out.disp >> 31;
    out.seg = ss ? SEG_SS : SEG_DS;
    return p;
  }
  let base: number;
  if (rm === 4) {
    if (p >= lim) return -1;
    const sib = bytes[p++];
    const idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
    if (idx !== 4) {
      out.index = idx;
      out.scale = sib >> 6;
    }
    base = sib & 7;
    if (base === 5 && mod === 0) base = -1;
    else base |= (rex & 1) << 3;
  } else if (rm === 5 && mod === 0) {
    base = ripRel ? BASE_RIP : -1;
  } else {
    base = rm | ((rex & 1) << 3);
  }
  out.base = base;
  out.seg = base === 4 || base === 5 ? SEG_SS : SEG_DS;
  if (mod === 1) {
    if (p >= lim) return -1;
    out.disp = (bytes[p++] << 24) >> 24;
  } else if (mod === 2 || base === -1 || base === BASE_RIP) {
    if (p + 4 > lim) return -1;
    out.disp = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
    p += 4;
  } else out.disp = 0;
  out.dispHi = out.disp >> 31;
  return p;
}

/** Length-only decoding of VEX (C4/C5), EVEX (62) and XOP (8F): status #UD, `vex` set. */
function decodeVex(bytes: Uint8Array, p: number, lim: number, pos: number, esc: number,
  adSize: number, is64: boolean, out: Decoded): void {
  out.vex = esc;
  let map: number;
  let hdr: number;
  if (esc === 0xc5) { map = 1; hdr = 2; }
  else if (esc === 0x62) { hdr = 4; map = p + 1 < lim ? bytes[p + 1] & 7 : 0; }
  else { hdr = 3; map = p + 1 < lim ? bytes[p + 1] & 0x1f : 0; }
  let q = p + hdr;
  if (q >= lim) { outOfBytes(out, q + 1, pos); return; }
  const op = bytes[q++];
  out.opcode = op;
  out.map = map;
  out.status = FAULT_UD;
  if (!(esc !== 0x62 && esc !== 0x8f && map === 1 && op === 0x77)) {
    if (q >= lim) { outOfBytes(out, q + 1, pos); return; }
    const modrm = bytes[q++];
    if (modrm < 0xc0) {
      q = decodeMem(bytes, q, lim, modrm, adSize, 0, is64, out);
      if (q < 0) { outOfBytes(out, lim + 1, pos); return; }
    }
  }
  let immLen = 0;
  if (esc === 0x8f) immLen = map === 8 ? 1 : map === 10 ? 4 : 0;
  else if (map === 3) immLen = 1;
  else if (map === 1 && ((op >= 0x70 && op <= 0x73) || op === 0xc2 || (op >= 0xc4 && op <= 0xc6))) {
    immLen = 1;
  }
  if (q + immLen > lim) { outOfBytes(out, q + immLen, pos); return; }
  q += immLen;
  out.status = FAULT_UD;
  out.length = q - pos;
}

export function decode(bytes: Uint8Array, pos: number, end: number, bitness: number,
  out: Decoded): void {
  const lim15 = pos + 15;
  const lim = end < lim15 ? end : lim15;
  const is64 = bitness === 64;
  let p = pos;
  let prefixes = 0;
  let rep = 0;
  let segOv = -1;
  let segEff = -1;
  let segLast = -1;
  let rex = 0;
  out.status = DEC_OK;
  out.row = -1;
  out.map = 0;
  out.vex = 0;
  out.hasModrm = 0;
  out.modrm = 0;
  out.mod = 0;
  out.reg = 0;
  out.rm = 0;
  out.isMem = 0;
  out.base = -1;
  out.index = -1;
  out.scale = 0;
  out.disp = 0;
  out.dispHi = 0;
  out.imm = 0;
  out.immHi = 0;
  out.imm2 = 0;
  let b = 0;
  prefixLoop: for (;;) {
    if (p >= lim) { outOfBytes(out, p + 1, pos); return; }
    b = bytes[p];
    switch (b) {
      case 0x26: case 0x2e: case 0x36: case 0x3e: {
        const s = b === 0x26 ? SEG_ES : b === 0x2e ? SEG_CS : b === 0x36 ? SEG_SS : SEG_DS;
        if (!is64) segOv = segEff = s;
        segLast = s;
        prefixes |= PFX_SEG;
        break;
      }
      case 0x64: segOv = segEff = segLast = SEG_FS; prefixes |= PFX_SEG; break;
      case 0x65: segOv = segEff = segLast = SEG_GS; prefixes |= PFX_SEG; break;
      case 0x66: prefixes |= PFX_OPSIZE; break;
      case 0x67: prefixes |= PFX_ADSIZE; break;
      case 0xf0: prefixes |= PFX_LOCK; break;
      case 0xf2: prefixes |= PFX_REPNE; rep = 2; break;
      case 0xf3: prefixes |= PFX_REP; rep = 1; break;
      default:
        if (is64 && (b & 0xf0) === 0x40) {
          rex = b;
          p++;
          continue prefixLoop;
        }
        break prefixLoop;
    }
    rex = 0; // a legacy prefix after a REX cancels it
    p++;
  }
  if (rex !== 0) prefixes |= PFX_REX;
  out.prefixes = prefixes;
  out.rep = rep;
  out.lock = prefixes & PFX_LOCK;
  out.rex = rex;
  out.segOverride = segOv;
  out.segLast = segLast;
  const pfx = rep === 1 ? MP_F3 : rep === 2 ? MP_F2 : (prefixes & PFX_OPSIZE) !== 0 ? MP_66 : MP_NONE;
  out.pfx = pfx;
  const adSize = is64 ? ((prefixes & PFX_ADSIZE) !== 0 ? 4 : 8)
    : ((bitness === 16) !== ((prefixes & PFX_ADSIZE) !== 0) ? 2 : 4);
  out.adSize = adSize;
  // opcode and escapes
  p++;
  let map = 0;
  if (b === 0x0f) {
    if (p >= lim) { outOfBytes(out, p + 1, pos); return; }
    b = bytes[p++];
    map = 1;
    if (b === 0x38 || b === 0x3a) {
      map = b === 0x38 ? 2 : 3;
      if (p >= lim) { outOfBytes(out, p + 1, pos); return; }
      b = bytes[p++];
    }
  } else if (b === 0xc4 || b === 0xc5 || b === 0x62 || b === 0x8f) {
    if (p >= lim) { outOfBytes(out, p + 1, pos); return; }
    const nb = bytes[p];
    if (b === 0x8f ? (nb & 0x1f) >= 8 : (is64 || nb >= 0xc0)) {
      // 66/F2/F3/F0/REX before a VEX/EVEX/XOP escape make it #UD outright
      if (rex !== 0 || (prefixes & (PFX_OPSIZE | PFX_LOCK | PFX_REP | PFX_REPNE)) !== 0) {
        out.status = FAULT_UD;
        out.length = p - pos;
        return;
      }
      decodeVex(bytes, p - 1, lim, pos, b, adSize, is64, out);
      return;
    }
  }
  out.map = map;
  out.opcode = b;
  out.cond = b & 15;
  const slot = (map << 8) | b;
  let modrm = 0;
  let key = (is64 ? 512 : 0) | (pfx << 7);
  const hasModrm = SLOT_MODRM[slot];
  if (hasModrm !== 0) {
    if (p >= lim) { outOfBytes(out, p + 1, pos); return; }
    modrm = bytes[p++];
    key |= (modrm >= 0xc0 ? 64 : 0) | (modrm & 0x3f);
  }
  let row = LOOKUP[(slot << 10) | key];
  if (row < 0) {
    out.status = FAULT_UD;
    out.length = p - pos;
    return;
  }
  if (slot === 0x90 && (rex & 9) === 0) {
    if (pfx === MP_F3) row = ROW_PAUSE;
    else if ((prefixes & PFX_OPSIZE) === 0) row = ROW_NOP;
  }
  out.row = row;
  const flags = ROW_FLAGS[row];
  let opSize: number;
  if (is64) {
    if ((flags & F_F64) !== 0) opSize = 8;
    else if ((rex & 8) !== 0 && (flags & F_NOREXW) === 0) opSize = 8;
    else if ((prefixes & PFX_OPSIZE) !== 0) opSize = 2;
    else opSize = (flags & F_DEF64) !== 0 ? 8 : 4;
  } else {
    opSize = (bitness === 16) !== ((prefixes & PFX_OPSIZE) !== 0) ? 2 : 4;
  }
  out.opSize = opSize;
  out.seg = segEff >= 0 ? segEff : SEG_DS;
  if (hasModrm !== 0) {
    out.hasModrm = 1;
    out.modrm = modrm;
    const mod = modrm >> 6;
    out.mod = mod;
    out.reg = ((modrm >> 3) & 7) | ((rex & 4) << 1);
    if (mod === 3 || (flags & F_MODREG) !== 0) {
      out.rm = (modrm & 7) | ((rex & 1) << 3);
    } else {
      p = decodeMem(bytes, p, lim, modrm, adSize, rex, is64, out);
      if (p < 0) { outOfBytes(out, lim + 1, pos); return; }
      if (segEff >= 0) out.seg = segEff;
    }
    if ((flags & (F_CR | F_DR)) !== 0) {
      const r = out.reg;
      if ((flags & F_DR) !== 0 ? r > 7 : !(r === 0 || r === 2 || r === 3 || r === 4 || r === 8)) {
        out.status = FAULT_UD;
      }
    }
  } else {
    out.rm = (b & 7) | ((rex & 1) << 3); // register in the opcode (+r rows)
  }
  const immKind = ROW_IMM[row];
  if (immKind !== IMM_NONE) {
    switch (immKind) {
      case IMM_IB: case IMM_IBS: case IMM_JB:
        if (p >= lim) { outOfBytes(out, p + 1, pos); return; }
        out.imm = immKind === IMM_IB ? bytes[p] : (bytes[p] << 24) >> 24;
        out.immHi = out.imm >> 31;
        p += 1;
        break;
      case IMM_IW:
        if (p + 2 > lim) { outOfBytes(out, p + 2, pos); return; }
        out.imm = bytes[p] | (bytes[p + 1] << 8);
        p += 2;
        break;
      case IMM_IWIB: case IMM_IBIB: {
        const n = immKind === IMM_IWIB ? 2 : 1;
        if (p + n + 1 > lim) { outOfBytes(out, p + n + 1, pos); return; }
        out.imm = n === 2 ? bytes[p] | (bytes[p + 1] << 8) : bytes[p];
        out.imm2 = bytes[p + n];
        p += n + 1;
        break;
      }
      case IMM_IZ: case IMM_JZ: case IMM_IV: case IMM_AP: {
        const n = opSize === 2 ? 2 : 4;
        if (p + n > lim) { outOfBytes(out, p + n, pos); return; }
        let v: number;
        if (n === 2) {
          v = bytes[p] | (bytes[p + 1] << 8);
          if (immKind === IMM_JZ) v = (v << 16) >> 16;
        } else v = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
        p += n;
        out.imm = v;
        out.immHi = immKind === IMM_JZ || (immKind === IMM_IZ && opSize === 8) ? v >> 31 : 0;
        if (immKind === IMM_IV && opSize === 8) {
          if (p + 4 > lim) { outOfBytes(out, p + 4, pos); return; }
          out.immHi = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
          p += 4;
        } else if (immKind === IMM_AP) {
          if (p + 2 > lim) { outOfBytes(out, p + 2, pos); return; }
          out.imm2 = bytes[p] | (bytes[p + 1] << 8);
          p += 2;
        }
        break;
      }
      case IMM_O: {
        if (p + adSize > lim) { outOfBytes(out, p + adSize, pos); return; }
        out.isMem = 1;
        out.base = -1;
        out.index = -1;
        if (adSize === 2) out.disp = bytes[p] | (bytes[p + 1] << 8);
        else out.disp = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
        out.dispHi = adSize === 8
          ? bytes[p + 4] | (bytes[p + 5] << 8) | (bytes[p + 6] << 16) | (bytes[p + 7] << 24) : 0;
        p += adSize;
        break;
      }
    }
  }
  out.length = p - pos;
  if (row === ROW_3DNOW && THREEDNOW_NAMES[out.imm] === '') out.status = FAULT_UD;
  if ((prefixes & PFX_LOCK) !== 0 && ((flags & F_LOCK) === 0 || out.isMem === 0)) {
    out.status = FAULT_UD;
  }
}

