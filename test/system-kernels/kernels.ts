/**
 * The bare-metal test kernels of guest-images/tests/ and how their output is judged: how each is
 * booted on QEMU and on ringvm, how the two raw outputs become comparable text, and the documented
 * places where QEMU 7.2 TCG departs from the Intel SDM. The expected file of a kernel is QEMU's
 * output with exactly these departures patched to the SDM's answer (docs/system-conformance.md
 * gives the reasons), so the same patch code serves update-expected.ts and the test.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { VENDOR } from '../../src/system/cpuid.js';
import { QEMU, qemuArgs } from '../qemu.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const KERNELS_DIR = join(ROOT, 'guest-images/tests');
export const EXPECTED_DIR = join(import.meta.dirname, 'expected');

/** The kernels, in the order tests.mk builds them. */
export const KERNELS = ['exc64', 'pf64', 'priv64', 'sys64', 'timer', 'triple', 'exc32', 'io32', 'pf32', 'modes', 'sys32', 'dbg64'];

/**
 * The CPUID vendor QEMU reports for a kernel: ringvm's own, except where a kernel checks what
 * Intel and AMD do differently; ringvm follows Intel there, and QEMU 7.2 TCG treats any
 * non-Intel vendor as AMD (SYSENTER/SYSEXIT in 64-bit mode raise #UD), so those kernels run as
 * GenuineIntel. None of them prints the vendor.
 */
export const QEMU_VENDOR: Record<string, string> = { sys64: 'GenuineIntel', sys32: 'GenuineIntel' };

/** The last line of every expected file says how the run ended. */
function endLine(how: string): string {
  return `end: ${how}`;
}

/** QEMU: isa-debug-exit gives (v << 1) | 1; with -no-reboot a triple fault (a reset) exits 0. */
function qemuEnd(status: number | null): string {
  if (status === 0) return endLine('triple fault');
  if (status !== null && (status & 1) === 1) return endLine(`debug-exit status ${status}`);
  return endLine(`QEMU status ${status}`);
}

/** ringvm (src/cli/run.ts): debug-exit as QEMU, 3 = triple fault, 4 = --max-insns reached. */
function ringvmEnd(status: number | null): string {
  if (status === 3) return endLine('triple fault');
  if (status !== null && (status & 1) === 1) return endLine(`debug-exit status ${status}`);
  return endLine(`ringvm status ${status}`);
}

function text(serial: Buffer | string | null): string {
  return String(serial ?? '').replace(/\r\n/g, '\n');
}

export interface Run {
  text: string; // serial output with \r\n as \n, then the end line
  stderr: string;
}

/** Runs a command; resolves with its stdout, stderr and exit status (null if killed). */
function run(cmd: string, args: string[], timeoutMs: number): Promise<{ out: Buffer; err: string; status: number | null }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: ROOT, timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('close', (status) => done({ out: Buffer.concat(out), err: Buffer.concat(err).toString(), status }));
  });
}

/** Boots a kernel on QEMU (the command of docs/system-conformance.md). */
export async function runQemu(kernel: string, timeoutMs = 20_000): Promise<Run> {
  const r = await run(
    QEMU,
    qemuArgs({ kernel: join(KERNELS_DIR, `${kernel}.bin`), vendor: QEMU_VENDOR[kernel] ?? VENDOR }),
    timeoutMs,
  );
  return { text: text(r.out) + qemuEnd(r.status) + '\n', stderr: r.err };
}

/** Boots a kernel on ringvm through its command line, as a user would. */
export async function runRingvm(kernel: string, timeoutMs = 30_000): Promise<Run> {
  const r = await run(
    join(ROOT, 'node_modules/.bin/tsx'),
    [join(ROOT, 'src/cli/main.ts'), 'run', '--sensitive', 'emulate', '--max-insns', '50000000', join(KERNELS_DIR, `${kernel}.bin`)],
    timeoutMs,
  );
  return { text: text(r.out) + ringvmEnd(r.status) + '\n', stderr: r.err };
}

/** A place where QEMU 7.2 TCG departs from the SDM: the line (by its prefix) and how to fix it. */
export interface Departure {
  kernel: string;
  prefix: string; // the line starts with this
  next?: boolean; // the departure shows on the line after it
  reason: string;
  fix: (line: string, all: string[], anchor: string) => string;
}

