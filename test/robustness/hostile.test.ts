// Directed hostile guests: the accesses most likely to reach past guest RAM into ringvm's own
// state if an address were ever mishandled (a physical address at 0xFFF0_0000 and up is, as a
// negative int32, RAM_BASE bytes or fewer below guest RAM: the CPU block and the TLB), stores,
// fetches, descriptor tables, page tables and stacks at those addresses and straddling the end of
// RAM, under both engines. Each must end in a documented stop with the canaries below RAM intact
// (runCase checks the CPU block from 0x2000 and the TLB tail: the targets below are chosen there).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODE, FUZZ_RAM, runCase, type Setting } from './harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'ringvm-hostile-'));

function asm(src: string, bits: 16 | 32 | 64): Uint8Array {
  const s = join(tmp, 'p.asm');
  const o = join(tmp, 'p.bin');
  writeFileSync(s, `bits ${bits}\norg 0x${CODE.toString(16)}\n${src}\n`);
  execFileSync('nasm', ['-f', 'bin', '-o', o, s]);
  return new Uint8Array(readFileSync(o));
}

// Physical 0xFFF0_0000 + x would be host offset x if the address went negative: x = 0x2100 lies in
// the CPU block's free space, 0x60000 in the TLB's unused tail (both canaries).
const CPU_HOLE = 0xfff02100;
const TLB_HOLE = 0xfff60000;
const END = FUZZ_RAM;

const PROBES: [string, Setting, string][] = [
  ['stores of every size at would-be host offsets', 'prot32-k', `
    mov eax, 0xdeadbeef
    mov [${CPU_HOLE}], al
    mov [${CPU_HOLE + 8}], ax
    mov [${CPU_HOLE + 16}], eax
    mov [${CPU_HOLE + 0xfff}], eax
    mov [${TLB_HOLE}], eax
    lock xadd [${TLB_HOLE + 64}], eax
    cmpxchg8b [${TLB_HOLE + 128}]
    hlt`],
  ['REP STOS and MOVS over would-be host state', 'prot32-k', `
    mov edi, ${CPU_HOLE}
    mov ecx, 0x3000
    mov eax, 0x55aa55aa
    cld
    rep stosd
    mov esi, 0x10000
    mov edi, ${TLB_HOLE}
    mov ecx, 0x8000
    rep movsb
    hlt`],
  ['a jump into would-be host state, and code straddling the end of RAM', 'prot32-k', `
    mov byte [${END - 2}], 0xb8
    mov eax, ${END - 2}
    jmp eax`],
  ['a jump to would-be host state', 'prot32-k', `
    mov eax, ${CPU_HOLE}
    jmp eax`],
  ['GDT and IDT at would-be host offsets, then selector loads and an interrupt', 'prot32-k', `
    lgdt [gdtr]
    mov ax, 0x10
    mov ds, ax
    mov ax, 0x2b
    mov es, ax
    lidt [idtr]
    int 0x80
    hlt
    gdtr: dw 0xffff
          dd ${CPU_HOLE}
    idtr: dw 0x7ff
          dd ${TLB_HOLE}`],
  ['32-bit paging on a page directory at a would-be host offset', 'prot32-k', `
    mov eax, ${CPU_HOLE & ~0xfff}
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov dword [0x400000], 1
    hlt`],
  ['PAE paging with PDPTEs straddling the end of RAM', 'prot32-k', `
    mov eax, cr4
    or eax, 0x20
    mov cr4, eax
    mov eax, ${END - 0x10}
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    hlt`],
  ['a stack at would-be host offsets and straddling the end of RAM', 'prot32-k', `
    mov esp, ${CPU_HOLE + 0x20}
    push eax
    call next
    next: pushad
    mov esp, ${END + 2}
    push eax
    pushfd
    int3
    hlt`],
  ['long mode: a page-table root beyond RAM and at a would-be host offset', 'long64-k', `
    mov rax, ${CPU_HOLE & ~0xfff}
    mov cr3, rax
    mov qword [0x1000], 1
    hlt`],
  ['long mode: 64-bit stores at the top of the 32-bit space and past the end of RAM', 'long64-k', `
    mov rax, 0x1122334455667788
    mov rdi, ${END - 4}
    mov [rdi], rax
    mov rcx, 0x1000
    rep stosq
    hlt`],
  ['user mode: syscalls, sysenter, far calls and IRET with hostile stacks', 'long64-u', `
    mov rsp, ${END - 8}
    syscall
    sysenter
    call far [rsp]
    iretq
    hlt`],
  ['timers at their fastest: LAPIC periodic count 1 / divide 1, PIT count 1, RTC at 8 kHz', 'prot32-k', `
    mov dword [0xfee000f0], 0x1ff
    mov dword [0xfee003e0], 0xb
    mov dword [0xfee00320], 0x20030
    mov dword [0xfee00380], 1
    mov al, 0x34
    out 0x43, al
    mov al, 1
    out 0x40, al
    mov al, 0
    out 0x40, al
    mov al, 0x0a
    out 0x70, al
    mov al, 0x23
    out 0x71, al
    mov al, 0x0b
    out 0x70, al
    mov al, 0x40
    out 0x71, al
    mov al, 0
    out 0xa1, al
    out 0x21, al
    sti
    l: hlt
    jmp l`],
  ['real mode: wrap-around at FFFF:FFFF and a far jump into the BIOS hole', 'real', `
    mov ax, 0xffff
    mov ds, ax
    mov word [0xffff], 0x1234
    mov es, ax
    mov di, 0xfff0
    mov cx, 0x100
    rep stosw
    jmp 0xf000:0xfff0`],
];

describe('hostile guests aimed at ringvm\'s own memory', () => {
  for (const [name, setting, src] of PROBES) {
    it(name, async () => {
      const code = asm(src, setting === 'real' ? 16 : setting.startsWith('long') ? 64 : 32);
      for (const engine of ['interp', 'dbt'] as const) {
        for (const seed of [1, 2, 3]) {
          // Seed 1 runs with IF and TF clear (the probe runs as written); 2 and 3 with random flags.
          const r = await runCase(seed, { engine, setting, code, budget: 5000, maxMs: 30_000, rflags: seed === 1 ? 2 : undefined });
          expect(r.failure, `${engine} seed ${seed}: ${r.stop?.reason}`).toBe('');
          expect(r.stop).not.toBeNull();
        }
      }
    }, 60_000);
  }
});
