/**
 * `--lockstep`: the translator checked against the interpreter while it runs (issue 6). A second
 * Machine, the *reference*, holds the same image and runs the interpreter alone. After every block
 * the translator ran (DbtOptions.onBlock, which also keeps blocks unlinked so control comes back
 * after each one) the reference is stepped to the same instruction count, its timers fired where
 * the DUT's run loop fires them (after each engine run, and from deadline to deadline while
 * halted), so both see the same device inputs; then the user-visible CPU state is compared: general registers, RIP, RFLAGS,
 * segment registers, descriptor-table and control registers, MSRs, XMM, CPL, mode, the halted and
 * interrupt-shadow words, the instruction count, and the serial output so far. Guest RAM is
 * compared as a whole every `memEvery` instructions, when a register differs and at the end (a
 * full compare per block would cost more than the run); a memory difference is reported with the
 * window of instructions it appeared in.
 *
 * The first divergence stops the run (requestStop, STATUS_DIVERGENCE) with a report: which fields
 * differ, the block's guest code disassembled, and both register dumps, plus the registers at the
 * block's entry. The block's entry RIP and length come from the translator's 'exec' trace event.
 * Lockstep compiles synchronously (tcSync), so hot blocks run translated at once and a rerun stops
 * at the same place. State is compared only at block boundaries: a difference made by the
 * interpreter steps the translator takes between blocks shows at the next boundary.
 */
import { DEC_OK, Decoded } from '../cpu/decoded.js';
import { decode } from '../cpu/decoder.js';
import { disassemble } from '../cpu/disasm.js';
import { getFlags } from '../cpu/flags.js';
import {
  ATTR_L, GPR_NAMES64, MODE_LONG64, MODE_PROT32, MODE_REAL, MODE_VM86, OFF_CPL, OFF_EXIT_REQUEST, OFF_GDTR_BASE,
  OFF_HALTED, OFF_INSN_COUNT, OFF_INT_SHADOW, OFF_LAST_VECTOR, OFF_MODE, OFF_MSR_STAR, OFF_RIP,
  OFF_XMM, RAM_BASE, SEG_ATTR, SEG_BASE, SEG_CS, SEG_LIMIT, SEG_NAMES, SEG_SELECTOR, gprOffset, segOffset, type StateViews,
} from '../cpu/state.js';
import type { DbtOptions } from '../dbt/engine.js';
import { ACCESS_FETCH } from '../mmu/mmu.js';
import { hex, registerDump } from './dump.js';
import { ENGINE_TRIPLE_FAULT, ENGINE_UNSUPPORTED } from './engine.js';
import { Machine, type MachineOptions } from './machine.js';

/** Exit status of a run stopped by a lockstep divergence (distinct from the others, and even). */
export const STATUS_DIVERGENCE = 6;

/** Instructions between whole-RAM comparisons. */
export const MEM_EVERY = 1 << 22;

type TraceFn = NonNullable<DbtOptions['trace']>;

/** One compared field: a name, its offset in the CPU block and its size in bytes. */
interface Field {
  name: string;
  off: number;
  size: number;
}

