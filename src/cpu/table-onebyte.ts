/**
 * The one-byte opcode map (SDM Vol. 2 Table A-2) as table rows: general-purpose and system
 * instructions. x87 (D8..DF) lives in table-x87.ts. Prefix bytes (26 2E 36 3E 64 65 66 67 F0 F2
 * F3, REX 40..4F in 64-bit mode) and the VEX/EVEX/XOP escapes (C4 C5 62 8F in their forms) are
 * handled by the decoder, not by rows.
 */
import {
  F_BRANCH, F_DEF64, F_F64, F_INV64, F_IOPL, F_LOCK, F_NOREXW, F_ONLY64, F_PRIV, F_SENS,
  F_STRING, type Setter,
} from './table-defs.js';

const hex = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');

export const ALU_NAMES = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
// /6 (SAL) is an alias of /4; iced-x86 and objdump print it as shl.
export const SHIFT_NAMES = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'shl', 'sar'];

export function defineOneByte(set: Setter): void {
  // 00..3F: the eight ALU operations in their six forms.
  for (let op = 0; op < 8; op++) {
    const m = ALU_NAMES[op];
    const lk = op === 7 ? 0 : F_LOCK;
    const b = op * 8;
    set(hex(b), m, 'Eb,Gb', lk);
    set(hex(b + 1), m, 'Ev,Gv', lk);
    set(hex(b + 2), m, 'Gb,Eb');
    set(hex(b + 3), m, 'Gv,Ev');
    set(hex(b + 4), m, 'AL,Ib');
    set(hex(b + 5), m, 'rAX,Iz');
    // group 1
    set(`80 /${op}`, m, 'Eb,Ib', lk);
    set(`81 /${op}`, m, 'Ev,Iz', lk);
    set(`82 /${op}`, m, 'Eb,Ib', lk | F_INV64);
    set(`83 /${op}`, m, 'Ev,Ibs', lk);
    // group 2 shifts
    const s = SHIFT_NAMES[op];
    set(`C0 /${op}`, s, 'Eb,Ib');
    set(`C1 /${op}`, s, 'Ev,Ib');
    set(`D0 /${op}`, s, 'Eb,1');
    set(`D1 /${op}`, s, 'Ev,1');
    set(`D2 /${op}`, s, 'Eb,CL');
    set(`D3 /${op}`, s, 'Ev,CL');
  }
  set('06', 'push', 'ES', F_INV64);
  set('07', 'pop', 'ES', F_INV64);
  set('0E', 'push', 'CS', F_INV64);
  set('16', 'push', 'SS', F_INV64);
  set('17', 'pop', 'SS', F_INV64);
  set('1E', 'push', 'DS', F_INV64);
  set('1F', 'pop', 'DS', F_INV64);
  set('27', 'daa', '', F_INV64);
  set('2F', 'das', '', F_INV64);
  set('37', 'aaa', '', F_INV64);
  set('3F', 'aas', '', F_INV64);
  set('40+r', 'inc', 'Zv', F_INV64);
  set('48+r', 'dec', 'Zv', F_INV64);
  set('50+r', 'push', 'Zv', F_DEF64);
  set('58+r', 'pop', 'Zv', F_DEF64);
  set('60', 'pusha|pushad|pusha', '', F_INV64);
  set('61', 'popa|popad|popa', '', F_INV64);
  set('62', 'bound', 'Gv,Ma', F_INV64);
  set('63', 'arpl', 'Ew,Gw', F_INV64);
  set('63', 'movsxd', 'Gv,Ed', F_ONLY64);
  set('68', 'push', 'Iz', F_DEF64);
  set('69', 'imul', 'Gv,Ev,Iz');
  set('6A', 'push', 'Ibs', F_DEF64);
  set('6B', 'imul', 'Gv,Ev,Ibs');
  set('6C', 'insb', 'Yb,DX', F_IOPL | F_STRING);
  set('6D', 'insw|insd|insd', 'Yz,DX', F_IOPL | F_STRING, '', 'insz');
  set('6E', 'outsb', 'DX,Xb', F_IOPL | F_STRING);
  set('6F', 'outsw|outsd|outsd', 'DX,Xz', F_IOPL | F_STRING, '', 'outsz');
  set('70+cc', 'j*', 'Jb', F_BRANCH | F_F64, '', 'jccJb');
  set('84', 'test', 'Eb,Gb');
  set('85', 'test', 'Ev,Gv');
  set('86', 'xchg', 'Eb,Gb', F_LOCK);
  set('87', 'xchg', 'Ev,Gv', F_LOCK);
  set('88', 'mov', 'Eb,Gb');
  set('89', 'mov', 'Ev,Gv');
  set('8A', 'mov', 'Gb,Eb');
  set('8B', 'mov', 'Gv,Ev');
  for (let r = 0; r < 6; r++) {
    set(`8C /${r} mem`, 'mov', 'Mw,Sw', F_SENS);
    set(`8C /${r} reg`, 'mov', 'Rv,Sw', F_SENS);
    if (r !== 1) set(`8E /${r}`, 'mov', 'Sw,Ew', F_NOREXW);
  }
  set('8D', 'lea', 'Gv,M');
  set('8F /0', 'pop', 'Ev', F_DEF64);
  set('90+r', 'xchg', 'Zv,rAX');
  set('90 -', 'nop', '', 0, '', 'nop'); // chosen by the decoder when no REX.B (see decoder.ts)
  set('F3 90', 'pause', '');
  set('98', 'cbw|cwde|cdqe', '', 0, '', 'cbw');
  set('99', 'cwd|cdq|cqo', '', 0, '', 'cwd');
  set('9A', 'call far', 'Ap', F_INV64 | F_BRANCH, '', 'callfAp');
  set('9B', 'fwait', '');
  set('9C', 'pushf|pushfd|pushfq', '', F_DEF64 | F_SENS, '', 'pushf');
  set('9D', 'popf|popfd|popfq', '', F_DEF64 | F_SENS, '', 'popf');
  set('9E', 'sahf', '');
  set('9F', 'lahf', '');
  set('A0', 'mov', 'AL,Ob');
  set('A1', 'mov', 'rAX,Ov');
  set('A2', 'mov', 'Ob,AL');
  set('A3', 'mov', 'Ov,rAX');
  set('A4', 'movsb', 'Yb,Xb', F_STRING, '', 'movsb');
  set('A5', 'movsw|movsd|movsq', 'Yv,Xv', F_STRING, '', 'movsv');
  set('A6', 'cmpsb', 'Xb,Yb', F_STRING, '', 'cmpsb');
  set('A7', 'cmpsw|cmpsd|cmpsq', 'Xv,Yv', F_STRING, '', 'cmpsv');
  set('A8', 'test', 'AL,Ib');
  set('A9', 'test', 'rAX,Iz');
  set('AA', 'stosb', 'Yb,AL', F_STRING, '', 'stosb');
  set('AB', 'stosw|stosd|stosq', 'Yv,rAX', F_STRING, '', 'stosv');
  set('AC', 'lodsb', 'AL,Xb', F_STRING, '', 'lodsb');
  set('AD', 'lodsw|lodsd|lodsq', 'rAX,Xv', F_STRING, '', 'lodsv');
  set('AE', 'scasb', 'AL,Yb', F_STRING, '', 'scasb');
  set('AF', 'scasw|scasd|scasq', 'rAX,Yv', F_STRING, '', 'scasv');
  set('B0+r', 'mov', 'Zb,Ib');
  set('B8+r', 'mov', 'Zv,Iv');
  set('C2', 'ret', 'Iw', F_BRANCH | F_F64);
  set('C3', 'ret', '', F_BRANCH | F_F64);
  set('C4', 'les', 'Gz,Mp', F_INV64);
  set('C5', 'lds', 'Gz,Mp', F_INV64);
  set('C6 /0', 'mov', 'Eb,Ib');
  set('C6 F8', 'xabort', 'Ib', 0, 'rtm');
  set('C7 /0', 'mov', 'Ev,Iz');
  set('C7 F8', 'xbegin', 'Jz', F_BRANCH, 'rtm');
  set('C8', 'enter', 'Iw,Ib', F_DEF64);
  set('C9', 'leave', '', F_DEF64);
  set('CA', 'ret far', 'Iw', F_BRANCH, '', 'retfIw');
  set('CB', 'ret far', '', F_BRANCH, '', 'retf');
  set('CC', 'int3', '', F_BRANCH);
  set('CD', 'int', 'Ib', F_BRANCH);
  set('CE', 'into', '', F_BRANCH | F_INV64);
  set('CF', 'iret|iretd|iretq', '', F_BRANCH, '', 'iret');
  set('D4', 'aam', 'Ib', F_INV64);
  set('D5', 'aad', 'Ib', F_INV64);
  set('D6', 'salc', '', F_INV64);
  set('D7', 'xlat', '', 0, '', 'xlatb');
  set('E0', 'loopne', 'Jb', F_BRANCH | F_F64);
  set('E1', 'loope', 'Jb', F_BRANCH | F_F64);
  set('E2', 'loop', 'Jb', F_BRANCH | F_F64);
  set('E3', '@jcxz|jecxz|jrcxz', 'Jb', F_BRANCH | F_F64, '', 'jcxzJb');
  set('E4', 'in', 'AL,Ib', F_IOPL);
  set('E5', 'in', 'eAX,Ib', F_IOPL);
  set('E6', 'out', 'Ib,AL', F_IOPL);
  set('E7', 'out', 'Ib,eAX', F_IOPL);
  set('E8', 'call', 'Jz', F_BRANCH | F_F64);
  set('E9', 'jmp', 'Jz', F_BRANCH | F_F64);
  set('EA', 'jmp far', 'Ap', F_BRANCH | F_INV64, '', 'jmpfAp');
  set('EB', 'jmp', 'Jb', F_BRANCH | F_F64);
  set('EC', 'in', 'AL,DX', F_IOPL);
  set('ED', 'in', 'eAX,DX', F_IOPL);
  set('EE', 'out', 'DX,AL', F_IOPL);
  set('EF', 'out', 'DX,eAX', F_IOPL);
  set('F1', 'int1', '', F_BRANCH);
  set('F4', 'hlt', '', F_PRIV | F_BRANCH);
  set('F5', 'cmc', '');
  set('F6 /0', 'test', 'Eb,Ib');
  set('F6 /1', 'test', 'Eb,Ib');
  set('F6 /2', 'not', 'Eb', F_LOCK);
  set('F6 /3', 'neg', 'Eb', F_LOCK);
  set('F6 /4', 'mul', 'Eb');
  set('F6 /5', 'imul', 'Eb');
  set('F6 /6', 'div', 'Eb');
  set('F6 /7', 'idiv', 'Eb');
  set('F7 /0', 'test', 'Ev,Iz');
  set('F7 /1', 'test', 'Ev,Iz');
  set('F7 /2', 'not', 'Ev', F_LOCK);
  set('F7 /3', 'neg', 'Ev', F_LOCK);
  set('F7 /4', 'mul', 'Ev');
  set('F7 /5', 'imul', 'Ev');
  set('F7 /6', 'div', 'Ev');
  set('F7 /7', 'idiv', 'Ev');
  set('F8', 'clc', '');
  set('F9', 'stc', '');
  set('FA', 'cli', '', F_IOPL);
  set('FB', 'sti', '', F_IOPL);
  set('FC', 'cld', '');
  set('FD', 'std', '');
  set('FE /0', 'inc', 'Eb', F_LOCK);
  set('FE /1', 'dec', 'Eb', F_LOCK);
  set('FF /0', 'inc', 'Ev', F_LOCK);
  set('FF /1', 'dec', 'Ev', F_LOCK);
  set('FF /2', 'call', 'Ev', F_BRANCH | F_F64);
  set('FF /3 mem', 'call far', 'Mp', F_BRANCH, '', 'callfMp');
  set('FF /4', 'jmp', 'Ev', F_BRANCH | F_F64);
  set('FF /5 mem', 'jmp far', 'Mp', F_BRANCH, '', 'jmpfMp');
  set('FF /6', 'push', 'Ev', F_DEF64);
}
