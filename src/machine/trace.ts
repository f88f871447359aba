/**
 * `--trace exec,int`: what the guest does, one line per event, in the spirit of QEMU's `-d`.
 *
 *   exec  every instruction before it executes: instruction count, CS:RIP, bytes, disassembly
 *   int   every interrupt and exception delivered: vector, name, where it was taken, CR2 for #PF
 *
 * Tracing wraps the engine and steps it one instruction at a time, so the hot loop carries no
 * tracing code at all; a traced run is slow and otherwise identical to an untraced one. The
 * instruction bytes are read through the MMU as the CPU's own fetch would (never past the page
 * unless the instruction continues there), and any fault from that read is discarded.
 */
import { DEC_NEED_MORE, DEC_OK, Decoded } from '../cpu/decoded.js';
import { decode } from '../cpu/decoder.js';
import { disassemble } from '../cpu/disasm.js';
import { VECTOR_NAMES } from '../cpu/fault.js';
import {
  MODE_LONG64, MODE_PROT32, OFF_CPL, OFF_EXIT_REQUEST, OFF_HALTED, OFF_CR2, OFF_INSN_COUNT, OFF_LAST_VECTOR, OFF_MODE, OFF_RIP, SEG_BASE,
  SEG_CS, SEG_SELECTOR, segOffset,
} from '../cpu/state.js';
import { canonical } from '../mmu/mmu.js';
import type { SystemContext } from '../system/context.js';
import { hex, hex64 } from './dump.js';
import { ENGINE_EXIT_REQUEST, ENGINE_LIMIT, type Engine } from './engine.js';

export const TRACE_EVENTS = ['exec', 'int', 'in_asm', 'out_asm', 'block', 'tc', 'nochain'] as const;

/**
 * exec and int come from stepping the engine (this file); in_asm (guest code of each translated
 * region), out_asm (its wasm as text), block (each translated block entered) and tc (translations,
 * invalidations, flushes) come from the translator itself (dbt/engine.ts), with --engine dbt.
 * nochain (as QEMU's `-d nochain`) turns the translator's links and chains off, so every block
 * returns to the run loop and `block` shows each one (slower; the guest sees no difference).
 */
export interface TraceOptions {
  exec: boolean;
  int: boolean;
  in_asm?: boolean;
  out_asm?: boolean;
  block?: boolean;
  tc?: boolean;
  nochain?: boolean;
}

export function parseTrace(text: string): TraceOptions {
  const opts: TraceOptions = { exec: false, int: false, in_asm: false, out_asm: false, block: false, tc: false, nochain: false };
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(TRACE_EVENTS as readonly string[]).includes(item)) {
      throw new Error(`unknown trace event '${item}' (known: ${TRACE_EVENTS.join(', ')})`);
    }
    opts[item as keyof TraceOptions] = true;
  }
  return opts;
}

/** The translator's trace callback for the translator events asked for, or undefined. */
export function translatorTrace(
  opts: TraceOptions,
  out: (line: string) => void,
): ((kind: 'in_asm' | 'out_asm' | 'exec' | 'tc', line: string) => void) | undefined {
  if (!opts.in_asm && !opts.out_asm && !opts.block && !opts.tc) return undefined;
  return (kind, line) => {
    if ((kind === 'exec' && opts.block === true) || (kind !== 'exec' && opts[kind] === true)) out(line);
  };
}


export class TraceEngine implements Engine {
  private readonly bytes = new Uint8Array(16);
  private readonly decoded = new Decoded();
  private readonly lastCounts = new Float64Array(256);

  constructor(
    private readonly inner: Engine,
    private readonly ctx: SystemContext,
    private readonly opts: TraceOptions,
    private readonly out: (line: string) => void,
  ) {
    this.lastCounts.set(ctx.vectorCounts);
  }

