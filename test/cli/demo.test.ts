// The three demonstrations (src/cli/demo*.ts) run for real on the committed tinyos image: the right
// modes give the right answers and the deliberately wrong modes really go wrong. The oracles are
// the facts fixed by the guest programs' sources (docs/tinyos.md) and by the SDM (a kernel POPF
// loads IF and IOPL; SGDT at CPL 3 under UMIP is #GP(0)), not the demos' own verdicts; the
// checkers are also shown to reject doctored output, so they can fail.
import { spawnSync } from 'node:child_process';
import ice from 'iced-x86';
import { describe, expect, it } from 'vitest';
import { runSmcDemo, checkSmc, type SmcRun } from '../../src/cli/demo-smc.js';
import { checkProcs, runTcIndex, type TcRun } from '../../src/cli/demo-tc.js';
import { kernelProbeImage, parseRedpill, runVirtualizability, type VirtResult } from '../../src/cli/demo-virt.js';
import { smcExpectations, tcCharts, tcExpectations, virtExpectations } from '../../src/cli/demo.js';
import { barChartSvg } from '../../src/machine/svg.js';

const { Decoder, Formatter, FormatterSyntax } = ice;

describe('demo virtualizability', () => {
  let res: VirtResult;
  const run = (p: string) => res.runs.find((r) => r.policy === p)!;
  const kernel = (p: string) => res.kernel.find((k) => k.policy === p)!;

  it('runs redpill under the three policies and the ring-0 probe', async () => {
    res = await runVirtualizability();
    expect(res.runs.map((r) => r.policy)).toEqual(['emulate', 'leak', 'umip']);
    for (const r of res.runs) expect(r.probes.size).toBe(40); // 8 register probes + 4 x 8 selectors
    expect(virtExpectations(res)).toEqual([]);
  }, 30_000);

  it('emulate: ring 3 sees exactly what the kernel set, on every probe', () => {
    for (const p of run('emulate').probes.values()) expect(p.seen).toBe(p.expected);
    expect(run('emulate').visible).toBe(false);
  });

  it('leak: SGDT/SIDT show the monitor\'s tables (a high base), not the kernel\'s', () => {
    for (const key of ['SGDT', 'SIDT']) {
      const p = run('leak').probes.get(key)!;
      const seenBase = /base=(0x[0-9a-f]+)/.exec(p.seen)![1];
      const realBase = /base=(0x[0-9a-f]+)/.exec(p.expected)![1];
      expect(seenBase).not.toBe(realBase);
      expect(seenBase).toMatch(/^0xffffffff/);
    }
    expect(run('leak').visible).toBe(true);
  });

  it('umip: the five store-descriptor-table/MSW probes raise #GP(0) at CPL 3', () => {
    for (const key of ['SIDT', 'SGDT', 'SLDT', 'STR', 'SMSW']) {
      expect(run('umip').probes.get(key)!.seen).toBe('fault vector=13 error=0x0');
    }
    // PUSHF and MOV from CS/SS are not affected by UMIP
    for (const key of ['PUSHF', 'MOVCS', 'MOVSS']) expect(run('umip').probes.get(key)!.ok).toBe(true);
  });

  it('ring 0: POPF loads IF and IOPL except under leak, where IF is lost without a trap', () => {
    for (const p of ['emulate', 'umip']) {
      expect(kernel(p)).toMatchObject({ ifAfter: 1, ioplAfter: 3, cs: 0x08, trapped: false });
    }
    expect(kernel('leak')).toMatchObject({ ifAfter: 0, ioplAfter: 0, cs: 0x09, trapped: false });
  });

  it('the hand-assembled ring-0 probe decodes (iced-x86) to the instructions its comments name', () => {
    const img = kernelProbeImage();
    const code = img.slice(0x20, 0x20 + 48);
    const dec = new Decoder(32, code, 0);
    dec.ip = 0x100020n;
    const fmt = new Formatter(FormatterSyntax.Intel);
    const text: string[] = [];
    while (dec.canDecode && text.length < 16) {
      const insn = dec.decode();
      text.push(fmt.format(insn));
      insn.free();
    }
    dec.free();
    fmt.free();
    expect(text.slice(0, 14)).toEqual([
      'mov esp,108000h', 'cli', 'mov al,0FFh', 'out 21h,al', 'out 0A1h,al', 'mov eax,3202h', 'push eax', 'popfd', 'pushfd', 'pop eax',
      'mov [100800h],eax', 'mov eax,cs', 'mov [100804h],eax', 'cli',
    ]);
  });

  it('parseRedpill reads a faulting probe and a selector probe', () => {
    const r = parseRedpill('x', [
      'redpill: SGDT fault vector=13 error=0x0 expected base=0x113000 limit=0x4f DIFFERENT',
      'redpill: LAR sel=0x002b zf=1 value=0x00a0fb00 expected zf=1 value=0x00a0fb00 ok',
      'redpill: verdict: virtualization visible (1 of 40 probes differ)',
    ].join('\n'));
    expect(r.probes.get('SGDT')).toEqual({ seen: 'fault vector=13 error=0x0', expected: 'base=0x113000 limit=0x4f', ok: false });
    expect(r.probes.get('LAR 0x002b')).toEqual({ seen: 'zf=1 value=0x00a0fb00', expected: 'zf=1 value=0x00a0fb00', ok: true });
    expect(r.differ).toBe(1);
    expect(r.visible).toBe(true);
  });
});

