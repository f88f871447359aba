/**
 * The machine fuzz harness: one case = a fresh in-process Machine, guest RAM seeded with random
 * bytes and random-but-plausible instructions (rows of the instruction table, biased towards
 * system instructions and control transfers), an initial CPU state in one of five settings (real
 * mode; 32-bit protected flat at CPL 0 or 3; 64-bit long mode on an identity map at CPL 0 or 3,
 * each with a minimal GDT/TSS/IDT whose handlers are HLTs or random bytes), random registers, and
 * an instruction budget. The case passes when the run ends in a documented stop (limit, halt,
 * triple fault, unsupported, debug-exit) without a JS exception, and when the canary regions of
 * ringvm's own state below guest RAM (free CPU-block space, the unused TLB tail, the code-bitmap
 * bytes of pages beyond RAM) are intact. Everything is derived from the case seed, so a failure
 * is reproduced by its seed alone (scripts/fuzz-machine.ts --seed S --count 1).
 */
import {
  CODE_BITMAP_BASE, CODE_BITMAP_SIZE, CPU_BASE, CPU_SIZE, CR0_ET, CR0_PE, CR0_PG, CR4_PAE, EFER_LMA, EFER_LME,
  EFER_NXE, EFER_SCE, FLAG_AF, FLAG_CF, FLAG_DF, FLAG_FIXED1, FLAG_IF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_TF, FLAG_ZF,
  MODE_REAL, OFF_CPL, OFF_CR0, OFF_CR3, OFF_CR4, OFF_EFER, OFF_GDTR_BASE, OFF_GDTR_LIMIT, OFF_IDTR_BASE,
  OFF_IDTR_LIMIT, OFF_MODE, OFF_MSR_LSTAR, OFF_MSR_STAR, OFF_MSR_SYSENTER_CS, OFF_MSR_SYSENTER_EIP,
  OFF_MSR_SYSENTER_ESP, OFF_RFLAGS, OFF_RIP, RAM_BASE, REG_RSP, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS,
  SEG_TR, TLB_BASE, TLB_SIZE, gprOffset, segOffset, SEG_SELECTOR, SEG_BASE, SEG_LIMIT, SEG_ATTR,
} from '../../src/cpu/state.js';
import { tableRows, type TableRow } from '../../src/cpu/table.js';
import { F_BRANCH, F_CR, F_IOPL, F_PRIV, F_SENS } from '../../src/cpu/table-defs.js';
import { TLB_USED_BYTES } from '../../src/mmu/tlb.js';
import { Machine, type StopInfo } from '../../src/machine/machine.js';
import { type FlatDescriptor, encodeDescriptor, setSegment } from '../../src/boot/segdesc.js';
import { updateMode } from '../../src/system/mode.js';
import { addOddities, type Layout } from './oddities.js';

export const FUZZ_RAM = 4 << 20;

// Guest-physical layout of a case.
const IDT = 0x0000; // real-mode IVT, or the protected/long IDT (256 x 16 bytes at most)
const PML4 = 0x1000; // then PDPT 0x2000, PD 0x3000 (1 GiB of 2 MiB user pages)
const GDT = 0x5000;
const TSS = 0x6000;
const KSTACK = 0x80000; // stacks well away from the tables: deep fault nests take room
const USTACK = 0x70000;
export const CODE = 0x10000;
const CODE_SIZE = 0x1000;
const HANDLERS = 0x20000; // vector v's handler at HANDLERS + v * 16
const JUNK = 0x30000; // random data that random pointers and descriptor-table loads may land on
const JUNK_SIZE = 0x10000;

/** What oddities.ts may damage, and the pages a case cannot do without. */
const LAYOUT: Layout = {
  ram: FUZZ_RAM, idt: IDT, pml4: PML4, gdt: GDT, tss: TSS, handlers: HANDLERS, junk: JUNK,
  critical: [0, 1, 2, 3, 5, 6, 0x10, 0x20, 0x6f, 0x7f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95],
};

