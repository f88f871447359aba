/**
 * `ringvm run IMAGE`: build a machine, load the image, connect the console, run until the guest
 * stops, and turn the reason into an exit status:
 *   debug-exit (v<<1)|1 · guest halted 0 · bad image or option 2 · triple fault 3 ·
 *   --max-insns reached 4 · unsupported guest feature 5 · --lockstep divergence 6 ·
 *   interrupted (Ctrl-C, Ctrl-A x) 130.
 * --lockstep builds a second machine with the same image running the interpreter alone and
 * compares the two after every translated block (machine/lockstep.ts).
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { loadImage, parseInitrd, readImageFile } from '../boot/load.js';
import type { BootModule } from '../boot/multiboot-info.js';
import { LoadError } from '../boot/load-error.js';
import type { DbtOptions } from '../dbt/engine.js';
import { DEFAULT_IPS, FIXED_RTC_START } from '../machine/clock.js';
import type { EngineOptions } from '../machine/engine.js';
import { Machine, MachineError, type MachineOptions, type StopInfo } from '../machine/machine.js';
import { formatSize, parseMemSize, SizeError } from '../machine/size.js';
import { collectStats, formatStats } from '../machine/stats.js';
import { type Lockstep, lockstepPair, STATUS_DIVERGENCE } from '../machine/lockstep.js';
import { parseTrace, translatorTrace } from '../machine/trace.js';
import { POLICY_NAMES } from '../system/context.js';
import { attachStdin, ByteSink, openSerialSink, parseSerial } from './console.js';
import { fail, UsageError } from './errors.js';

interface RunOptions {
  mem: string;
  append: string;
  initrd?: string;
  serial: string;
  debugcon: string;
  maxInsns?: string;
  ips: string;
  quiet?: boolean;
  realtime?: boolean;
  successExitCode?: string;
  stats?: string | boolean;
  sensitive: string;
  trace?: string;
  engine: string;
  kernelExec: string;
  tcIndex: string;
  tcThreshold?: string;
  tcSize?: string;
  tcSync?: boolean;
  lockstep?: boolean;
  smcCheck: boolean;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${name}: expected ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

function engineOptions(o: RunOptions): EngineOptions {
  const engine = oneOf('--engine', o.engine, ['interp', 'dbt'] as const);
  const dbt: DbtOptions = {
    kernelExec: oneOf('--kernel-exec', o.kernelExec, ['sim', 'dbt'] as const),
    tcIndex: oneOf('--tc-index', o.tcIndex, ['phys', 'virt', 'virt-noflush'] as const),
  };
  if (o.tcThreshold !== undefined) {
    const n = Number(o.tcThreshold);
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--tc-threshold: expected a whole number >= 0, got '${o.tcThreshold}'`);
    dbt.threshold = n;
  }
  if (o.tcSize !== undefined) dbt.tcSize = parseCount('--tc-size', o.tcSize);
  if (o.tcSync === true) dbt.tcSync = true;
  if (o.lockstep === true && engine !== 'dbt') throw new UsageError('--lockstep compares the translator with the interpreter: it needs --engine dbt');
  return { engine, dbt };
}

function parseCount(name: string, text: string): number {
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${name}: expected a positive whole number, got '${text}'`);
  return n;
}

export async function runImage(image: string, o: RunOptions): Promise<number> {
  let ramSize: number;
  try {
    ramSize = parseMemSize(o.mem);
  } catch (e) {
    if (e instanceof SizeError) throw new UsageError(`--mem: ${e.message}`);
    throw e;
  }
  let serialTarget;
  try {
    serialTarget = parseSerial(o.serial);
  } catch (e) {
    throw new UsageError(`--serial: ${(e as Error).message}`);
  }
  const maxInsns = o.maxInsns === undefined ? Infinity : parseCount('--max-insns', o.maxInsns);
  const ips = parseCount('--ips', o.ips);
  const engine = engineOptions(o);
  let trace;
  if (o.trace !== undefined) {
    try {
      trace = { opts: parseTrace(o.trace), out: (line: string) => process.stderr.write(line + '\n') };
    } catch (e) {
      throw new UsageError(`--trace: ${(e as Error).message}`);
    }
  }
  const policy = POLICY_NAMES.indexOf(oneOf('--sensitive', o.sensitive, POLICY_NAMES));
  if (typeof o.stats === 'string') oneOf('--stats', o.stats, ['table', 'json'] as const);

  let bytes: Uint8Array;
  let modules: BootModule[] = [];
  try {
    bytes = readImageFile(image);
    if (o.initrd) modules = parseInitrd(o.initrd);
  } catch (e) {
    if (e instanceof LoadError) return fail(`${image}: ${e.reason}`, 2);
    throw e;
  }

  const serial = openSerialSink(serialTarget);
  const debugcon = new ByteSink(o.debugcon === 'none' ? null : 2);
  const rtcStart = o.realtime ? Date.now() / 1000 : FIXED_RTC_START;
  const load = (m: Machine): void => {
    m.ctx.policy = policy;
    loadImage(bytes, m, { cmdline: o.append, imageName: image, modules });
  };
  let machine: Machine;
  let lockstep: Lockstep | null = null;
  try {
    const mo: MachineOptions = { ramSize, serialSink: serial.sink.put, debugconSink: debugcon.put, maxInsns, ips, rtcStart, trace, engine, smcCheck: o.smcCheck };
    if (o.lockstep === true) {
      // the translator's --trace events still come out, behind the lockstep hooks
      const userTrace = trace === undefined ? undefined : translatorTrace(trace.opts, trace.out);
      if (trace !== undefined) mo.trace = { ...trace, opts: { exec: trace.opts.exec, int: trace.opts.int } };
      ({ machine, lockstep } = lockstepPair(mo, load, userTrace));
    } else {
      machine = new Machine(mo);
      load(machine);
    }
  } catch (e) {
    if (e instanceof MachineError) return fail(`--mem ${formatSize(ramSize)}: ${e.message}`, 2);
    if (e instanceof LoadError) return fail(`${image}: ${e.reason}`, 2);
    throw e;
  }

  const detach = attachStdin(machine);
  const onSigint = (): void => machine.interrupt('interrupted (SIGINT)');
  process.on('SIGINT', onSigint);
  const flusher = setInterval(() => serial.sink.flush(), 50);
  let stop: StopInfo;
  const started = performance.now();
  try {
    stop = await machine.run();
  } finally {
    clearInterval(flusher);
    process.off('SIGINT', onSigint);
    detach();
    serial.sink.flush();
    debugcon.flush();
    serial.close();
  }
  if (lockstep !== null) {
    const r = lockstep.finish();
    if (r.divergence !== null) {
      process.stderr.write(r.divergence + '\n');
      if (stop.status !== STATUS_DIVERGENCE) stop = { reason: 'lockstep divergence', status: STATUS_DIVERGENCE };
    } else if (!o.quiet) {
      process.stderr.write(`ringvm: lockstep: no divergence at ${r.boundaries} block boundaries (${r.memChecks} whole-RAM comparisons)\n`);
    }
  }
  if (o.stats) {
    const stats = collectStats(machine, stop, (performance.now() - started) / 1000);
    process.stderr.write((o.stats === 'json' ? JSON.stringify(stats) : formatStats(stats)) + '\n');
  }
  if (!o.quiet) {
    const where = basename(image);
    process.stderr.write(`ringvm: ${where}: ${stop.reason} after ${machine.instructions()} instructions (exit status ${stop.status})\n`);
    if (stop.dump) process.stderr.write(stop.dump + '\n');
  }
  // Like bootimage's test-success-exit-code: isa-debug-exit cannot produce 0, so a kernel's
  // "success" value can be mapped to 0 for scripts (npm start uses it for hello's 33).
  if (o.successExitCode !== undefined && stop.status === Number(o.successExitCode)) return 0;
  return stop.status;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('boot a kernel image (multiboot v1 ELF32 or a.out-kludge flat image, or an ELF64 executable) and run it')
    .argument('<image>', 'the kernel image file')
    .option('-m, --mem <size>', 'guest RAM size, with K/M/G suffix (at most 3G)', '128M')
    .option('--append <cmdline>', 'kernel command line (multiboot cmdline after the image name)', '')
    .option('--initrd <files>', 'comma-separated multiboot modules, each "file [args]", as QEMU')
    .option('--serial <target>', 'COM1 output: stdio, none or file:PATH', 'stdio')
    .option('--debugcon <target>', 'port 0xE9 debug console output: stderr or none', 'stderr')
    .option('--max-insns <n>', 'stop after N guest instructions (exit status 4)')
    .option('--ips <n>', 'guest instructions per guest second (virtual time)', String(DEFAULT_IPS))
    .option('--realtime', 'start the RTC at the host time of day (default: a fixed date, for reproducible runs)')
    .option('--success-exit-code <n>', 'exit with 0 when the guest ends with this status (e.g. 33 from debug-exit 0x10)')
    .option('--engine <engine>', 'interp: interpret everything; dbt: translate code to WebAssembly', 'dbt')
    .option('--kernel-exec <how>', 'with --engine dbt: sim (kernel code interpreted, user code translated) or dbt (both translated)', 'sim')
    .option('--tc-index <key>', 'translation-cache key: phys (guest-physical PC), virt (guest-virtual PC, flushed on CR3 writes), virt-noflush (deliberately wrong)', 'phys')
    .option('--tc-threshold <n>', 'executions of a block before it is translated (0: at once)')
    .option('--tc-size <n>', 'translated blocks kept before the whole cache is flushed')
    .option('--tc-sync', 'compile translations synchronously (default: in the background), so two runs give the same statistics')
    .option('--lockstep', 'debugging: run the interpreter alongside, compare after every translated block, stop at the first divergence with both states (exit status 6)')
    .option('--no-smc-check', 'do not invalidate decoded or translated code when the guest writes to it (deliberately wrong: shows stale code running)')
    .option('--sensitive <policy>', 'sensitive unprivileged instructions in user code: emulate (answer from virtual state), leak (pre-VT trap-and-emulate), umip (#GP)', 'emulate')
    .option('--trace <events>', 'log on stderr, comma-separated: exec (each instruction, disassembled; steps the engine, so nothing is translated), int (each interrupt/exception), and from the translator: in_asm (guest code of each region translated), out_asm (its wasm), block (each translated block entered), tc (translations, invalidations, flushes), nochain (no links or chains between translated blocks, so block shows every one, as QEMU\'s -d nochain)')
    .option('--stats [format]', 'print statistics on stderr at the end: table (default) or json')
    .option('-q, --quiet', 'do not print the stop reason on stderr')
    .action(async (image: string, o: RunOptions) => {
      process.exitCode = await runImage(image, o);
    });
}
