/**
 * What `ringvm translate --hex "09 ca" [--bitness N]` prints: for each basic block of the given
 * bytes, the guest instructions, the IR micro-ops the front end makes of them and the wasm the back
 * end emits, side by side in three sections. The bytes are taken as user-mode (CPL 3) code at
 * address `ip`; instructions a block may not hold (privileged, sensitive, undecodable) are listed
 * as running in the simulator.
 */
import { Decoded, DEC_OK } from '../cpu/decoded.js';
import { decode } from '../cpu/decoder.js';
import { disassemble } from '../cpu/disasm.js';
import { MODE_LONG64, MODE_PROT16, MODE_PROT32 } from '../cpu/state.js';
import { regionBody } from './backend.js';
import { decodeBlock, lowerBlock } from './frontend.js';
import { irText } from './ir.js';
import { wasmText } from './wasm/text.js';

/** Parses "09 ca" / "09ca" into bytes. */
export function parseHex(s: string): Uint8Array {
  const clean = s.replace(/0x/gi, '').replace(/[^0-9a-fA-F]/g, '');
  if (clean.length % 2 !== 0) throw new Error('odd number of hex digits');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

export function translateText(bytes: Uint8Array, bitness: 16 | 32 | 64 = 64, ip = 0): string {
  const mode = bitness === 64 ? MODE_LONG64 : bitness === 32 ? MODE_PROT32 : MODE_PROT16;
  const out: string[] = [];
  let off = 0;
  let blockNo = 0;
  while (off < bytes.length) {
    const code = decodeBlock(bytes.subarray(off), 0, 0, bytes.length - off, mode, 3, Infinity);
    if (code.insns.length === 0) {
      const d = new Decoded();
      decode(bytes, off, bytes.length, bitness, d);
      const text = d.status === DEC_OK ? disassemble(d, bitness, BigInt(ip + off)) : 'invalid or incomplete';
      out.push(`;; ${hexAddr(ip + off)}  ${text}   -- runs in the simulator (not in a block)`);
      if (d.status !== DEC_OK || d.length === 0) break;
      off += d.length;
      continue;
    }
    out.push(`;; ---- block ${blockNo++} at ${hexAddr(ip + off)}: ${code.insns.length} instructions, ${code.bytes} bytes`);
    out.push(';; guest');
    code.insns.forEach((d, i) => {
      const a = ip + off + code.offs[i];
      const raw = Array.from(bytes.subarray(off + code.offs[i], off + code.offs[i] + d.length), (b) => b.toString(16).padStart(2, '0')).join(' ');
      out.push(`   ${i}  ${hexAddr(a)}  ${raw.padEnd(30)} ${disassemble(d, bitness, BigInt(a))}`);
    });
    const ir = lowerBlock(code, mode);
    out.push(';; IR');
    out.push(...irText(ir).map((l) => `   ${l}`));
    const body = regionBody({ blocks: [{ ir, insns: code.insns, offs: code.offs, gidBase: 0, pageOff: (ip + off) & 0xfff }], mode, user: true, link: false, id: 0, modeKey: 0, chain: false });
    out.push(';; wasm (start, pageOff, budget, done) -> i32');
    out.push(...wasmText(body.code.buf, body.code.len));
    off += code.bytes;
  }
  return out.join('\n');
}

const hexAddr = (a: number): string => a.toString(16).padStart(8, '0');
