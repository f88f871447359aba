// Virtual time is the same under both engines: a guest that reads its clocks (tinyos's 100 Hz PIT
// preempting alpha and beta) prints the same and retires the same number of instructions.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadImage } from '../../src/boot/load.js';
import { Machine } from '../../src/machine/machine.js';

async function procs(engine: 'interp' | 'dbt') {
  const out: number[] = [];
  const m = new Machine({
    ramSize: 64 << 20, serialSink: (b) => out.push(b), debugconSink: () => {}, maxInsns: 200_000_000,
    ips: 100_000_000, rtcStart: 0, engine: { engine },
  });
  loadImage(readFileSync('guest-images/tinyos.bin'), m, { cmdline: 'run procs', imageName: 'tinyos.bin', modules: [] });
  const stop = await m.run();
  return { status: stop.status, text: Buffer.from(out).toString('latin1'), insns: m.instructions() };
}

describe('interpreter and translator agree on virtual time', () => {
  it('tinyos run procs: same output, same instruction count', async () => {
    const a = await procs('interp');
    const b = await procs('dbt');
    expect(a.status).toBe(33);
    expect(b.text).toBe(a.text);
    expect(b.insns).toBe(a.insns);
  }, 300_000);
});
