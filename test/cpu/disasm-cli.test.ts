/**
 * CLI family: `ringvm disasm` output for --hex and --json, a raw file, an ELF with labels, and
 * the one-line errors (status 2). Runs the command in-process, plus once as a subprocess.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runDisasm } from '../../src/cli/disasm.js';

function run(file: string | undefined, o: Record<string, string | boolean>): { status: number; out: string[] } {
  const out: string[] = [];
  const status = runDisasm(file, o, (l) => out.push(l));
  return { status, out };
}

describe('ringvm disasm', () => {
  it('--hex --json prints one object per instruction', () => {
    const r = run(undefined, { hex: '48 89 e5 c3', json: true });
    expect(r.status).toBe(0);
    expect(r.out.map((l) => JSON.parse(l))).toEqual([
      { offset: 0, length: 3, bytes: '4889e5', mnemonic: 'mov', text: 'mov rbp,rsp' },
      { offset: 3, length: 1, bytes: 'c3', mnemonic: 'ret', text: 'ret' },
    ]);
  });
  it('--bitness 16 and --count', () => {
    const r = run(undefined, { hex: 'b8 34 12 cd 10 f4', bitness: '16', count: '2' });
    expect(r.out).toEqual(['       0: b8 34 12                       mov ax,1234h',
      '       3: cd 10                          int 10h']);
  });
  it('undecodable bytes print as (bad) one at a time, VEX as (unsupported)', () => {
    const r = run(undefined, { hex: '0f 0b f0 90 c5 f8 77', json: true });
    expect(r.out.map((l) => JSON.parse(l).text)).toEqual(['ud2', '(bad)', 'nop', '(unsupported)']);
  });
  it('a raw file, and an ELF with symbols', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringvm-cli-'));
    const raw = join(dir, 'code.bin');
    writeFileSync(raw, Uint8Array.from([0x31, 0xc0, 0xc3]));
    expect(run(raw, { start: '2' }).out).toEqual(['       2: c3                             ret']);
    const src = join(dir, 'f.c');
    writeFileSync(src, 'int twice(int x) { return 2 * x; }\n');
    try {
      execFileSync('gcc', ['-O2', '-c', '-o', join(dir, 'f.o'), src], { stdio: 'pipe' });
    } catch {
      console.log('skipped ELF part: gcc missing');
      return;
    }
    const r = run(join(dir, 'f.o'), {});
    expect(r.status).toBe(0);
    expect(r.out.join('\n')).toMatch(/<twice>:\n\s+0: 8d 04 3f\s+lea eax,\[rdi\+rdi\]/);
  });
  it('bad input: one line on stderr, status 2', () => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(run('/nonexistent/x', {}).status).toBe(2);
    expect(run(undefined, { hex: 'zz' }).status).toBe(2);
    expect(run(undefined, { hex: '90', bitness: '8' }).status).toBe(2);
    expect(spy.mock.calls.map((c) => String(c[0]))).toEqual([
      'ringvm: /nonexistent/x: no such file\n',
      'ringvm: --hex: expected pairs of hex digits\n',
      "ringvm: --hex: --bitness: expected 16, 32 or 64, got '8'\n"]);
    spy.mockRestore();
  });
  it('works as a subcommand (subprocess)', () => {
    const r = spawnSync('npx', ['tsx', 'test/cpu/disasm-cli-entry.ts', 'disasm', '--hex', '0f a2', '--json'],
      { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ offset: 0, length: 2, bytes: '0fa2', mnemonic: 'cpuid', text: 'cpuid' });
  });
});
