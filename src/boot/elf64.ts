/**
 * ELF64 executables entered directly in long mode (a ringvm convenience, not a QEMU feature): an
 * x86-64 ET_EXEC file's PT_LOAD segments are placed at p_paddr, and the loader builds page tables
 * that identity-map the low 4 GiB with 2 MiB pages (present, writable, supervisor; one PML4, one
 * PDPT, four page directories at 0x1000..0x6FFF). Because the map is the identity, e_entry must be
 * a physical address inside a loaded segment: a higher-half kernel needs an identity-mapped entry
 * stub. The CPU state itself is entry-state.ts's `enterLong64`.
 */
import type { PhysicalMemory } from '../mmu/physmem.js';
import { checkEntryInSegments, EM_X86_64, ELFCLASS64, elfClassOf, ET_EXEC, parseElf, typeName } from './elf.js';
import { PD_ADDR, PDPT_ADDR, PML4_ADDR } from './layout.js';
import { LoadError } from './load-error.js';
import type { KernelLayout, Piece } from './multiboot.js';

const PTE_P = 1 << 0;
const PTE_RW = 1 << 1;
const PTE_PS = 1 << 7;
const TWO_MIB = 0x200000;

/** True when the file claims to be an ELF64 x86-64 image (so its errors are ELF64 errors). */
export const looksElf64 = (b: Uint8Array): boolean => b.length > 4 && elfClassOf(b) === ELFCLASS64;

/** Validates the file and computes where its segments go; does not touch guest memory. */
export function layoutElf64(b: Uint8Array): KernelLayout {
  const elf = parseElf(b);
  if (elf.elfClass !== ELFCLASS64) throw new LoadError('not an ELF64 file');
  if (elf.machine !== EM_X86_64) throw new LoadError(`ELF64 is not x86-64 (e_machine ${elf.machine})`);
  if (elf.type !== ET_EXEC) throw new LoadError(`ELF64 is ${typeName(elf.type)}, not ET_EXEC`);
  checkEntryInSegments(elf.entry, elf.segments);
  let low = Infinity;
  let high = 0;
  const pieces = elf.segments.map((s): Piece => {
    low = Math.min(low, s.paddr);
    high = Math.max(high, s.paddr + s.memsz);
    return { addr: s.paddr, bytes: b.subarray(s.offset, s.offset + s.filesz), zero: s.memsz - s.filesz, what: `segment ${s.index}` };
  });
  return { pieces, low, high, entry: elf.entry };
}

/** Writes the identity map of [0, 4 GiB) with 2 MiB pages. */
export function writeIdentityPageTables(phys: PhysicalMemory): void {
  phys.fill(PML4_ADDR, 6 * 4096, 0);
  phys.write32(PML4_ADDR, PDPT_ADDR | PTE_P | PTE_RW);
  for (let g = 0; g < 4; g++) {
    const pd = PD_ADDR + g * 4096;
    phys.write32(PDPT_ADDR + g * 8, pd | PTE_P | PTE_RW);
    for (let i = 0; i < 512; i++) {
      const pa = (g * 512 + i) * TWO_MIB;
      phys.write32(pd + i * 8, (pa | PTE_P | PTE_RW | PTE_PS) >>> 0);
    }
  }
}
