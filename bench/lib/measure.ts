/**
 * Runs one benchmark process and measures it from outside: wall time from spawn to exit and the
 * peak resident set size (largest descendant) through a tiny python3 wrapper, because Node's
 * child_process reports neither. The wrapper's own start-up is outside the timed span. Also the
 * parsers for what every workload prints (checksum=0x... iterations=N) and ringvm's --stats json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measured {
  wall: number; // seconds
  maxRssKiB: number;
  status: number | null; // exit status; null when killed or timed out
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

// argv[1] = result file, argv[2] = timeout seconds, argv[3..] = the command. stdin is /dev/null.
const WRAPPER = `
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
timed_out = False
try:
    rc = subprocess.run(sys.argv[3:], stdin=subprocess.DEVNULL, timeout=float(sys.argv[2])).returncode
except subprocess.TimeoutExpired:
    rc, timed_out = None, True
wall = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as f:
    json.dump({"wall": wall, "rss": rss, "rc": rc, "timedOut": timed_out}, f)
`;

export function measure(argv: string[], cwd: string, timeoutS: number): Measured {
  const dir = mkdtempSync(join(tmpdir(), 'ringvm-bench-'));
  const out = join(dir, 'r.json');
  try {
    const r = spawnSync('python3', ['-c', WRAPPER, out, String(timeoutS), ...argv], {
      cwd, encoding: 'latin1', maxBuffer: 64 << 20, timeout: (timeoutS + 30) * 1000,
    });
    let res = { wall: NaN, rss: 0, rc: null as number | null, timedOut: true };
    try {
      res = JSON.parse(readFileSync(out, 'utf8'));
    } catch {
      // the wrapper itself failed: reported as a timed-out, statusless run
    }
    // A driver whose emulator is not its reaped child reports the emulator's peak itself.
    const reported = [...(r.stderr ?? '').matchAll(/^peakRssKiB=(\d+)$/gm)].map((m) => Number(m[1]));
    return {
      wall: res.wall, maxRssKiB: Math.max(res.rss, ...reported), status: res.rc === null || res.rc < 0 ? null : res.rc, timedOut: res.timedOut,
      stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : ''),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ChecksumLine {
  checksum: string; // "0x" and 8 lower-case hex digits
  iterations: number;
}

export function parseChecksum(stdout: string): ChecksumLine | null {
  const m = /checksum=(0x[0-9a-f]{8}) iterations=(\d+)/.exec(stdout);
  return m ? { checksum: m[1]!, iterations: Number(m[2]) } : null;
}

/** ringvm's --stats json line: the last stderr line that parses as an object with guestInstructions. */
export function parseRingvmStats(stderr: string): Record<string, unknown> | null {
  const lines = stderr.split('\n').filter((l) => l.startsWith('{'));
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const o = JSON.parse(lines[i]!) as Record<string, unknown>;
      if (typeof o.guestInstructions === 'number') return o;
    } catch {
      // not the stats line
    }
  }
  return null;
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const h = s.length >> 1;
  return s.length & 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}
