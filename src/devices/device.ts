/**
 * The seams between devices and the rest of ringvm. A device knows only these interfaces: the
 * port or MMIO accesses the bus hands it, an interrupt line it can raise, and the virtual clock.
 * It never imports the CPU, the MMU or the machine (ARCHITECTURE.md §2).
 */

/** Accesses are 1, 2 or 4 bytes; `port` is the absolute port number (0..0xFFFF). */
export interface PortDevice {
  portRead(port: number, size: number): number;
  portWrite(port: number, size: number, value: number): void;
}

/** Accesses are 1, 2, 4 or 8 bytes (8 as two 4-byte calls); `offset` is relative to the window base. */
export interface MmioDevice {
  mmioRead(offset: number, size: number): number;
  mmioWrite(offset: number, size: number, value: number): void;
}

/** An interrupt request line: edge devices pulse it (raise then lower), level devices hold it. */
export interface IrqLine {
  raise(): void;
  lower(): void;
}

/** Virtual time, counted in guest instructions (ARCHITECTURE.md §7). */
export interface Clock {
  /** Guest instructions retired so far, as a JS number (exact up to 2^53). */
  now(): number;
  /** Guest instructions per guest second, for devices that count in real units (PIT, RTC). */
  readonly ips: number;
  /** Asks the run loop to call `cb` when the counter reaches `at` (replaces this owner's timer). */
  schedule(owner: TimerOwner, at: number): void;
  cancel(owner: TimerOwner): void;
}

export interface TimerOwner {
  /** Called by the run loop once the instruction counter has reached the scheduled deadline. */
  onTimer(now: number): void;
}

/** Why a run stopped, when a device ends it (debug-exit, Ctrl-A x on the console). */
export interface StopRequester {
  requestStop(reason: string, exitStatus: number): void;
}