describe('demo tc-index', () => {
  let runs: TcRun[];
  const mode = (m: string) => runs.find((r) => r.mode === m)!;

  it('phys and virt run procs correctly; virt-noflush does not', async () => {
    runs = await runTcIndex();
    expect(mode('phys').failures).toEqual([]);
    expect(mode('virt').failures).toEqual([]);
    expect(mode('virt-noflush').correct).toBe(false);
    expect(tcExpectations(runs)).toEqual([]);
  }, 60_000);

  it('virt-noflush goes wrong visibly: a process runs code that is not its own', () => {
    const out = mode('virt-noflush').output;
    // killed by a fault, or printing lines its own source cannot produce (raw format strings)
    expect(/ killed: #/.test(out) || /pid %d/.test(out)).toBe(true);
  });

  it('virt flushes on CR3 writes, phys and virt-noflush never do', () => {
    expect(mode('virt').engine.flushesCr3).toBeGreaterThan(0);
    expect(mode('phys').engine.flushesCr3).toBe(0);
    expect(mode('virt-noflush').engine.flushesCr3).toBe(0);
    // the same guest work under phys and virt: same instruction count
    expect(mode('virt').instructions).toBe(mode('phys').instructions);
  });

  it('checkProcs rejects doctored output: a line under the wrong program, a killed process', () => {
    const good = mode('phys').output;
    expect(checkProcs(good)).toEqual([]);
    const swapped = good.replace(/\[alpha\] pid (\d+): line 3 of/, '[beta] pid $1: line 3 of');
    expect(checkProcs(swapped).length).toBeGreaterThan(0);
    const reordered = good.replace('line 2 of 8', 'line 9 of 8');
    expect(checkProcs(reordered).length).toBeGreaterThan(0);
    expect(checkProcs(good + 'tinyos: pid 9 (beta) killed: #GP\n').length).toBeGreaterThan(0);
  });

  it('tcCharts draws one bar per mode and series', () => {
    const charts = tcCharts(runs);
    expect(Object.keys(charts).sort()).toEqual(['tc-index-cache.svg', 'tc-index-time.svg']);
    expect(charts['tc-index-cache.svg'].match(/<rect x=/g)!.length).toBe(3 * 3 + 3); // bars + legend
  });
});

describe('demo smc', () => {
  let runs: SmcRun[];

  it('correct with invalidation; stale code without it', async () => {
    runs = await runSmcDemo();
    const [on, off] = runs;
    expect(on.parts.map((p) => [p.name, p.correct])).toEqual([['jit', true], ['patch', true], ['page reuse', true]]);
    // without invalidation, each part shows stale code: wrong JIT results, a loop not summing 4950
    expect(/ (\d+) wrong/.exec(off.parts[0].line)![1]).not.toBe('0');
    expect(off.parts[1].line).not.toMatch(/summed 4950 /);
    expect(off.parts[2].correct).toBe(false);
    expect(smcExpectations(runs)).toEqual([]);
  }, 30_000);

  it('invalidations are counted per cause and add up to the engine\'s counter', () => {
    const on = runs[0];
    expect(on.causes.reduce((a, b) => a + b, 0)).toBe(on.engine.invalidations);
    // the JIT writes its page once per function; the first is written before the page holds code
    expect(on.writes[0]).toBeGreaterThanOrEqual(199);
    expect(on.writes[1]).toBeGreaterThanOrEqual(100); // the loop patches itself once per iteration
    expect(on.causes[0]).toBeGreaterThan(0);
    expect(on.causes[2]).toBeGreaterThan(0); // the kernel loading beta over alpha's page
  });

  it('checkSmc rejects a wrong sum and different pages', () => {
    const good = runs[0].output;
    expect(checkSmc(good).every((p) => p.correct)).toBe(true);
    expect(checkSmc(good.replace('summed 4950', 'summed 4851'))[1].correct).toBe(false);
    expect(checkSmc(good.replace('same physical page', 'different pages'))[2].correct).toBe(false);
  });
});

describe('svg bar chart', () => {
  it('bar heights are proportional to the values on a linear axis', () => {
    const svg = barChartSvg({ title: 't', categories: ['a', 'b'], yLabel: 'n', series: [{ name: 's', values: [10, 5], color: '#000' }] });
    const heights = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill="#000"/g)].map((m) => Number(m[1]));
    expect(heights.length).toBe(3); // two bars and the legend swatch (height 12)
    expect(heights[0] / heights[1]).toBeCloseTo(2, 2);
  });
});

describe('ringvm demo (the command line)', () => {
  const ringvm = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
  it('lists the three experiments', () => {
    const r = ringvm('demo', '--help');
    expect(r.status).toBe(0);
    for (const name of ['virtualizability', 'tc-index', 'smc']) expect(r.stdout).toContain(name);
  });
  it('a bad --tc-threshold is a one-line usage error (status 2)', () => {
    const r = ringvm('demo', 'tc-index', '--tc-threshold', 'x');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("ringvm: --tc-threshold: expected a whole number >= 0, got 'x'");
  });
});
