// The `ringvm run` command as a user meets it: bad input ends in one line on stderr and status 2,
// never a stack trace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ringvm = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

function expectOneLineError(r: ReturnType<typeof ringvm>, pattern: RegExp) {
  expect(r.status).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^ringvm: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('ringvm run: bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringvm-cli-'));

  it('a missing file', () => {
    expectOneLineError(ringvm('run', join(dir, 'nope.bin')), /nope\.bin: no such file$/);
  });
  it('a directory', () => {
    expectOneLineError(ringvm('run', dir), /is a directory$/);
  });
  it('a file that is neither multiboot nor ELF64', () => {
    const f = join(dir, 'text.bin');
    writeFileSync(f, 'just some text, no kernel here\n'.repeat(10));
    expectOneLineError(ringvm('run', f), /not a multiboot image/);
  });
  it('memory above 3G', () => {
    expectOneLineError(ringvm('run', '-m', '4G', 'guest-images/hello.bin'), /--mem: .*3G limit/);
  });
  it('a malformed memory size', () => {
    expectOneLineError(ringvm('run', '-m', 'lots', 'guest-images/hello.bin'), /--mem: invalid memory size/);
  });
  it('a bad serial target', () => {
    expectOneLineError(ringvm('run', '--serial', 'tcp:1', 'guest-images/hello.bin'), /--serial: invalid serial target/);
  });
  it('a bad instruction limit', () => {
    expectOneLineError(ringvm('run', '--max-insns', '-5', 'guest-images/hello.bin'), /--max-insns: expected a positive whole number/);
  });
});
