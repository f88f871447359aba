// `ringvm translate`: the guest code, its IR and its wasm for a piece of code, as a user runs it.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const ringvm = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('ringvm translate', () => {
  it('shows the guest instruction, an OR micro-op on the right registers and the wasm i32.or', () => {
    const r = ringvm('translate', '--hex', '09 ca c3');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/09 ca +or edx,ecx/);
    expect(r.stdout).toMatch(/T\d = or32\(T\d, T\d\)/);
    expect(r.stdout).toMatch(/rdx:32 = T\d/);
    expect(r.stdout).toMatch(/i32\.or|i64\.or/);
  });
  it('refuses bad hex with one line and status 2', () => {
    const r = ringvm('translate', '--hex', '0');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^ringvm: --hex: odd number of hex digits\n$/);
  });
});
