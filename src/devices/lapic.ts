/**
 * The local APIC of one processor (Intel SDM vol. 3A chapter 10 / 11, "Advanced Programmable
 * Interrupt Controller"), memory-mapped at 0xFEE00000 in a 4 KiB window. It holds the 256-bit
 * IRR/ISR/TMR, the task and processor priorities, EOI, the spurious-interrupt vector register
 * with the software-enable bit, the error status register, the local vector table (timer, thermal,
 * performance, LINT0, LINT1, error) and the APIC timer (one-shot and periodic with the divide
 * configuration; TSC-deadline mode is not advertised). An ICR write delivers fixed IPIs addressed
 * to this processor itself; other targets and INIT/SIPI/NMI are ignored (one CPU).
 *
 * It is an interrupt controller for the run loop (`hasInterrupt` / `acknowledge`). The 8259 pair
 * reaches the CPU through LINT0 programmed as ExtINT, the "virtual wire" a BIOS sets up (and the
 * reset state here for the bootstrap processor): give the PIC pair to `setExtInt` and this one
 * object answers for both; or leave it unset and let the machine ask the LAPIC, then the PIC.
 *
 * The timer counts bus clocks (`busHz`, default 1 GHz like QEMU's) divided by the divide
 * configuration, converted from the instruction counter exactly (TickRate); the current count is
 * computed on read, and the expiry is a clock deadline.
 */
import type { Clock, MmioDevice, TimerOwner } from './device.js';
import { TickRate } from './pit8254.js';

export const LAPIC_BASE = 0xfee00000;
export const LAPIC_SIZE = 0x1000;
export const LAPIC_DEFAULT_BUS_HZ = 1_000_000_000;

// Register offsets (SDM table "Local APIC Register Address Map").
export const LAPIC_ID = 0x20;
export const LAPIC_VERSION = 0x30;
export const LAPIC_TPR = 0x80;
export const LAPIC_APR = 0x90;
export const LAPIC_PPR = 0xa0;
export const LAPIC_EOI = 0xb0;
export const LAPIC_LDR = 0xd0;
export const LAPIC_DFR = 0xe0;
export const LAPIC_SVR = 0xf0;
export const LAPIC_ISR = 0x100;
export const LAPIC_TMR = 0x180;
export const LAPIC_IRR = 0x200;
export const LAPIC_ESR = 0x280;
export const LAPIC_ICR_LO = 0x300;
export const LAPIC_ICR_HI = 0x310;
export const LAPIC_LVT_TIMER = 0x320;
export const LAPIC_LVT_THERMAL = 0x330;
export const LAPIC_LVT_PERF = 0x340;
export const LAPIC_LVT_LINT0 = 0x350;
export const LAPIC_LVT_LINT1 = 0x360;
export const LAPIC_LVT_ERROR = 0x370;
export const LAPIC_TIMER_INITIAL = 0x380;
export const LAPIC_TIMER_CURRENT = 0x390;
export const LAPIC_TIMER_DIVIDE = 0x3e0;

/** Version 0x14 (integrated APIC), 6 LVT entries (max LVT entry 5), no EOI-broadcast suppression. */
const VERSION = 0x00050014;
const LVT_MASKED = 0x10000;
const LVT_PERIODIC = 0x20000;
const SVR_ENABLE = 0x100;
/** LVT order in `lvt`: timer, thermal, perf, LINT0, LINT1, error (offsets 0x320..0x370). */
const LVT_COUNT = 6;
/** Writable bits per LVT (SDM figure "Local Vector Table"): vector, delivery mode, polarity, trigger, mask, timer mode. */
const LVT_WRITABLE = [0x000300ff, 0x000107ff, 0x000107ff, 0x0001a7ff, 0x0001a7ff, 0x000100ff];
const DELIVERY_EXTINT = 7;
// ESR bits.
const ESR_SEND_ILLEGAL_VECTOR = 0x20;
const ESR_RECEIVE_ILLEGAL_VECTOR = 0x40;

/** The shape of the PIC pair as an ExtINT source (system/context.ts' InterruptController). */
export interface ExtIntSource {
  hasInterrupt(): boolean;
  acknowledge(): number;
}

export interface LapicOptions {
  /** APIC ID (bits 31-24 of register 0x20). */
  id?: number;
  /** Timer input clock before the divider, in Hz. */
  busHz?: number;
  /** The bootstrap processor comes up with LINT0 as ExtINT, unmasked (virtual wire mode). */
  bsp?: boolean;
}

