/**
 * The host CPU as an oracle: runs batches of small x86 code snippets natively through
 * native-harness.c (compiled here with gcc, cached by content hash) and returns the registers,
 * flags, scratch memory and fault of each, for comparison with ringvm's interpreter.
 *
 * API (BigInt is fine here: this is test code, off every hot path):
 *   ensureHarness(bits = 64): string | null   path of the compiled harness; null without gcc
 *                                             (or, for 32, without gcc -m32 support)
 *   runNativeBatch(cases): NativeResult[]     cases run in 64-bit mode
 *   runNativeBatch32(cases): NativeResult[]   cases run in 32-bit protected mode (CPL 3, flat
 *                                             segments; the host's compatibility mode); regs
 *                                             8..15 are ignored and come back 0, and only the
 *                                             low 32 bits of regs 0..7 are used
 *   Both throw if the harness is missing; results are in case order, one per case.
 *
 * Each case runs with its code at CODE_BASE (read/execute only, 0xCC after it: the INT3 there
 * ends the case), the 16
 * registers given (x86 order: rax rcx rdx rbx rsp rbp rsi rdi r8..r15; set RSP yourself, e.g.
 * to STACK_TOP), RFLAGS = (rflags & RFLAGS_INPUT_MASK) | 0x202, and a zeroed SCRATCH_SIZE block
 * at SCRATCH_BASE into which `mem` is copied. Nothing else is mapped near those two regions
 * (64 KiB guards), so any other access is #PF. Run the interpreter with the same layout.
 *
 * Result: `fault` is FAULT_NONE or the x86 vector the CPU raised (taken from the kernel's
 * trap number, so #GP 13, #SS 12, #PF 14, #AC 17 are told apart exactly), or FAULT_SYSCALL
 * (the code executed SYSCALL/INT 0x80 etc., stopped by seccomp before the kernel ran it; the
 * registers are after the instruction), FAULT_TIMEOUT (over 0.1 s of CPU), FAULT_CRASH (the
 * harness process died on this case; regs/mem are the inputs). On a fault the registers and
 * flags are the CPU's at the exception (before a faulting instruction, after a trapping one),
 * `faultRip` is where, `errorCode` the exception's error code, `faultAddr` CR2 for #PF.
 * `rflags` out is the whole register (bit 1 and IF set).
 * Don't generate SYSCALL/SYSENTER for 32-bit cases: in compatibility mode the kernel may act on
 * them before seccomp sees them.
 * 32-bit cases run natively (-m32 build) when the host kernel allows, else under qemu-i386, where
 * seccomp is unavailable and vectors are inferred from signals (#OF/#BR/#SS read as #GP).
 * In 32-bit cases FS starts as selector 0x07, an LDT data segment based at SCRATCH_BASE with
 * limit SCRATCH_SIZE - 1 (SCRATCH_FS_32), so 16-bit addressing reaches scratch through an FS
 * override, and DS = ES = SS = 0x0F, base 0 with limit CODE_BASE + 4095 (LIMITED_TOP_32), so no
 * access reaches the harness's own memory (`harnessFlags(32) & HARNESS_LIMITED` says it is so).
 * Not reported: x87/SSE state (saved and restored around each case). Instructions whose
 * result depends on the host (CPUID, RDTSC, RDRAND, XGETBV) are the generator's to leave out.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SCRATCH_BASE = 0x10000000;
export const SCRATCH_SIZE = 4096;
/** A suggested initial RSP: 3.75 KiB of stack below, 256 bytes above for pops and returns. */
export const STACK_TOP = SCRATCH_BASE + 0xf00;
export const CODE_BASE = 0x20000000;
/** FS selector at the start of a 32-bit case: LDT data segment, base SCRATCH_BASE. */
export const SCRATCH_FS_32 = 0x07;
/** Last byte DS/ES/SS reach in 32-bit cases. */
export const LIMITED_TOP_32 = CODE_BASE + 4095;
/** Header flags: syscalls trapped, FS over scratch, DS/ES/SS limited (32-bit). */
export const HARNESS_SECCOMP = 1;
export const HARNESS_FS = 2;
export const HARNESS_LIMITED = 4;
/** Longest code accepted in one case. */
export const CODE_MAX = 4096 - 64;
/** The RFLAGS bits a case may set: CF PF AF ZF SF DF OF (never TF, IF, AC, ID). */
export const RFLAGS_INPUT_MASK = 0xcd5;

export const FAULT_NONE = -1;
export const FAULT_SYSCALL = -2;
export const FAULT_TIMEOUT = -3;
export const FAULT_CRASH = -4;

