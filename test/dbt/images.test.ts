/**
 * The committed guest images under the translator: serial output, stop reason, exit status and
 * instruction count must equal the interpreter's. The Machine builds the interpreter engine; the
 * test swaps in the translator over the same interpreter (the CLI's --engine dbt will do this).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadImage } from '../../src/boot/load.js';
import { Machine } from '../../src/machine/machine.js';
import type { Engine } from '../../src/machine/engine.js';
import { Interpreter } from '../../src/interp/interpreter.js';
import { GP_REGISTRARS } from '../../src/interp/dispatch.js';
import { SYSTEM_REGISTRARS } from '../../src/interp/system-register.js';
import { createDbtEngine, type DbtOptions } from '../../src/dbt/engine.js';

const IMAGES = join(import.meta.dirname, '../../guest-images');

type Boot = { serial: string; reason: string; status: number; count: number; stats?: Record<string, number> };

function boot(image: string, opts: DbtOptions | null): Promise<Boot> {
  return bootArgs(image, '', opts);
}

async function bootArgs(image: string, cmdline: string, opts: DbtOptions | null): Promise<Boot> {
  const out: number[] = [];
  const m = new Machine({ ramSize: 32 << 20, serialSink: (b) => out.push(b), debugconSink: () => {}, maxInsns: 20_000_000, ips: 100_000_000, rtcStart: 1_700_000_000 });
  loadImage(new Uint8Array(readFileSync(join(IMAGES, image))), m, { cmdline, imageName: image, modules: [] });
  let dbt = null;
  if (opts !== null) {
    const interp = new Interpreter(m.ctx, [...GP_REGISTRARS, ...SYSTEM_REGISTRARS]);
    dbt = createDbtEngine(m.ctx, interp, opts);
    (m as unknown as { engine: Engine }).engine = dbt;
  }
  const stop = await m.run();
  return { serial: Buffer.from(out).toString('latin1'), reason: stop.reason, status: stop.status, count: m.instructions(), stats: dbt?.stats() };
}

describe('guest images: translator vs interpreter', () => {
  for (const image of ['hello.bin', 'tinyos.bin']) {
    it(`${image} prints the same and stops at the same instruction`, async () => {
      const ref = await boot(image, null);
      expect(ref.serial.length).toBeGreaterThan(0);
      for (const opts of [{ threshold: 0, kernelExec: 'dbt', tcSync: true }, { threshold: 2, tcSync: true }, { threshold: 2 }] as DbtOptions[]) {
        const got = await boot(image, opts);
        expect(got.serial, JSON.stringify(opts)).toBe(ref.serial);
        expect(got.reason).toBe(ref.reason);
        expect(got.status).toBe(ref.status);
        expect(got.count).toBe(ref.count);
        if (opts.kernelExec === 'dbt') expect(got.stats!.insnsTranslated).toBeGreaterThan(0);
        if (process.env.DBT_SHOW) console.log(image, JSON.stringify(opts), ref.count, JSON.stringify(got.stats));
      }
    }, 60_000);
  }
});

describe('asynchronous compilation', () => {
  it('bench64: the same output and count with background compiles as with --tc-sync; modules land and run', async () => {
    const ref = await bootArgs('bench64.bin', 'iters=3', { tcSync: true });
    const got = await bootArgs('bench64.bin', 'iters=3', {});
    expect(got.serial).toBe(ref.serial);
    expect(got.serial).toMatch(/checksum=0x[0-9a-f]+ iterations=3/);
    expect(got.count).toBe(ref.count);
    expect(got.status).toBe(ref.status);
    // a background module was installed and ran (the wait is spent in the interpreter); another
    // may still be compiling when the guest stops
    expect(got.stats!.modules).toBeGreaterThan(0);
    expect(got.stats!.insnsTranslated).toBeGreaterThan(0);
    expect(got.stats!.compileWaitMs).toBeGreaterThan(0);
    // synchronous compiles never wait and are reproducible
    expect(ref.stats!.compileWaitMs).toBe(0);
    const again = await bootArgs('bench64.bin', 'iters=3', { tcSync: true });
    const counters = (st: Record<string, number>) => Object.entries(st).filter(([k]) => !/Ms$|UsPer/.test(k)); // not the times
    expect(counters(again.stats!)).toEqual(counters(ref.stats!));
  }, 60_000);
});
