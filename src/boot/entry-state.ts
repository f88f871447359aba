/**
 * The CPU state a kernel finds at its first instruction, written straight into the CPU block.
 *
 * Multiboot (spec §3.2, as QEMU's multiboot option ROM leaves it): EAX = 0x2BADB002, EBX = the info
 * structure, CS = 0x08 flat 32-bit code, DS/ES/FS/GS/SS = 0x10 flat 32-bit data (QEMU's selectors),
 * CR0 = PE|ET, paging off, EFLAGS = 0x2 (IF = 0), IDTR still the real-mode IVT (base 0, limit 0x3FF).
 * ESP = 0x9000 (the spec leaves ESP undefined; QEMU leaves the option ROM's stack).
 *
 * ELF64 direct entry: long mode with the identity map of the low 4 GiB, CS = 0x08 64-bit code,
 * data selectors 0x10, CR0 = PE|ET|PG, CR4 = PAE, EFER = LME|LMA, CR3 = the PML4, RSP = 0x9000,
 * RDI = the info structure and RSI = 0x2BADB002 (a C `kmain(info, magic)`), RAX/RBX as multiboot.
 *
 * Both write a GDT at 0x9600 whose entries match the loaded caches, so reloading a selector gives
 * the same segment. LDTR and TR hold their reset values (SDM Vol. 3 Table 10-1). A20 is not gated
 * in ringvm's physical memory, so it is always on.
 */
import {
  CR0_ET, CR0_PE, CR0_PG, CR4_PAE, EFER_LMA, EFER_LME, gprOffset, MODE_LONG64, MODE_PROT32,
  OFF_CPL, OFF_CR0, OFF_CR2, OFF_CR3, OFF_CR4, OFF_EFER, OFF_GDTR_BASE, OFF_GDTR_LIMIT, OFF_HALTED,
  OFF_IDTR_BASE, OFF_IDTR_LIMIT, OFF_INT_SHADOW, OFF_LF_OP, OFF_MODE, OFF_RFLAGS, OFF_RIP, REG_RAX,
  REG_RBX, REG_RDI, REG_RSI, REG_RSP, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_LDTR, SEG_SS,
  SEG_TR, FLAG_FIXED1, type StateViews,
} from '../cpu/state.js';
import type { PhysicalMemory } from '../mmu/physmem.js';
import { GDT_ADDR, PML4_ADDR, STACK_TOP } from './layout.js';
import { MULTIBOOT_BOOT_MAGIC } from './multiboot.js';
import {
  ACCESS_CODE, ACCESS_DATA, ACCESS_LDT, ACCESS_TSS_BUSY, FLAGS_16, FLAGS_32, FLAGS_64,
  type FlatDescriptor, setSegment, writeGdt,
} from './segdesc.js';

export const SEL_CODE = 0x08;
export const SEL_DATA = 0x10;

const CODE32: FlatDescriptor = { base: 0, limit20: 0xfffff, access: ACCESS_CODE, flags: FLAGS_32 };
const DATA32: FlatDescriptor = { base: 0, limit20: 0xfffff, access: ACCESS_DATA, flags: FLAGS_32 };
const CODE64: FlatDescriptor = { base: 0, limit20: 0xfffff, access: ACCESS_CODE, flags: FLAGS_64 };
/** 16-bit code and data at 0x18/0x20, as in QEMU's option-ROM GDT (for a kernel that drops to real mode). */
const CODE16: FlatDescriptor = { base: 0, limit20: 0xffff, access: ACCESS_CODE, flags: FLAGS_16 };
const DATA16: FlatDescriptor = { base: 0, limit20: 0xffff, access: ACCESS_DATA, flags: FLAGS_16 };
const RESET_LDT: FlatDescriptor = { base: 0, limit20: 0xffff, access: ACCESS_LDT, flags: 0 };
const RESET_TR: FlatDescriptor = { base: 0, limit20: 0xffff, access: ACCESS_TSS_BUSY, flags: 0 };

function common(views: StateViews, phys: PhysicalMemory, code: FlatDescriptor, data: FlatDescriptor): void {
  const limit = writeGdt(phys, GDT_ADDR, [null, code, data, CODE16, DATA16]);
  views.setNum(OFF_GDTR_BASE, GDT_ADDR);
  views.u32[OFF_GDTR_LIMIT >>> 2] = limit;
  views.setNum(OFF_IDTR_BASE, 0);
  views.u32[OFF_IDTR_LIMIT >>> 2] = 0x3ff;
  setSegment(views, SEG_CS, SEL_CODE, code);
  for (const s of [SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS]) setSegment(views, s, SEL_DATA, data);
  setSegment(views, SEG_LDTR, 0, RESET_LDT);
  setSegment(views, SEG_TR, 0, RESET_TR);
  for (let r = 0; r < 16; r++) views.set64(gprOffset(r), 0, 0);
  views.set64(gprOffset(REG_RAX), MULTIBOOT_BOOT_MAGIC, 0);
  views.set64(gprOffset(REG_RSP), STACK_TOP, 0);
  views.set64(OFF_RFLAGS, FLAG_FIXED1, 0);
  views.u32[OFF_LF_OP >>> 2] = 0;
  views.set64(OFF_CR2, 0, 0);
  views.u32[OFF_CPL >>> 2] = 0;
  views.u32[OFF_HALTED >>> 2] = 0;
  views.u32[OFF_INT_SHADOW >>> 2] = 0;
}

/** Multiboot entry: 32-bit protected mode, paging off. */
export function enterProtected32(views: StateViews, phys: PhysicalMemory, entry: number, info: number): void {
  common(views, phys, CODE32, DATA32);
  views.set64(gprOffset(REG_RBX), info, 0);
  views.set64(OFF_RIP, entry >>> 0, 0);
  views.set64(OFF_CR0, CR0_PE | CR0_ET, 0);
  views.set64(OFF_CR3, 0, 0);
  views.set64(OFF_CR4, 0, 0);
  views.set64(OFF_EFER, 0, 0);
  views.u32[OFF_MODE >>> 2] = MODE_PROT32;
}

/** ELF64 direct entry: 64-bit long mode on the identity map the caller has written at PML4_ADDR. */
export function enterLong64(views: StateViews, phys: PhysicalMemory, entry: number, info: number): void {
  common(views, phys, CODE64, DATA32);
  views.set64(gprOffset(REG_RBX), info, 0);
  views.set64(gprOffset(REG_RDI), info, 0);
  views.set64(gprOffset(REG_RSI), MULTIBOOT_BOOT_MAGIC, 0);
  views.setNum(OFF_RIP, entry);
  views.set64(OFF_CR0, (CR0_PE | CR0_ET | CR0_PG) >>> 0, 0);
  views.set64(OFF_CR3, PML4_ADDR, 0);
  views.set64(OFF_CR4, CR4_PAE, 0);
  views.set64(OFF_EFER, EFER_LME | EFER_LMA, 0);
  views.u32[OFF_MODE >>> 2] = MODE_LONG64;
}
