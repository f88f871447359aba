/**
 * Chaining between regions (src/dbt/chain.ts): a region that leaves for code in another page
 * tail-calls that page's region through the jump cache. The tests check that it happens
 * (chainsTaken), that the result is the interpreter's, and that the cache never runs stale code:
 * not after the target page is rewritten (invalidation empties its entries) and not after the
 * target's linear address is mapped to another physical page (the TLB check fails).
 */
import { describe, expect, it } from 'vitest';
import { OFF_CR3, OFF_INSN_COUNT, gprOffset } from '../../src/cpu/state.js';
import { ALT_CODE, ALT_CR3, ParityMachine, asm, hasNasm } from './env.js';

/** Page CODE: a jump to main and f; page CODE + 0x1000: main calls f in a loop. */
function twoPages(inc: number): Uint8Array {
  return asm(`
      jmp main
    f: add rbx, ${inc}
      ret
      times 0x1000 - ($ - $$) db 0x90
    main:
      mov ecx, 1000000
    L: call f
      add rdx, rbx
      dec ecx
      jnz L
      hlt`);
}

/**
 * Runs prog to `limit` instructions on the interpreter and on the translator (threshold 2, slices
 * of 4,096 as the machine's run loop gives) and expects the same registers, count and code pages;
 * returns the translator's machine for its statistics.
 */
function againstInterpreter(prog: Uint8Array, limit: number): ParityMachine {
  const ref = new ParityMachine(prog, null).run(limit);
  const m = new ParityMachine(prog, { threshold: 2 });
  const got = m.run(limit, 4096);
  expect(got.regs).toEqual(ref.regs);
  expect(got.count).toBe(ref.count);
  expect(got.code).toEqual(ref.code);
  return m;
}

describe.skipIf(!hasNasm)('chaining between regions', () => {
  it('a call into another page and the return tail-call the other region; same result as the interpreter', () => {
    const prog = twoPages(3);
    const m = againstInterpreter(prog, 50_000);
    const st = m.dbt!.stats();
    expect(st.chainsTaken).toBeGreaterThan(10_000); // both directions, most iterations
    expect(st.lookups).toBeLessThan(200);
  });

  it('a store into the target page empties its entries: the new code runs (parity)', () => {
    // main rewrites f's immediate (add rbx, imm8 at f + 3) every 256 iterations
    const prog = asm(`
        jmp main
      f: add rbx, 1
        ret
        times 0x1000 - ($ - $$) db 0x90
      main:
        mov ecx, 100000
      L: call f
        test ecx, 255
        jnz .k
        inc byte [rel f + 3]
      .k: dec ecx
        jnz L
        hlt`);
    const m = againstInterpreter(prog, 60_000);
    const st = m.dbt!.stats();
    expect(st.chainsTaken).toBeGreaterThan(1000);
    expect(st.invalidations).toBeGreaterThan(10);
  });

  it.each(['phys', 'virt'] as const)('--tc-index %s: the target mapped to another physical page is not entered through a stale entry', (tcIndex) => {
    // virtual CODE maps to CODE, then (CR3 = ALT_CR3) to ALT_CODE, where f adds 100 instead of 1;
    // main (the next page) maps the same in both
    const a = twoPages(1);
    const b = twoPages(100);
    const run = (m: ParityMachine): [bigint, bigint] => {
      m.phys.writeBytes(ALT_CODE, b.subarray(0, 0x1000));
      m.run(20_000, 4096);
      const before = m.views.getBig(gprOffset(3));
      m.views.set64(OFF_CR3, ALT_CR3, 0); // what a MOV CR3 does: the new space, a TLB flush
      m.mmu.flushAll();
      m.run(40_000, 4096);
      expect(m.views.getNum(OFF_INSN_COUNT)).toBe(40_000);
      return [before, m.views.getBig(gprOffset(3))];
    };
    const want = run(new ParityMachine(a, null));
    // the interpreter ran the new f after the switch: RBX grew by 100 per call
    expect(want[1] > want[0] && (want[1] - want[0]) % 100n === 0n).toBe(true);
    const m = new ParityMachine(a, { threshold: 2, tcIndex });
    expect(run(m)).toEqual(want);
    expect(m.dbt!.stats().chainsTaken).toBeGreaterThan(1000);
  });

  it('a region whose blocks all moved to a newer translation of the page is retired with its entries', () => {
    // f's page is compiled (region A), then again with g once g gets hot (region B, holding f
    // too); main's calls into f keep chaining through the entry the run loop filled for A. When
    // main then rewrites f, invalidating the page drops B's entries; A's must be gone as well.
    const prog = asm(`
        jmp main
      f: add rbx, 1
        ret
      g: add rdx, 1
        ret
        times 0x1000 - ($ - $$) db 0x90
      main:
        mov ecx, 3000
      L: call f
        cmp ecx, 2000
        ja .s
        call g
      .s: cmp ecx, 1000
        jne .k
        inc byte [rel f + 3]
      .k: dec ecx
        jnz L
        hlt`);
    const m = againstInterpreter(prog, 40_000);
    expect(m.dbt!.stats().chainsTaken).toBeGreaterThan(1000);
  });

  it('a helper\'s store into the code of a region entered by a chain stops that region after the store', () => {
    // f is reached from main's page through the jump cache; once (ECX = 1000) it swaps its own
    // ADD immediate with AL through a helper instruction (XCHG with memory): the ADD right after
    // it must see the new byte
    const prog = asm(`
        jmp main
      f: cmp ecx, 1000
        jne .p
        xchg [rel .p + 3], al
      .p: add rbx, 1
        ret
        times 0x1000 - ($ - $$) db 0x90
      main:
        mov eax, 5
        mov ecx, 3000
      L: call f
        dec ecx
        jnz L
        hlt`);
    const m = againstInterpreter(prog, 30_000);
    expect(m.dbt!.stats().chainsTaken).toBeGreaterThan(1000); // f was entered through the jump cache
  });

  it('is off in lockstep mode, which needs control back after every block', () => {
    const m = new ParityMachine(twoPages(5), { threshold: 2, onBlock: () => {} });
    m.run(20_000, 4096);
    expect(m.dbt!.stats().chainsTaken).toBe(0);
  });
});
