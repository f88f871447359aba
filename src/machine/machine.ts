/**
 * The Machine owns everything a guest runs on: the one WebAssembly.Memory (allocated once, at its
 * final size), the CPU state views over it, the physical memory map, the port bus, the devices,
 * the virtual clock and the execution engine, and the run loop that drives them.
 *
 * The run loop (ARCHITECTURE.md §7): run the engine until the next timer deadline (or the
 * instruction limit, or a slice of a few hundred thousand instructions so the host's event loop
 * can deliver console input and signals), fire due timers, and handle why the engine came back:
 * HLT (jump virtual time to the next deadline, or stop "guest halted" when nothing can wake the
 * CPU), a stop requested by a device (debug-exit), a triple fault, or the limit.
 */
import { FLAG_IF, OFF_EXIT_REQUEST, OFF_HALTED, OFF_INSN_COUNT, OFF_RFLAGS, RAM_BASE, StateViews, WASM_PAGE } from '../cpu/state.js';
import type { IrqLine, StopRequester } from '../devices/device.js';
import { DEBUG_CONSOLE_PORT, DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE, DebugConsole, DebugExit } from '../devices/debug-exit.js';
import { Cmos } from '../devices/cmos.js';
import { LAPIC_BASE, LAPIC_SIZE, LocalApic } from '../devices/lapic.js';
import { PicPair } from '../devices/pic8259.js';
import { Pit8254 } from '../devices/pit8254.js';
import { Uart16550 } from '../devices/uart16550.js';
import { Mmu } from '../mmu/mmu.js';
import { PhysicalMemory } from '../mmu/physmem.js';
import { PortBus } from '../mmu/ports.js';
import { SystemContext } from '../system/context.js';
import { VirtualClock } from './clock.js';
import { registerDump } from './dump.js';
import { applyFirmwareState } from './firmware.js';
import { TraceEngine, translatorTrace, type TraceOptions } from './trace.js';
import { powerOnReset } from './reset.js';
import { createEngine, type EngineOptions, ENGINE_HALT, ENGINE_LIMIT, ENGINE_TRIPLE_FAULT, ENGINE_UNSUPPORTED, type Engine } from './engine.js';

export const COM1_BASE = 0x3f8;
export const COM1_IRQ = 4;

/** Exit statuses of a run (the process exit code of `ringvm run`). */
export const STATUS_HALTED = 0;
export const STATUS_TRIPLE_FAULT = 3;
export const STATUS_LIMIT = 4;
export const STATUS_UNSUPPORTED = 5;
export const STATUS_INTERRUPTED = 130;

export interface MachineOptions {
  ramSize: number;
  /** Where COM1's output goes. */
  serialSink: (byte: number) => void;
  /** Where the 0xE9 debug console's output goes. */
  debugconSink: (byte: number) => void;
  /** Stop after this many guest instructions (status 4); Infinity for no limit. */
  maxInsns: number;
  /** Guest instructions per guest second. */
  ips: number;
  /** The RTC's time of day at instruction 0, in seconds since the Unix epoch. */
  rtcStart: number;
  /** false: writes to code pages do not invalidate decoded/translated code (deliberately wrong). */
  smcCheck?: boolean;
  /** Which engine runs the guest, and the translator's options. */
  engine?: EngineOptions;
  /** --trace events and where their lines go. */
  trace?: { opts: TraceOptions; out: (line: string) => void };
}

export interface StopInfo {
  reason: string;
  status: number;
  /** A register dump, for abnormal stops. */
  dump?: string;
}

export class MachineError extends Error {}

/** Timer deadlines a halted CPU may skip through without being woken before the run gives up. */
const MAX_IDLE_TIMER_JUMPS = 10_000;

/** Instructions per engine call when no timer is closer: small enough to keep the console live. */
const SLICE = 1 << 20;

export class Machine implements StopRequester {
  readonly memory: WebAssembly.Memory;
  readonly views: StateViews;
  readonly phys: PhysicalMemory;
  readonly ports = new PortBus();
  readonly mmu: Mmu;
  readonly ctx: SystemContext;
  readonly clock: VirtualClock;
  readonly uart: Uart16550;
  readonly pic = new PicPair();
  readonly pit: Pit8254;
  readonly lapic: LocalApic;
  readonly cmos: Cmos;
  readonly engine: Engine;
  private stop: StopInfo | null = null;
  /** True while something outside the guest can still raise an interrupt (console input). */
  inputOpen = false;
  /** True when a person types at a terminal: an idle guest then waits in real time. */
  idleInRealTime = false;
  private inputWaiter: (() => void) | null = null;