export interface NativeCase {
  code: Uint8Array;
  regs: bigint[]; // 16 values
  rflags: number;
  mem: Uint8Array; // at most SCRATCH_SIZE bytes; the rest of the block starts as zero
}

export interface NativeResult {
  regs: bigint[]; // 16 unsigned 64-bit values
  rflags: number;
  mem: Uint8Array; // SCRATCH_SIZE bytes
  fault: number; // FAULT_NONE, a vector 0..31, or FAULT_SYSCALL / FAULT_TIMEOUT / FAULT_CRASH
  errorCode: number;
  faultAddr: bigint;
  faultRip: bigint;
}

const SOURCE = join(import.meta.dirname, 'native-harness.c');
const FLAGS: Record<64 | 32, string[]> = {
  64: ['-O2', '-fno-stack-protector'],
  // linked above CODE_BASE's page: the case's DS/ES/SS end there (see the C file)
  32: ['-m32', '-static', '-no-pie', '-fno-pie', '-O2', '-fno-stack-protector', '-Wl,-Ttext-segment=0x40000000'],
};
const MAGIC = 0x4f4e5652;
const HEADER = 16;
const CASE_HEAD = 8 + 16 * 8 + 8;
const RESULT = 24 + 16 * 8 + 8 + SCRATCH_SIZE;
/** Cases per harness process: keeps one process's output to about 8 MiB. */
const CHUNK = 2048;

const built = new Map<number, string | null>();

/** Compiles the harness once per content (and flags) into the temp dir; null without a compiler. */
export function ensureHarness(bits: 64 | 32 = 64): string | null {
  const known = built.get(bits);
  if (known !== undefined) return known;
  const src = readFileSync(SOURCE);
  const hash = createHash('sha256').update(src).update(FLAGS[bits].join(' ')).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'ringvm-native-harness');
  const exe = join(dir, `harness${bits}-${hash}`);
  let path: string | null = exe;
  if (!existsSync(exe)) {
    mkdirSync(dir, { recursive: true });
    // Build under a unique name and rename: test workers may race to build the same file.
    const tmp = `${exe}.${process.pid}.tmp`;
    const r = spawnSync('gcc', [...FLAGS[bits], '-o', tmp, SOURCE], { encoding: 'utf8' });
    if (r.status === 0) renameSync(tmp, exe);
    else path = null;
  }
  if (path) {
    // A kernel without 32-bit support cannot run the -m32 build: fall back to qemu-i386 (Debian's
    // qemu-user), where fault vectors are guessed from the signal (see the C file). Setting
    // RINGVM_ORACLE32=qemu forces that path, to check it.
    const viaQemu = bits === 32 && process.env.RINGVM_ORACLE32 === 'qemu';
    if (!viaQemu && runs([path], bits)) runners.set(bits, [path]);
    else if (bits === 32 && runs(['qemu-i386', path], bits)) runners.set(bits, ['qemu-i386', path]);
    else path = null;
  }
  built.set(bits, path);
  return path;
}

let batchTimeoutMs = 120_000;
/** How long one harness process may run before it is killed (its current case then counts as a crash). */
export function setBatchTimeout(ms: number): void {
  batchTimeoutMs = ms;
}

/** The command that runs each build: the binary itself, or qemu-i386 and the binary. */
const runners = new Map<number, string[]>();
const headerFlags = new Map<number, number>();

/** The header flags (HARNESS_*) of the build that runs, 0 before ensureHarness succeeded. */
export function harnessFlags(bits: 64 | 32): number {
  return headerFlags.get(bits) ?? 0;
}

/** True when the harness runs under qemu-i386 instead of natively. */
export function harnessViaQemu(bits: 64 | 32): boolean {
  return runners.get(bits)?.[0] === 'qemu-i386';
}

/** True when the command starts and prints its header on an empty batch. */
function runs(cmd: string[], bits: number): boolean {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { input: Buffer.alloc(0), timeout: 10_000 });
  const ok = r.status === 0 && r.stdout.length === HEADER && r.stdout.readUInt32LE(0) === MAGIC;
  if (ok) headerFlags.set(bits, r.stdout.readUInt32LE(12));
  return ok;
}

export function runNativeBatch(cases: NativeCase[]): NativeResult[] {
  return runBatch(cases, 64);
}

export function runNativeBatch32(cases: NativeCase[]): NativeResult[] {
  return runBatch(cases, 32);
}

/**
 * The 32-bit build run on the host CPU even when RINGVM_ORACLE32=qemu selected qemu-i386 for
 * runNativeBatch32 (the QEMU pass checks its differences against the host).
 */
