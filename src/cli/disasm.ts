/**
 * `ringvm disasm`: Intel-syntax disassembly with the same decoder the CPU uses.
 *   ringvm disasm FILE [--bitness 16|32|64] [--start ADDR] [--count N] [--json]
 *   ringvm disasm --hex "48 89 e5 ..." [--bitness N] [--json]
 * A raw FILE is decoded from offset 0 (addresses = file offsets); an ELF file's executable
 * sections are decoded at their virtual addresses with symbol names as labels, bitness from the
 * ELF class unless given. --start skips to an address, --count stops after N instructions.
 * Text lines are `address: bytes  text`; --json prints one object per line:
 * {"offset":0,"length":3,"bytes":"4889e5","mnemonic":"mov","text":"mov rbp,rsp"}
 * (offset = the instruction's address). Bytes that do not decode print as `(bad)` one byte at a
 * time; VEX/EVEX/XOP instructions as `(unsupported)` with their full length.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DEC_NEED_MORE, DEC_OK, Decoded } from '../cpu/decoded.js';
import { decode } from '../cpu/decoder.js';
import { Disassembler, mnemonicOf } from '../cpu/disasm.js';
import { isElf, readElfCode, type CodeSection } from './elf-sections.js';
import { fail } from './errors.js';

interface DisasmOptions {
  hex?: string;
  bitness?: string;
  start?: string;
  count?: string;
  json?: boolean;
}

class Reason extends Error {}

function parseNumber(name: string, text: string): number {
  const t = text.trim().replace(/_/g, '');
  const n = /^0x/i.test(t) ? parseInt(t.slice(2), 16) : Number(t);
  if (!Number.isSafeInteger(n) || n < 0 || t === '') throw new Reason(`${name}: expected a number, got '${text}'`);
  return n;
}

export function parseHexBytes(text: string): Uint8Array {
  const t = text.replace(/0x/gi, '').replace(/[\s,]+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(t)) throw new Reason('expected pairs of hex digits');
  return Uint8Array.from(t.match(/../g) ?? [], (x) => parseInt(x, 16));
}

const hex2 = (b: number): string => b.toString(16).padStart(2, '0');

/** Disassembles one code region, writing lines through `emit`. Returns instructions printed. */
export function disasmRegion(code: Uint8Array, addr: number, bitness: number, start: number,
  limit: number, json: boolean, symbols: Map<number, string> | null, emit: (line: string) => void): number {
  const d = new Decoded();
  const dis = new Disassembler();
  let n = 0;
  let off = Math.max(0, start - addr);
  while (off < code.length && n < limit) {
    const a = addr + off;
    const sym = symbols?.get(a);
    if (sym !== undefined && !json) emit(`\n${a.toString(16).padStart(bitness === 64 ? 16 : 8, '0')} <${sym}>:`);
    decode(code, off, code.length, bitness, d);
    let len: number;
    let mnem: string;
    let text: string;
    if (d.status === DEC_OK) {
      len = d.length;
      mnem = mnemonicOf(d);
      text = dis.format(d, bitness, BigInt(a));
    } else if (d.vex !== 0 && d.length > 0 && d.status !== DEC_NEED_MORE && d.length <= code.length - off) {
      len = d.length;
      mnem = '(unsupported)';
      text = '(unsupported)';
    } else {
      len = 1;
      mnem = '(bad)';
      text = '(bad)';
    }
    const bytes = Array.from(code.subarray(off, off + len), hex2).join('');
    if (json) {
      emit(JSON.stringify({ offset: a, length: len, bytes, mnemonic: mnem, text }));
    } else {
      const spaced = bytes.replace(/(..)(?!$)/g, '$1 ');
      emit(`${a.toString(16).padStart(8, ' ')}: ${spaced.padEnd(30)} ${text}`);
    }
    off += len;
    n++;
  }
  return n;
}

export function runDisasm(file: string | undefined, o: DisasmOptions, emit: (line: string) => void): number {
  const what = file ?? '--hex';
  try {
    if ((file === undefined) === (o.hex === undefined)) throw new Reason('give either FILE or --hex BYTES');
    let bitness = 0;
    if (o.bitness !== undefined) {
      bitness = parseNumber('--bitness', o.bitness);
      if (bitness !== 16 && bitness !== 32 && bitness !== 64) throw new Reason(`--bitness: expected 16, 32 or 64, got '${o.bitness}'`);
    }
    const start = o.start === undefined ? 0 : parseNumber('--start', o.start);
    const count = o.count === undefined ? Number.MAX_SAFE_INTEGER : parseNumber('--count', o.count);
    const json = o.json === true;
    if (o.hex !== undefined) {
      disasmRegion(parseHexBytes(o.hex), 0, bitness || 64, start, count, json, null, emit);
      return 0;
    }
    let buf: Uint8Array;
    try {
      buf = new Uint8Array(readFileSync(file!));
    } catch (e) {
      throw new Reason((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message);
    }
    if (!isElf(buf)) {
      disasmRegion(buf, 0, bitness || 64, start, count, json, null, emit);
      return 0;
    }
    let elf;
    try {
      elf = readElfCode(buf);
    } catch (e) {
      throw new Reason((e as Error).message);
    }
    if (elf.sections.length === 0) throw new Reason('no executable sections');
    let left = count;
    for (const s of elf.sections as CodeSection[]) {
      if (left <= 0) break;
      if (start > 0 && start >= s.addr + s.data.length) continue;
      if (!json) emit(`\nDisassembly of section ${s.name}:`);
      left -= disasmRegion(s.data, s.addr, bitness || elf.bitness, Math.max(start, s.addr), left, json,
        elf.symbols, emit);
    }
    return 0;
  } catch (e) {
    if (e instanceof Reason) return fail(`${what}: ${e.message}`, 2);
    throw e;
  }
}

export function registerDisasm(program: Command): void {
  program
    .command('disasm')
    .description('disassemble a raw or ELF file, or hex bytes, in Intel syntax')
    .argument('[file]', 'raw code or an ELF executable')
    .option('--hex <bytes>', 'disassemble these hex bytes instead of a file')
    .option('--bitness <n>', '16, 32 or 64 (default: 64, or the ELF class)')
    .option('--start <addr>', 'first address to disassemble (0x... or decimal)')
    .option('--count <n>', 'stop after this many instructions')
    .option('--json', 'one JSON object per instruction')
    .action((file: string | undefined, o: DisasmOptions) => {
      const lines: string[] = [];
      const status = runDisasm(file, o, (l) => {
        lines.push(l);
        if (lines.length >= 4096) { process.stdout.write(lines.join('\n') + '\n'); lines.length = 0; }
      });
      if (lines.length > 0) process.stdout.write(lines.join('\n') + '\n');
      process.exitCode = status;
    });
}
