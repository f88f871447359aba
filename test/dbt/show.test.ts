/**
 * `ringvm translate` output (src/dbt/show.ts): the three sections per block, the micro-ops chosen
 * for known instructions (checked against what the SDM says each does), helpers for the rest, and
 * privileged instructions left to the simulator.
 */
import { describe, expect, it } from 'vitest';
import { parseHex, translateText } from '../../src/dbt/show.js';

describe('translate text', () => {
  it('or edx,ecx; mov rax,[rsi+rcx*4]; add ebx,eax; jne -> micro-ops and wasm', () => {
    const t = translateText(parseHex('09 ca 48 8b 04 8e 01 c3 75 f6'), 64, 0x401000);
    expect(t).toContain('block 0 at 00401000: 4 instructions, 10 bytes');
    expect(t).toContain('or edx,ecx');
    expect(t).toMatch(/T2 = or32\(T0, T1\)\n\s+rdx:32 = T2/);
    expect(t).toContain('T0 = load64[ds:T1]');
    expect(t).toContain('exit rip = ne ? entry + 0 : entry + 10');
    expect(t).toContain('br_table');
    expect(t).toContain('i64.load offset=0x80'); // RIP from the CPU block
  });

  it('an instruction without a recipe is a helper call; a privileged one runs in the simulator', () => {
    const t = translateText(parseHex('d3 d0 0f 01 c8 f4'), 64); // rcl eax, cl; monitor; hlt
    expect(t).toContain('call_helper(insn 0)');
    expect(t).toMatch(/monitor.*runs in the simulator/);
    expect(t).toMatch(/hlt.*runs in the simulator/);
  });

  it('32-bit code decodes with 32-bit operands', () => {
    const t = translateText(parseHex('40 48 c3'), 32); // inc eax; dec eax; ret
    expect(t).toContain('inc eax');
    expect(t).toContain('flags = lazy(op 6, 32');
    expect(t).toContain('call_helper(insn 2)'); // RET outside 64-bit mode is a helper
  });
});
