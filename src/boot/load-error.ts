/**
 * The loader's one failure type and the machine interface it loads into. A LoadError carries a
 * one-line, human reason ("truncated ELF: program header 2 ends at 0x... past the end of the file");
 * the CLI prints it as `ringvm: IMAGE: reason` and exits with status 2. Throwing is fine here: the
 * loader runs once, before the guest, never on a hot path.
 */
import type { StateViews } from '../cpu/state.js';
import type { PhysicalMemory } from '../mmu/physmem.js';

export class LoadError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'LoadError';
  }
}

/** What the loader needs from a machine: its RAM (whose size is `phys.ramSize`) and the CPU block. */
export interface BootTarget {
  phys: PhysicalMemory;
  views: StateViews;
}

/** Hex for messages: `0x1f000`. */
export const hex = (n: number): string => '0x' + n.toString(16);

/** RAM size for messages: `128 MiB`, or bytes/KiB when not a whole number of MiB. */
export const sizeText = (n: number): string =>
  n % 0x100000 === 0 ? `${n / 0x100000} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
