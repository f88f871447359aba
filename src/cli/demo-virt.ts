/**
 * `ringvm demo virtualizability`: the Popek-Goldberg experiment. tinyos's `redpill` program runs
 * at ring 3 under each sensitive-instruction policy (emulate, leak, umip) and reports, per probe,
 * what it saw and what the kernel had set; the demo lines the three runs up side by side. A second
 * part runs a 50-byte ring-0 probe (assembled below, by hand) that does what a kernel's
 * `local_irq_restore` does: POPF of a value with IF = 1. Under `leak` (a kernel deprivileged to
 * ring 1, as a pre-VT trap-and-emulate monitor runs it) the POPF neither traps nor sets IF: the
 * monitor never learns that the guest wanted interrupts on, the flaw Robin & Irvine listed.
 */
import { POLICY_EMULATE, POLICY_LEAK, POLICY_NAMES, POLICY_UMIP } from '../system/context.js';
import { runDemoGuest, textTable } from './demo-run.js';

export const POLICIES = [POLICY_EMULATE, POLICY_LEAK, POLICY_UMIP];

/** One redpill probe as one policy's run printed it. */
export interface ProbeSeen {
  /** What ring 3 observed: the values, or `fault vector=13 error=0x0`. */
  seen: string;
  /** What the kernel had actually set (redpill's `expected` part). */
  expected: string;
  ok: boolean;
}

export interface RedpillRun {
  policy: string;
  /** Probe key (`SGDT`, `LAR 0x002b`) to what was printed. */
  probes: Map<string, ProbeSeen>;
  differ: number;
  visible: boolean;
  verdict: string;
}

/** The ring-0 POPF probe under one policy. */
export interface KernelProbe {
  policy: string;
  /** EFLAGS.IF after the kernel's POPF of a value with IF = 1 (1 on hardware). */
  ifAfter: number;
  /** EFLAGS.IOPL after the same POPF asked for IOPL 3. */
  ioplAfter: number;
  /** The selector MOV EAX, CS showed the kernel (0x08 with RPL 0 on hardware). */
  cs: number;
  /** Whether any exception was delivered: none means a monitor would never have seen the POPF. */
  trapped: boolean;
}

export interface VirtResult {
  runs: RedpillRun[];
  kernel: KernelProbe[];
}

const LINE = /^redpill: (\S+) (?:sel=(0x[0-9a-f]+) (?=zf))?(.*?) expected (.*) (ok|DIFFERENT)$/;

/** Splits redpill's output into probes (docs/tinyos.md gives the line format). */
export function parseRedpill(policy: string, text: string): RedpillRun {
  const probes = new Map<string, ProbeSeen>();
  let verdict = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith('redpill: verdict: ')) verdict = line.slice('redpill: verdict: '.length);
    const m = LINE.exec(line);
    if (m === null) continue;
    const key = m[2] === undefined ? m[1] : `${m[1]} ${m[2]}`;
    probes.set(key, { seen: m[3], expected: m[4], ok: m[5] === 'ok' });
  }
  const differ = [...probes.values()].filter((p) => !p.ok).length;
  return { policy, probes, differ, visible: /virtualization visible/.test(verdict), verdict };
}

// ---- the ring-0 probe --------------------------------------------------------------------------

const LOAD = 0x100000;
const RESULT = LOAD + 0x800;

/**
 * A multiboot v1 flat image (a.out kludge: flag 16, the header gives the load addresses). The
 * loader enters it in 32-bit protected mode at CPL 0 with IF = 0, flat segments.
 */
export function kernelProbeImage(): Uint8Array {
  const img = new Uint8Array(0x1000);
  const dv = new DataView(img.buffer);
  const magic = 0x1badb002;
  const flags = 0x00010000;
  const header = [magic, flags, (-(magic + flags)) >>> 0, LOAD, LOAD, LOAD + img.length, LOAD + img.length, LOAD + 0x20];
  header.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
  const le = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  const code = [
    0xbc, ...le(LOAD + 0x8000), //   mov esp, stack (1 MiB + 32 KiB, free RAM)
    0xfa, //                          cli: start from IF = 0, as a kernel inside a critical section
    0xb0, 0xff, 0xe6, 0x21, 0xe6, 0xa1, // mov al, 0xff; out 0x21, al; out 0xa1, al: mask both PICs
    0xb8, ...le(0x3202), //           mov eax, IF | IOPL 3 | bit 1
    0x50, //                          push eax
    0x9d, //                          popfd: "restore" flags with interrupts on
    0x9c, //                          pushfd
    0x58, //                          pop eax
    0xa3, ...le(RESULT), //           mov [RESULT], eax: EFLAGS after the POPF
    0x8c, 0xc8, //                    mov eax, cs
    0xa3, ...le(RESULT + 4), //       mov [RESULT+4], eax
    0xfa, //                          cli
    0xb0, 0x10, //                    mov al, 0x10
    0xe6, 0xf4, //                    out 0xf4, al: isa-debug-exit, status 33
    0xf4, //                          hlt (not reached)
  ];
  img.set(code, 0x20);
  return img;
}

