/**
 * Intel-syntax disassembly of a Decoded instruction, following iced-x86's Intel formatter with
 * its default options (the oracle the tests compare against): lower case, `,` between operands
 * without a space, hexadecimal numbers as `0FFh`, memory sizes (`dword ptr`) only where the
 * operands leave them ambiguous, branch targets as absolute addresses.
 */
import type { Decoded } from './decoded.js';
import { tableRows } from './table.js';
import { THREEDNOW_NAMES } from './table-sse.js';

export const COND_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge',
  'le', 'g'];

const CMP_PSEUDO = ['eq', 'lt', 'le', 'unord', 'neq', 'nlt', 'nle', 'ord'];
const PCLMUL_PSEUDO = ['pclmullqlqdq', 'pclmulhqlqdq', 'pclmullqhqdq', 'pclmulhqhqdq'];

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