export const SETTINGS = ['real', 'prot32-k', 'prot32-u', 'long64-k', 'long64-u'] as const;
export type Setting = (typeof SETTINGS)[number];

/** xorshift32, reproducible from a seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed ^ 0x9e3779b9) >>> 0 || 1;
    for (let i = 0; i < 4; i++) this.next();
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
}

const SYSTEM_ROWS = tableRows.filter((r) => (r.flags & (F_PRIV | F_SENS | F_IOPL | F_BRANCH | F_CR)) !== 0
  || /^(int|iret|lgdt|lidt|lldt|ltr|wrmsr|rdmsr|mov|pop|push|syscall|sysret|sysenter|sysexit|hlt|in|out|cli|sti|clts|invlpg|lmsw|swapgs|arpl|lar|lsl|verr|verw)/.test(r.mnemonic));

/** What encodeRow needs of a row, parsed once from its spec. */
interface RowShape {
  row: TableRow;
  mandatory: number; // 0x66/0xF2/0xF3 or -1
  plusR: number; // 8 for +r, 16 for +cc, else 1
  fixedModrm: number; // a whole ModRM byte in the spec, or -1
  slash: number; // /d, or -1
  reg: boolean;
  mem: boolean;
}

function shapeOf(row: TableRow): RowShape {
  const tok = row.spec.split(/\s+/);
  const mand = tok[0] === '66' || tok[0] === 'F2' || tok[0] === 'F3' ? parseInt(tok[0], 16) : -1;
  const skip = row.map === 0 ? 0 : row.map === 1 ? 1 : 2;
  const body = tok.filter((t) => t !== 'NP').slice((mand >= 0 ? 1 : 0) + skip);
  const opTok = body[0] ?? '';
  const next = body[1] ?? '';
  const slash = body.find((t) => /^\/[0-7]$/.test(t));
  return {
    row,
    mandatory: mand,
    plusR: opTok.endsWith('+r') ? 8 : opTok.endsWith('+cc') ? 16 : 1,
    fixedModrm: /^[0-9A-F]{2}$/.test(next) ? parseInt(next, 16) : -1,
    slash: slash ? Number(slash[1]) : -1,
    reg: body.includes('reg'),
    mem: body.includes('mem'),
  };
}

const ALL_SHAPES = tableRows.map(shapeOf);
const SYSTEM_SHAPES = SYSTEM_ROWS.map(shapeOf);
const PREFIXES = [0x66, 0x67, 0xf3, 0xf2, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];

/** Bytes of one instruction built from a row: prefixes, opcode, ModRM, then random tail bytes. */
function encodeRow(sh: RowShape, rng: Rng, long: boolean, out: number[]): void {
  const row = sh.row;
  if (rng.chance(0.15)) out.push(rng.pick(PREFIXES));
  if (sh.mandatory >= 0) out.push(sh.mandatory);
  if (long && rng.chance(0.3)) out.push(0x40 | rng.int(16));
  if (row.map === 1) out.push(0x0f);
  else if (row.map === 2) out.push(0x0f, 0x38);
  else if (row.map === 3) out.push(0x0f, 0x3a);
  out.push((row.opcode + rng.int(sh.plusR)) & 0xff);
  if (row.hasModrm) {
    if (sh.fixedModrm >= 0) out.push(sh.fixedModrm);
    else {
      let modrm = rng.int(256);
      if (sh.slash >= 0) modrm = (modrm & 0xc7) | (sh.slash << 3);
      if (sh.reg) modrm |= 0xc0;
      else if (sh.mem && (modrm & 0xc0) === 0xc0) modrm &= 0x3f;
      out.push(modrm);
    }
  }
  for (let n = rng.int(7); n > 0; n--) out.push(rng.int(256));
}