  constructor(readonly options: MachineOptions) {
    const pages = Math.ceil((RAM_BASE + options.ramSize) / WASM_PAGE);
    try {
      this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    } catch {
      throw new MachineError(`cannot allocate ${options.ramSize / 1048576} MiB of guest RAM on this host`);
    }
    this.views = new StateViews(this.memory);
    this.phys = new PhysicalMemory(this.views, options.ramSize);
    this.mmu = new Mmu(this.views, this.phys);
    this.ctx = new SystemContext(this.views, this.phys, this.mmu, this.ports);
    this.clock = new VirtualClock(this.views, options.ips);

    this.ports.register(0x20, 2, this.pic);
    this.ports.register(0xa0, 2, this.pic);
    this.ports.register(0x4d0, 2, this.pic);
    this.pit = new Pit8254(this.clock, this.pic.irq(0));
    this.ports.register(0x40, 4, this.pit);
    this.ports.register(0x61, 1, this.pit);
    this.cmos = new Cmos(this.clock, { ramSize: options.ramSize, startTime: options.rtcStart, irq: this.pic.irq(8) });
    this.ports.register(0x70, 2, this.cmos);
    // The PIC reaches the CPU through the local APIC's LINT0 in ExtINT mode (the BIOS "virtual
    // wire"), so the LAPIC is the one interrupt controller the CPU asks.
    this.lapic = new LocalApic(this.clock);
    this.lapic.setExtInt(this.pic);
    this.phys.addMmio(LAPIC_BASE, LAPIC_SIZE, this.lapic);
    this.ctx.intc = this.lapic;
    applyFirmwareState(this.ports, this.lapic);

    this.uart = new Uart16550(COM1_BASE, this.irqLine(COM1_IRQ), options.serialSink);
    this.ports.register(COM1_BASE, 8, this.uart);
    this.ports.register(DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE, new DebugExit(this));
    this.ports.register(DEBUG_CONSOLE_PORT, 1, new DebugConsole(options.debugconSink));

    powerOnReset(this.views);
    const t = options.trace;
    const dbtTrace = t ? translatorTrace(t.opts, t.out) : undefined;
    const noChain = t?.opts.nochain === true;
    const engineOpts: EngineOptions = dbtTrace || noChain
      ? { ...options.engine, dbt: { ...options.engine?.dbt, trace: dbtTrace, ...(noChain ? { noChain } : {}) } }
      : options.engine ?? {};
    const engine = createEngine(this.ctx, engineOpts);
    this.engine = t && (t.opts.exec || t.opts.int) ? new TraceEngine(engine, this.ctx, t.opts, t.out) : engine;
    // --no-smc-check: stores to code pages no longer reach the engine, so stale decoded and
    // translated code keeps running (the wrong answer the smc demonstration shows).
    this.phys.onCodeWrite = options.smcCheck === false ? null : (page) => this.engine.invalidatePage(page);
  }

  /** The ISA interrupt line `irq`, wired to the 8259A pair as on a PC/AT. */
  private irqLine(irq: number): IrqLine {
    return this.pic.irq(irq);
  }

  requestStop(reason: string, status: number): void {
    if (this.stop === null) this.stop = { reason, status };
    this.views.u32[OFF_EXIT_REQUEST >>> 2] = 1;
  }

  /** Console input arrived: hand it to COM1 and wake a halted CPU that waits for it. */
  input(bytes: ArrayLike<number>): void {
    this.uart.receive(bytes);
    const w = this.inputWaiter;
    this.inputWaiter = null;
    if (w) w();
  }

  /** The engine's own counters (decodes, translations ...), for --stats. */
  engineStats(): Record<string, number> {
    return this.engine.stats();
  }

  instructions(): number {
    return this.views.getNum(OFF_INSN_COUNT);
  }

