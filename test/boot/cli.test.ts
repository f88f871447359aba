/**
 * Bad images through the real command line: `ringvm run BAD` prints exactly one line starting
 * `ringvm: ` on stderr and exits with status 2, no stack trace. Skipped until src/cli/main.ts exists.
 * Each case spawns tsx (about a second), so only a few representative ones run here; the reasons
 * themselves are covered in bad-input.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { elf, pattern } from './images.js';

const root = resolve(__dirname, '../..');
const main = join(root, 'src/cli/main.ts');
const tsx = join(root, 'node_modules/.bin/tsx');

function run(image: string): { status: number | null; stderr: string } {
  const r = spawnSync(tsx, [main, 'run', image], { cwd: root, encoding: 'utf8', timeout: 30_000, input: '' });
  return { status: r.status, stderr: r.stderr };
}

describe.skipIf(!existsSync(main))('ringvm run with a bad image', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringvm-cli-'));
  const cases: [string, string | null, RegExp][] = [
    ['missing.elf', null, /no such file/],
    ['random.bin', 'random', /not a multiboot image/],
    ['truncated.elf', 'truncated', /truncated ELF/],
  ];
  for (const [name, kind, why] of cases) {
    it(`${name}: one line, status 2`, () => {
      const path = join(dir, name);
      if (kind === 'random') writeFileSync(path, pattern(4096, 8));
      if (kind === 'truncated') writeFileSync(path, elf(true, { entry: 0x100000, segs: [{ paddr: 0x100000, data: pattern(256, 1) }] }).subarray(0, 100));
      const r = run(path);
      expect(r.status).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^ringvm: /);
      expect(lines[0]).toContain(name);
      expect(lines[0]).toMatch(why);
    });
  }
});
