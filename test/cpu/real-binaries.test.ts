/**
 * Oracle family: every instruction of real code sections (linear sweep) decodes and prints as
 * iced-x86 decodes and prints it: /bin/bash (64-bit), a program built here with `gcc -m32`, and
 * the 32-bit libc when the machine has one. Missing inputs are skipped with a message.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readElfCode } from '../../src/cli/elf-sections.js';
import { Oracle, sweep } from './oracle.js';

function checkElf(path: string): number {
  const elf = readElfCode(new Uint8Array(readFileSync(path)));
  const oracle = new Oracle(elf.bitness);
  let insns = 0;
  const bad: string[] = [];
  for (const s of elf.sections) {
    const r = sweep(oracle, s.data, s.addr, 10);
    insns += r.insns;
    bad.push(...r.samples);
  }
  expect(bad).toEqual([]);
  return insns;
}

function build32(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'ringvm-dec-'));
  const src = join(dir, 't.c');
  writeFileSync(src, '#include <stdio.h>\n#include <string.h>\n#include <math.h>\n' +
    'int main(int c, char **v) { double x = c * 1.5; char b[64]; strcpy(b, v[0]);\n' +
    '  printf("%f %d %zu\\n", sqrt(x), c, strlen(b)); return (int)(x * 3.0) % 7; }\n');
  try {
    execFileSync('gcc', ['-m32', '-O2', '-o', join(dir, 't32'), src, '-lm'], { stdio: 'pipe' });
    return join(dir, 't32');
  } catch {
    return null;
  }
}

describe('decoder vs iced-x86 on real binaries', () => {
  it('/bin/bash: every instruction of its code sections', () => {
    if (!existsSync('/bin/bash')) { console.log('skipped: no /bin/bash'); return; }
    expect(checkElf('/bin/bash')).toBeGreaterThan(100_000);
  });
  it('a 32-bit program built with gcc -m32', () => {
    const exe = build32();
    if (exe === null) { console.log('skipped: gcc -m32 does not build here'); return; }
    expect(checkElf(exe)).toBeGreaterThan(100);
  });
  it('the 32-bit libc', () => {
    const p = ['/usr/lib32/libc.so.6', '/lib32/libc.so.6', '/lib/i386-linux-gnu/libc.so.6'].find(existsSync);
    if (p === undefined) { console.log('skipped: no 32-bit libc'); return; }
    expect(checkElf(p)).toBeGreaterThan(100_000);
  });
});
