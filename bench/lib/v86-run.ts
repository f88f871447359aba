/**
 * Boots one bench image on v86 (the npm package, when bench/install-peers.sh installed it) for the
 * benchmark suite: SeaBIOS from Debian's seabios package, the image through v86's multiboot option
 * with the command line, COM1 copied to stdout. The run ends when the kernel writes port 0xF4,
 * which v86 reports by throwing "HALT" (its test-exit hook).
 * Usage: node --import tsx bench/lib/v86-run.ts IMAGE CMDLINE jit|nojit
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [image, cmdline, mode] = process.argv.slice(2);
if (!image || cmdline === undefined) {
  console.error('usage: v86-run.ts IMAGE CMDLINE [jit|nojit]');
  process.exit(2);
}
// Resolved at run time: v86 is not a dependency of ringvm, so nothing may import it statically.
const pkg = 'v86';
const require = createRequire(import.meta.url);
const mod = (await import(pkg)) as { V86: new (o: Record<string, unknown>) => V86Like };
interface V86Like {
  add_listener(ev: string, f: (b: number) => void): void;
  destroy(): Promise<void>;
}
const toArrayBuffer = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
const emulator = new mod.V86({
  wasm_path: require.resolve('v86/build/v86.wasm'),
  bios: { buffer: toArrayBuffer(readFileSync('/usr/share/seabios/bios.bin')) },
  multiboot: { buffer: toArrayBuffer(readFileSync(image)) },
  cmdline: `${image.split('/').pop()} ${cmdline}`, // like QEMU: the image name is the first word
  memory_size: 64 << 20,
  disable_jit: mode === 'nojit',
  autostart: true,
  disable_speaker: true,
});
emulator.add_listener('serial0-output-byte', (b: number) => {
  process.stdout.write(String.fromCharCode(b));
});
// v86 turns a write to port 0xF4 (the kernels' isa-debug-exit) into a thrown "HALT": the end.
process.on('uncaughtException', (e) => {
  if (e !== ('HALT' as unknown)) throw e;
  process.stdout.write('', () => process.exit(0));
});
setTimeout(() => {
  console.error('v86-run: timed out');
  process.exit(3);
}, 600_000).unref();
