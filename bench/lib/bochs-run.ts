/**
 * Boots one bench image on Bochs (Debian's bochs, bochsbios, vgabios, bochs-term) for the benchmark
 * suite. Bochs has no multiboot loader and no isa-debug-exit, so this builds a 1.44 MB floppy with
 * guest-images/bench/bochsboot.asm (assembled here with nasm) as its boot sector, the command line
 * in sector 2 and the kernel from sector 3; runs Bochs with its text display under `script` (it
 * wants a terminal) and a debugger command file that says "c" (Debian builds the debugger in);
 * watches COM1 (a file) and ends Bochs once the kernel's checksum line is complete, copying COM1 to
 * stdout. Usage: node --import tsx bench/lib/bochs-run.ts IMAGE CMDLINE
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const [image, cmdline] = process.argv.slice(2);
if (!image || cmdline === undefined) {
  console.error('usage: bochs-run.ts IMAGE CMDLINE');
  process.exit(2);
}
const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'ringvm-bochs-'));
const cleanup = () => rmSync(dir, { recursive: true, force: true });

const boot = join(dir, 'boot.bin');
const nasm = spawnSync('nasm', ['-f', 'bin', '-o', boot, join(ROOT, 'guest-images/bench/bochsboot.asm')], { encoding: 'utf8' });
if (nasm.status !== 0) {
  console.error(`bochs-run: nasm failed: ${nasm.stderr}`);
  process.exit(2);
}
const kernel = readFileSync(image);
if (kernel.length > 16 * 512) {
  console.error('bochs-run: the boot sector loads at most 16 sectors of kernel');
  process.exit(2);
}
const floppy = Buffer.alloc(1474560);
readFileSync(boot).copy(floppy, 0);
floppy.write(`${image.split('/').pop()} ${cmdline}`.slice(0, 510), 512, 'latin1');
kernel.copy(floppy, 1024);
writeFileSync(join(dir, 'floppy.img'), floppy);
writeFileSync(join(dir, 'dbg.rc'), 'c\n');
writeFileSync(
  join(dir, 'bochsrc'),
  [
    'megs: 64',
    'romimage: file=/usr/share/bochs/BIOS-bochs-latest',
    'vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest',
    'floppya: 1_44=floppy.img, status=inserted',
    'boot: floppy',
    'display_library: term',
    'com1: enabled=1, mode=file, dev=serial.out',
    'log: /dev/null',
    'clock: sync=none',
    '',
  ].join('\n'),
);

const child = spawn('script', ['-qfec', 'bochs -q -f bochsrc -rc dbg.rc', '/dev/null'], { cwd: dir, detached: true, stdio: 'ignore' });
const serial = join(dir, 'serial.out');
// Bochs is script's child and dies by SIGKILL with it, so no rusage reaches our parent: report its
// peak RSS ourselves (bench/lib/measure.ts reads this line).
const reportRss = () => {
  try {
    const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'latin1').trim().split(/\s+/);
    for (const k of kids) {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${k}/status`, 'latin1'));
      if (m) process.stderr.write(`peakRssKiB=${m[1]}\n`);
    }
  } catch {
    // gone already: the figure stays the driver's own
  }
};
const finish = (text: string, code: number) => {
  clearInterval(poll);
  reportRss();
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL'); // the group: script, bochs
  } catch {
    // already gone
  }
  process.stdout.write(text, () => {
    cleanup();
    process.exit(code);
  });
};
const poll = setInterval(() => {
  const text = existsSync(serial) ? readFileSync(serial, 'latin1') : '';
  if (/(checksum=0x[0-9a-f]{8} iterations=\d+|bench: exception \d+)\r?\n/.test(text)) finish(text, text.includes('checksum=') ? 0 : 1);
}, 5);
child.on('exit', () => {
  const text = existsSync(serial) ? readFileSync(serial, 'latin1') : '';
  finish(text, 3);
});
