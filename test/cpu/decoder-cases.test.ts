/**
 * Unit family: hand-checked decodings of the tricky encodings (expected values worked out from
 * the SDM, not from iced-x86): REX placement, operand/address-size prefixes, moffs64, imm64,
 * RIP-relative and 16-bit addressing, the 15-byte limit, running out of bytes, LOCK validity,
 * mode-invalid opcodes, VEX/EVEX lengths, and the table's naming rule.
 */
import { describe, expect, it } from 'vitest';
import { BASE_RIP, DEC_NEED_MORE, DEC_OK, Decoded, MP_F3, byteRegIsHigh } from '../../src/cpu/decoded.js';
import { decode } from '../../src/cpu/decoder.js';
import { disassemble, mnemonicOf } from '../../src/cpu/disasm.js';
import { FAULT_GP0, FAULT_UD } from '../../src/cpu/fault.js';
import { SEG_DS, SEG_FS, SEG_SS } from '../../src/cpu/state.js';
import { F_BRANCH, F_DEF64, F_F64, F_INV64, F_LOCK, F_PRIV, F_SENS } from '../../src/cpu/table-defs.js';
import { tableRows } from '../../src/cpu/table.js';

const bytes = (h: string): Uint8Array => Uint8Array.from(h.replace(/\s/g, '').match(/../g)!, (x) => parseInt(x, 16));
function dec(h: string, bitness = 64, end?: number): Decoded {
  const b = bytes(h);
  const d = new Decoded();
  decode(b, 0, end ?? b.length, bitness, d);
  return d;
}

describe('prefixes', () => {
  it('a REX directly before the opcode extends registers and operand size', () => {
    const d = dec('4c 89 c0'); // mov rax, r8
    expect(d.status).toBe(DEC_OK);
    expect([d.opSize, d.reg, d.rm, d.rex]).toEqual([8, 8, 0, 0x4c]);
  });
  it('a REX followed by a legacy prefix is ignored', () => {
    const d = dec('48 66 89 c0'); // REX.W dropped: mov ax, ax
    expect([d.status, d.rex, d.opSize, d.length]).toEqual([DEC_OK, 0, 2, 4]);
  });
  it('REX.W wins over 66', () => {
    expect(dec('66 48 89 c0').opSize).toBe(8);
  });
  it('67 selects 32-bit addressing in 64-bit mode', () => {
    const d = dec('67 8b 00');
    expect([d.adSize, d.base, d.isMem]).toEqual([4, 0, 1]);
  });
  it('the last of F2/F3 is the mandatory prefix; 66 is kept as operand size', () => {
    const d = dec('66 f2 f3 0f b8 c0'); // popcnt ax, ax
    expect([d.pfx, d.rep, d.opSize, mnemonicOf(d)]).toEqual([MP_F3, 1, 2, 'popcnt']);
  });
  it('in 64-bit mode only FS/GS overrides count', () => {
    expect(dec('64 26 8b 00').seg).toBe(SEG_FS);
    expect(dec('26 8b 00').segOverride).toBe(-1);
    expect(dec('26 8b 00', 32).segOverride).toBe(0);
  });
  it('default-64 and forced-64 operand sizes in long mode', () => {
    expect([dec('50').opSize, dec('66 50').opSize]).toEqual([8, 2]);
    const j = dec('66 e8 00 00 00 00'); // Intel ignores 66 on a near call in 64-bit mode
    expect([j.opSize, j.length]).toEqual([8, 6]);
    expect(dec('66 e8 00 00', 32).length).toBe(4); // rel16 in 32-bit mode
  });
});

describe('operands', () => {
  it('moffs64: an 8-byte address', () => {
    const d = dec('48 a1 11 22 33 44 55 66 77 88');
    expect([d.length, d.isMem, d.base, d.disp >>> 0, d.dispHi >>> 0]).toEqual([10, 1, -1, 0x44332211, 0x88776655]);
  });
  it('imm64 for MOV r64, imm', () => {
    const d = dec('49 bf 01 00 00 00 ff ff ff ff');
    expect([d.length, d.rm, d.imm, d.immHi]).toEqual([10, 15, 1, -1]);
    expect(disassemble(d, 64, 0n)).toBe('mov r15,0FFFFFFFF00000001h');
  });
  it('RIP-relative addressing, and [disp32] via SIB', () => {
    const d = dec('8b 05 f0 ff ff ff');
    expect([d.base, d.index, d.disp]).toEqual([BASE_RIP, -1, -16]);
    expect(disassemble(d, 64, 0x1000n)).toBe('mov eax,[0FF6h]');
    const s = dec('8b 04 25 78 56 34 12');
    expect([s.base, s.index, s.disp]).toEqual([-1, -1, 0x12345678]);
  });
  it('16-bit addressing forms and their default segments', () => {
    const a = dec('8b 42 fe', 16); // mov ax,[bp+si-2]
    expect([a.base, a.index, a.disp, a.seg]).toEqual([5, 6, -2, SEG_SS]);
    const b = dec('8b 06 34 12', 16); // mov ax,[1234h]
    expect([b.base, b.index, b.disp, b.seg, b.length]).toEqual([-1, -1, 0x1234, SEG_DS, 4]);
    expect(disassemble(a, 16, 0n)).toBe('mov ax,[bp+si-2]');
  });
  it('sign-extended Ib (83 /0) and zero-extended Ib (C1 shift count)', () => {
    expect(dec('83 c0 ff').imm).toBe(-1);
    expect(dec('c1 e0 ff').imm).toBe(255);
    expect(disassemble(dec('83 c0 ff', 32), 32, 0n)).toBe('add eax,0FFFFFFFFh');
  });
  it('ENTER and far pointers carry a second immediate', () => {
    const e = dec('c8 10 00 02');
    expect([e.imm, e.imm2]).toEqual([16, 2]);
    const f = dec('ea 78 56 34 12 08 00', 32);
    expect([f.imm, f.imm2, f.length]).toEqual([0x12345678, 8, 7]);
  });
  it('byte registers: AH..BH without REX, SPL..DIL with one', () => {
    const a = dec('88 e0'); // mov al, ah
    expect(byteRegIsHigh(a, a.reg)).toBe(true);
    const b = dec('40 88 e0'); // mov al, spl
    expect(byteRegIsHigh(b, b.reg)).toBe(false);
    expect(disassemble(b, 64, 0n)).toBe('mov al,spl');
  });
});

