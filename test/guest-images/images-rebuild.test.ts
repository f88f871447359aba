/**
 * The committed guest images are exactly what guest-images/Makefile builds from the committed
 * sources: rebuild everything into a temporary directory and compare byte for byte. Skipped, with
 * a message, when nasm or make is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IMAGES_DIR, committedImages, hasTool } from './images.js';

const toolchain = hasTool('nasm') && hasTool('make');
if (!toolchain) console.warn('images-rebuild: nasm or make not installed; skipping the rebuild check');

describe.skipIf(!toolchain)('guest images rebuild to the committed bytes', () => {
  const out = mkdtempSync(join(tmpdir(), 'ringvm-images-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('make -C guest-images OUT=<tmp> succeeds', () => {
    const r = spawnSync('make', ['-s', '-C', IMAGES_DIR, `OUT=${out}`], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).not.toMatch(/error/i);
    expect(r.status).toBe(0);
  });

  it('builds exactly the committed set of images', () => {
    const built = readdirSync(out).filter((f) => f.endsWith('.bin')).sort();
    expect(built).toEqual(committedImages());
    expect(built.length).toBeGreaterThan(0);
  });

  it.each(committedImages())('%s is byte-identical to the rebuild', (name) => {
    const committed = readFileSync(join(IMAGES_DIR, name));
    const rebuilt = readFileSync(join(out, name));
    expect(rebuilt.length).toBe(committed.length);
    expect(Buffer.compare(rebuilt, committed)).toBe(0);
  });
});
