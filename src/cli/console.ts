/**
 * The host side of the serial console: COM1's output to stdout (or a file, or nowhere), stdin to
 * COM1's input. A terminal is put in raw mode so every key reaches the guest, with QEMU's escape:
 * Ctrl-A x quits, Ctrl-A Ctrl-A sends a literal Ctrl-A. A pipe or a file on stdin is fed to the
 * guest as it arrives; its end closes the input (a halted guest waiting only for input then stops).
 */
import { closeSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Machine } from '../machine/machine.js';

export type SerialTarget = { kind: 'stdio' } | { kind: 'none' } | { kind: 'file'; path: string };

export function parseSerial(text: string): SerialTarget {
  if (text === 'stdio') return { kind: 'stdio' };
  if (text === 'none' || text === 'null') return { kind: 'none' };
  if (text.startsWith('file:') && text.length > 5) return { kind: 'file', path: text.slice(5) };
  throw new Error(`invalid serial target '${text}' (use stdio, none or file:PATH)`);
}

/** Buffers output bytes and writes them in chunks (one syscall per chunk, not per byte). */
export class ByteSink {
  private buf = new Uint8Array(4096);
  private len = 0;
  constructor(private readonly fd: number | null) {}

  readonly put = (b: number): void => {
    if (this.fd === null) return;
    if (this.len === this.buf.length) this.flush();
    this.buf[this.len++] = b;
    if (b === 10) this.flush();
  };

  flush(): void {
    if (this.fd === null || this.len === 0) return;
    let off = 0;
    while (off < this.len) {
      try {
        off += writeSync(this.fd, this.buf, off, this.len - off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
    }
    this.len = 0;
  }
}

export function openSerialSink(target: SerialTarget): { sink: ByteSink; close: () => void } {
  if (target.kind === 'none') return { sink: new ByteSink(null), close: () => {} };
  if (target.kind === 'stdio') return { sink: new ByteSink(1), close: () => {} };
  const fd = openSync(target.path, 'w');
  return { sink: new ByteSink(fd), close: () => closeSync(fd) };
}

const CTRL_A = 0x01;

/** Connects stdin to the machine's COM1; returns a function that undoes it. */
export function attachStdin(machine: Machine): () => void {
  const stdin = process.stdin;
  let kind = 'other';
  try {
    const st = fstatSync(0);
    if (st.isFile()) kind = 'file';
  } catch {
    return () => {}; // no stdin at all
  }
  if (kind === 'file') {
    // A regular file is read whole, up front: the run stays deterministic.
    machine.input(readFileSync(0));
    return () => {};
  }
  machine.inputOpen = true;
  let escape = false;
  const onData = (chunk: Buffer): void => {
    if (!stdin.isTTY) {
      machine.input(chunk);
      return;
    }
    const out: number[] = [];
    for (const b of chunk) {
      if (escape) {
        escape = false;
        if (b === 0x78 /* x */) {
          machine.interrupt('terminated by Ctrl-A x');
          return;
        }
        if (b === CTRL_A) out.push(CTRL_A);
        continue;
      }
      if (b === CTRL_A) escape = true;
      else out.push(b);
    }
    if (out.length) machine.input(out);
  };
  const onEnd = (): void => {
    machine.inputOpen = false;
    machine.input([]);
  };
  if (stdin.isTTY) {
    stdin.setRawMode(true);
    machine.idleInRealTime = true;
  }
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  stdin.on('error', onEnd);
  return () => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    stdin.destroy();
  };
}
