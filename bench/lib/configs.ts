/**
 * What the benchmark suite runs: the workloads (guest images that print a checksum for iters=N)
 * and the configurations that run them -- ringvm's engines, the peer emulators when installed
 * (QEMU TCG, v86 with and without its JIT, Bochs) and the host CPU running the same C as a Linux program.
 * Each configuration says whether it can run here (and why not), the command line for a workload
 * and N, and the iteration counts for a full and a --quick run: chosen so a full run takes a few
 * seconds at that configuration's expected speed, so start-up is a small part of it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type ChecksumLine, parseChecksum } from './measure.js';

export interface Workload {
  id: string;
  image: string; // relative to the repository root
  arch: 64 | 32;
  describe: string;
  cmdline: (n: number) => string;
  parse: (stdout: string) => ChecksumLine | null;
  /** The native program computes the same checksum; otherwise QEMU's run is the reference. */
  native: boolean;
  /** Iterations per unit of a configuration's count (default 1): sized so a unit is a few million
   *  guest instructions, like one round of the CPU workloads. */
  scale?: number;
  /** The run does not grow with N (boot): no iters=0 run is subtracted, the wall time is the figure. */
  fixed?: boolean;
}

const TINYOS_LINE = /bench: (\d+) iterations, checksum (0x[0-9a-f]{8})/;

/** tinyos's own bench program: a similar mix, under a real kernel (4 KiB pages, 100 Hz timer). */
function tinyosBench(id: string, image: string, arch: 64 | 32): Workload {
  return {
    id, image, arch, native: false,
    describe: `tinyos \`bench N\` user program (timer on, 4 KiB pages), ${arch}-bit`,
    cmdline: (n) => (n > 0 ? `bench ${n}` : 'help'),
    parse: (out) => {
      if (/^commands: /m.test(out)) return { checksum: 'boot', iterations: 0 }; // the iters=0 run: boot only
      const m = TINYOS_LINE.exec(out);
      return m ? { checksum: m[2]!, iterations: Number(m[1]) } : null;
    },
  };
}

/** A tinyos program printing `NAME: N iterations, checksum 0x...` (sysbench, ctxbench, jitbench).
 *  N = 0 is the baseline run: boot and process start-up, no rounds. QEMU's checksum is the reference. */
function tinyosProgram(prog: string, image: string, arch: 64 | 32, scale: number, what: string): Workload {
  const line = new RegExp(`^${prog}: (\\d+) iterations, checksum (0x[0-9a-f]{8})`, 'm');
  return {
    id: `${image.includes('32') ? 'tinyos32' : 'tinyos'}-${prog}`, image, arch, native: false, scale,
    describe: `tinyos \`${prog} N\`: ${what}, ${arch}-bit`,
    cmdline: (n) => `${prog} ${n}`,
    parse: (out) => {
      const m = line.exec(out);
      return m ? { checksum: m[2]!, iterations: Number(m[1]) } : null;
    },
  };
}

/** FNV-1a of a line: the boot workload's "checksum" is its banner, kept short for the table. */
export function lineHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return '0x' + (h >>> 0).toString(16).padStart(8, '0');
}

/** Boot: from power-on to the kernel's banner and the command line's `exit` (isa-debug-exit). */
function tinyosBoot(image: string, arch: 64 | 32): Workload {
  const name = arch === 64 ? 'tinyos' : 'tinyos32';
  const banner = new RegExp(`${name}: ${arch}-bit teaching kernel, [^\\r\\n]*Hz`); // QEMU: after SeaBIOS text
  return {
    id: `${name}-boot`, image, arch, native: false, fixed: true,
    describe: `${name} boot to the command line, then \`exit\` (N ignored; wall time is the figure)`,
    cmdline: () => 'exit',
    parse: (out) => {
      const m = banner.exec(out);
      return m && /tinyos: command line: exit/.test(out) ? { checksum: lineHash(m[0]), iterations: 0 } : null;
    },
  };
}