  run(stopAt: number): number {
    const v = this.ctx.views;
    for (;;) {
      const now = v.getNum(OFF_INSN_COUNT);
      if (now >= stopAt) return ENGINE_LIMIT;
      // A pending stop or a halted CPU executes nothing: don't print an instruction that won't run.
      if (v.u32[OFF_EXIT_REQUEST >>> 2] !== 0) return ENGINE_EXIT_REQUEST;
      if (this.opts.exec && v.u32[OFF_HALTED >>> 2] === 0) this.out(this.describeNext(now));
      const r = this.inner.run(now + 1);
      if (this.opts.int) this.reportDeliveries(now);
      if (r !== ENGINE_LIMIT) return r;
    }
  }

  invalidatePage(page: number): void {
    this.inner.invalidatePage(page);
  }

  stats(): Record<string, number> {
    return this.inner.stats();
  }

  private bitness(): number {
    const mode = this.ctx.views.u32[OFF_MODE >>> 2];
    return mode === MODE_LONG64 ? 64 : mode === MODE_PROT32 ? 32 : 16;
  }

  private describeNext(count: number): string {
    const v = this.ctx.views;
    const cs = segOffset(SEG_CS);
    const bits = this.bitness();
    const ripLo = v.lo(OFF_RIP);
    const rip = bits === 64 ? canonical(ripLo, v.hi(OFF_RIP)) : ripLo;
    const base = bits === 64 ? 0 : v.lo(cs + SEG_BASE);
    const lin = bits === 64 ? rip : (base + rip) >>> 0;
    const where = `${hex(v.u32[(cs + SEG_SELECTOR) >>> 2], 4)}:${bits === 64 ? hex64(v, OFF_RIP) : hex(ripLo, 8)}`;
    const n = this.fetch(lin, bits);
    const d = this.decoded;
    const head = `[${count}] ${where}`;
    if (n === 0) return `${head}  (instruction not readable)`;
    if (d.status !== DEC_OK) return `${head}  ${this.hexBytes(Math.min(n, 15))}  (invalid)`;
    const text = disassemble(d, bits, BigInt.asUintN(64, BigInt(rip)));
    return `${head}  ${this.hexBytes(d.length).padEnd(30)} ${text}`;
  }

  /** Reads instruction bytes at `lin` until they decode; returns how many were readable. */
  private fetch(lin: number, bits: number): number {
    const mmu = this.ctx.mmu;
    const user = this.ctx.views.u32[OFF_CPL >>> 2] === 3;
    const savedFault = mmu.fault;
    let n = 0;
    // First the bytes up to the end of this page, then more only if the decoder asks.
    let limit = Math.min(15, 4096 - (lin & 0xfff));
    for (;;) {
      while (n < limit) {
        const b = mmu.fetch8(lin + n, user);
        if (mmu.fault !== 0) break;
        this.bytes[n++] = b;
      }
      const faulted = mmu.fault !== 0;
      mmu.fault = savedFault;
      if (n === 0) return 0;
      decode(this.bytes, 0, n, bits, this.decoded);
      if (this.decoded.status !== DEC_NEED_MORE || faulted || limit >= 15) return n;
      limit = 15;
    }
  }

  private hexBytes(n: number): string {
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(hex(this.bytes[i], 2));
    return parts.join(' ');
  }

  private reportDeliveries(count: number): void {
    const counts = this.ctx.vectorCounts;
    const v = this.ctx.views;
    for (let vec = 0; vec < 256; vec++) {
      if (counts[vec] === this.lastCounts[vec]) continue;
      const times = counts[vec] - this.lastCounts[vec];
      this.lastCounts[vec] = counts[vec];
      const name = vec < VECTOR_NAMES.length ? ` ${VECTOR_NAMES[vec]}` : '';
      const cr2 = vec === 14 ? ` CR2=${hex64(v, OFF_CR2)}` : '';
      const handler = `${hex(v.u32[(segOffset(SEG_CS) + SEG_SELECTOR) >>> 2], 4)}:${hex64(v, OFF_RIP)}`;
      const last = v.u32[OFF_LAST_VECTOR >>> 2] === vec ? '' : ' (nested)';
      this.out(`[${count}] interrupt vector 0x${hex(vec, 2)}${name}${times > 1 ? ` x${times}` : ''}${cr2} -> handler ${handler}${last}`);
    }
  }
}