export class LocalApic implements MmioDevice, TimerOwner {
  private readonly irr = new Uint32Array(8);
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  private readonly lvt = new Uint32Array(LVT_COUNT);
  private id = 0;
  private tpr = 0;
  private ldr = 0;
  private dfr = 0xffffffff;
  private svr = 0xff;
  private esr = 0;
  private pendingErrors = 0;
  private icrLo = 0;
  private icrHi = 0;
  private timerInitial = 0;
  private timerDivide = 0;
  /**
   * The IRR vector deliverable now, or -1, and whether LINT0 passes ExtINT: both recomputed after
   * every change, because the CPU asks `hasInterrupt` before every instruction while IF is set.
   */
  private ready = -1;
  private extIntOpen = false;
  /** Bus clock count at which the current timer period started. */
  private timerStart = 0;
  private timerRunning = false;
  private readonly bus: TickRate;
  private extInt: ExtIntSource | null = null;
  /** IA32_APIC_BASE.EN: when clear the APIC is off and the PIC's INTR goes straight to the CPU. */
  private hardwareEnabled = true;
  private readonly bsp: boolean;
  /** Called on EOI of a level-triggered vector (TMR set), for an I/O APIC's remote IRR. */
  onLevelEoi: ((vector: number) => void) | null = null;
  /** Timer interrupts delivered, for --stats. */
  timerFired = 0;

  constructor(
    private readonly clock: Clock,
    opts: LapicOptions = {},
  ) {
    this.bus = new TickRate(clock, opts.busHz ?? LAPIC_DEFAULT_BUS_HZ);
    this.id = (opts.id ?? 0) & 0xff;
    this.bsp = opts.bsp ?? true;
    this.reset(this.bsp);
  }

  /** Power-up / INIT state (SDM "Local APIC State After Power-Up or Reset"). */
  reset(bsp: boolean): void {
    this.irr.fill(0);
    this.isr.fill(0);
    this.tmr.fill(0);
    this.lvt.fill(LVT_MASKED);
    if (bsp) this.lvt[3] = DELIVERY_EXTINT << 8;
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = 0xffffffff;
    this.svr = 0xff;
    this.esr = 0;
    this.pendingErrors = 0;
    this.icrLo = 0;
    this.icrHi = 0;
    this.timerInitial = 0;
    this.timerDivide = 0;
    this.timerRunning = false;
    this.clock.cancel(this);
    this.update();
  }

  private update(): void {
    this.ready = this.deliverable();
    this.extIntOpen = this.acceptsExtInt();
  }

  /** Routes the 8259 pair through LINT0 (delivered while LINT0 is an unmasked ExtINT entry). */
  setExtInt(source: ExtIntSource | null): void {
    this.extInt = source;
  }

  /**
   * Follows IA32_APIC_BASE bit 11 (the machine wires the MSR write here). Clearing it makes the
   * processor behave as one without an APIC (SDM "Enabling or Disabling the Local APIC"): the
   * PIC's requests are delivered directly and this APIC returns to its power-up state.
   */
  setHardwareEnabled(on: boolean): void {
    if (on === this.hardwareEnabled) return;
    this.hardwareEnabled = on;
    this.reset(this.bsp);
  }

  softwareEnabled(): boolean {
    return (this.svr & SVR_ENABLE) !== 0;
  }

  /** True when LINT0 passes the PIC's INTR through (unmasked, ExtINT delivery mode). */
  acceptsExtInt(): boolean {
    const l = this.lvt[3];
    return (l & LVT_MASKED) === 0 && ((l >> 8) & 7) === DELIVERY_EXTINT;
  }

  // ---- priorities -----------------------------------------------------------------------

  /** Highest vector set in a 256-bit register, or -1. */
  private static highest(bits: Uint32Array): number {
    for (let i = 7; i >= 0; i--) {
      const w = bits[i];
      if (w !== 0) return i * 32 + 31 - Math.clz32(w);
    }
    return -1;
  }