export async function runKernelProbe(policy: number): Promise<KernelProbe> {
  const r = await runDemoGuest({ bytes: kernelProbeImage(), append: '', policy });
  if (r.stop.status !== 33) throw new Error(`ring-0 probe under ${POLICY_NAMES[policy]}: ${r.stop.reason}`);
  const fl = r.machine.phys.read32(RESULT);
  const gp = r.machine.ctx.vectorCounts.reduce((a, n) => a + n, 0);
  return {
    policy: POLICY_NAMES[policy],
    ifAfter: (fl >>> 9) & 1,
    ioplAfter: (fl >>> 12) & 3,
    cs: r.machine.phys.read32(RESULT + 4) & 0xffff,
    trapped: gp > 0,
  };
}

export async function runVirtualizability(): Promise<VirtResult> {
  const runs: RedpillRun[] = [];
  const kernel: KernelProbe[] = [];
  for (const p of POLICIES) {
    const r = await runDemoGuest({ append: 'run redpill', policy: p });
    if (r.stop.status !== 33) throw new Error(`redpill under ${POLICY_NAMES[p]}: ${r.stop.reason}`);
    runs.push(parseRedpill(POLICY_NAMES[p], r.output));
    kernel.push(await runKernelProbe(p));
  }
  return { runs, kernel };
}

/** The rows of the per-probe table: probe, truth, then per policy what ring 3 saw and a mark. */
export function probeRows(res: VirtResult): string[][] {
  const first = res.runs[0];
  const rows: string[][] = [];
  const selectorKeys: string[] = [];
  for (const key of first.probes.keys()) {
    if (key.includes(' ')) {
      selectorKeys.push(key);
      continue;
    }
    rows.push([key, first.probes.get(key)?.expected ?? '?', ...res.runs.map((r) => cell(r.probes.get(key)))]);
  }
  // 32 LAR/LSL/VERR/VERW probes: one summary row, plus any that differed under some policy.
  const differing = selectorKeys.filter((k) => res.runs.some((r) => r.probes.get(k)?.ok === false));
  rows.push([`LAR/LSL/VERR/VERW x${selectorKeys.length / 4}`, 'SDM rules at CPL 3',
    ...res.runs.map((r) => {
      const bad = selectorKeys.filter((k) => r.probes.get(k)?.ok === false).length;
      return bad === 0 ? `all ${selectorKeys.length} as expected` : `${bad} of ${selectorKeys.length} DIFFERENT`;
    })]);
  for (const k of differing) rows.push([k, first.probes.get(k)?.expected ?? '?', ...res.runs.map((r) => cell(r.probes.get(k)))]);
  return rows;
}

function cell(p: ProbeSeen | undefined): string {
  if (p === undefined) return 'missing';
  return p.ok ? `${p.seen} (same)` : `${p.seen} DETECTED`;
}

export function kernelRows(res: VirtResult): string[][] {
  return res.kernel.map((k) => [
    k.policy,
    `IF=${k.ifAfter} IOPL=${k.ioplAfter}`,
    k.trapped ? 'yes' : 'no',
    `0x${k.cs.toString(16).padStart(2, '0')}`,
    k.ifAfter === 1 && k.ioplAfter === 3 ? 'correct' : 'IF LOST (interrupts stay off, silently)',
  ]);
}

export const PROBE_HEADER = ['probe', 'kernel set', ...POLICIES.map((p) => `ring 3 saw under ${POLICY_NAMES[p]}`)];
export const KERNEL_HEADER = ['policy', 'EFLAGS after POPF of IF=1 IOPL=3', 'trapped', 'MOV EAX,CS', 'result'];

export function formatVirtualizability(res: VirtResult): string {
  const out: string[] = [];
  out.push('ringvm demo virtualizability: tinyos `run redpill` at ring 3 under each --sensitive policy');
  out.push('');
  out.push(textTable(PROBE_HEADER, probeRows(res)));
  out.push('');
  out.push(textTable(['policy', 'probes that differ', 'monitor detectable', 'redpill verdict'],
    res.runs.map((r) => [r.policy, String(r.differ), r.visible ? 'YES' : 'no', r.verdict])));
  out.push('');
  out.push('ring 0: a kernel POPF of a value with IF=1 and IOPL=3 (hardware: both loaded, no trap)');
  out.push('');
  out.push(textTable(KERNEL_HEADER, kernelRows(res)));
  return out.join('\n');
}
