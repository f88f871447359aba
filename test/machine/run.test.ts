// The machine end to end on the committed hello image: it boots, it is deterministic (virtual time
// is the instruction counter), and the run loop's stops give the documented statuses.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadImage } from '../../src/boot/load.js';
import { Machine, STATUS_LIMIT } from '../../src/machine/machine.js';

async function boot(maxInsns = Infinity) {
  const out: number[] = [];
  const m = new Machine({
    ramSize: 32 << 20, serialSink: (b) => out.push(b), debugconSink: () => {}, maxInsns, ips: 100_000_000, rtcStart: 0,
  });
  loadImage(readFileSync('guest-images/hello.bin'), m, { cmdline: '', imageName: 'hello.bin', modules: [] });
  const stop = await m.run();
  return { stop, text: Buffer.from(out).toString('latin1'), insns: m.instructions() };
}

describe('Machine on hello.bin', () => {
  it('prints the greeting and ends through debug-exit with status 33', async () => {
    const r = await boot();
    expect(r.text).toContain('Hello from ringvm');
    expect(r.stop.status).toBe(33);
  });

  it('two runs give the same output and the same instruction count', async () => {
    const a = await boot();
    const b = await boot();
    expect(b.text).toBe(a.text);
    expect(b.insns).toBe(a.insns);
    expect(a.insns).toBeGreaterThan(100);
  });

  it('--max-insns stops the run with status 4 at exactly that count', async () => {
    const r = await boot(100);
    expect(r.stop.status).toBe(STATUS_LIMIT);
    expect(r.insns).toBe(100);
  });
});

describe('ringvm run --stats=json', () => {
  it('reports the instruction count and the debug-exit stop', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '-q', '--stats', 'json', 'guest-images/hello.bin'], { encoding: 'utf8' });
    expect(r.status).toBe(33);
    const stats = JSON.parse(r.stderr.trim().split('\n').pop() as string);
    expect(stats.stop.status).toBe(33);
    expect(stats.guestInstructions).toBeGreaterThan(100);
    expect(stats.devices['COM1 bytes out']).toBe(r.stdout.length);
  });
});

describe('ringvm run --trace', () => {
  it('exec prints each instruction with its address and disassembly, the count matching --stats', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '-q', '--trace', 'exec', '--stats', 'json', 'guest-images/hello.bin'], { encoding: 'utf8' });
    const lines = r.stderr.trim().split('\n');
    const stats = JSON.parse(lines.pop() as string);
    // hello.asm's first instruction checks the multiboot magic
    expect(lines[0]).toMatch(/^\[0\] 0008:00100020 +3d 02 b0 ad 2b +cmp eax,2BADB002h$/);
    expect(lines.length).toBe(stats.guestInstructions);
    expect(r.stdout).toContain('Hello from ringvm');
  });
  it('rejects unknown events with a one-line error', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '--trace', 'bogus', 'guest-images/hello.bin'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^ringvm: --trace: unknown trace event 'bogus'/);
  });
});

describe('ringvm run --trace from the translator', () => {
  it('in_asm shows translated guest code, tc the translations and invalidations, block the blocks entered', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '-q', '--engine', 'dbt', '--trace', 'in_asm,tc,block',
      '--append', 'run smc', 'guest-images/tinyos.bin'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    expect(r.status).toBe(33);
    expect(r.stderr).toMatch(/^translate page [0-9a-f]+: \d+ blocks$/m);
    expect(r.stderr).toMatch(/^block [0-9a-f]+ \(pa [0-9a-f]+\):$/m);
    expect(r.stderr).toMatch(/^invalidate page [0-9a-f]+: \d+ blocks$/m); // smc rewrites its code
    expect(r.stderr).toMatch(/^exec [0-9a-f]+ \d+ insns/m);
  });

  it('nochain (QEMU\'s -d nochain): block shows every block entered, and the guest sees no difference', () => {
    const run = (events: string): { blocks: number; out: string; stats: { guestInstructions: number; engine: Record<string, number> } } => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '-q', '--tc-sync', '--trace', events, '--stats', 'json',
        '--append', 'iters=1', 'guest-images/bench64.bin'], { encoding: 'utf8', maxBuffer: 256 << 20 });
      const lines = r.stderr.trim().split('\n');
      return { blocks: lines.filter((l) => l.startsWith('exec ')).length, out: r.stdout, stats: JSON.parse(lines[lines.length - 1]!) };
    };
    const linked = run('block');
    const all = run('block,nochain');
    expect(all.out).toBe(linked.out);
    expect(all.stats.guestInstructions).toBe(linked.stats.guestInstructions);
    expect(linked.stats.engine.chainsMade).toBeGreaterThan(0);
    expect(all.stats.engine.chainsMade).toBe(0);
    // bench64 iters=1: ~5.1 M instructions in ~1.1 M blocks; linked, only the run loop's entries
    expect(all.blocks).toBeGreaterThan(1_000_000);
    expect(linked.blocks).toBeLessThan(1000);
  });
});