  /** Runs the guest until it stops; resolves with why and the exit status. */
  async run(): Promise<StopInfo> {
    const v = this.views;
    let lastYield = performance.now();
    while (this.stop === null) {
      const now = this.instructions();
      if (now >= this.options.maxInsns) {
        this.stop = { reason: `instruction limit reached (${this.options.maxInsns})`, status: STATUS_LIMIT };
        break;
      }
      if (v.u32[OFF_HALTED >>> 2] !== 0) {
        if (!(await this.waitWhileHalted())) break;
        continue;
      }
      const stopAt = Math.min(this.clock.nextDeadline(), this.options.maxInsns, now + SLICE);
      const result = this.engine.run(stopAt);
      v.u32[OFF_EXIT_REQUEST >>> 2] = 0;
      this.clock.fireDue();
      if (result === ENGINE_TRIPLE_FAULT) {
        this.stop = {
          reason: `triple fault${this.ctx.stopReason ? `: ${this.ctx.stopReason}` : ''}`,
          status: STATUS_TRIPLE_FAULT,
          dump: registerDump(v),
        };
      } else if (result === ENGINE_UNSUPPORTED) {
        this.stop = { reason: `unsupported: ${this.ctx.stopReason}`, status: STATUS_UNSUPPORTED, dump: registerDump(v) };
      } else if (result === ENGINE_HALT || result === ENGINE_LIMIT) {
        // handled at the top of the loop
      }
      const t = performance.now();
      if (t - lastYield > 4) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
    return this.stop ?? { reason: 'stopped', status: 0 };
  }

  /**
   * The CPU is in HLT. With interrupts off nothing can wake it (ringvm has no NMI source): stop.
   * With interrupts on, jump virtual time to the next timer, or wait for console input.
   * Returns false when the run is over.
   */
  private async waitWhileHalted(): Promise<boolean> {
    const v = this.views;
    const ifSet = (v.lo(OFF_RFLAGS) & FLAG_IF) !== 0;
    if (ifSet && this.clock.hasTimers() && this.idleInRealTime) {
      // Someone is typing: let an idle guest wait in real time (one guest second per host second at
      // --ips) instead of racing its clock ahead while nobody types.
      const now = this.instructions();
      const deadline = Math.min(this.clock.nextDeadline(), this.options.maxInsns);
      const ms = Math.min(1000, ((deadline - now) / this.options.ips) * 1000);
      let typed = false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.inputWaiter = () => {
          typed = true;
          clearTimeout(timer);
          resolve();
        };
      });
      this.inputWaiter = null;
      if (!typed) {
        this.clock.advanceTo(deadline);
        this.clock.fireDue();
      }
      if (this.interruptPending()) v.u32[OFF_HALTED >>> 2] = 0;
      return true;
    }
    if (ifSet && this.clock.hasTimers()) {
      // Jump virtual time from deadline to deadline until an interrupt can wake the CPU. Timers
      // whose interrupts are all masked would make that endless: give up after many jumps.
      for (let jumps = 0; jumps < MAX_IDLE_TIMER_JUMPS; jumps++) {
        this.clock.advanceTo(Math.min(this.clock.nextDeadline(), this.options.maxInsns));
        this.clock.fireDue();
        if (this.interruptPending()) {
          v.u32[OFF_HALTED >>> 2] = 0;
          return true;
        }
        if (this.instructions() >= this.options.maxInsns || !this.clock.hasTimers()) return true;
      }
      if (!this.inputOpen) {
        this.stop = { reason: 'guest halted (interrupts enabled, but every timer interrupt is masked)', status: STATUS_HALTED };
        return false;
      }
    }
    if (ifSet && this.inputOpen) {
      await new Promise<void>((resolve) => (this.inputWaiter = resolve));
      if (this.interruptPending()) v.u32[OFF_HALTED >>> 2] = 0;
      return true;
    }
    this.stop = {
      reason: ifSet ? 'guest halted (interrupts enabled, but nothing can wake it)' : 'guest halted',
      status: STATUS_HALTED,
    };
    return false;
  }

  private interruptPending(): boolean {
    return this.ctx.intc !== null && this.ctx.intc.hasInterrupt();
  }

  /** Ends the run from outside (Ctrl-C, Ctrl-A x). */
  interrupt(reason: string): void {
    this.requestStop(reason, STATUS_INTERRUPTED);
    const w = this.inputWaiter;
    this.inputWaiter = null;
    if (w) w();
  }
}