/** A code area: random byte runs mixed with table-driven instructions. */
function genCode(rng: Rng, size: number, long: boolean): Uint8Array {
  const out: number[] = [];
  const style = rng.int(4); // 0: pure random bytes, 1..3: instructions with some noise
  while (out.length < size) {
    if (style === 0 || rng.chance(0.1)) {
      for (let n = 1 + rng.int(8); n > 0; n--) out.push(rng.int(256));
    } else {
      encodeRow(rng.chance(0.35) ? rng.pick(SYSTEM_SHAPES) : rng.pick(ALL_SHAPES), rng, long, out);
    }
  }
  return Uint8Array.from(out.slice(0, size));
}

function randomValue(rng: Rng, long: boolean): [number, number] {
  switch (rng.int(8)) {
    case 0: return [rng.int(FUZZ_RAM), 0];
    case 1: return [JUNK + rng.int(JUNK_SIZE), 0];
    case 2: return [rng.pick([0, 1, 0xffffffff, 0x80000000, 0x7fffffff, 0xf4, 0x3f8, 0xfee00000]), 0];
    case 6: {
      // Edges of guest memory: the last bytes of RAM, the LAPIC page, the top of the 32-bit space
      // (0xFFF00000.. would be ringvm's own state if a physical address ever went negative).
      const base = rng.pick([FUZZ_RAM - 8, 0xfee00000, 0xfff00000, 0xfffff000, 0xffffffff - 0xfff]);
      return [(base + rng.int(0x1000)) >>> 0, long && rng.chance(0.3) ? 0xffffffff : 0];
    }
    case 3: return [rng.next(), long && rng.chance(0.5) ? rng.pick([0xffffffff, 0x8000, rng.next()]) : 0];
    case 4: return [rng.int(0x10000), 0];
    default: return [rng.next(), 0];
  }
}

const desc = (base: number, limit20: number, access: number, flags: number): FlatDescriptor => ({ base, limit20, access, flags });
const K_CODE32 = desc(0, 0xfffff, 0x9b, 0xc);
const K_DATA = desc(0, 0xfffff, 0x93, 0xc);
const U_CODE32 = desc(0, 0xfffff, 0xfb, 0xc);
const U_DATA = desc(0, 0xfffff, 0xf3, 0xc);
const K_CODE64 = desc(0, 0xfffff, 0x9b, 0xa);
const U_CODE64 = desc(0, 0xfffff, 0xfb, 0xa);

function w32(m: Machine, pa: number, v: number): void {
  m.phys.write32(pa, v >>> 0);
}