function fields(): Field[] {
  const f: Field[] = [];
  for (let r = 0; r < 16; r++) f.push({ name: GPR_NAMES64[r], off: gprOffset(r), size: 8 });
  f.push({ name: 'rip', off: OFF_RIP, size: 8 });
  for (let s = 0; s < 8; s++) {
    const o = segOffset(s);
    f.push({ name: `${SEG_NAMES[s]}.sel`, off: o + SEG_SELECTOR, size: 4 }, { name: `${SEG_NAMES[s]}.base`, off: o + SEG_BASE, size: 8 },
      { name: `${SEG_NAMES[s]}.limit`, off: o + SEG_LIMIT, size: 4 }, { name: `${SEG_NAMES[s]}.attr`, off: o + SEG_ATTR, size: 4 });
  }
  // GDTR .. EFER, XCR0 and the debug registers: 0x200 .. 0x2a0
  const sys = ['gdtr.base', 'gdtr.limit', 'idtr.base', 'idtr.limit', 'cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer', 'xcr0'];
  sys.forEach((name, i) => f.push({ name, off: OFF_GDTR_BASE + i * 8, size: name.endsWith('limit') ? 4 : 8 }));
  for (let d = 0; d < 8; d++) f.push({ name: `dr${d}`, off: 0x258 + d * 8, size: 8 });
  f.push({ name: 'cpl', off: OFF_CPL, size: 4 }, { name: 'mode', off: OFF_MODE, size: 4 }, { name: 'halted', off: OFF_HALTED, size: 4 },
    { name: 'interrupt shadow', off: OFF_INT_SHADOW, size: 4 }, { name: 'last vector', off: OFF_LAST_VECTOR, size: 4 });
  const msrs = ['star', 'lstar', 'cstar', 'sfmask', 'kernel_gs_base', 'sysenter_cs', 'sysenter_esp', 'sysenter_eip', 'tsc_offset', 'apic_base', 'pat', 'tsc_aux'];
  msrs.forEach((name, i) => f.push({ name: `msr.${name}`, off: OFF_MSR_STAR + i * 8, size: 8 }));
  for (let x = 0; x < 16; x++) {
    f.push({ name: `xmm${x}.lo`, off: OFF_XMM + x * 16, size: 8 }, { name: `xmm${x}.hi`, off: OFF_XMM + x * 16 + 8, size: 8 });
  }
  return f;
}

const FIELDS = fields();
const CPU_SNAPSHOT = 0x600;

function fieldValue(v: StateViews, f: Field): string {
  return f.size === 8 ? v.hi(f.off).toString(16).padStart(8, '0') + v.lo(f.off).toString(16).padStart(8, '0') : hex(v.u32[f.off >>> 2], 8);
}

export interface LockstepResult {
  /** Block boundaries compared. */
  boundaries: number;
  /** Whole-RAM comparisons made. */
  memChecks: number;
  /** The first divergence report, or null. */
  divergence: string | null;
}

/**
 * The machine to run (`opts`, its translator options merged with the lockstep hooks, COM1 tapped)
 * and its reference (the interpreter alone, code invalidation always on, no trace, no debug
 * console), both prepared by `load` (the image, the sensitive-instruction policy ...). Console
 * input given to the returned machine reaches the reference at the same instruction count.
 */
export function lockstepPair(
  opts: MachineOptions,
  load: (m: Machine) => void,
  userTrace?: TraceFn,
  memEvery = MEM_EVERY,
): { machine: Machine; lockstep: Lockstep } {
  const refSerial: number[] = [];
  const ref = new Machine({
    ramSize: opts.ramSize, serialSink: (b) => refSerial.push(b), debugconSink: () => {}, maxInsns: opts.maxInsns, ips: opts.ips,
    rtcStart: opts.rtcStart, engine: { engine: 'interp' },
  });
  load(ref);
  const lockstep = new Lockstep(ref, refSerial, userTrace, memEvery);
  const engine = { ...opts.engine, dbt: { ...opts.engine?.dbt, ...lockstep.hooks() } };
  const machine = new Machine({ ...opts, engine, serialSink: lockstep.serialTap(opts.serialSink) });
  load(machine);
  lockstep.attach(machine);
  const input = machine.input.bind(machine);
  machine.input = (b) => {
    lockstep.input(b);
    input(b);
  };
  return { machine, lockstep };
}

export class Lockstep {
  private dut: Machine | null = null;
  private boundaries = 0;
  private memChecks = 0;
  private lastMemCount = 0;
  private lastGoodCount = 0;
  private divergence: string | null = null;
  private entryRip = 0;
  private entryN = 0;
  private readonly entry = new Uint8Array(CPU_SNAPSHOT);
  private readonly dutSerial: number[] = [];
  private readonly refSerial: number[];
  private serialChecked = 0;
  private readonly d = new Decoded();

