/**
 * Parity-test machine for the translator: a 64-bit long-mode system built by hand (GDT, TSS, IDT,
 * 4-level identity paging of the first 2 MiB) running a user program at CPL 3. Every exception
 * vector enters a kernel stub `mov al, vector; hlt`, so a guest fault ends the run with the
 * exception frame on the kernel stack: the frame, CR2 and the registers are what the parity tests
 * compare between the interpreter and the translator. Programs are assembled with nasm.
 *
 * Physical = linear layout: 0x1000 GDT, 0x2000 IDT, 0x3000 TSS, 0x4000 stubs (16 bytes each),
 * 0x6000-0x7000 kernel stack, 0x10000 page tables, 0x20000 user code (4 pages), 0x40000 data
 * (4 pages), 0x50000 a read-only page, 0x60000 and page 0 not present, user stack top 0x80000.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CR0_ET, CR0_PE, CR0_PG, CR4_PAE, EFER_LMA, EFER_LME, MODE_LONG64, MODE_PROT32, OFF_CPL, OFF_CR0, OFF_CR2,
  OFF_CR3, OFF_CR4, OFF_EFER, OFF_GDTR_BASE, OFF_GDTR_LIMIT, OFF_IDTR_BASE, OFF_IDTR_LIMIT, OFF_INSN_COUNT,
  OFF_MODE, OFF_RFLAGS, OFF_RIP, RAM_BASE, SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_SELECTOR, SEG_TR, StateViews,
  gprOffset, segOffset,
} from '../../src/cpu/state.js';
import { getFlags } from '../../src/cpu/flags.js';
import { Mmu } from '../../src/mmu/mmu.js';
import { PhysicalMemory } from '../../src/mmu/physmem.js';
import { PortBus } from '../../src/mmu/ports.js';
import { SystemContext } from '../../src/system/context.js';
import { Interpreter } from '../../src/interp/interpreter.js';
import { GP_REGISTRARS } from '../../src/interp/dispatch.js';
import { SYSTEM_REGISTRARS } from '../../src/interp/system-register.js';
import { createDbtEngine, type DbtEngine, type DbtOptions } from '../../src/dbt/engine.js';

export const RAM = 2 << 20;
export const CODE = 0x20000;
export const DATA = 0x40000;
export const RO_PAGE = 0x50000;
export const ABSENT = 0x60000;
export const USER_STACK = 0x80000;
/** Page tables of a second address space, and the physical page it shows at virtual CODE. */
export const ALT_CR3 = 0x14000;
export const ALT_CODE = 0x30000;
/** Counter the external-interrupt stubs increment (last qword of the data pages). */
export const IRQ_COUNTER = DATA + 0x3ff8;
const KSTACK_TOP = 0x7000;

export const hasNasm = spawnSync('sh', ['-c', 'command -v nasm'], { stdio: 'ignore' }).status === 0;

let tmp: string | null = null;
/** Assembles `src` (nasm syntax, flat binary) at origin CODE. */
export function asm(src: string, bits: 64 | 32 = 64): Uint8Array {
  tmp ??= mkdtempSync(join(tmpdir(), 'ringvm-dbt-'));
  const s = join(tmp, 'p.asm');
  const o = join(tmp, 'p.bin');
  writeFileSync(s, `bits ${bits}\norg 0x${CODE.toString(16)}\n${src}\n`);
  execFileSync('nasm', ['-f', 'bin', '-o', o, s]);
  return new Uint8Array(readFileSync(o));
}

/** A code/data descriptor from its fields (SDM Vol. 3 Figure 3-8). */
function desc(base: number, limit: number, access: number, flags: number): [number, number] {
  return [
    ((limit & 0xffff) | ((base & 0xffff) << 16)) >>> 0,
    (((base >>> 16) & 0xff) | (access << 8) | (limit & 0xf0000) | (flags << 20) | (base & 0xff000000)) >>> 0,
  ];
}

export interface Final {
  regs: bigint[];
  rip: number;
  rflags: number;
  count: number;
  result: number;
  cr2: number;
  data: Uint8Array;
  kstack: Uint8Array;
  code: Uint8Array;
}

export class ParityMachine {
  readonly views: StateViews;
  readonly phys: PhysicalMemory;
  readonly mmu: Mmu;
  readonly ctx: SystemContext;
  readonly interp: Interpreter;
  readonly dbt: DbtEngine | null;