/** Writes GDT, TSS, IDT, page tables and the initial CPU state for `setting`. */
function setUp(m: Machine, rng: Rng, setting: Setting): void {
  const v = m.views;
  const long = setting.startsWith('long');
  const user = setting.endsWith('-u');
  // GDT: null, 08 k-code32, 10 k-data, 18 u-code32, 20 u-data, 28 k-code64, 30 u-code64, 38 TSS (16 bytes)
  const gdt: (FlatDescriptor | null)[] = [null, K_CODE32, K_DATA, U_CODE32, U_DATA, K_CODE64, U_CODE64];
  gdt.forEach((d, i) => {
    const [lo, hi] = d === null ? [0, 0] : encodeDescriptor(d);
    w32(m, GDT + i * 8, lo);
    w32(m, GDT + i * 8 + 4, hi);
  });
  const tss = desc(TSS, 0x67, 0x8b, 0);
  const [tlo, thi] = encodeDescriptor(tss);
  w32(m, GDT + 0x38, tlo);
  w32(m, GDT + 0x3c, thi);
  w32(m, GDT + 0x40, 0);
  w32(m, GDT + 0x44, 0);
  // TSS: ESP0/SS0 (32-bit) or RSP0 (64-bit); I/O map base past the limit (no port allowed)
  w32(m, TSS + 4, KSTACK);
  w32(m, TSS + 8, long ? 0 : 0x10);
  w32(m, TSS + 0x64, 0x68 << 16);

  // Handlers: HLTs, IRETs (the faulting instruction runs again until the budget), or random code.
  const style = rng.int(3);
  let handlers: Uint8Array;
  if (style === 0) handlers = new Uint8Array(0x1000).fill(0xf4);
  else if (style === 1) handlers = new Uint8Array(0x1000).map((_, i) => (long ? ((i & 1) === 0 ? 0x48 : 0xcf) : 0xcf));
  else handlers = genCode(rng, 0x1000, long);
  m.phys.writeBytes(HANDLERS, handlers);

  if (setting === 'real') {
    for (let vec = 0; vec < 256; vec++) w32(m, IDT + vec * 4, ((HANDLERS >>> 4) << 16) | (vec * 16));
    const realSeg = (s: number, sel: number) => {
      const o = segOffset(s);
      v.u32[(o + SEG_SELECTOR) >>> 2] = sel;
      v.setNum(o + SEG_BASE, sel << 4);
      v.u32[(o + SEG_LIMIT) >>> 2] = 0xffff;
      v.u32[(o + SEG_ATTR) >>> 2] = s === SEG_CS ? 0x9b : 0x93;
    };
    realSeg(SEG_CS, CODE >>> 4);
    for (const s of [SEG_DS, SEG_ES, SEG_SS, SEG_FS, SEG_GS]) realSeg(s, rng.chance(0.5) ? 0 : rng.int(0x4000));
    realSeg(SEG_SS, 0);
    v.setNum(OFF_RIP, 0);
    v.set64(gprOffset(REG_RSP), KSTACK, 0);
    v.u32[OFF_MODE >>> 2] = MODE_REAL;
    v.setNum(OFF_IDTR_BASE, IDT);
    v.u32[OFF_IDTR_LIMIT >>> 2] = 0x3ff;
    return;
  }

  // Protected or long mode IDT: present gates (DPL 0 or 3, some not present) to the handlers.
  for (let vec = 0; vec < 256; vec++) {
    const target = HANDLERS + vec * 16;
    const dpl = rng.chance(0.5) ? 3 : 0;
    const type = rng.chance(0.8) ? 0xe : 0xf;
    const present = rng.chance(0.95) ? 0x80 : 0;
    const sel = long ? 0x28 : 0x08;
    const lo = (target & 0xffff) | (sel << 16);
    const hi = (target & 0xffff0000) | ((present | (dpl << 5) | type) << 8);
    const stride = long ? 16 : 8;
    w32(m, IDT + vec * stride, lo);
    w32(m, IDT + vec * stride + 4, hi);
    if (long) {
      w32(m, IDT + vec * stride + 8, 0);
      w32(m, IDT + vec * stride + 12, 0);
    }
  }
  v.setNum(OFF_IDTR_BASE, IDT);
  v.u32[OFF_IDTR_LIMIT >>> 2] = (long ? 16 : 8) * 256 - 1;
  v.setNum(OFF_GDTR_BASE, GDT);
  v.u32[OFF_GDTR_LIMIT >>> 2] = 0x47;
  setSegment(v, SEG_TR, 0x38, tss);

  if (long) {
    // Identity map of the first GiB with 2 MiB user pages.
    w32(m, PML4, 0x2000 | 7);
    w32(m, 0x2000, 0x3000 | 7);
    for (let i = 0; i < 512; i++) w32(m, 0x3000 + i * 8, (i << 21) | 0x87);
    v.set64(OFF_CR0, (CR0_PE | CR0_ET | CR0_PG) >>> 0, 0);
    v.set64(OFF_CR3, PML4, 0);
    v.set64(OFF_CR4, CR4_PAE, 0);
    v.set64(OFF_EFER, EFER_LME | EFER_LMA | (rng.chance(0.5) ? EFER_SCE : 0) | (rng.chance(0.5) ? EFER_NXE : 0), 0);
  } else {
    v.set64(OFF_CR0, CR0_PE | CR0_ET, 0);
  }
  const code = long ? (user ? U_CODE64 : K_CODE64) : (user ? U_CODE32 : K_CODE32);
  const data = user ? U_DATA : K_DATA;
  setSegment(v, SEG_CS, long ? (user ? 0x33 : 0x28) : (user ? 0x1b : 0x08), code);
  for (const s of [SEG_DS, SEG_ES, SEG_SS, SEG_FS, SEG_GS]) setSegment(v, s, user ? 0x23 : 0x10, data);
  v.u32[OFF_CPL >>> 2] = user ? 3 : 0;
  v.setNum(OFF_RIP, CODE);
  v.set64(gprOffset(REG_RSP), user ? USTACK : KSTACK, 0);
  v.set64(OFF_MSR_STAR, 0, (0x1b << 16) | 0x08);
  v.setNum(OFF_MSR_LSTAR, HANDLERS + 0x800);
  v.setNum(OFF_MSR_SYSENTER_CS, 0x08);
  v.setNum(OFF_MSR_SYSENTER_ESP, KSTACK);
  v.setNum(OFF_MSR_SYSENTER_EIP, HANDLERS + 0x900);
  updateMode(m.ctx);
}

