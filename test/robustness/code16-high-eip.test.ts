/**
 * 16-bit code entered at an EIP above 0xFFFF (a far jump or gate into a 16-bit code segment with a
 * 32-bit offset, as the robustness fuzz's damaged descriptors produce): the interpreter wraps IP
 * to 16 bits after each instruction; the translator must not run the following bytes as one block
 * (seeds 7201332, 7201351, 7201403, 7201554 of `fuzz-machine.ts --oddities` differed before).
 */
import { describe, expect, it } from 'vitest';
import { OFF_MODE, OFF_RIP, MODE_PROT16, gprOffset } from '../../src/cpu/state.js';
import { runCase } from './harness.js';

// jmp far 0x28:0x10007 (the harness's selector 0x28 is 16-bit code outside long mode), then
// four INC AX and HLT at 0x10007..: only the first INC runs there, IP then wraps to 0x0008
const CODE = new Uint8Array([0xea, 0x07, 0x00, 0x01, 0x00, 0x28, 0x00, 0x40, 0x40, 0x40, 0x40, 0xf4]);

async function final(engine: 'interp' | 'dbt'): Promise<string> {
  let s = '';
  const r = await runCase(1, {
    engine, setting: 'prot32-k', code: CODE, kernelDbt: true, rflags: 2, budget: 20,
    onMachine: (m) => {
      const u = m.views.u32;
      expect(u[OFF_MODE >> 2]).toBe(MODE_PROT16);
      s = `count=${m.instructions()} rip=${u[OFF_RIP >> 2].toString(16)} eax=${u[gprOffset(0) >> 2].toString(16)}`;
    },
  });
  return `${r.stop?.reason} ${s}`;
}

describe('16-bit code above 0xFFFF', () => {
  it('runs the same under the translator (kernel code translated) as under the interpreter', async () => {
    const interp = await final('interp');
    expect(interp).toMatch(/^instruction limit reached \(20\) count=20 rip=/);
    expect(await final('dbt')).toBe(interp);
  });
});