export function runHostBatch32(cases: NativeCase[]): NativeResult[] {
  const exe = ensureHarness(32);
  if (!exe || !runs([exe], 0)) throw new Error('the 32-bit harness does not run on this host');
  const saved = runners.get(32);
  runners.set(32, [exe]);
  try {
    return runBatch(cases, 32);
  } finally {
    if (saved) runners.set(32, saved);
  }
}

function runBatch(cases: NativeCase[], bits: 64 | 32): NativeResult[] {
  const exe = ensureHarness(bits);
  const cmd = runners.get(bits);
  if (!exe || !cmd) throw new Error(`native harness (${bits}-bit) unavailable: needs gcc${bits === 32 ? ' -m32' : ''}`);
  const results: NativeResult[] = [];
  let next = 0;
  while (next < cases.length) {
    const chunk = cases.slice(next, next + CHUNK);
    // qemu-i386 runs without the harness's CPU-time limit (see the C file); a hung process is
    // killed after two minutes and its current case recorded as a crash
    const env = cmd[0] === 'qemu-i386' ? { ...process.env, RINGVM_NO_TIMER: '1' } : process.env;
    const r = spawnSync(cmd[0]!, cmd.slice(1), {
      input: encode(chunk), maxBuffer: HEADER + RESULT * chunk.length + 1024, env, timeout: batchTimeoutMs, killSignal: 'SIGKILL',
    });
    // EPIPE: the process died before reading the whole batch; what it wrote still counts
    const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
    if (r.error && code !== 'EPIPE' && code !== 'ETIMEDOUT') throw r.error;
    if (r.stdout === null) throw new Error(`native harness produced no output: ${String(r.error)}`);
    const out = r.stdout;
    if (out.length < HEADER || out.readUInt32LE(0) !== MAGIC) {
      throw new Error(`native harness gave no header (status ${r.status}): ${String(r.stderr)}`);
    }
    const done = Math.min(chunk.length, Math.floor((out.length - HEADER) / RESULT));
    for (let i = 0; i < done; i++) results.push(decode(out, HEADER + i * RESULT));
    next += done;
    if (done < chunk.length) {
      // The process died on case `next` (or was killed): record it and go on after it.
      if (r.status === 2) throw new Error(`native harness rejected case ${next}: ${String(r.stderr)}`);
      results.push(crashed(cases[next]!));
      next++;
    }
  }
  return results;
}

function encode(cases: NativeCase[]): Buffer {
  let size = 0;
  for (const c of cases) size += CASE_HEAD + c.code.length + c.mem.length;
  const buf = Buffer.alloc(size);
  let o = 0;
  for (const c of cases) {
    if (c.code.length > CODE_MAX) throw new Error(`code longer than ${CODE_MAX} bytes`);
    if (c.mem.length > SCRATCH_SIZE) throw new Error(`mem longer than ${SCRATCH_SIZE} bytes`);
    if (c.regs.length !== 16) throw new Error('regs must hold 16 values');
    buf.writeUInt16LE(c.code.length, o);
    buf.writeUInt16LE(c.mem.length, o + 2);
    buf.writeUInt32LE(0, o + 4);
    for (let i = 0; i < 16; i++) buf.writeBigUInt64LE(BigInt.asUintN(64, c.regs[i]!), o + 8 + i * 8);
    buf.writeBigUInt64LE(BigInt(c.rflags >>> 0), o + 136);
    o += CASE_HEAD;
    buf.set(c.code, o);
    o += c.code.length;
    buf.set(c.mem, o);
    o += c.mem.length;
  }
  return buf;
}

function decode(out: Buffer, o: number): NativeResult {
  const regs: bigint[] = [];
  for (let i = 0; i < 16; i++) regs.push(out.readBigUInt64LE(o + 24 + i * 8));
  return {
    fault: out.readInt32LE(o),
    errorCode: out.readUInt32LE(o + 4),
    faultAddr: out.readBigUInt64LE(o + 8),
    faultRip: out.readBigUInt64LE(o + 16),
    regs,
    rflags: Number(out.readBigUInt64LE(o + 152)),
    mem: new Uint8Array(out.buffer, out.byteOffset + o + 160, SCRATCH_SIZE),
  };
}

function crashed(c: NativeCase): NativeResult {
  const mem = new Uint8Array(SCRATCH_SIZE);
  mem.set(c.mem);
  return {
    fault: FAULT_CRASH,
    errorCode: 0,
    faultAddr: 0n,
    faultRip: 0n,
    regs: c.regs.map((v) => BigInt.asUintN(64, v)),
    rflags: c.rflags,
    mem,
  };
}