/** Canary regions: ringvm's own memory below guest RAM that no guest action may write. */
function canaryRegions(): [number, number, boolean][] {
  return [
    // [start, end, zero?]: the CPU block past its defined fields, the TLB past its entries,
    // the code bitmap bytes of pages beyond RAM (these must stay zero: nothing there is code)
    [CPU_BASE + 0x2000, CPU_BASE + CPU_SIZE, false],
    [TLB_BASE + TLB_USED_BYTES, TLB_BASE + TLB_SIZE, false],
    [CODE_BITMAP_BASE + (FUZZ_RAM >>> 15), CODE_BITMAP_BASE + CODE_BITMAP_SIZE, true],
  ];
}
const CANARIES = canaryRegions().map(([start, end, zero]) => {
  const t = new Uint8Array(end - start);
  if (!zero) for (let i = 0; i < t.length; i++) t[i] = ((start + i) * 0x9d + 0x5a) & 0xff;
  return { start, t };
});

function plantCanaries(m: Machine): void {
  for (const c of CANARIES) m.views.u8.set(c.t, c.start);
}

function checkCanaries(m: Machine): string {
  const u8 = m.views.u8;
  for (const c of CANARIES) {
    const got = Buffer.from(u8.buffer, u8.byteOffset + c.start, c.t.length);
    if (got.equals(c.t)) continue;
    for (let i = 0; i < c.t.length; i++) if (got[i] !== c.t[i]) return `host state at 0x${(c.start + i).toString(16)} overwritten`;
  }
  if (m.memory.buffer.byteLength !== RAM_BASE + FUZZ_RAM) return 'memory size changed';
  return '';
}

export interface CaseResult {
  seed: number;
  setting: Setting;
  engine: 'interp' | 'dbt';
  /** '' when the case passed, else what went wrong. */
  failure: string;
  stop: StopInfo | null;
  ms: number;
}

export interface CaseOptions {
  engine: 'interp' | 'dbt';
  budget?: number;
  /** A run longer than this (wall ms) is a failure: the budget must bound the time. */
  maxMs?: number;
  /** A directed case: this setting, this code at the entry point (org CODE), these registers. */
  setting?: Setting;
  code?: Uint8Array;
  regs?: [number, number, number][]; // [register, lo, hi]
  /** --sensitive policy (0 emulate, 1 leak, 2 umip) and the translator's --tc-index. */
  policy?: number;
  tcIndex?: 'phys' | 'virt' | 'virt-noflush';
  /** Damaged paging structures and odd descriptors after the set-up (oddities.ts). */
  oddities?: boolean;
  /** A directed case: translate CPL 0 code too (the translator's kernelExec 'dbt'). */
  kernelDbt?: boolean;
  /** Run under --trace exec,int (the disassembler and the interrupt log see the random code). */
  trace?: boolean;
  /** RFLAGS instead of random flags (a directed case wants IF and TF clear). */
  rflags?: number;
  /** Called with the machine after its run (engine statistics, inspection). */
  onMachine?: (m: Machine) => void;
}

