/**
 * The demonstrations' shared runner: boots a guest image in-process (no child process, so a demo
 * can inspect the machine during and after the run), collects COM1 output in a buffer and returns
 * it with the stop reason, the instruction count, the wall time and the engine's counters. Each
 * demo (demo-virt.ts, demo-tc.ts, demo-smc.ts) builds its experiment from a few such runs.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadImage } from '../boot/load.js';
import type { DbtOptions } from '../dbt/engine.js';
import { DEFAULT_IPS, FIXED_RTC_START } from '../machine/clock.js';
import { Machine, type StopInfo } from '../machine/machine.js';
import { POLICY_EMULATE } from '../system/context.js';

/** The committed 64-bit teaching kernel (docs/tinyos.md), found from this file, whatever the cwd. */
export const TINYOS_IMAGE = fileURLToPath(new URL('../../guest-images/tinyos.bin', import.meta.url));

/** A run that is not done after this many instructions has gone wrong (tinyos's tour is ~32 M). */
const MAX_INSNS = 200_000_000;

export interface DemoRunOptions {
  image?: string;
  /** Raw image bytes instead of a file (the tiny probes demo-virt.ts assembles itself). */
  bytes?: Uint8Array;
  append: string;
  policy?: number;
  engine?: 'interp' | 'dbt';
  dbt?: DbtOptions;
  maxInsns?: number;
  /** false: stores to code pages do not invalidate (the machine's --no-smc-check). */
  smcCheck?: boolean;
  /** Called after the image is loaded and before the run: the demo's hooks go here. */
  prepare?: (m: Machine, output: () => string) => void;
}

export interface DemoRun {
  machine: Machine;
  output: string;
  stop: StopInfo;
  instructions: number;
  wallSeconds: number;
  engine: Record<string, number>;
}

export async function runDemoGuest(o: DemoRunOptions): Promise<DemoRun> {
  const bytes = o.bytes ?? readFileSync(o.image ?? TINYOS_IMAGE);
  const out: number[] = [];
  const machine = new Machine({
    ramSize: 128 << 20,
    serialSink: (b) => out.push(b),
    debugconSink: () => {},
    maxInsns: o.maxInsns ?? MAX_INSNS,
    ips: DEFAULT_IPS,
    rtcStart: FIXED_RTC_START,
    engine: { engine: o.engine ?? 'dbt', dbt: o.dbt ?? {} },
    smcCheck: o.smcCheck,
  });
  machine.ctx.policy = o.policy ?? POLICY_EMULATE;
  loadImage(bytes, machine, { cmdline: o.append, imageName: o.bytes !== undefined ? 'probe.bin' : basename(o.image ?? TINYOS_IMAGE), modules: [] });
  const output = (): string => Buffer.from(out).toString('latin1');
  o.prepare?.(machine, output);
  const t0 = performance.now();
  const stop = await machine.run();
  const wallSeconds = (performance.now() - t0) / 1000;
  return { machine, output: output(), stop, instructions: machine.instructions(), wallSeconds, engine: machine.engineStats() };
}

/** A plain-text table: columns padded to their widest cell, a rule under the header. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The same table in Markdown, for the docs. */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
