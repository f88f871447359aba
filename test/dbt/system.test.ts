/**
 * The translator inside the system: external interrupts arriving while a region runs (taken at
 * block boundaries, at the same instruction as the interpreter takes them), the cache filling up
 * (full flush) and the three --tc-index modes on two address spaces that map different code at
 * the same virtual address (virt-noflush is wrong on purpose and must show it).
 */
import { describe, expect, it } from 'vitest';
import { OFF_CR3, OFF_INSN_COUNT, OFF_RIP, gprOffset } from '../../src/cpu/state.js';
import type { DbtOptions } from '../../src/dbt/engine.js';
import { getFlags } from '../../src/cpu/flags.js';
import { ALT_CODE, ALT_CR3, CODE, DATA, IRQ_COUNTER, ParityMachine, asm, hasNasm, type Final } from './env.js';

/** An interrupt controller that raises vector 0x20 when told to. */
class FakeIntc {
  pending = false;
  hasInterrupt(): boolean {
    return this.pending;
  }
  acknowledge(): number {
    this.pending = false;
    return 0x20;
  }
}

const LOOP = `
  mov rsi, ${DATA}
  xor ecx, ecx
L: mov eax, [rsi+rcx*4]
  add ebx, eax
  test eax, 1
  jz .e
  xor edx, ebx
.e: inc ecx
  and ecx, 1023
  jmp L`;

function runWithIrqs(opts: DbtOptions | null): Final & { irqs: bigint } {
  const m = new ParityMachine(asm(LOOP), opts);
  const intc = new FakeIntc();
  m.ctx.intc = intc;
  const f = m.run(200_000, 7_919, (k) => {
    if (k % 3 === 1) intc.pending = true;
  });
  return { ...f, irqs: BigInt(m.phys.read32(IRQ_COUNTER)) };
}

describe.skipIf(!hasNasm)('translator and the system', () => {
  it('interrupts raised while a region runs are taken at the same instruction as in the interpreter', () => {
    const ref = runWithIrqs(null);
    expect(ref.irqs).toBeGreaterThan(5n);
    for (const opts of [{ threshold: 0 }, { threshold: 0, kernelExec: 'dbt' }, { threshold: 5 }] as DbtOptions[]) {
      const got = runWithIrqs(opts);
      expect(got.irqs).toBe(ref.irqs);
      expect(got.count).toBe(ref.count);
      expect(got.rip).toBe(ref.rip);
      expect(got.regs).toEqual(ref.regs);
      expect(Buffer.from(got.kstack).equals(Buffer.from(ref.kstack))).toBe(true);
    }
  });

  it('a full cache is flushed and the run goes on with the same result', () => {
    let body = '';
    for (let i = 0; i < 40; i++) body += `  add rbx, ${i}\n  test rbx, 4\n  jz .s${i}\n  inc rdx\n.s${i}:\n`;
    const prog = asm(`mov ecx, 30\n top:\n${body}\n dec ecx\n jnz top\n hlt`);
    const ref = new ParityMachine(prog, null).run(500_000);
    const m = new ParityMachine(prog, { threshold: 0, tcSize: 8 });
    const got = m.run(500_000);
    expect(got.count).toBe(ref.count);
    expect(got.regs).toEqual(ref.regs);
    expect(m.dbt!.stats().flushesSize).toBeGreaterThan(10);
  });

  it('--tc-index: phys and virt follow an address-space switch, virt-noflush runs the other process\'s code', () => {
    const a = asm('L: add rbx, 1\n jmp L');
    const b = asm('L: add rbx, 100\n jmp L');
    const results: Record<string, bigint> = {};
    for (const index of ['phys', 'virt', 'virt-noflush'] as const) {
      const m = new ParityMachine(a, { threshold: 0, tcIndex: index });
      m.phys.writeBytes(ALT_CODE, b);
      m.run(1000);
      // "schedule" process B: new CR3 (the TLB flush a MOV CR3 does), RIP back to the start
      m.views.set64(OFF_CR3, ALT_CR3, 0);
      m.mmu.flushAll();
      m.views.set64(OFF_RIP, CODE, 0);
      m.views.set64(gprOffset(3), 0, 0);
      m.run(2000);
      expect(m.views.getNum(OFF_INSN_COUNT)).toBe(2000);
      results[index] = m.views.getBig(gprOffset(3));
    }
    expect(results.phys).toBe(500n * 100n);
    expect(results.virt).toBe(500n * 100n);
    expect(results['virt-noflush']).toBe(500n);
  });
});

describe.skipIf(!hasNasm)('lockstep', () => {
  it('registers, flags and RIP equal the interpreter\'s at every block boundary', () => {
    const prog = asm(`
      mov rsi, ${DATA}
      mov ecx, 200
    L: mov eax, [rsi+rcx*4]
      add bl, al
      sub rdx, rax
      test ecx, 3
      jnz .k
      push rdx
      call f
      pop r9
    .k: dec ecx
      jnz L
      hlt
    f: xor r8d, edx
      ret`);
    const ref = new ParityMachine(prog, null);
    let boundaries = 0;
    const dbt = new ParityMachine(prog, {
      threshold: 0,
      onBlock: (count) => {
        boundaries++;
        ref.run(count);
        const a = ref.views;
        const b = dbt.views;
        expect(b.getNum(OFF_RIP)).toBe(a.getNum(OFF_RIP));
        for (let r = 0; r < 16; r++) expect(b.getBig(gprOffset(r))).toBe(a.getBig(gprOffset(r)));
        expect(getFlags(b.i32)).toBe(getFlags(a.i32));
      },
    });
    dbt.run(100_000);
    expect(boundaries).toBeGreaterThan(100);
  });
});

