/**
 * tinyos and tinyos32 (guest-images/tinyos, docs/tinyos.md) on QEMU and on ringvm. For each
 * kernel, one `tour` run on each machine (every demo once): QEMU's output is first checked on its own against facts that come from the
 * Intel SDM and from the demos' own definitions (fault vectors, error codes and CR2; redpill sees
 * no difference on a real CPU model; the JIT and self-patching results; each program's lines in
 * order), then ringvm's output must equal QEMU's. The only normalisation: lines of alpha and beta
 * (tagged "[alpha]"/"[beta]") are compared per program, because their interleaving follows the
 * timer and QEMU's timer follows the host clock. A last run drives the serial shell on ringvm.
 * QEMU parts are skipped when qemu-system-x86_64 is missing.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMAGES_DIR, ROOT, bootQemu, hasTool } from './images.js';

const qemu = hasTool('qemu-system-x86_64');
if (!qemu) console.warn('tinyos: qemu-system-x86_64 not installed; skipping the QEMU half');

interface Run {
  out: string;
  status: number | null;
}

function onQemu(image: string, append: string): Run {
  const r = bootQemu(join(IMAGES_DIR, image), 30_000, append);
  return { out: r.serial.toString('latin1'), status: r.status };
}

function onRingvm(image: string, append: string, input?: string, extra: string[] = []): Run {
  const r = spawnSync(
    join(ROOT, 'node_modules/.bin/tsx'),
    [join(ROOT, 'src/cli/main.ts'), 'run', join(IMAGES_DIR, image), '--append', append, '--max-insns', '400000000', '-q', ...extra],
    { cwd: ROOT, timeout: 60_000, input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 16 << 20 },
  );
  return { out: (r.stdout ?? Buffer.alloc(0)).toString('latin1'), status: r.status };
}

const lines = (s: string): string[] => s.split('\r\n').filter((l) => l !== '');

/** Splits the output into the lines of each timer-interleaved program and everything else. */
function streams(s: string): Record<string, string[]> {
  const r: Record<string, string[]> = { main: [], alpha: [], beta: [] };
  for (const l of lines(s)) {
    const m = /^\[(alpha|beta)\] /.exec(l);
    r[m ? m[1]! : 'main']!.push(l);
  }
  return r;
}

/** The kernel's report for the child that ran fault case `name`: vector, error code, CR2. */
function faultReport(out: string, name: string): { vector: number; error: number; cr2: number } {
  const pid = new RegExp(`faults: child (\\d+) tries '${name}'`).exec(out)?.[1];
  const m = new RegExp(`tinyos: pid ${pid} \\(faults\\) killed: .* \\(vector (\\d+)\\) error 0x([0-9a-f]+) cr2=0x([0-9a-f]+)`).exec(out);
  expect(m, `report for ${name}`).not.toBeNull();
  return { vector: Number(m![1]), error: parseInt(m![2]!, 16), cr2: parseInt(m![3]!, 16) };
}

