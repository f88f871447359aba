/**
 * The two bare-metal kernels that exercise the checked mode (dbg64: DR0-DR3 breakpoints, priv64:
 * #AC) with `--engine interp` through the command line: test/system-kernels runs every kernel on
 * the default engine (the translator) only. The serial output must equal the expected file
 * (QEMU's, #AC patched to the SDM), so both engines give the same output.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function runKernel(kernel: string, engine: string): Promise<string> {
  return new Promise((done) => {
    const args = [join(ROOT, 'src/cli/main.ts'), 'run', '--sensitive', 'emulate', '--engine', engine, '--max-insns', '5000000',
      join(ROOT, 'guest-images/tests', `${kernel}.bin`)];
    const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.on('close', (status) => done(`${Buffer.concat(out).toString('latin1').replace(/\r\n/g, '\n')}end: status ${status}\n`));
  });
}

describe('kernels with breakpoints and #AC on the interpreter engine', () => {
  it.concurrent.each([['dbg64', 'interp'], ['priv64', 'interp']])('%s with --engine %s prints the expected output', async (kernel, engine) => {
    const want = readFileSync(join(ROOT, 'test/system-kernels/expected', `${kernel}.txt`), 'latin1')
      .replace('end: debug-exit status 33', 'end: status 33');
    expect(await runKernel(kernel, engine)).toBe(want);
  }, 60_000);
});
