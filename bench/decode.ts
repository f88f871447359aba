/**
 * Decode speed: `npx tsx bench/decode.ts [ELF]` linearly decodes the code sections of a large
 * real binary (default: the 64-bit libc, else /bin/bash) with ringvm's decoder and, in the same
 * run and on the same bytes, with iced-x86's JS binding (decodeOut into one reused Instruction),
 * and prints instructions decoded per second for both (best of several rounds).
 */
import { existsSync, readFileSync } from 'node:fs';
import ice from 'iced-x86';
import { readElfCode } from '../src/cli/elf-sections.js';
import { DEC_OK, Decoded } from '../src/cpu/decoded.js';
import { decode } from '../src/cpu/decoder.js';

const { Decoder, Instruction } = ice;
const path = process.argv[2] ?? ['/lib/x86_64-linux-gnu/libc.so.6', '/bin/bash'].find(existsSync)!;
const elf = readElfCode(new Uint8Array(readFileSync(path)));
const code = elf.sections.map((s) => s.data);
const totalBytes = code.reduce((n, c) => n + c.length, 0);

function ringvm(): number {
  const d = new Decoded();
  let n = 0;
  for (const c of code) {
    for (let p = 0; p < c.length; n++) {
      decode(c, p, c.length, elf.bitness, d);
      p += d.status === DEC_OK || (d.vex !== 0 && d.length > 0) ? d.length : 1;
    }
  }
  return n;
}

const decoders = code.map((c) => new Decoder(elf.bitness, c, 0));
const insn = new Instruction();
function iced(): number {
  let n = 0;
  for (const dec of decoders) {
    dec.position = 0;
    while (dec.canDecode) {
      dec.decodeOut(insn);
      n++;
    }
  }
  return n;
}

function best(f: () => number, rounds: number): { n: number; rate: number } {
  let bestMs = Infinity;
  let n = 0;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    n = f();
    const ms = performance.now() - t0;
    if (ms < bestMs) bestMs = ms;
  }
  return { n, rate: n / (bestMs / 1000) };
}

console.log(`${path}: ${elf.sections.length} code sections, ${(totalBytes / 1e6).toFixed(2)} MB, ${elf.bitness}-bit`);
const r = best(ringvm, 7);
const i = best(iced, 7);
const fmt = (x: number) => `${(x / 1e6).toFixed(1)} M insn/s`;
console.log(`ringvm   ${r.n} instructions  ${fmt(r.rate)}`);
console.log(`iced-x86 ${i.n} instructions  ${fmt(i.rate)}`);
console.log(`ringvm / iced-x86: ${(r.rate / i.rate).toFixed(2)}x`);