/** Facts about a correct tour, from the SDM and the demos' definitions (not from a past run). */
function checkTour(out: string, redpillFacts: string[]): void {
  // faults: SDM vol. 3 §6.15 vectors; page-fault error code bits P=1, W/R=2, U/S=4.
  const ro = parseInt(/faults: read-only value at 0x([0-9a-f]+)/.exec(out)![1]!, 16);
  expect(faultReport(out, 'div')).toEqual({ vector: 0, error: 0, cr2: 0 });
  expect(faultReport(out, 'kread')).toEqual({ vector: 14, error: 1 | 4, cr2: 0x100000 });
  expect(faultReport(out, 'rowrite')).toEqual({ vector: 14, error: 1 | 2 | 4, cr2: ro });
  expect(faultReport(out, 'priv')).toEqual({ vector: 13, error: 0, cr2: 0 });
  expect(faultReport(out, 'ud')).toEqual({ vector: 6, error: 0, cr2: 0 });
  expect(faultReport(out, 'unmapped')).toEqual({ vector: 14, error: 2 | 4, cr2: 0x50000000 });
  for (const [name, vec] of [['div', 0], ['kread', 14], ['rowrite', 14], ['priv', 13], ['ud', 6], ['unmapped', 14]] as const)
    expect(out).toContain(`faults: '${name}' ended with status ${128 + vec} (vector ${vec})`);

  // redpill: every probe line shows the expected value next to the observed one.
  const probes = lines(out).filter((l) => /^redpill: [A-Z]+ /.test(l) && !l.includes('verdict'));
  expect(probes.length).toBe(8 + 8 * 4);
  for (const p of probes) {
    const [seen, want] = p.replace(/^redpill: \S+ /, '').replace(/ (ok|DIFFERENT)$/, '').split(' expected ');
    expect(seen!.replace(/sel=0x[0-9a-f]+ /, ''), p).toBe(want);
    expect(p.endsWith(' ok'), p).toBe(true);
  }
  expect(out).toContain('redpill: verdict: virtualization not visible (0 of 40 probes differ)');
  // A few values fixed by the kernel's own tables (kernel.h, cpu.c) and the SDM's LAR mask.
  for (const fact of redpillFacts) expect(out).toContain(fact);

  // smc: all JIT results right, the self-patching loop sums 0..99, one page for two programs.
  expect(out).toMatch(/smc: jit: 200 functions generated and run, 0 wrong/);
  expect(out).toContain('summed 4950 (expected 4950)');
  expect(out).toMatch(/smc: page reuse: alpha ran from frame 0x([0-9a-f]+), then beta from frame 0x\1: same physical page/);

  // procs: each program's lines in its own order; same virtual address, different pages.
  const s = streams(out);
  const alpha = s.alpha!.filter((l) => l.includes(': line '));
  const beta = s.beta!.filter((l) => l.includes('lines to go'));
  expect(alpha.map((l) => /line (\d) of 8/.exec(l)![1])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
  expect(beta.map((l) => /(\d) lines to go/.exec(l)![1])).toEqual(['7', '6', '5', '4', '3', '2', '1', '0']);
  const mains = lines(out).filter((l) => l.includes('main at')).map((l) => /main at (0x\w+), physical (0x\w+)/.exec(l)!);
  expect(mains.length).toBe(2);
  expect(mains[0]![1]).toBe(mains[1]![1]);
  expect(mains[0]![2]).not.toBe(mains[1]![2]);
  expect(out).toContain('[fork-child] shared=101');
  expect(out).toContain('procs: fork child exited with 7, parent still sees shared=100');
  // fork + exec(alpha, "page"): alpha exits with the frame number of the page it printed.
  const ex = /\[alpha\] pid (\d+): page 0x40000000 is physical 0x([0-9a-f]+)\r\nprocs: forked child (\d+) ran exec\(alpha\) and exited with status (\d+)/.exec(out);
  expect(ex).not.toBeNull();
  expect(ex![1]).toBe(ex![3]);
  expect(Number(ex![4])).toBe(parseInt(ex![2]!, 16) / 4096);

  expect(out).toMatch(/bench: 1 iterations, checksum 0x[0-9a-f]{8}\r\n/);
  for (const demo of ['redpill', 'procs', 'smc', 'faults', 'bench']) expect(out).toContain(`tinyos: ${demo} exited with status 0`);
  expect(out).toContain('=== tour: done');
}

/** Per kernel: its banner, and redpill lines that follow from its own GDT (kernel.h, cpu.c) and
 * the SDM (LAR = descriptor[63:32] & 0x00F0FF00; a TSS limit of 103; code is not writable). */
const KERNELS = [
  {
    image: 'tinyos.bin',
    banner: /^tinyos: 64-bit teaching kernel, 7168 free pages, timer 100 Hz$/,
    redpill: [
      'redpill: SLDT sel=0x0040 expected sel=0x0040 ok',
      'redpill: STR sel=0x0030 expected sel=0x0030 ok',
      'redpill: SMSW msw=0x0033 expected msw=0x0033 ok',
      'redpill: LAR sel=0x002b zf=1 value=0x00a0fb00 expected zf=1 value=0x00a0fb00 ok',
      'redpill: LSL sel=0x0030 zf=1 value=0x00000067 expected zf=1 value=0x00000067 ok',
      'redpill: VERW sel=0x002b zf=0 expected zf=0 ok',
    ],
  },
  {
    image: 'tinyos32.bin',
    banner: /^tinyos32: 32-bit teaching kernel, 7168 free pages, timer 100 Hz$/,
    redpill: [
      'redpill: SLDT sel=0x0030 expected sel=0x0030 ok',
      'redpill: STR sel=0x0028 expected sel=0x0028 ok',
      'redpill: SMSW msw=0x0033 expected msw=0x0033 ok',
      'redpill: LAR sel=0x001b zf=1 value=0x00c0fb00 expected zf=1 value=0x00c0fb00 ok',
      'redpill: LSL sel=0x0028 zf=1 value=0x00000067 expected zf=1 value=0x00000067 ok',
      'redpill: VERW sel=0x001b zf=0 expected zf=0 ok',
    ],
  },
];

describe.each(KERNELS)('$image', ({ image, banner, redpill }) => {
  let qemuTour: Run | undefined;
  let ringTour: Run | undefined;
  const q = () => (qemuTour ??= onQemu(image, 'tour'));
  const r = () => (ringTour ??= onRingvm(image, 'tour'));

  it.skipIf(!qemu)('runs the tour on QEMU with the expected faults, probes and results', () => {
    const run = q();
    expect(run.status).toBe(33);
    expect(lines(run.out)[0]).toMatch(banner);
    checkTour(run.out, redpill);
  });

  it('runs the tour on ringvm and exits through isa-debug-exit (status 33)', () => {
    const run = r();
    expect(run.status).toBe(33);
    expect(lines(run.out)[0]).toMatch(banner);
    checkTour(run.out, redpill);
  });

  it.skipIf(!qemu)('ringvm prints what QEMU prints (alpha and beta compared per program)', () => {
    const a = streams(q().out), b = streams(r().out);
    expect(b.main).toEqual(a.main);
    expect(b.alpha).toEqual(a.alpha);
    expect(b.beta).toEqual(a.beta);
  });

  it('redpill survives the umip policy: SIDT, SGDT, SLDT, STR and SMSW fault with #GP(0) in ring 3', () => {
    const run = onRingvm(image, 'run redpill', undefined, ['--sensitive', 'umip']);
    expect(run.status).toBe(33);
    for (const p of ['SIDT', 'SGDT', 'SLDT', 'STR', 'SMSW'])
      expect(run.out).toMatch(new RegExp(`redpill: ${p} fault vector=13 error=0x0 expected .* DIFFERENT\r\n`));
    expect(run.out).toContain('redpill: verdict: virtualization visible (5 of 40 probes differ)');
    expect(run.out).toContain('tinyos: redpill exited with status 5');
  });

  it('reads commands from the serial console when the command line is empty', () => {
    const run = onRingvm(image, '', 'help\r\nfaults priv\r\nnosuch\r\nexit\r\n');
    expect(run.status).toBe(33);
    const l = lines(run.out);
    expect(l).toContain('tinyos> help');
    expect(l.some((x) => /^programs: redpill procs alpha beta smc faults bench sysbench ctxbench jitbench$/.test(x))).toBe(true);
    expect(run.out).toMatch(/killed: #GP general protection \(vector 13\) error 0x0/);
    expect(l).toContain('tinyos: faults exited with status 141');
    expect(l).toContain("tinyos: no program 'nosuch' (try 'help')");
    expect(l[l.length - 1]).toBe('tinyos> exit');
  });
});
