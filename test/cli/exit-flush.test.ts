/**
 * ringvm exits only after its output has left the process: a reader that is slow to drain the
 * pipe (a loaded CI machine) must still get every --trace line and the --stats line after them.
 * The reader here waits 1.5 s before reading, so the child's writes queue in the full pipe.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function runSlowReader(args: string[], delayMs: number): Promise<{ stderr: string; status: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.pause(); // read nothing for a while: the child's writes back up
    setTimeout(() => child.stderr.resume(), delayMs);
    // Fail fast instead of hanging the suite if the output never ends.
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ stderr: Buffer.concat(chunks).toString('utf8'), status: -1 });
    }, 30_000);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ stderr: Buffer.concat(chunks).toString('utf8'), status: code });
    });
  });
}

describe('ringvm run output at exit', () => {
  it('a slow reader still gets the whole --trace exec log and the --stats json line last', async () => {
    // 30,000 traced instructions are about 2.3 MB: far more than a pipe or socket buffer holds.
    const r = await runSlowReader(['run', '-q', '--trace', 'exec', '--stats', 'json', '--max-insns', '30000', 'guest-images/tinyos.bin'], 1500);
    const lines = r.stderr.trim().split('\n');
    const stats = JSON.parse(lines.pop() as string) as { guestInstructions: number };
    expect(stats.guestInstructions).toBe(30000);
    expect(lines.length).toBe(stats.guestInstructions); // one trace line per instruction, none lost
    expect(r.status).toBe(4); // the --max-insns budget ran out
  });
});
