/**
 * The bare-metal test kernels (guest-images/tests/, docs/system-conformance.md) on ringvm and on
 * QEMU. ringvm's serial output and end must equal expected/<kernel>.txt line for line, except the
 * lines listed in KNOWN_FAILING, which must still differ (fixing one forces removing it here).
 * With qemu-system-x86_64 installed, QEMU's output with the documented SDM departures patched
 * (kernels.ts) must also equal the expected file, so the file stays what QEMU really prints.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPARTURES, EXPECTED_DIR, KERNELS, KERNELS_DIR, ROOT, patchDepartures, runQemu, runRingvm } from './kernels.js';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const qemu = has('qemu-system-x86_64');
const nasm = has('nasm') && has('make');
if (!qemu) console.warn('system-kernels: qemu-system-x86_64 not installed; checking ringvm against the committed expected files only');

/** Lines (kernel, line prefix) where ringvm disagrees with the SDM today, each with why. */
/** `lines`: how many expected lines the failure spans (default 1). */
const KNOWN_FAILING: { kernel: string; prefix: string; lines?: number; reason: string }[] = [];

const expected = (k: string): string => readFileSync(join(EXPECTED_DIR, `${k}.txt`), 'latin1');

describe('bare-metal test kernels', () => {
  it('every departure and known failure names a kernel that exists', () => {
    for (const d of [...DEPARTURES, ...KNOWN_FAILING]) expect(KERNELS).toContain(d.kernel);
  });

  it('docs/system-conformance.md lists every departure and known failure', () => {
    const doc = readFileSync(join(ROOT, 'docs/system-conformance.md'), 'utf8');
    for (const d of [...DEPARTURES, ...KNOWN_FAILING]) {
      const name = d.prefix.trim().replace(/:$/, '').replace(/,? (sysretq |iretq )?at$/, '').slice(0, 20);
      expect(doc.includes(name), `'${name}' (${d.kernel}) is not in the docs`).toBe(true);
    }
  });

  it.skipIf(!nasm)('the committed kernel images are what the sources build', () => {
    const out = mkdtempSync(join(tmpdir(), 'ringvm-kernels-'));
    try {
      const targets = KERNELS.map((k) => join(out, 'tests', `${k}.bin`));
      const r = spawnSync('make', ['-s', '-C', join(ROOT, 'guest-images'), `OUT=${out}`, ...targets], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      for (const k of KERNELS) {
        const built = readFileSync(join(out, 'tests', `${k}.bin`));
        expect(Buffer.compare(built, readFileSync(join(KERNELS_DIR, `${k}.bin`))), `${k}.bin is stale: make -C guest-images`).toBe(0);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it.concurrent.each(KERNELS)('%s on ringvm matches the expected output (SDM)', async (k) => {
    const want = expected(k).split('\n');
    const r = await runRingvm(k);
    const got = r.text.split('\n');
    const failing = KNOWN_FAILING.filter((f) => f.kernel === k);
    const context = `ringvm output:\n${r.text}\nstderr: ${r.stderr}`;
    for (const f of failing) expect(want.some((l) => l.startsWith(f.prefix)), `${k}: no expected line starts with '${f.prefix}'`).toBe(true);
    // Walk both outputs; a known-failing block (its `lines` expected lines) must differ from what
    // ringvm prints up to the next expected line, which must then follow.
    let j = 0;
    for (let i = 0; i < want.length; ) {
      const known = failing.find((f) => want[i]!.startsWith(f.prefix));
      if (!known) {
        expect(got[j], `${k} line ${i + 1}; ${context}`).toBe(want[i]);
        i++;
        j++;
        continue;
      }
      // a run of adjacent known failures is one block
      let n = known.lines ?? 1;
      for (let more = failing.find((f) => want[i + n]?.startsWith(f.prefix)); more; more = failing.find((f) => want[i + n]?.startsWith(f.prefix))) {
        n += more.lines ?? 1;
      }
      const anchor = want[i + n];
      const k2 = anchor === undefined ? got.length : got.indexOf(anchor, j);
      expect(k2, `${k}: after the known failure '${known.prefix}' ringvm never prints '${anchor}'; ${context}`).toBeGreaterThanOrEqual(j);
      expect(got.slice(j, k2).join('\n'), `${k}: '${known.prefix}' is fixed: remove it from KNOWN_FAILING`).not.toBe(want.slice(i, i + n).join('\n'));
      i += n;
      j = k2;
    }
    expect(j, context).toBe(got.length);
  }, 60_000);

  it.skipIf(!qemu).concurrent.each(KERNELS)('%s on QEMU prints the expected output, modulo the documented departures', async (k) => {
    const q = await runQemu(k);
    expect(patchDepartures(k, q.text), q.stderr).toBe(expected(k));
  }, 60_000);
});