  /**
   * `ref`: a Machine with the interpreter engine and the same image loaded; `refSerial` receives
   * its COM1 bytes (its serialSink pushes there). `userTrace`: the translator trace events asked
   * for with --trace, still delivered.
   */
  constructor(
    private readonly ref: Machine,
    refSerial: number[],
    private readonly userTrace?: TraceFn,
    private readonly memEvery = MEM_EVERY,
  ) {
    this.refSerial = refSerial;
  }

  /** The translator options that drive the checks; merge into the DUT's DbtOptions. */
  hooks(): Pick<DbtOptions, 'onBlock' | 'trace' | 'tcSync'> {
    return {
      // synchronous compiles: blocks run translated as soon as they are hot, so boundaries are
      // dense and a rerun stops at the same place
      tcSync: true,
      onBlock: (count) => this.check(count),
      trace: (kind, line) => {
        if (kind === 'exec') this.blockEntry(line);
        this.userTrace?.(kind, line);
      },
    };
  }

  /** A serial sink for the DUT that also records its bytes for the comparison. */
  serialTap(sink: (b: number) => void): (b: number) => void {
    return (b) => {
      this.dutSerial.push(b);
      sink(b);
    };
  }

  /** Starts checking `dut` (its engine was built with `hooks()`). */
  attach(dut: Machine): void {
    this.dut = dut;
    this.wrapEngine(dut);
  }

  /** Console input: the reference catches up to the DUT's instruction count, then both receive it. */
  input(bytes: ArrayLike<number>): void {
    if (this.dut !== null && this.divergence === null) this.stepRef(this.dut.instructions());
    this.ref.input(bytes);
  }

  /** After the run: the final comparison (whole RAM included). */
  finish(): LockstepResult {
    const dut = this.dut;
    if (dut !== null && this.divergence === null) {
      const now = dut.instructions();
      if (this.stepRef(now)) this.compare(now, true, 'end of run');
    }
    return { boundaries: this.boundaries, memChecks: this.memChecks, divergence: this.divergence };
  }

  private blockEntry(line: string): void {
    // "exec <rip hex> <n> insns ..."
    const parts = line.split(' ');
    this.entryRip = parseInt(parts[1], 16);
    this.entryN = parseInt(parts[2], 10);
    const dut = this.dut;
    if (dut !== null) this.entry.set(dut.views.u8.subarray(0, CPU_SNAPSHOT));
  }

  private check(count: number): void {
    if (this.divergence !== null || this.dut === null) return;
    this.boundaries++;
    if (!this.stepRef(count)) return;
    const mem = count - this.lastMemCount >= this.memEvery;
    this.compare(count, mem, `block at ${hex(this.entryRip)}`);
  }

  /**
   * The DUT's run loop fires timers after each engine run (and while halted, from deadline to
   * deadline): the reference must fire its timers at exactly those instruction counts, not at its
   * own deadlines, or a timer armed during a run (whose deadline the run loop did not know when
   * it chose the run's end) would fire earlier in the reference. So the DUT's engine runs are
   * wrapped: at their start the reference repeats the halted jumps the run loop made, at their end
   * it catches up and fires what is due. Between those points it only executes.
   */
  private wrapEngine(dut: Machine): void {
    const e = dut.engine;
    const run = e.run.bind(e);
    e.run = (stopAt: number): number => {
      this.runStart();
      const r = run(stopAt);
      this.runEnd();
      return r;
    };
  }

  private runStart(): void {
    const dut = this.dut;
    if (dut === null || this.divergence !== null) return;
    const ref = this.ref;
    const v = ref.views;
    const c = dut.instructions();
    // Machine.waitWhileHalted: jump to the next deadline, fire, wake on a pending interrupt
    while (v.u32[OFF_HALTED >>> 2] !== 0 && ref.instructions() < c) {
      ref.clock.advanceTo(Math.min(ref.clock.nextDeadline(), c));
      ref.clock.fireDue();
      if (ref.ctx.intc !== null && ref.ctx.intc.hasInterrupt()) v.u32[OFF_HALTED >>> 2] = 0;
    }
    if (v.u32[OFF_HALTED >>> 2] !== 0 && dut.views.u32[OFF_HALTED >>> 2] === 0 && ref.ctx.intc !== null && ref.ctx.intc.hasInterrupt()) {
      v.u32[OFF_HALTED >>> 2] = 0;
    }
    this.stepRef(c);
  }