describe.skipIf(!hasNasm)('code and data on one page', () => {
  it('a page whose code keeps being invalidated goes to the interpreter, with the same result', () => {
    const prog = asm(`
      mov ecx, 300
    L: add [rel counter], ecx
      inc rbx
      dec ecx
      jnz L
      mov rax, [rel counter]
      hlt
    counter: dq 0`);
    const ref = new ParityMachine(prog, null).run(100_000);
    const m = new ParityMachine(prog, { threshold: 0 });
    const got = m.run(100_000);
    expect(got.count).toBe(ref.count);
    expect(got.regs).toEqual(ref.regs);
    expect(got.code).toEqual(ref.code);
    const st = m.dbt!.stats();
    expect(st.pagesDemoted).toBe(1);
    expect(st.invalidationsByBlocks).toBe(st.invalidations);
    expect(st.invalidations).toBeLessThan(40);
  });
});

describe.skipIf(!hasNasm)('trace', () => {
  it('reports translations (guest and wasm), block entries and invalidations', () => {
    const lines: Record<string, string[]> = { in_asm: [], out_asm: [], exec: [], tc: [] };
    const prog = asm(`
      mov ecx, 3
    L: inc byte [rel imm + 1]
      jmp next
    next:
    imm: mov al, 0
      dec ecx
      jnz L
      hlt`);
    new ParityMachine(prog, { threshold: 0, trace: (k, l) => lines[k].push(l) }).run(1000);
    expect(lines.in_asm.join('\n')).toContain('inc byte');
    expect(lines.out_asm.join('\n')).toContain('br_table');
    expect(lines.exec[0]).toBe(`exec ${CODE.toString(16)} 3 insns`); // mov, inc, jmp
    expect(lines.tc.some((l) => l.startsWith('translate page 20000'))).toBe(true);
    expect(lines.tc.some((l) => l.startsWith('invalidate page 20000'))).toBe(true);
  });
});

describe.skipIf(!hasNasm)('statistics', () => {
  it('helper calls by instruction count only what translated code handed to the interpreter', () => {
    const m = new ParityMachine(asm('mov ecx, 100\nL: bswap eax\n rcl ebx, 3\n add edx, eax\n dec ecx\n jnz L\n hlt'),
      { threshold: 0 });
    m.run(10_000);
    const calls = Object.fromEntries(m.dbt!.helperCalls());
    expect(calls).toEqual({ rclEvIb: 100 }); // BSWAP is inline (and ROL since issue 6's last round)
    const st = m.dbt!.stats();
    expect(st.insnsTranslated + st.insnsInterp + st.insnsHelperBlocks).toBe(m.views.getNum(OFF_INSN_COUNT));
  });

  it('PUSH r/m is inline: memory and register forms, an rSP-based operand read before the push (parity)', () => {
    const prog = asm(`mov rsi, ${DATA}\nmov ecx, 200\nL: push qword [rsi + rcx * 8]\n push qword [rsp]\n push qword [rsp + 8]\n` +
      ` db 0xff, 0xf3 ; push rbx through FF /6\n pop rax\n pop rdx\n pop rdi\n add rbx, rax\n xor rbx, rdx\n add rbx, rdi\n pop rax\n dec ecx\n jnz L\n hlt`);
    const ref = new ParityMachine(prog, null).run(10_000);
    const m = new ParityMachine(prog, { threshold: 0 });
    const got = m.run(10_000);
    expect(got.regs).toEqual(ref.regs);
    expect(got.count).toBe(ref.count);
    expect(got.data).toEqual(ref.data);
    expect(Object.fromEntries(m.dbt!.helperCalls())).toEqual({});
  });

  it('sensitive instructions user code leaves to the simulator are counted by instruction', () => {
    // SMSW and SGDT in ring 3 (no UMIP: they complete), PUSHF/POPF: blocks stop before each one
    const m = new ParityMachine(asm(`mov ecx, 30\nL: smsw eax\n sgdt [${DATA}]\n pushfq\n popfq\n dec ecx\n jnz L\n hlt`),
      { threshold: 0 });
    m.run(10_000);
    expect(Object.fromEntries(m.dbt!.sensitiveTraps())).toEqual({ smswRv: 30, sgdtMs: 30, pushf: 30, popf: 30, hlt: 1 }); // HLT: #GP in ring 3
    const st = m.dbt!.stats();
    expect(st.sensitiveTraps).toBe(121);
    expect(st['trap sgdtMs']).toBe(30);
  });

  it.each(['phys', 'virt', 'virt-noflush'] as const)('chains (--tc-index %s): links made when a region is installed, broken when its page is invalidated', (tcIndex) => {
    // a loop of two blocks in one page (two links: the back edge and the fall-through), then a
    // store into the page invalidates it; virtual indexing links inside a page as physical does
    const m = new ParityMachine(asm(`mov ecx, 50\nL: add eax, ecx\n test ecx, 1\n jz N\n inc ebx\nN: dec ecx\n jnz L\n mov byte [${CODE} + 0x800], 0x90\n hlt`),
      { threshold: 2, tcIndex });
    m.run(10_000);
    const st = m.dbt!.stats();
    expect(st.chainsMade).toBeGreaterThan(0);
    expect(st.chainsBroken).toBe(st.chainsMade);
    expect(st.invalidations).toBe(1);
  });
});