/** The ` cs=... frame=...` tail of the line starting with `prefix` (a probe on the same stack). */
function tailOf(all: string[], prefix: string): string {
  const l = all.find((x) => x.startsWith(prefix)) ?? '';
  return l.slice(l.indexOf(' cs='));
}
/** The address a probe line announces: "... at HEX: ...". */
const at = (l: string): string => /at ([0-9A-F]{8,16}):/.exec(l)?.[1] ?? '?';

const hex = (n: bigint, digits: number): string => n.toString(16).toUpperCase().padStart(digits, '0');
/** Replaces `field=HEX` in a line by f(value), keeping the width. */
function field(line: string, name: string, f: (v: bigint) => bigint): string {
  return line.replace(new RegExp(`(${name}=)([0-9A-F]+)`), (_m, k: string, v: string) => k + hex(f(BigInt(`0x${v}`)), v.length));
}
const setVec = (line: string, v: string): string => line.replace(/#[0-9A-F]{2}/, `#${v}`);

export const DEPARTURES: Departure[] = [
  {
    kernel: 'exc64', prefix: 'int1 (icebp): ',
    reason: 'INT1 (F1) raises #DB as a trap (SDM Vol. 2 INT n/INTO/INT1/INT3); QEMU 7.2 raises #UD',
    // the handler prints DR6 for a #DB: INT1 sets none of its bits, so it holds its reset value
    fix: (l) => field(setVec(l, '01'), 'rip', (v) => v + 1n).replace('#01 ', '#01 dr6=FFFF0FF0 '),
  },
  {
    kernel: 'exc64', prefix: 'non-canonical stack: ',
    reason: 'a non-canonical address through SS is #SS(0) (SDM Vol. 3 6.15 #SS); QEMU raises #GP(0)',
    fix: (l) => setVec(l, '0C'),
  },
  {
    kernel: 'exc64', prefix: 'push on non-canonical rsp (#SS, #GP on IST1): ',
    reason: 'PUSH with a non-canonical RSP is #SS(0); QEMU raises #GP(0)',
    fix: (l) => setVec(l, '0C'),
  },
  {
    kernel: 'exc64', prefix: 'push on non-canonical rsp, #SS gate on the same stack: ',
    reason: 'the #SS cannot be pushed on the same non-canonical stack: a second #SS, so #DF (on IST1, RIP not printed); QEMU raised #GP to IST1',
    fix: (l) => setVec(l, '08').replace(/ rip=[0-9A-F]+/, '').replace(/frame=[0-9A-F]+/, 'frame=0000000000109FD8'),
  },
  {
    kernel: 'exc64', prefix: 'wrmsr to unknown msr at ',
    reason: 'WRMSR to an unimplemented MSR is #GP(0) (SDM Vol. 2 WRMSR); QEMU ignores the write',
    fix: (l, all) => l.replace('no exception', `#0D err=0000 rip=${at(l)}${tailOf(all, 'non-canonical load: ')}`),
  },
  {
    kernel: 'exc64', prefix: 'jmp non-canonical at ',
    reason: 'a jump to a non-canonical address faults on the JMP itself (SDM Vol. 2 JMP: #GP(0), RIP unchanged); QEMU reports the target as the faulting RIP',
    fix: (l) => l.replace(/rip=[0-9A-F]+/, `rip=${at(l)}`),
  },
  {
    kernel: 'exc64', prefix: 'int 0x40, gate absent: ',
    reason: 'error code of an INT n through a not-present gate is vector*8+2 (IDT flag); QEMU 7.2 64-bit uses vector*16+2',
    fix: (l) => field(l, 'err', (v) => ((v - 2n) >> 1n) + 2n),
  },
  {
    kernel: 'exc64', prefix: 'int 0x41, past IDT limit: ',
    reason: 'error code of an INT n past the IDT limit is vector*8+2; QEMU 7.2 64-bit uses vector*16+2',
    fix: (l) => field(l, 'err', (v) => ((v - 2n) >> 1n) + 2n),
  },
  {
    kernel: 'timer', prefix: 'IRQ 0 through a not-present gate: ',
    reason: 'an external interrupt through a not-present gate gives #NP(vector*8+2+1): IDT and EXT bits set (SDM Vol. 3 6.13); QEMU 7.2 64-bit gives vector*16+2, without EXT',
    fix: (l) => field(l, 'err', (v) => ((v - 2n) >> 1n) + 3n),
  },
  {
    kernel: 'priv64', prefix: 'iretq to ring 3 with a non-canonical RIP, iretq at ',
    reason: 'IRET checks the return RIP before it leaves ring 0: #GP(0) on the IRETQ, frame on the ring-0 stack (SDM Vol. 2 IRET); QEMU 7.2 returns to ring 3 and faults on the fetch',
    // the same ring-0 frame as the other IRETQ probes (five pushes below main's stack)
    fix: (l, all) => l.replace(/#0D .*$/, `#0D err=0000 rip=${at(l)}${tailOf(all, 'iretq to ring 3 with SS.RPL 0: ')}`),
  },
  {
    kernel: 'priv64', prefix: 'ring 0 int 0x83 (IST1): ',
    reason: 'an IST delivery without a privilege change keeps SS (SDM Vol. 3 6.14.4: SS is nulled only on a CPL change); QEMU 7.2 loads a null SS',
    fix: (l) => l.replace('handler ss=0000', 'handler ss=0010'),
  },
  ...['ring 3 int 0x82 (DPL 0): ', 'ring 3 int3 through a DPL 0 gate: '].map(
    (prefix): Departure => ({
      kernel: 'priv64', prefix,
      reason: 'error code of an INT n through a gate of DPL < CPL is vector*8+2; QEMU 7.2 64-bit uses vector*16+2',
      fix: (l) => field(l, 'err', (v) => ((v - 2n) >> 1n) + 2n),
    }),
  ),
  {
    kernel: 'priv64', prefix: 'ring 3 misaligned dword read, CR0.AM=1, AC=1, at ',
    reason: 'with CR0.AM and RFLAGS.AC set, a misaligned access at CPL 3 raises #AC(0) (SDM Vol. 3 6.15 #AC); QEMU 7.2 never raises #AC',
    fix: (l, all) => l.replace('no exception', `#11 err=0000 rip=${at(l)}${tailOf(all, 'ring 3 cli: ')}`),
  },
  {
    kernel: 'sys64', prefix: 'syscall from 64-bit ring 3, then sysretq: ',
    reason: 'SYSCALL clears in RFLAGS exactly the bits set in IA32_FMASK (SDM Vol. 2 SYSCALL); QEMU 7.2 also clears the arithmetic flags',
    fix: (l) => field(l, 'rflags', () => BigInt(`0x${/r11=([0-9A-F]+)/.exec(l)![1]}`) & ~0x40700n),
  },
  {
    kernel: 'sys64', prefix: 'syscall from 64-bit ring 3, then sysretq: ', next: true,
    reason: 'SYSRET loads RFLAGS from R11 & 0x3C7FD7 | 2, so RF (bit 16) is clear (SDM Vol. 2 SYSRET); QEMU 7.2 keeps R11\'s RF',
    fix: (l) => field(l, 'rflags', (v) => v & ~0x10000n),
  },
  {
    kernel: 'sys64', prefix: 'syscall, then sysretq with a non-canonical RCX, sysretq at ', next: true,
    reason: 'SYSRET with a non-canonical RCX raises #GP(0) at CPL 0 on the SYSRET itself, still on the ring-3 stack (SDM Vol. 2 SYSRET; the Intel behaviour); QEMU 7.2 returns to ring 3 and faults on the fetch',
    fix: (l, _all, anchor) => {
      const rsp = BigInt(`0x${/ss:rsp=[0-9A-F]+:([0-9A-F]+)/.exec(l)![1]}`);
      return `#0D err=0000 rip=${at(anchor)} cs=0008 ss:rsp=0010:${hex(rsp, 16)} frame=${hex(rsp - 0x28n, 16)}`;
    },
  },
  ...['read through a null ES at ', 'write through CS at ', 'read past a 4 KiB data segment limit at ', 'dword read straddling the limit at '].map(
    (prefix): Departure => ({
      kernel: 'exc32', prefix,
      reason: 'a data access through a null selector, a write to a code segment and an access past a segment limit raise #GP(0) (SDM Vol. 3 5.3, 5.4); QEMU 7.2 TCG checks none of them at access time',
      fix: (l, all) => l.replace('no exception', `#0D err=0000 eip=${at(l)}${tailOf(all, 'div by zero: ')}`),
    }),
  ),
  {
    kernel: 'pf32', prefix: 'PAE: mov cr3 with a PDPTE that sets reserved bit 5, at ',
    reason: 'with PAE paging, MOV to CR3 loads the four PDPTEs and raises #GP(0) if a present one sets a reserved bit (SDM Vol. 3 4.4.1); QEMU 7.2 reads PDPTEs only during walks',
    fix: (l, all) => l.replace('no exception', `#0D err=0000 eip=${at(l)}${tailOf(all, 'kernel read, not present: ')}`),
  },
  {
    kernel: 'sys32', prefix: 'syscall in legacy mode, EFER.SCE = 1, at ',
    reason: 'Intel CPUs raise #UD for SYSCALL outside 64-bit mode (SDM Vol. 2 SYSCALL); QEMU 7.2 runs it AMD-style even as GenuineIntel',
    fix: (l, all) => l.replace('syscall ran', `#06 eip=${at(l)}${tailOf(all, 'sysexit at CPL 3: ')}`),
  },
  ...['  sel 0023: ', '  sel 002B: '].map(
    (prefix): Departure => ({
      kernel: 'dbg64', prefix,
      reason: 'loading a selector sets the accessed bit of its descriptor (SDM Vol. 3 3.4.5), also when IRET loads CS and SS; QEMU 7.2 leaves it clear for the ring-3 CS/SS it only ever loaded through IRETQ, so LAR shows it clear',
      fix: (l) => l.replace(/lar 1 ([0-9A-F]{8})/, (_m, v: string) => `lar 1 ${hex(BigInt(`0x${v}`) | 0x100n, 8)}`),
    }),
  ),
  {
    kernel: 'modes', prefix: 'word read at ds:FFFF by the instruction at ip ',
    reason: 'a real-mode access past offset 0xFFFF exceeds the segment limit: #GP (SDM Vol. 2 MOV, real-address mode exceptions); QEMU 7.2 wraps or reads on',
    fix: (l) => {
      const ip = /at ip ([0-9A-F]{4}): /.exec(l)![1];
      return l.replace(`at ip ${ip}: `, `at ip ${ip}: #GP, saved ip=${ip}\n`);
    },
  },
  ...[['pf64', 'kernel fetch, NX page, EFER.NXE=0 (bit 63 reserved): '], ['pf64', 'kernel read, reserved bit: '], ['pf64', 'user write, reserved bit: '],
    ['pf32', 'read from a 4 MiB page with reserved bit 21: '], ['pf32', 'user write, same page: ']].map(
    ([kernel, prefix]): Departure => ({
      kernel: kernel!, prefix: prefix!,
      reason: 'a reserved-bit #PF sets P as well as RSVD in the error code (SDM Vol. 3 4.7: RSVD faults only occur on present entries); QEMU leaves P clear',
      fix: (l) => field(l, 'err', (v) => v | 1n),
    }),
  ),
];

/**
 * QEMU's output with every departure of `kernel` patched. Throws if a departure's line is missing
 * or the patch changes nothing: then QEMU changed (or the kernel did) and the list needs a look.
 */
export function patchDepartures(kernel: string, qemuText: string): string {
  const lines = qemuText.split('\n');
  const orig = [...lines];
  for (const d of DEPARTURES.filter((x) => x.kernel === kernel)) {
    const a = lines.findIndex((l) => l.startsWith(d.prefix));
    if (a < 0) throw new Error(`${kernel}: no line starts with '${d.prefix}'`);
    const i = d.next ? a + 1 : a;
    const fixed = d.fix(lines[i]!, orig, lines[a]!);
    if (fixed === lines[i]) throw new Error(`${kernel}: the departure at '${d.prefix}' no longer shows in QEMU's output`);
    lines[i] = fixed;
  }
  return lines.join('\n');
}