  private runEnd(): void {
    const dut = this.dut;
    if (dut === null || this.divergence !== null) return;
    if (!this.stepRef(dut.instructions())) return;
    this.ref.views.u32[OFF_EXIT_REQUEST >>> 2] = 0;
    this.ref.clock.fireDue();
  }

  /**
   * Executes the reference up to `target` instructions, without firing timers (see wrapEngine).
   * False (and a divergence recorded) when it cannot get there.
   */
  private stepRef(target: number): boolean {
    const ref = this.ref;
    const v = ref.views;
    let stuck = 0;
    for (;;) {
      const now = ref.instructions();
      if (now >= target) return true;
      if (v.u32[OFF_HALTED >>> 2] !== 0) return this.diverged(`the interpreter halted at instruction ${now}; the translator went on to ${target}`);
      const r = ref.engine.run(target);
      v.u32[OFF_EXIT_REQUEST >>> 2] = 0;
      if (r === ENGINE_TRIPLE_FAULT || r === ENGINE_UNSUPPORTED) {
        return this.diverged(`the interpreter stopped (${r === ENGINE_TRIPLE_FAULT ? 'triple fault' : 'unsupported'}: ${ref.ctx.stopReason}) at instruction ${ref.instructions()}`);
      }
      stuck = ref.instructions() === now ? stuck + 1 : 0;
      if (stuck > 1000) return this.diverged(`the interpreter did not get past instruction ${now} (translator at ${target})`);
    }
  }

  private compare(count: number, withMem: boolean, where: string): void {
    const a = (this.dut as Machine).views;
    const b = this.ref.views;
    const diffs: string[] = [];
    // (inside a translator run the DUT's counter word is stale: `count` is its live value)
    if (count !== b.getNum(OFF_INSN_COUNT)) diffs.push(`instruction count: translator ${count}, interpreter ${b.getNum(OFF_INSN_COUNT)}`);
    const fa = getFlags(a.i32) >>> 0;
    const fb = getFlags(b.i32) >>> 0;
    if (fa !== fb) diffs.push(`rflags: translator ${hex(fa, 8)}, interpreter ${hex(fb, 8)}`);
    for (const f of FIELDS) {
      if (a.u32[f.off >>> 2] !== b.u32[f.off >>> 2] || (f.size === 8 && a.u32[(f.off >>> 2) + 1] !== b.u32[(f.off >>> 2) + 1])) {
        diffs.push(`${f.name}: translator ${fieldValue(a, f)}, interpreter ${fieldValue(b, f)}`);
      }
    }
    const sa = this.dutSerial;
    const sb = this.refSerial;
    const n = Math.min(sa.length, sb.length);
    for (let i = this.serialChecked; i < n; i++) {
      if (sa[i] !== sb[i]) {
        diffs.push(`serial output byte ${i}: translator ${hex(sa[i], 2)}, interpreter ${hex(sb[i], 2)}`);
        break;
      }
    }
    this.serialChecked = n;
    if (sa.length !== sb.length) diffs.push(`serial output length: translator ${sa.length}, interpreter ${sb.length}`);
    if (withMem || diffs.length > 0) {
      const m = this.memDiff();
      if (m !== '') diffs.push(`${m} (appeared after instruction ${this.lastMemCount}, the last whole-RAM match)`);
      else this.lastMemCount = count;
    }
    if (diffs.length === 0) {
      this.lastGoodCount = count;
      return;
    }
    // the translator keeps its count in a local while it runs: publish it for the dump (it
    // writes the same value back when it returns)
    (this.dut as Machine).views.setNum(OFF_INSN_COUNT, count);
    this.diverged(`after the ${where} (${this.entryN} instructions), instruction count ${count}:\n  ${diffs.join('\n  ')}\n` + this.context());
  }