  constructor(program: Uint8Array, opts: DbtOptions | null, bits: 64 | 32 = 64) {
    const memory = new WebAssembly.Memory({ initial: (RAM_BASE + RAM) / 65536, maximum: (RAM_BASE + RAM) / 65536 });
    this.views = new StateViews(memory);
    this.phys = new PhysicalMemory(this.views, RAM);
    this.mmu = new Mmu(this.views, this.phys);
    this.ctx = new SystemContext(this.views, this.phys, this.mmu, new PortBus());
    const p = this.phys;
    const v = this.views;
    const w64 = (pa: number, lo: number, hi = 0): void => {
      p.write32(pa, lo >>> 0);
      p.write32(pa + 4, hi >>> 0);
    };
    // GDT: null, 0x08 kernel code64, 0x10 kernel data, 0x18 user data, 0x20 user code64,
    // 0x28 user code32, 0x30 TSS (two slots)
    const gdt = [[0, 0], desc(0, 0xfffff, 0x9b, 0xa), desc(0, 0xfffff, 0x93, 0xc), desc(0, 0xfffff, 0xf3, 0xc),
      desc(0, 0xfffff, 0xfb, 0xa), desc(0, 0xfffff, 0xfb, 0xc), desc(0x3000, 0x67, 0x89, 0), [0, 0]];
    gdt.forEach(([lo, hi], i) => w64(0x1000 + i * 8, lo, hi));
    v.set64(OFF_GDTR_BASE, 0x1000, 0);
    v.u32[OFF_GDTR_LIMIT >> 2] = gdt.length * 8 - 1;
    // IDT: 48 interrupt gates to the stubs. Exceptions (0..31): mov al, vector; hlt. External
    // interrupts (32..47): inc qword [IRQ_COUNTER]; iretq.
    for (let vec = 0; vec < 48; vec++) {
      const off = 0x4000 + vec * 16;
      w64(0x2000 + vec * 16, ((0x08 << 16) | (off & 0xffff)) >>> 0, (off & 0xffff0000) | 0x8e00);
      w64(0x2000 + vec * 16 + 8, 0, 0);
      if (vec < 32) p.writeBytes(off, Uint8Array.of(0xb0, vec, 0xf4));
      else {
        const a = IRQ_COUNTER;
        p.writeBytes(off, Uint8Array.of(0x48, 0xff, 0x04, 0x25, a & 0xff, (a >> 8) & 0xff, (a >> 16) & 0xff, 0, 0x48, 0xcf));
      }
    }
    v.set64(OFF_IDTR_BASE, 0x2000, 0);
    v.u32[OFF_IDTR_LIMIT >> 2] = 48 * 16 - 1;
    w64(0x3000 + 4, KSTACK_TOP, 0); // TSS.RSP0
    // Paging: PML4 0x10000 -> PDPT 0x11000 -> PD 0x12000 -> PT 0x13000 (4 KiB pages, 0..2 MiB)
    w64(0x10000, 0x11000 | 7);
    w64(0x11000, 0x12000 | 7);
    w64(0x12000, 0x13000 | 7);
    // A second address space (CR3 = ALT_CR3) maps the same, except virtual CODE -> ALT_CODE.
    w64(0x14000, 0x15000 | 7);
    w64(0x15000, 0x16000 | 7);
    w64(0x16000, 0x17000 | 7);
    for (let pg = 0; pg < 512; pg++) {
      const pa = pg * 4096;
      let flags = 7;
      if (pa === 0 || pa === ABSENT) flags = 0;
      else if (pa === RO_PAGE) flags = 5;
      w64(0x13000 + pg * 8, pa | flags);
      w64(0x17000 + pg * 8, (pa === CODE ? ALT_CODE : pa) | flags);
    }
    v.set64(OFF_CR0, CR0_PE | CR0_PG | CR0_ET, 0);
    v.set64(OFF_CR3, 0x10000, 0);
    v.set64(OFF_CR4, CR4_PAE, 0);
    v.set64(OFF_EFER, EFER_LME | EFER_LMA, 0);
    v.u32[OFF_CPL >> 2] = 3;
    const seg = (s: number, sel: number, attr: number, base = 0, limit = 0xffffffff): void => {
      const o = segOffset(s);
      v.u32[(o + SEG_SELECTOR) >> 2] = sel;
      v.u32[(o + SEG_ATTR) >> 2] = attr;
      v.u32[(o + SEG_LIMIT) >> 2] = limit;
      v.set64(o + SEG_BASE, base, 0);
    };
    for (const s of [0, 2, 3, 4, 5]) seg(s, 0x1b, 0xc0f3);
    if (bits === 64) seg(1, 0x23, 0xa0fb);
    else seg(1, 0x2b, 0xc0fb);
    seg(SEG_TR, 0x30, 0x8b, 0x3000, 0x67);
    v.u32[OFF_MODE >> 2] = bits === 64 ? MODE_LONG64 : MODE_PROT32;
    v.set64(OFF_RFLAGS, 0x202, 0);
    v.set64(OFF_RIP, CODE, 0);
    v.set64(gprOffset(4), USER_STACK, 0);
    p.writeBytes(CODE, program);
    for (let i = 0; i < 4096 * 4; i += 4) p.write32(DATA + i, Math.imul(i + 1, 0x9e3779b1) >>> 0);
    this.interp = new Interpreter(this.ctx, [...GP_REGISTRARS, ...SYSTEM_REGISTRARS]);
    // run() below never yields to the event loop, so a background compile could never land:
    // compile synchronously unless a test asks for the asynchronous mode.
    this.dbt = opts === null ? null : createDbtEngine(this.ctx, this.interp, { tcSync: true, ...opts });
  }

  /**
   * Runs up to `limit` instructions in slices of `slice` (or until a stop); returns the state.
   * `between(k)` runs before slice k (as the machine fires timers between engine runs).
   */
  run(limit: number, slice = limit, between?: (k: number) => void): Final {
    let result = 0;
    for (let k = 0; ; k++) {
      const now = this.views.getNum(OFF_INSN_COUNT);
      if (now >= limit) break;
      between?.(k);
      const stopAt = Math.min(limit, now + slice);
      result = this.dbt !== null ? this.dbt.run(stopAt) : this.interp.run(stopAt);
      if (result !== 0) break;
    }
    const v = this.views;
    const regs: bigint[] = [];
    for (let r = 0; r < 16; r++) regs.push(v.getBig(gprOffset(r)));
    return {
      regs,
      rip: v.getNum(OFF_RIP),
      rflags: getFlags(v.i32) >>> 0,
      count: v.getNum(OFF_INSN_COUNT),
      result,
      cr2: v.getNum(OFF_CR2),
      data: this.phys.readBytes(DATA, 4096 * 4),
      kstack: this.phys.readBytes(KSTACK_TOP - 0x100, 0x100),
      code: this.phys.readBytes(CODE, 4096 * 4),
    };
  }
}
