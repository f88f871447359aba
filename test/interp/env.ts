/**
 * A small machine for interpreter tests: 64-bit user mode (CPL 3) with 4-level paging that maps
 * exactly the native oracle's layout (test/oracle/native.ts): a 4 KiB scratch page at
 * SCRATCH_BASE and a 4 KiB code page at CODE_BASE (0xCC after the code, as the harness has it;
 * read-only with `readOnlyCode`, as the harness runs it), nothing else. 32-bit cases get the
 * harness's segments too: FS over scratch, DS/ES/SS flat but ending at the code page's end. `runCase` runs one snippet until
 * RIP falls off its end (or a fault, or a step limit) with stepRaw, so faults come back as values
 * instead of going through an IDT.
 */
import {
  ATTR_DB, ATTR_G, ATTR_L, CR0_PE, CR0_PG, CR4_PAE, EFER_LMA, EFER_LME, EFER_SCE, MODE_LONG64, OFF_CPL, OFF_CR0, OFF_CR3, OFF_CR4,
  MODE_PROT32, OFF_EFER, OFF_FAULT_ADDR, OFF_MODE, OFF_RFLAGS, OFF_RIP, RAM_BASE, SEG_ATTR, SEG_BASE, SEG_FS, SEG_LIMIT, SEG_SELECTOR, StateViews,
  WASM_PAGE, gprOffset, segOffset,
} from '../../src/cpu/state.js';
import { getFlags } from '../../src/cpu/flags.js';
import { FAULT, faultVector } from '../../src/cpu/fault.js';
import { PhysicalMemory } from '../../src/mmu/physmem.js';
import { Mmu } from '../../src/mmu/mmu.js';
import { PortBus } from '../../src/mmu/ports.js';
import { SystemContext } from '../../src/system/context.js';
import { Interpreter } from '../../src/interp/interpreter.js';
import { GP_REGISTRARS } from '../../src/interp/dispatch.js';
import { SYSTEM_REGISTRARS } from '../../src/interp/system-register.js';

export const SCRATCH_BASE = 0x10000000;
export const CODE_BASE = 0x20000000;
export const SCRATCH_SIZE = 4096;
const RAM = 1 << 20;
const PML4 = 0x1000;
const PDPT = 0x2000;
const PD = 0x3000;
const PT_SCRATCH = 0x4000;
const PT_CODE = 0x5000;
export const SCRATCH_PHYS = 0x10000;
export const CODE_PHYS = 0x20000;
/** 32-bit cases: the limit of DS/ES/SS (LDT selector 0x0F in the native harness). */
export const LIMITED_TOP = CODE_BASE + 4096 - 1;

export interface CaseResult {
  regs: bigint[];
  rflags: number;
  mem: Uint8Array;
  /** -1 for none, else the vector. */
  fault: number;
  /** Linear address of a #PF. */
  faultAddr: number;
  steps: number;
}

export class TestMachine {
  readonly views: StateViews;
  readonly phys: PhysicalMemory;
  readonly mmu: Mmu;
  readonly ctx: SystemContext;
  readonly interp: Interpreter;