describe('verdicts', () => {
  it('#GP(0) beyond 15 bytes', () => {
    const d = dec('66'.repeat(14) + '05 00 00 00 00');
    expect(d.status).toBe(FAULT_GP0);
  });
  it('exactly 15 bytes is fine', () => {
    const d = dec('66'.repeat(11) + '05 00 00', 32);
    expect([d.status, d.length]).toEqual([DEC_OK, 14]);
    expect(dec('2e'.repeat(4) + '48 c7 84 88 00 00 00 00 00 00 00 00').length).toBe(15);
  });
  it('asks for more bytes when the instruction runs past `end`', () => {
    expect(dec('48 8b', 64).status).toBe(DEC_NEED_MORE);
    expect(dec('e8 00 00', 32).status).toBe(DEC_NEED_MORE);
  });
  it('LOCK only on lockable rows with a memory destination', () => {
    expect(dec('f0 01 00').status).toBe(DEC_OK);
    expect(dec('f0 01 c0').status).toBe(FAULT_UD);
    expect(dec('f0 8b 00').status).toBe(FAULT_UD);
  });
  it('mode-invalid and mode-dependent opcodes', () => {
    expect(dec('27').status).toBe(FAULT_UD); // DAA in 64-bit mode
    expect(dec('27', 32).status).toBe(DEC_OK);
    expect(mnemonicOf(dec('63 c0', 32))).toBe('arpl');
    expect(mnemonicOf(dec('63 c0', 64))).toBe('movsxd');
    expect(dec('0f 20 c8').status).toBe(FAULT_UD); // CR1 does not exist
    expect(dec('44 0f 20 c0').status).toBe(DEC_OK); // CR8
  });
  it('VEX/EVEX: unsupported, with their length', () => {
    const v = dec('c5 f8 77'); // vzeroupper
    expect([v.status, v.vex, v.length]).toEqual([FAULT_UD, 0xc5, 3]);
    const w = dec('c4 e3 79 04 44 24 08 01'); // vpermilps xmm0,[rsp+8],1
    expect([w.status, w.length]).toEqual([FAULT_UD, 8]);
    const z = dec('62 f1 7c 48 10 44 24 01'); // vmovups zmm0,[rsp+40h]
    expect([z.status, z.length]).toEqual([FAULT_UD, 8]);
    expect(dec('c5 c0', 32).vex).toBe(0xc5);
    expect(mnemonicOf(dec('c5 00', 32))).toBe('lds'); // mod != 3: LDS in 32-bit mode
  });
});

describe('the table', () => {
  it('names follow the rule: mnemonic + operands, one name for the 16 Jcc rows', () => {
    const names = new Set(tableRows.map((r) => r.name));
    for (const n of ['addEbGb', 'addEvIz', 'addEvIbs', 'movGvEv', 'pushZv', 'jccJb', 'jccJz', 'setccEb',
      'cmovccGvEv', 'movsb', 'movsv', 'int3', 'intIb', 'shlEvIb', 'movZvIv']) expect(names.has(n), n).toBe(true);
    for (const r of tableRows) expect(r.name, r.spec).toMatch(/^[a-z0-9][A-Za-z0-9_]*$/);
  });
  it('rows that share a handler name are the same operation', () => {
    const seen = new Map<string, string>();
    for (const r of tableRows) {
      const what = `${r.mnemonics.join('|')} ${r.operands}`;
      expect(seen.get(r.name) ?? what, r.spec).toBe(what);
      seen.set(r.name, what);
    }
  });
  it('rows carry their checks as data', () => {
    const f = (spec: string, m?: string) => tableRows.find((r) => r.spec === spec && (m === undefined || r.mnemonics[0] === m))!.flags;
    expect(f('00') & F_LOCK).toBeTruthy();
    expect(f('F4') & F_PRIV).toBeTruthy();
    expect(f('0F 01 /1 mem') & F_SENS).toBeTruthy();
    expect(f('E8') & (F_BRANCH | F_F64)).toBe(F_BRANCH | F_F64);
    expect(f('50+r') & F_DEF64).toBeTruthy();
    expect(f('27') & F_INV64).toBeTruthy();
  });
});
