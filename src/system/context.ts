/**
 * SystemContext: everything the privileged side of the simulator needs in one object, built once
 * per Machine and handed to the interpreter, the system-instruction handlers and (later) the
 * translator's helpers. It holds the shared views of the one memory (cpu/state.ts), the physical
 * memory map, the MMU seam, the port bus, the interrupt controller the machine wires in, the
 * sensitive-instruction policy and a few system-wide counters. It holds no guest state of its own
 * beyond what the CPU block cannot (MSRs that the block has no slot for), so a snapshot of the
 * memory is a snapshot of the CPU.
 */
import { OFF_POLICY, type StateViews } from '../cpu/state.js';
import type { Mmu } from '../mmu/mmu.js';
import type { PhysicalMemory } from '../mmu/physmem.js';
import type { PortBus } from '../mmu/ports.js';

/** The seam to the PIC / APIC: the machine wires whichever controller the board has. */
export interface InterruptController {
  /** True when an unmasked interrupt request is pending (the CPU still checks RFLAGS.IF). */
  hasInterrupt(): boolean;
  /** Takes the highest-priority pending request and returns its vector (0..255). */
  acknowledge(): number;
}

// ---- sensitive-instruction policy (--sensitive), stored at OFF_POLICY ------------------------

/** Sensitive instructions in user code answer from the virtual state, as real hardware would. */
export const POLICY_EMULATE = 0;
/** Pre-VT trap-and-emulate: sensitive unprivileged instructions leak the monitor's own state. */
export const POLICY_LEAK = 1;
/** SGDT/SIDT/SLDT/SMSW/STR at CPL > 0 raise #GP(0), as with CR4.UMIP. */
export const POLICY_UMIP = 2;
export const POLICY_NAMES = ['emulate', 'leak', 'umip'];

// ---- results of delivering an interrupt or exception -----------------------------------------

/** The event was delivered: RIP, CS, SS, RSP and RFLAGS now point at the handler. */
export const DELIVER_OK = 0;
/** A fault while delivering #DF: the CPU shuts down (the run loop reports a triple fault). */
export const DELIVER_TRIPLE_FAULT = 1;
/** The guest asked for something ringvm does not implement (task gate, IRET to VM86 ...). */
export const DELIVER_UNSUPPORTED = 2;

export class SystemContext {
  /** The interrupt controller; null until the machine wires one (no external interrupts). */
  intc: InterruptController | null = null;
  /** Deliveries per vector (exceptions, INT n and external interrupts), for --stats. */
  readonly vectorCounts = new Float64Array(256);
  /** Why the last DELIVER_UNSUPPORTED / DELIVER_TRIPLE_FAULT happened, for the stop message. */
  stopReason = '';
  /** IA32_MISC_ENABLE: no slot in the CPU block; rarely read, kept here. */
  msrMiscEnable = 1; // fast-strings enabled, as firmware leaves it

  constructor(
    readonly views: StateViews,
    readonly phys: PhysicalMemory,
    readonly mmu: Mmu,
    readonly ports: PortBus,
  ) {}

  /** The sensitive-instruction policy (POLICY_*); lives in the CPU block so translated code sees it. */
  get policy(): number {
    return this.views.u32[OFF_POLICY >>> 2];
  }
  set policy(p: number) {
    this.views.u32[OFF_POLICY >>> 2] = p;
  }
}