/** Builds and runs one case; never throws. */
export async function runCase(seed: number, opts: CaseOptions): Promise<CaseResult> {
  const rng = new Rng(seed);
  const drawn = SETTINGS[rng.int(SETTINGS.length)];
  const setting = opts.setting ?? drawn;
  const t0 = performance.now();
  const res: CaseResult = { seed, setting, engine: opts.engine, failure: '', stop: null, ms: 0 };
  let traced = 0;
  try {
    const long = setting.startsWith('long');
    const m = new Machine({
      ramSize: FUZZ_RAM, serialSink: () => {}, debugconSink: () => {}, maxInsns: opts.budget ?? 20_000,
      ips: 100_000_000, rtcStart: 0,
      engine: { engine: opts.engine, dbt: { threshold: 1 + rng.int(3), kernelExec: rng.chance(0.5) || opts.kernelDbt === true ? 'dbt' : 'sim', tcIndex: opts.tcIndex } },
      trace: opts.trace ? { opts: { exec: true, int: true }, out: (line) => { traced += line.length; } } : undefined,
    });
    plantCanaries(m);
    if (opts.policy !== undefined) m.ctx.policy = opts.policy;
    setUp(m, rng, setting);
    const code = genCode(rng, CODE_SIZE, long);
    if (opts.code) code.set(opts.code);
    m.phys.writeBytes(CODE, code);
    const junk = new Uint8Array(JUNK_SIZE);
    for (let i = 0; i < JUNK_SIZE; i += 4) {
      const x = rng.next();
      junk[i] = x; junk[i + 1] = x >>> 8; junk[i + 2] = x >>> 16; junk[i + 3] = x >>> 24;
    }
    m.phys.writeBytes(JUNK, junk);
    for (let r = 0; r < 16; r++) {
      if (r === REG_RSP) continue;
      const [lo, hi] = randomValue(rng, long);
      m.views.set64(gprOffset(r), lo, hi);
    }
    for (const [r, lo, hi] of opts.regs ?? []) m.views.set64(gprOffset(r), lo, hi);
    let fl = FLAG_FIXED1;
    for (const f of [FLAG_CF, FLAG_PF, FLAG_AF, FLAG_ZF, FLAG_SF, FLAG_OF, FLAG_DF, FLAG_IF]) if (rng.chance(0.5)) fl |= f;
    if (rng.chance(0.05)) fl |= FLAG_TF;
    if (rng.chance(0.2)) fl |= rng.int(4) << 12;
    m.views.set64(OFF_RFLAGS, opts.rflags ?? fl, 0);
    // from a stream of their own: the case keeps its seed's code, registers and flags
    if (opts.oddities === true) addOddities(m, new Rng(seed ^ 0x6a09e667), setting, LAYOUT);
    res.stop = await m.run();
    if (opts.onMachine) opts.onMachine(m);
    if (![0, 3, 4, 5].includes(res.stop.status) && !(res.stop.status & 1 && res.stop.status < 512)) {
      res.failure = `unexpected stop status ${res.stop.status}: ${res.stop.reason}`;
    }
    if (res.failure === '') res.failure = checkCanaries(m);
    if (res.failure === '' && opts.trace && traced === 0) res.failure = 'trace printed nothing';
  } catch (e) {
    res.failure = `host exception: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
  }
  res.ms = performance.now() - t0;
  if (res.failure === '' && opts.maxMs !== undefined && res.ms > opts.maxMs) res.failure = `took ${res.ms.toFixed(0)} ms`;
  return res;
}