  /** Processor priority (SDM "Processor Priority Register"): TPR or the ISR's class, the higher. */
  ppr(): number {
    const isrv = LocalApic.highest(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr & 0xff : isrClass;
  }

  /** The IRR vector the APIC would deliver now, or -1: its class must exceed the PPR's. */
  private deliverable(): number {
    const v = LocalApic.highest(this.irr);
    if (v < 0 || (v & 0xf0) <= (this.ppr() & 0xf0)) return -1;
    return v;
  }

  hasInterrupt(): boolean {
    if (this.ready >= 0) return true;
    const ext = this.extInt;
    return ext !== null && (this.extIntOpen || !this.hardwareEnabled) && ext.hasInterrupt();
  }

  /**
   * INTA: the PIC's vector for an ExtINT request, else the highest deliverable IRR vector moves
   * to ISR. If nothing qualifies any more (TPR raised in between), the spurious vector, with no
   * ISR bit set.
   */
  acknowledge(): number {
    if (!this.hardwareEnabled) return this.extInt !== null ? this.extInt.acknowledge() : this.svr & 0xff;
    if (this.extInt !== null && this.acceptsExtInt() && this.extInt.hasInterrupt()) {
      return this.extInt.acknowledge();
    }
    const v = this.deliverable();
    if (v < 0) return this.svr & 0xff;
    this.irr[v >>> 5] &= ~(1 << (v & 31));
    this.isr[v >>> 5] |= 1 << (v & 31);
    this.update();
    return v;
  }

  /**
   * A fixed interrupt arrives (a self-IPI, the LVT, or an I/O APIC message). Vectors 0-15 are
   * illegal and set the receive-illegal-vector error instead.
   */
  accept(vector: number, levelTriggered: boolean): void {
    if (!this.hardwareEnabled) return;
    vector &= 0xff;
    if (vector < 16) {
      this.signalError(ESR_RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    if (!this.softwareEnabled()) return;
    const w = vector >>> 5;
    const bit = 1 << (vector & 31);
    this.irr[w] |= bit;
    if (levelTriggered) this.tmr[w] |= bit;
    else this.tmr[w] &= ~bit;
    this.update();
  }

  private eoi(): void {
    const v = LocalApic.highest(this.isr);
    if (v < 0) return;
    const w = v >>> 5;
    const bit = 1 << (v & 31);
    this.isr[w] &= ~bit;
    this.update();
    if ((this.tmr[w] & bit) !== 0 && this.onLevelEoi !== null) this.onLevelEoi(v);
  }

  /** Records an error and raises the LVT error interrupt if it is unmasked. */
  private signalError(bits: number): void {
    this.pendingErrors |= bits;
    const l = this.lvt[5];
    // An illegal error vector cannot signal itself again: record only.
    if ((l & LVT_MASKED) === 0 && (l & 0xff) >= 16) this.accept(l & 0xff, false);
  }

  // ---- IPIs -----------------------------------------------------------------------------

  private sendIpi(): void {
    const lo = this.icrLo;
    const vector = lo & 0xff;
    const mode = (lo >> 8) & 7;
    const shorthand = (lo >> 18) & 3;
    let self: boolean;
    if (shorthand === 1 || shorthand === 2) self = true;
    else if (shorthand === 3) self = false;
    else {
      const dest = this.icrHi >>> 24;
      self = (lo & 0x800) === 0 ? dest === this.id || dest === 0xff : (dest & (this.ldr >>> 24)) !== 0;
    }
    if (mode !== 0 && mode !== 1) return; // only fixed / lowest-priority on one CPU
    if (vector < 16) {
      this.signalError(ESR_SEND_ILLEGAL_VECTOR);
      if (self) this.signalError(ESR_RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    if (self) this.accept(vector, false);
  }

  // ---- timer ----------------------------------------------------------------------------

  private divisor(): number {
    // SDM "Divide Configuration Register": bits 3,1,0 = 000 -> 2, 001 -> 4, ..., 110 -> 128, 111 -> 1
    const code = ((this.timerDivide >> 1) & 4) | (this.timerDivide & 3);
    return code === 7 ? 1 : 2 << code;
  }

  private periodic(): boolean {
    return (this.lvt[0] & LVT_PERIODIC) !== 0;
  }

  /** Timer ticks (bus clocks / divisor) since the current period started. */
  private elapsed(): number {
    return Math.floor((this.bus.now() - this.timerStart) / this.divisor());
  }

  currentCount(): number {
    if (!this.timerRunning) return 0;
    const e = this.elapsed();
    return e >= this.timerInitial ? 0 : this.timerInitial - e;
  }

  private startTimer(initial: number): void {
    this.timerInitial = initial >>> 0;
    if (this.timerInitial === 0) {
      this.timerRunning = false; // writing 0 stops the timer
      this.clock.cancel(this);
      return;
    }
    this.timerStart = this.bus.now();
    this.timerRunning = true;
    this.arm();
  }

  /** Keeps the current count while the divisor or mode changes: restart the period from it. */
  private rebaseTimer(update: () => void): void {
    if (!this.timerRunning) {
      update();
      return;
    }
    const current = this.currentCount();
    update();
    this.timerStart = this.bus.now() - (this.timerInitial - current) * this.divisor();
    this.arm();
  }

  private arm(): void {
    const expiry = this.timerStart + this.timerInitial * this.divisor();
    this.clock.schedule(this, this.bus.instrAt(expiry));
  }

  onTimer(now: number): void {
    if (!this.timerRunning) return;
    const e = Math.floor((this.bus.ticksAt(now) - this.timerStart) / this.divisor());
    if (e < this.timerInitial) {
      this.arm(); // early call: wait for the real expiry
      return;
    }
    const l = this.lvt[0];
    if ((l & LVT_MASKED) === 0) {
      this.timerFired++;
      this.accept(l & 0xff, false);
    }
    if (this.periodic()) {
      // Reload; a late call (past several periods) delivers once and realigns to the period grid.
      this.timerStart += Math.floor(e / this.timerInitial) * this.timerInitial * this.divisor();
      this.arm();
    } else {
      this.timerRunning = false;
    }
  }

  // ---- MMIO -----------------------------------------------------------------------------

  private readReg(reg: number): number {
    if (reg >= LAPIC_ISR && reg < LAPIC_ESR) {
      const i = (reg >> 4) & 7;
      if (reg < LAPIC_TMR) return this.isr[i];
      if (reg < LAPIC_IRR) return this.tmr[i];
      return this.irr[i];
    }
    if (reg >= LAPIC_LVT_TIMER && reg <= LAPIC_LVT_ERROR) return this.lvt[(reg - LAPIC_LVT_TIMER) >> 4];
    switch (reg) {
      case LAPIC_ID:
        return (this.id << 24) >>> 0;
      case LAPIC_VERSION:
        return VERSION;
      case LAPIC_TPR:
        return this.tpr;
      case LAPIC_PPR:
        return this.ppr();
      case LAPIC_LDR:
        return this.ldr;
      case LAPIC_DFR:
        return this.dfr;
      case LAPIC_SVR:
        return this.svr;
      case LAPIC_ESR:
        return this.esr;
      case LAPIC_ICR_LO:
        return this.icrLo;
      case LAPIC_ICR_HI:
        return this.icrHi;
      case LAPIC_TIMER_INITIAL:
        return this.timerInitial;
      case LAPIC_TIMER_CURRENT:
        return this.currentCount();
      case LAPIC_TIMER_DIVIDE:
        return this.timerDivide;
      default: // APR, EOI, RRD, reserved
        return 0;
    }
  }

  private writeReg(reg: number, v: number): void {
    if (reg >= LAPIC_LVT_TIMER && reg <= LAPIC_LVT_ERROR) {
      const i = (reg - LAPIC_LVT_TIMER) >> 4;
      // Remote IRR (bit 14) and delivery status (bit 12) are read-only; software-disabled forces the mask.
      let nv = (v & LVT_WRITABLE[i]) | (this.lvt[i] & 0x4000);
      if (!this.softwareEnabled()) nv |= LVT_MASKED;
      if (i === 0) this.rebaseTimer(() => (this.lvt[0] = nv));
      else this.lvt[i] = nv;
      this.update();
      return;
    }
    switch (reg) {
      case LAPIC_ID:
        this.id = v >>> 24;
        return;
      case LAPIC_TPR:
        this.tpr = v & 0xff;
        this.update();
        return;
      case LAPIC_EOI:
        this.eoi();
        return;
      case LAPIC_LDR:
        this.ldr = (v & 0xff000000) >>> 0;
        return;
      case LAPIC_DFR:
        this.dfr = (v | 0x0fffffff) >>> 0;
        return;
      case LAPIC_SVR:
        // Bits 0-7 vector, 8 APIC software enable, 9 focus checking; EOI-broadcast suppression is not offered.
        this.svr = v & 0x3ff;
        if (!this.softwareEnabled()) for (let i = 0; i < LVT_COUNT; i++) this.lvt[i] |= LVT_MASKED;
        this.update();
        return;
      case LAPIC_ESR:
        // A write moves the errors seen since the last write into the readable register.
        this.esr = this.pendingErrors;
        this.pendingErrors = 0;
        return;
      case LAPIC_ICR_HI:
        this.icrHi = (v & 0xff000000) >>> 0;
        return;
      case LAPIC_ICR_LO:
        this.icrLo = v & 0x000cdfff & ~0x1000; // delivery status always reads idle
        this.sendIpi();
        return;
      case LAPIC_TIMER_INITIAL:
        this.startTimer(v);
        return;
      case LAPIC_TIMER_DIVIDE:
        this.rebaseTimer(() => (this.timerDivide = v & 0xb));
        return;
      default: // read-only or reserved registers ignore writes
    }
  }

  /** Registers are 32 bits at 16-byte strides; narrower accesses see their bytes of the register. */
  mmioRead(offset: number, size: number): number {
    if ((offset & 0xc) !== 0) return 0;
    const shift = (offset & 3) * 8;
    const v = this.readReg(offset & 0xff0) >>> shift;
    return size >= 4 ? v >>> 0 : v & ((1 << (size * 8)) - 1);
  }

  mmioWrite(offset: number, size: number, value: number): void {
    if ((offset & 0xc) !== 0) return;
    const reg = offset & 0xff0;
    if (size >= 4) {
      this.writeReg(reg, value >>> 0);
      return;
    }
    const shift = (offset & 3) * 8;
    const mask = ((1 << (size * 8)) - 1) << shift;
    this.writeReg(reg, ((this.readReg(reg) & ~mask) | ((value << shift) & mask)) >>> 0);
  }
}
