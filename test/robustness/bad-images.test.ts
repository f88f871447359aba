// Malformed images and hostile kernels through the real CLI (`ringvm run FILE`), as a user meets
// them: each ends with exactly one `ringvm: ...` line on stderr (a triple fault adds its register
// dump after it), the documented exit status, and never a JS stack trace. The loader's reasons are
// tested in-process in test/boot/bad-input.test.ts; this file checks the whole path, including
// what happens once a bad kernel runs (random code, zeros, loops, faults).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aout, elf, pattern } from '../boot/images.js';

const dir = mkdtempSync(join(tmpdir(), 'ringvm-robust-'));
let serial = 0;

interface Run { status: number | null; stderr: string; stdout: string }

/** Runs `ringvm run` on `image` (written to a temp file) with extra options. */
function ringvm(image: Uint8Array, ...opts: string[]): Promise<Run> {
  const f = join(dir, `image${serial++}.bin`);
  writeFileSync(f, image);
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '--serial', 'none', ...opts, f], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString('latin1')));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr, stdout });
    });
  });
}

/** One `ringvm:` line first, no stack trace, the expected status; returns that line. */
function clean(r: Run, status: number | ((s: number) => boolean)): string {
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toMatch(/internal error/);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^ringvm: /);
  expect(lines.filter((l) => l.startsWith('ringvm:')).length).toBe(1);
  if (typeof status === 'number') expect(r.status).toBe(status);
  else expect(status(r.status ?? -1), `status ${r.status}: ${lines[0]}`).toBe(true);
  return lines[0];
}

const LOAD = 0x100000;
/** A multiboot a.out-kludge kernel: the 32-byte header, then `code` at the entry point. */
function kernel(code: number[] | Uint8Array, extra: Partial<Parameters<typeof aout>[0]> = {}): Uint8Array {
  const body = new Uint8Array(32 + code.length + 16);
  body.set(code, 32);
  return aout({ loadAddr: LOAD, body, headerOffset: 0, entryAddr: LOAD + 32, ...extra });
}

const T = 120_000;

describe('ringvm run on images that do not load: status 2', () => {
  it('a zero-length file', async () => {
    expect(clean(await ringvm(new Uint8Array(0)), 2)).toMatch(/empty file/);
  }, T);

  it('random bytes of several sizes', async () => {
    const runs = await Promise.all([[1, 1], [100_000, 3]].map(([n, seed]) => ringvm(pattern(n, seed))));
    for (const r of runs) clean(r, 2);
  }, T);

  it('truncated ELF32 multiboot and ELF64 kernels, cut at several points', async () => {
    const code = [0xeb, 0xfe];
    const e32 = elf(false, { entry: LOAD, segs: [{ paddr: LOAD, data: Uint8Array.from(code) }], multibootFlags: 3 });
    const e64 = elf(true, { entry: LOAD, segs: [{ paddr: LOAD, data: Uint8Array.from(code) }] });
    const cuts = [e32.subarray(0, 30), e32.subarray(0, e32.length - 1), e64.subarray(0, 60), e64.subarray(0, e64.length - 1)];
    for (const r of await Promise.all(cuts.map((img) => ringvm(img)))) clean(r, 2);
  }, T);

  it('a multiboot header with absurd addresses', async () => {
    const absurd = [
      { loadAddr: 0xfffff000, entryAddr: 0xfffff020 },
      { loadEnd: 0xffffffff },
      { bssEnd: 0xfffffff0 },
      { entryAddr: 0xdeadbeef },
      { loadAddr: 0xffffffe0, entryAddr: 0 },
    ];
    for (const r of await Promise.all(absurd.map((a) => ringvm(kernel([0xf4], a))))) clean(r, 2);
  }, T);

  it('a 64 MiB image that does not fit in 32 MiB of RAM', async () => {
    const big = new Uint8Array(64 << 20);
    big.set(kernel([0xf4], { loadEnd: 0 }).subarray(0, 32));
    expect(clean(await ringvm(big, '-m', '32M'), 2)).toMatch(/outside RAM/);
  }, T);
});

describe('ringvm run on kernels that misbehave', () => {
  it('64 MiB of zeros behind a multiboot header runs to --max-insns: status 4', async () => {
    const big = new Uint8Array(64 << 20);
    big.set(kernel([0x00], { loadEnd: 0 }).subarray(0, 32));
    expect(clean(await ringvm(big, '--max-insns', '50000'), 4)).toMatch(/instruction limit reached \(50000\)/);
  }, T);

  it('a kernel that loops forever stops at --max-insns with status 4 (both engines)', async () => {
    const runs = await Promise.all(['interp', 'dbt'].map((e) => ringvm(kernel([0xeb, 0xfe]), '--max-insns', '200000', '--engine', e)));
    for (const r of runs) expect(clean(r, 4)).toMatch(/instruction limit reached \(200000\) after 200000 instructions/);
  }, T);

  it('a kernel in a REP STOSB of 4 GiB stops at exactly --max-insns (both engines)', async () => {
    // mov ecx, 0xFFFFFFFF; mov edi, 0x200000; rep stosb: each iteration counts, so the run stops
    // inside the REP after 2 + 199,998 iterations, long before the stores leave RAM
    const code = [0xb9, 0xff, 0xff, 0xff, 0xff, 0xbf, 0x00, 0x00, 0x20, 0x00, 0xf3, 0xaa];
    const runs = await Promise.all(['interp', 'dbt'].map((e) => ringvm(kernel(code), '--max-insns', '200000', '--engine', e)));
    for (const r of runs) expect(clean(r, 4)).toMatch(/instruction limit reached \(200000\) after 200000 instructions/);
  }, T);

  it('a kernel that triple-faults at once: status 3 and a register dump', async () => {
    // UD2 with the multiboot entry IDTR (the real-mode IVT, read as zeroed gates): #UD, #GP, #DF, shutdown.
    const r = await ringvm(kernel([0x0f, 0x0b]));
    expect(clean(r, 3)).toMatch(/triple fault/);
    expect(r.stderr).toMatch(/\nRAX=[0-9a-f]{16}/);
    expect(r.stderr).toMatch(/\nRIP=0000000000100020/);
  }, T);

  it('a kernel of random code ends in a documented status', async () => {
    const ok = (s: number) => s === 0 || s === 3 || s === 4 || s === 5 || (s & 1) === 1;
    const cases = [[11, 'interp'], [12, 'interp'], [11, 'dbt'], [13, 'dbt']] as const;
    const runs = await Promise.all(cases.map(([seed, e]) => ringvm(kernel(pattern(4096, seed)), '--max-insns', '100000', '--engine', e)));
    for (const r of runs) clean(r, ok);
  }, T);
});
