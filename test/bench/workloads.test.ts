/**
 * The benchmark's tinyos workloads 2-5 (bench/lib/configs.ts, docs/performance.md): sysbench,
 * ctxbench, jitbench and boot, on tinyos and tinyos32. Each kernel runs the three programs once
 * with tiny counts on one command line, through the exact commands the suite uses (ringvm's
 * interpreter and translator, QEMU TCG), and each workload's own parser must find the same checksum
 * in every output: QEMU is the oracle (skipped when not installed; then jitbench's own check
 * against C, "0 wrong", is all that is left). Boot is checked the same way with `exit`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Config, type Workload, WORKLOADS, lineHash, makeConfigs } from '../../bench/lib/configs.js';

const ROOT = resolve(import.meta.dirname, '../..');
const out = mkdtempSync(join(tmpdir(), 'ringvm-bench-workloads-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const configs = makeConfigs(ROOT, out);
const byId = (id: string): Config => configs.find((c) => c.id === id)!;
const qemu = byId('qemu-tcg');
const haveQemu = qemu.unavailable() === null;
if (!haveQemu) console.warn('bench workloads: QEMU not installed; checking ringvm on its own');

// Small counts, not the suite's: a few hundred thousand guest instructions each.
const SMALL: Record<string, number> = { sysbench: 300, ctxbench: 25, jitbench: 60 };

function run(c: Config, w: Workload, cmdline: string): string {
  const argv = c.command({ ...w, cmdline: () => cmdline }, 0);
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: ROOT, encoding: 'latin1', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return r.stdout ?? '';
}

for (const arch of [64, 32] as const) {
  const mine = WORKLOADS.filter((w) => w.arch === arch && /-(sysbench|ctxbench|jitbench|boot)$/.test(w.id));
  const programs = mine.filter((w) => !w.fixed);
  const boot = mine.find((w) => w.fixed);
  const line = programs.map((w) => `${w.id.split('-')[1]} ${SMALL[w.id.split('-')[1]!]}`).join(';');
  // The 64-bit kernel on the translator with the TC indexed by physical address, the 32-bit one by
  // virtual address: both indexings see CR3 switches and code writes without doubling the time.
  const engines = ['ringvm-interp', arch === 64 ? 'ringvm-dbt-phys' : 'ringvm-dbt-virt'].map(byId).filter((c) => !c.unavailable());

  describe.skipIf(programs.length !== 3 || !boot)(`tinyos ${arch}-bit workloads`, () => {
    it('sysbench, ctxbench and jitbench print the same checksums on ringvm as on QEMU', () => {
      const reference = haveQemu ? run(qemu, programs[0]!, line) : null;
      for (const c of engines) {
        const got = run(c, programs[0]!, line);
        expect(got, c.id).toMatch(/jitbench: \d+ iterations, checksum 0x[0-9a-f]{8}, 0 wrong/);
        for (const w of programs) {
          const name = w.id.split('-')[1]!;
          const mine = w.parse(got);
          expect(mine, `${w.id} on ${c.id}`).toEqual({ checksum: expect.stringMatching(/^0x[0-9a-f]{8}$/), iterations: SMALL[name] });
          if (reference !== null) expect(mine, `${w.id} on ${c.id} vs QEMU`).toEqual(w.parse(reference));
        }
      }
    }, 180_000);

    it('boot reaches the banner and exits; its checksum is the banner line', () => {
      const b = boot!;
      const got = b.parse(run(engines[0]!, b, b.cmdline(1)));
      const banner = `${arch === 64 ? 'tinyos' : 'tinyos32'}: ${arch}-bit teaching kernel, 7168 free pages, timer 100 Hz`;
      expect(got).toEqual({ checksum: lineHash(banner), iterations: 0 });
      if (haveQemu) expect(b.parse(run(qemu, b, b.cmdline(1)))).toEqual(got);
    }, 60_000);
  });
}

it('lineHash is FNV-1a (32-bit)', () => {
  // Published FNV-1a test vectors.
  expect(lineHash('')).toBe('0x811c9dc5');
  expect(lineHash('a')).toBe('0xe40c292c');
  expect(lineHash('foobar')).toBe('0xbf9cf968');
});