  /** `system`: with the system handlers too (privileged, I/O, segment rows), as the machine runs. */
  constructor(readonly bits: 64 | 32 = 64, readOnlyCode = false, system = false) {
    const pages = (RAM_BASE + RAM) / WASM_PAGE;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.views = new StateViews(memory);
    this.phys = new PhysicalMemory(this.views, RAM);
    this.mmu = new Mmu(this.views, this.phys);
    this.ctx = new SystemContext(this.views, this.phys, this.mmu, new PortBus());
    const w = (pa: number, lo: number): void => {
      this.phys.write32(pa, lo);
      this.phys.write32(pa + 4, 0);
    };
    w(PML4, PDPT | 7);
    w(PDPT, PD | 7);
    w(PD + 8 * (SCRATCH_BASE >>> 21), PT_SCRATCH | 7);
    w(PD + 8 * (CODE_BASE >>> 21), PT_CODE | 7);
    w(PT_SCRATCH, SCRATCH_PHYS | 7);
    w(PT_CODE, CODE_PHYS | (readOnlyCode ? 5 : 7));
    const v = this.views;
    v.set64(OFF_CR0, CR0_PE | CR0_PG | 0x10, 0);
    v.set64(OFF_CR3, PML4, 0);
    v.set64(OFF_CR4, CR4_PAE, 0);
    v.set64(OFF_EFER, EFER_SCE | EFER_LME | EFER_LMA, 0); // the host kernel enables SYSCALL
    v.u32[OFF_CPL >> 2] = 3;
    // 32-bit cases run in compatibility mode, as the native harness's -m32 build does.
    v.u32[OFF_MODE >> 2] = bits === 64 ? MODE_LONG64 : MODE_PROT32;
    const db = bits === 32 ? ATTR_DB : 0;
    for (let s = 0; s < 6; s++) {
      const o = segOffset(s);
      // the harness's selectors (PUSH Sreg / MOV r, Sreg show them): 64-bit Linux runs with null
      // DS/ES/FS/GS; 32-bit cases with the harness's LDT segments (below) and glibc's GS 0x63
      v.u32[(o + SEG_SELECTOR) >> 2] = s === 1 ? (bits === 64 ? 0x33 : 0x23) : s === 2 ? 0x2b : bits === 64 ? 0 : s === 5 ? 0x63 : 0x2b;
      v.set64(o + SEG_BASE, 0, 0);
      v.u32[(o + SEG_LIMIT) >> 2] = 0xffffffff;
      v.u32[(o + SEG_ATTR) >> 2] = s === 1 ? 0xfb | (bits === 64 ? ATTR_L : ATTR_DB) : 0xf3 | db;
    }
    if (bits === 32) {
      // FS: an LDT data segment over the scratch page (SCRATCH_FS_32 in the native harness)
      const o = segOffset(SEG_FS);
      v.u32[(o + SEG_SELECTOR) >> 2] = 0x07;
      v.set64(o + SEG_BASE, SCRATCH_BASE, 0);
      v.u32[(o + SEG_LIMIT) >> 2] = SCRATCH_SIZE - 1;
      // DS, ES, SS: base 0, limit LIMITED_TOP (page granular), selector 0x0F as in the harness
      for (const s of [0, 2, 3]) {
        const q = segOffset(s);
        v.u32[(q + SEG_SELECTOR) >> 2] = 0x0f;
        v.u32[(q + SEG_LIMIT) >> 2] = LIMITED_TOP;
        v.u32[(q + SEG_ATTR) >> 2] = 0xf3 | ATTR_DB | ATTR_G;
      }
    }
    this.interp = new Interpreter(this.ctx, system ? [...GP_REGISTRARS, ...SYSTEM_REGISTRARS] : GP_REGISTRARS);
  }

  /** Runs `code` until RIP reaches its end (or `stopAt`, an offset into the code), a fault or `maxSteps`. */
  runCase(code: Uint8Array, regs: bigint[], rflags: number, mem: Uint8Array, maxSteps = 1000, stopAt = code.length): CaseResult {
    const v = this.views;
    this.phys.fill(CODE_PHYS, 4096, 0xcc);
    this.phys.writeBytes(CODE_PHYS, code);
    this.phys.fill(SCRATCH_PHYS, SCRATCH_SIZE, 0);
    this.phys.writeBytes(SCRATCH_PHYS, mem);
    for (let r = 0; r < 16; r++) v.setBig(gprOffset(r), regs[r] ?? 0n);
    v.set64(OFF_RFLAGS, (rflags & 0xcd5) | 0x202, 0);
    v.u32[(OFF_RFLAGS >> 2) + 4] = 0; // LF_OP: flags are current (OFF_LF_OP = OFF_RFLAGS + 8)
    v.set64(OFF_RIP, CODE_BASE, 0);
    const end = CODE_BASE + stopAt;
    let fault = -1;
    let steps = 0;
    while (steps < maxSteps) {
      if (v.getNum(OFF_RIP) === end) break;
      const f = this.interp.stepRaw();
      steps++;
      if ((f & FAULT) !== 0) {
        fault = faultVector(f);
        break;
      }
    }
    const out: bigint[] = [];
    for (let r = 0; r < 16; r++) out.push(v.getBig(gprOffset(r)));
    return {
      regs: out,
      rflags: getFlags(v.i32) >>> 0,
      mem: this.phys.readBytes(SCRATCH_PHYS, SCRATCH_SIZE),
      fault,
      faultAddr: fault === 14 ? v.getNum(OFF_FAULT_ADDR) : 0,
      steps,
    };
  }
}