  /** '' when guest RAM is identical, else the first differing physical address. */
  private memDiff(): string {
    this.memChecks++;
    const a = (this.dut as Machine).views.u8;
    const b = this.ref.views.u8;
    const size = (this.dut as Machine).phys.ramSize;
    const ba = Buffer.from(a.buffer, a.byteOffset + RAM_BASE, size);
    const bb = Buffer.from(b.buffer, b.byteOffset + RAM_BASE, size);
    if (ba.equals(bb)) return '';
    // the first differing page, then byte
    for (let p = 0; p < size; p += 4096) {
      if (ba.subarray(p, p + 4096).equals(bb.subarray(p, p + 4096))) continue;
      for (let i = p; i < p + 4096; i++) {
        if (ba[i] !== bb[i]) return `memory at physical ${hex(i)}: translator ${hex(ba[i], 2)}, interpreter ${hex(bb[i], 2)}`;
      }
    }
    return 'memory differs';
  }

  /** The block's guest code, both register dumps and the registers at the block's entry. */
  private context(): string {
    const dut = this.dut as Machine;
    const v = dut.views;
    const lines: string[] = [];
    const mode = new Uint32Array(this.entry.buffer, OFF_MODE, 1)[0];
    const csAttr = new Uint32Array(this.entry.buffer, segOffset(SEG_CS) + SEG_ATTR, 1)[0];
    const csBase = new Uint32Array(this.entry.buffer, segOffset(SEG_CS) + SEG_BASE, 1)[0];
    const bits = mode === MODE_LONG64 && (csAttr & ATTR_L) !== 0 ? 64 : mode === MODE_PROT32 ? 32 : mode === MODE_REAL || mode === MODE_VM86 ? 16 : 32;
    const user = new Uint32Array(this.entry.buffer, OFF_CPL, 1)[0] === 3;
    lines.push(`guest code of the block (${bits}-bit, entered at ${hex(this.entryRip)}; as in memory now):`);
    let rip = this.entryRip;
    for (let i = 0; i < Math.max(1, this.entryN) && i < 64; i++) {
      const lin = bits === 64 ? rip : (csBase + rip) >>> 0;
      const pa = dut.mmu.translate(lin, ACCESS_FETCH, user);
      dut.mmu.fault = 0;
      if (pa < 0 || !dut.phys.isRam(pa, 1)) {
        lines.push(`  ${hex(rip)}  (not readable)`);
        break;
      }
      const end = Math.min(pa + 15, dut.phys.ramSize);
      const bytes = dut.phys.readBytes(pa, end - pa);
      decode(bytes, 0, bytes.length, bits, this.d);
      if (this.d.status !== DEC_OK) {
        lines.push(`  ${hex(rip)}  (does not decode)`);
        break;
      }
      const len = this.d.length;
      const text = disassemble(this.d, bits, BigInt.asUintN(64, BigInt(rip)));
      lines.push(`  ${hex(rip)}  ${Array.from(bytes.subarray(0, len), (x) => hex(x, 2)).join(' ').padEnd(30)} ${text}`);
      rip += len;
    }
    lines.push('translator state:', registerDump(v), 'interpreter state:', registerDump(this.ref.views));
    const e = this.entry;
    const ev = new DataView(e.buffer);
    const q = (off: number): string => ev.getUint32(off + 4, true).toString(16).padStart(8, '0') + ev.getUint32(off, true).toString(16).padStart(8, '0');
    const regs: string[] = [];
    for (let r = 0; r < 16; r++) regs.push(`${GPR_NAMES64[r].toUpperCase()}=${q(gprOffset(r))}`);
    lines.push(`registers at the block's entry (RIP=${q(OFF_RIP)}; the last matching boundary was at instruction ${this.lastGoodCount}):`);
    for (let r = 0; r < 16; r += 4) lines.push(regs.slice(r, r + 4).join(' '));
    return lines.join('\n');
  }

  private diverged(text: string): false {
    if (this.divergence === null) {
      this.divergence = `lockstep: first divergence between the translator and the interpreter ${text}`;
      this.dut?.requestStop('lockstep divergence', STATUS_DIVERGENCE);
    }
    return false;
  }
}
