/**
 * `--stats`: what happened inside a run, gathered from the counters each part keeps anyway
 * (no per-instruction cost), printed as a table for people or as JSON for tools.
 */
import { VECTOR_NAMES } from '../cpu/fault.js';
import type { Machine, StopInfo } from './machine.js';

export interface RunStats {
  stop: { reason: string; status: number };
  guestInstructions: number;
  wallSeconds: number;
  guestMips: number;
  engine: Record<string, number>;
  vectors: Record<string, number>;
  devices: Record<string, number>;
  ports: Record<string, number>;
}

const vectorName = (v: number): string => (v < VECTOR_NAMES.length ? `${v} ${VECTOR_NAMES[v]}` : `${v}`);

export function collectStats(m: Machine, stop: StopInfo, wallSeconds: number): RunStats {
  const insns = m.instructions();
  const vectors: Record<string, number> = {};
  m.ctx.vectorCounts.forEach((n, v) => {
    if (n > 0) vectors[vectorName(v)] = n;
  });
  const ports: Record<string, number> = {};
  const busy = Array.from(m.ports.counts.entries())
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12);
  for (const [p, n] of busy) ports[`0x${p.toString(16)}`] = n;
  return {
    stop: { reason: stop.reason, status: stop.status },
    guestInstructions: insns,
    wallSeconds,
    guestMips: wallSeconds > 0 ? insns / wallSeconds / 1e6 : 0,
    engine: m.engineStats(),
    vectors,
    devices: {
      'timer callbacks': m.clock.fired,
      'PIT IRQ 0 edges': m.pit.irqCount,
      'LAPIC timer interrupts': m.lapic.timerFired,
      'COM1 bytes out': m.uart.bytesOut,
      'COM1 bytes in': m.uart.bytesIn,
    },
    ports,
  };
}

function section(title: string, rows: Record<string, number>): string[] {
  const keys = Object.keys(rows);
  if (keys.length === 0) return [`${title}: none`];
  const w = Math.max(...keys.map((k) => k.length));
  return [`${title}:`, ...keys.map((k) => `  ${k.padEnd(w)}  ${formatNumber(rows[k])}`)];
}

const formatNumber = (n: number): string =>
  Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(3);

export function formatStats(s: RunStats): string {
  return [
    `ringvm statistics`,
    `  stop                ${s.stop.reason} (status ${s.stop.status})`,
    `  guest instructions  ${formatNumber(s.guestInstructions)}`,
    `  wall time           ${s.wallSeconds.toFixed(3)} s`,
    `  guest MIPS          ${s.guestMips.toFixed(1)}`,
    ...section('engine', s.engine),
    ...section('interrupts and exceptions delivered (by vector)', s.vectors),
    ...section('devices', s.devices),
    ...section('busiest I/O ports (accesses)', s.ports),
  ].join('\n');
}
