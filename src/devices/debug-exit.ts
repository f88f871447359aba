/**
 * Two tiny devices test kernels use to talk to the host without a UART driver:
 *
 * - DebugExit, QEMU's isa-debug-exit (ports 0xF4..0xF7 here): writing v ends the run and makes
 *   ringvm exit with status (v << 1) | 1, exactly as `qemu-system-x86_64 -device
 *   isa-debug-exit,iobase=0xf4,iosize=0x04` does, so a test kernel's status means the same on both.
 *   (The process status is that value modulo 256, as for any exit code.) Reads return all ones.
 * - DebugConsole, the Bochs/QEMU "port 0xE9 hack": each byte written is sent to the host; reading
 *   the port returns 0xE9 so a guest can detect that the console is there.
 */
import type { PortDevice, StopRequester } from './device.js';

export const DEBUG_EXIT_PORT = 0xf4;
export const DEBUG_EXIT_SIZE = 4;
export const DEBUG_CONSOLE_PORT = 0xe9;

export class DebugExit implements PortDevice {
  constructor(private readonly stopper: StopRequester) {}

  portRead(_port: number, size: number): number {
    return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }

  portWrite(_port: number, _size: number, value: number): void {
    const status = (value * 2 + 1) % 0x100000000;
    this.stopper.requestStop(`debug-exit: guest wrote 0x${value.toString(16)}`, status & 0xff);
  }
}

export class DebugConsole implements PortDevice {
  constructor(private readonly sink: (byte: number) => void) {}

  portRead(): number {
    return 0xe9;
  }

  portWrite(_port: number, size: number, value: number): void {
    for (let i = 0; i < size; i++) this.sink((value >>> (8 * i)) & 0xff);
  }
}
