/**
 * The loader's front door: `loadImage` recognises the image format and loads it into a machine.
 *
 *   1. a multiboot v1 header in the first 8 KiB (magic and checksum right) → multiboot.ts, entered
 *      in 32-bit protected mode (an ELF32 file, or any file with the a.out-kludge address fields);
 *   2. else an ELF64 x86-64 ET_EXEC file → elf64.ts, entered directly in 64-bit long mode;
 *   3. else a LoadError saying what the file is.
 *
 * Everything is checked before the first byte of guest memory is written, except the module and
 * string placement, which follows the kernel. Every failure is a LoadError whose reason the CLI
 * prints as `ringvm: IMAGE: reason` (exit status 2). `readImageFile` and `parseInitrd` turn a
 * missing file or module into the same kind of error.
 */
import { readFileSync } from 'node:fs';
import { elfClassOf, elfMachineOf, isElf, parseElf, typeName } from './elf.js';
import { layoutElf64, looksElf64, writeIdentityPageTables } from './elf64.js';
import { enterLong64, enterProtected32 } from './entry-state.js';
import { claim, type Claim } from './layout.js';
import { type BootTarget, LoadError, sizeText } from './load-error.js';
import { findMultibootHeader, type KernelLayout, layoutMultibootKernel } from './multiboot.js';
import { type BootModule, MIN_RAM, writeMultibootInfo } from './multiboot-info.js';

export { type BootTarget, LoadError } from './load-error.js';
export type { BootModule } from './multiboot-info.js';

export interface LoadOptions {
  /** The `--append` text; the kernel sees "<imageName> <cmdline>", as QEMU passes it. */
  cmdline: string;
  /** The image's file name as the user gave it. */
  imageName: string;
  modules: BootModule[];
}

/** What was loaded, for `--verbose` output and tests. */
export interface LoadResult {
  format: 'multiboot-elf32' | 'multiboot-aout' | 'elf64';
  entry: number;
  infoAddr: number;
  kernelStart: number;
  kernelEnd: number;
}

export function loadImage(bytes: Uint8Array, machine: BootTarget, opts: LoadOptions): LoadResult {
  const { phys, views } = machine;
  const ramSize = phys.ramSize;
  if (ramSize < MIN_RAM) throw new LoadError(`RAM (${sizeText(ramSize)}) too small: the loader needs at least ${sizeText(MIN_RAM)}`);
  const header = findMultibootHeader(bytes);
  let layout: KernelLayout;
  let format: LoadResult['format'];
  if (header !== null) {
    layout = layoutMultibootKernel(bytes, header);
    format = (header.flags & 0x10000) !== 0 ? 'multiboot-aout' : 'multiboot-elf32';
  } else if (looksElf64(bytes)) {
    layout = layoutElf64(bytes);
    format = 'elf64';
  } else {
    throw new LoadError(describeUnbootable(bytes));
  }

  const claims: Claim[] = [];
  for (const p of layout.pieces) claim(claims, p.addr, p.addr + p.bytes.length + p.zero, p.what, ramSize);
  for (const p of layout.pieces) {
    phys.writeBytes(p.addr, p.bytes);
    if (p.zero > 0) phys.fill(p.addr + p.bytes.length, p.zero, 0);
  }
  const info = writeMultibootInfo(phys, ramSize, layout.high, claims, opts);
  if (format === 'elf64') {
    writeIdentityPageTables(phys);
    enterLong64(views, phys, layout.entry, info);
  } else {
    enterProtected32(views, phys, layout.entry, info);
  }
  return { format, entry: layout.entry, infoAddr: info, kernelStart: layout.low, kernelEnd: layout.high };
}

/** The reason an image with no multiboot header and no ELF64 x86-64 identity cannot boot. */
function describeUnbootable(b: Uint8Array): string {
  if (b.length === 0) return 'empty file';
  if (!isElf(b)) return 'not a multiboot image (no valid header in the first 8 KiB) nor an ELF64 executable';
  if (elfClassOf(b) === 1) {
    const m = elfMachineOf(b);
    return `ELF32${m === 3 ? ' i386' : ''} file without a multiboot header: not bootable (ringvm boots multiboot or ELF64 ET_EXEC)`;
  }
  // Neither class: let the parser name the problem.
  parseElf(b);
  return `unsupported ELF file (type ${typeName(b[16] | (b[17] << 8))})`;
}

/** Reads an image file; a missing or unreadable file becomes a LoadError. */
export function readImageFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new LoadError(fileErrorReason(e));
  }
}

function fileErrorReason(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES') return 'permission denied';
  return `cannot read file (${code ?? String(e)})`;
}

/**
 * Splits a QEMU-style `--initrd` value ("a.bin arg1,b.bin" → two modules; ",," is a literal comma)
 * and reads each module file (the part before the first space). The whole entry is the module
 * string the kernel sees, as with QEMU.
 */
export function parseInitrd(spec: string): BootModule[] {
  const entries: string[] = [];
  let cur = '';
  for (let i = 0; i < spec.length; i++) {
    if (spec[i] === ',') {
      if (spec[i + 1] === ',') {
        cur += ',';
        i++;
        continue;
      }
      entries.push(cur);
      cur = '';
      continue;
    }
    cur += spec[i];
  }
  entries.push(cur);
  return entries.map((name) => {
    const file = name.split(' ')[0];
    if (file === '') throw new LoadError(`empty module name in --initrd '${spec}'`);
    try {
      return { name, bytes: new Uint8Array(readFileSync(file)) };
    } catch (e) {
      throw new LoadError(`module '${file}': ${fileErrorReason(e)}`);
    }
  });
}