describe.skipIf(!hasNasm)('batches', () => {
  it('regions of pages that warm up together are compiled in one module', () => {
    const prog = asm(`
      mov ecx, 50
    L: call 0x21000
      call 0x22000
      call 0x23000
      dec ecx
      jnz L
      hlt
      times 0x1000 - ($ - $$) db 0x90
      add eax, 1
      ret
      times 0x2000 - ($ - $$) db 0x90
      add ebx, 2
      ret
      times 0x3000 - ($ - $$) db 0x90
      add edx, 3
      ret`);
    const ref = new ParityMachine(prog, null).run(10_000);
    const m = new ParityMachine(prog, { threshold: 6 });
    const got = m.run(10_000);
    expect(got.regs).toEqual(ref.regs);
    expect(got.count).toBe(ref.count);
    const st = m.dbt!.stats();
    expect(st.regions).toBeGreaterThanOrEqual(4);
    expect(st.modules).toBeLessThan(st.regions);
  });
});

describe.skipIf(!hasNasm)('static discovery', () => {
  it('the first compile of a page takes the blocks its hot block reaches; none is compiled twice', () => {
    // g runs from the 100th iteration, h from the 150th, long after the loop is compiled: without
    // discovery the page's region was compiled again for each (several modules, region blocks > blocks)
    const prog = asm(`
      mov ecx, 200
    L: call f
      cmp ecx, 100
      ja .s
      call g
    .s: cmp ecx, 50
      ja .t
      call h
    .t: dec ecx
      jnz L
      hlt
    f: add eax, ecx
      test eax, 1
      jz .f1
      inc ebx
    .f1: ret
    g: sub edx, 3
      ret
    h: imul esi, ecx, 5
      ret`);
    const ref = new ParityMachine(prog, null).run(50_000);
    const m = new ParityMachine(prog, { threshold: 3 });
    const got = m.run(50_000);
    expect(got.regs).toEqual(ref.regs);
    expect(got.count).toBe(ref.count);
    const st = m.dbt!.stats();
    expect(st.modules).toBe(1);
    expect(st.regionBlocks).toBe(st.blocksTranslated);
    expect(st.blocksTranslated).toBeGreaterThanOrEqual(8);
  });
});

describe.skipIf(!hasNasm)('the end of the lower canonical half', () => {
  it('a relative jump from the last page to a non-canonical target is #GP at the jump', () => {
    const TOP = 0x7ffffffff000;
    const prog = asm('mov eax, 1\n add ebx, eax\n jmp near $ + 0x2000');
    const results: Final[] = [];
    for (const opts of [null, { threshold: 0 }] as (DbtOptions | null)[]) {
      const m = new ParityMachine(prog, opts);
      // map virtual TOP -> CODE: PML4[255] -> 0x18000, PDPT[511] -> 0x19000, PD[511] -> 0x1a000
      const w = (pa: number, v: number): void => {
        m.phys.write32(pa, v);
        m.phys.write32(pa + 4, 0);
      };
      w(0x10000 + 255 * 8, 0x18000 | 7);
      w(0x18000 + 511 * 8, 0x19000 | 7);
      w(0x19000 + 511 * 8, 0x1a000 | 7);
      w(0x1a000 + 511 * 8, CODE | 7);
      m.views.setNum(OFF_RIP, TOP);
      results.push(m.run(1000));
    }
    const [ref, got] = results;
    expect(ref.regs[0] & 0xffn).toBe(13n);
    expect(got.count).toBe(ref.count);
    expect(got.regs).toEqual(ref.regs);
    expect(Buffer.from(got.kstack).equals(Buffer.from(ref.kstack))).toBe(true);
  });
});

describe.skipIf(!hasNasm)('virtual time inside translated code', () => {
  it('RDTSC in a translated block reads the instructions retired before it', () => {
    const m = new ParityMachine(asm(`
      mov ecx, 10
    L: add ebx, ecx
      dec ecx
      jnz L
      rdtsc
      mov esi, eax
      mov ecx, 10
    M: add ebx, ecx
      dec ecx
      jnz M
      rdtsc
      sub eax, esi
      mov r8d, eax
      hlt`), { threshold: 0 });
    m.run(1000);
    // between the two RDTSCs: rdtsc, mov, mov, 10 x (add, dec, jnz) = 33 instructions
    expect(m.views.getBig(gprOffset(8))).toBe(33n);
  });
});