const ALL_WORKLOADS: Workload[] = [
  {
    id: 'cpu64', image: 'guest-images/bench64.bin', arch: 64, describe: 'CPU-bound C (gcc -O2), ring 3, 64-bit', native: true,
    cmdline: (n) => `iters=${n}`, parse: parseChecksum,
  },
  {
    id: 'cpu32', image: 'guest-images/bench32.bin', arch: 32, describe: 'CPU-bound C (gcc -O2), ring 3, 32-bit', native: true,
    cmdline: (n) => `iters=${n}`, parse: parseChecksum,
  },
  tinyosBench('tinyos-bench', 'guest-images/tinyos.bin', 64),
  tinyosBench('tinyos32-bench', 'guest-images/tinyos32.bin', 32),
  // Issue 8's workloads 2-5 (docs/performance.md): about 190, 1,800 and 1,100 guest instructions
  // per iteration on tinyos, hence the scales: a unit of about 2 million instructions, half a CPU
  // round, because every engine runs these slower (a full run of them takes minutes, not seconds).
  ...([['guest-images/tinyos.bin', 64], ['guest-images/tinyos32.bin', 32]] as const).flatMap(([image, arch]) => [
    tinyosProgram('sysbench', image, arch, 10000, 'getpid through SYSCALL/SYSENTER and INT 0x80'),
    tinyosProgram('ctxbench', image, arch, 1000, '4 processes yielding, each in its own address space'),
    tinyosProgram('jitbench', image, arch, 2000, 'a JIT rewriting and running code in one page'),
    tinyosBoot(image, arch),
  ]),
];

/** The workloads whose image is there (tinyos32.bin is newer than the suite). */
export const WORKLOADS: Workload[] = ALL_WORKLOADS.filter((w) => existsSync(join(import.meta.dirname, '../..', w.image)));

export type Kind = 'ringvm' | 'qemu' | 'v86' | 'bochs' | 'native';

export interface Config {
  id: string;
  kind: Kind;
  describe: string;
  arches: (64 | 32)[];
  iters: { full: number; quick: number };
  /** null when it can run here, else why not. */
  unavailable: () => string | null;
  /** Whether it can run this workload (default: any of its architecture). */
  accepts?: (w: Workload) => boolean;
  command: (w: Workload, n: number) => string[];
}

function hasTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function ringvmHelp(root: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '--help'], { cwd: root, encoding: 'utf8' });
  return (r.stdout ?? '') + (r.stderr ?? '');
}

/** The native build of the workload: the same source and code-generation flags as bench.mk. */
export const NATIVE_FLAGS = ['-std=gnu11', '-O2', '-mgeneral-regs-only', '-fno-tree-loop-distribute-patterns', '-ffreestanding'];

export function buildNative(root: string, outDir: string, arch: 64 | 32): string | null {
  mkdirSync(outDir, { recursive: true });
  const exe = join(outDir, `native${arch}`);
  const src = ['guest-images/bench/workload.c', 'guest-images/bench/native.c'];
  const r = spawnSync('cc', [...NATIVE_FLAGS, `-m${arch}`, '-o', exe, ...src], { cwd: root, encoding: 'utf8' });
  return r.status === 0 && existsSync(exe) ? exe : null;
}

export function makeConfigs(root: string, outDir: string): Config[] {
  const help = ringvmHelp(root);
  const hasEngine = help.includes('--engine');
  const hasDbt = hasEngine && help.includes('--tc-index');
  const ringvm = (extra: string[]) => (w: Workload, n: number) => [
    process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'run', w.image, '--append', w.cmdline(n), '--stats', 'json', '-q', ...extra,
  ];
  const natives = new Map<number, string | null>();
  const native = (arch: 64 | 32): string | null => {
    if (!natives.has(arch)) natives.set(arch, buildNative(root, outDir, arch));
    return natives.get(arch)!;
  };
  const v86Installed = existsSync(join(root, 'node_modules/v86/build/libv86.mjs'));
  const seabios = existsSync('/usr/share/seabios/bios.bin');
  const v86Missing = () =>
    !v86Installed ? 'v86 not installed (bench/install-peers.sh)' : !seabios ? 'no /usr/share/seabios/bios.bin (apt-get install seabios)' : null;
  const qemuBin = (w: Workload) => (w.arch === 64 ? 'qemu-system-x86_64' : 'qemu-system-i386');
  return [
    {
      // as many iterations as Bochs's, the interpreter it is compared with (V8 optimizes the hot
      // loop during the first hundred million instructions or so)
      id: 'ringvm-interp', kind: 'ringvm', describe: 'ringvm, interpreter', arches: [64, 32], iters: { full: 40, quick: 3 },
      unavailable: () => null, command: ringvm(hasEngine ? ['--engine', 'interp'] : []),
    },
    {
      id: 'ringvm-dbt-phys', kind: 'ringvm', describe: 'ringvm, translator, TC indexed by physical address', arches: [64, 32],
      // as many iterations as QEMU's: both then run a second or more past their translation warm-up
      iters: { full: 600, quick: 40 }, unavailable: () => (hasDbt ? null : 'ringvm run has no --engine dbt / --tc-index yet'),
      command: ringvm(['--engine', 'dbt', '--tc-index', 'phys']),
    },
    {
      id: 'ringvm-dbt-virt', kind: 'ringvm', describe: 'ringvm, translator, TC indexed by virtual address', arches: [64, 32],
      iters: { full: 600, quick: 40 }, unavailable: () => (hasDbt ? null : 'ringvm run has no --engine dbt / --tc-index yet'),
      command: ringvm(['--engine', 'dbt', '--tc-index', 'virt']),
    },
    {
      id: 'qemu-tcg', kind: 'qemu', describe: 'QEMU TCG (qemu-system-x86_64 / -i386)', arches: [64, 32], iters: { full: 600, quick: 40 },
      unavailable: () => (hasTool('qemu-system-x86_64') && hasTool('qemu-system-i386') ? null : 'QEMU not installed'),
      command: (w, n) => [
        qemuBin(w), '-accel', 'tcg', '-m', '128', '-nographic', '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
        '-net', 'none', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', w.image, '-append', w.cmdline(n),
      ],
    },
    {
      id: 'v86-jit', kind: 'v86', describe: 'v86 (npm), JIT to wasm, SeaBIOS + multiboot', arches: [32], iters: { full: 200, quick: 15 },
      unavailable: v86Missing,
      command: (w, n) => [process.execPath, '--import', 'tsx', 'bench/lib/v86-run.ts', w.image, w.cmdline(n), 'jit'],
    },
    {
      id: 'v86-interp', kind: 'v86', describe: 'v86 (npm), interpreter only (disable_jit)', arches: [32], iters: { full: 20, quick: 2 },
      unavailable: v86Missing,
      command: (w, n) => [process.execPath, '--import', 'tsx', 'bench/lib/v86-run.ts', w.image, w.cmdline(n), 'nojit'],
    },
    {
      id: 'bochs', kind: 'bochs', describe: 'Bochs 2.x (Debian), floppy boot sector as multiboot loader', arches: [64, 32],
      iters: { full: 40, quick: 3 },
      unavailable: () =>
        !hasTool('bochs') ? 'Bochs not installed (bench/install-peers.sh)'
        : !existsSync('/usr/share/bochs/BIOS-bochs-latest') ? 'no Bochs BIOS (apt-get install bochsbios vgabios)'
        : !hasTool('script') || !hasTool('nasm') ? 'needs script (util-linux) and nasm' : null,
      accepts: (w) => statSync(join(root, w.image)).size <= 16 * 512, // what bochsboot.asm loads
      command: (w, n) => [process.execPath, '--import', 'tsx', 'bench/lib/bochs-run.ts', w.image, w.cmdline(n)],
    },
    {
      id: 'native', kind: 'native', describe: 'host CPU, same C as a Linux program (cc, same flags)', arches: [64, 32],
      iters: { full: 4000, quick: 200 }, unavailable: () => (native(64) ? null : 'cc could not build the native program'),
      accepts: (w) => w.native && native(w.arch) !== null, // -m32 needs gcc-multilib
      command: (w, n) => [native(w.arch) ?? 'false', w.cmdline(n)],
    },
  ];
}
