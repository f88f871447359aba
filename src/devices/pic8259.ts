/**
 * The PC/AT pair of Intel 8259A programmable interrupt controllers: the master at ports
 * 0x20/0x21 (IRQ 0-7), the slave at 0xA0/0xA1 (IRQ 8-15) cascaded on the master's IR2, and the
 * edge/level control registers (ELCR) at 0x4D0/0x4D1. The pair is what the run loop asks for an
 * interrupt (`hasInterrupt` / `acknowledge`, the shape of system/context.ts' InterruptController)
 * and what devices drive (`irq(n)` / `setIrq(n, level)`).
 *
 * Modelled from the 8259A datasheet: ICW1-ICW4 initialisation, OCW1 mask, OCW2 (non-specific,
 * specific and rotating EOIs, set priority, rotate in auto-EOI), OCW3 (read IRR/ISR, poll, special
 * mask mode), auto-EOI, rotating priority, and the spurious IR7 answer when nothing qualifies at
 * acknowledge time. Deliberate simplifications (docs/devices.md): an edge-triggered request stays
 * latched in IRR after its line drops (devices pulse their line, device.ts), the slave is always on
 * the master's IR2, special fully nested mode and buffered mode are accepted but ignored, and the
 * 8080 call-address mode is treated as 8086 mode.
 */
import type { IrqLine, PortDevice } from './device.js';

/** Initialisation state: which ICW the next data-port write is. */
const INIT_NONE = 0;
const INIT_ICW2 = 2;
const INIT_ICW3 = 3;
const INIT_ICW4 = 4;

/** One 8259A. All bit masks are 8 bits wide, bit n = IRn. */
class Pic8259 {
  irr = 0;
  isr = 0;
  imr = 0;
  /** Current level of each IR input (for edge detection and level-triggered inputs). */
  lines = 0;
  /** Level-triggered inputs (ELCR, or every input with ICW1.LTIM). */
  elcr = 0;
  ltim = false;
  vectorBase = 0;
  icw3 = 0;
  initStep = INIT_NONE;
  needIcw4 = false;
  single = false;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialMask = false;
  /** OCW3 RR/RIS: the command port reads ISR when true, IRR when false. */
  readIsr = false;
  /** OCW3 P: the next command-port read is a poll. */
  poll = false;
  /** The IR with the lowest priority; IR (lowest+1)&7 has the highest. Reset: IR7 lowest. */
  lowest = 7;

  /** `elcrMask`: the ELCR bits the hardware lets software set. */
  constructor(readonly elcrMask: number) {}

  levelMask(): number {
    return this.ltim ? 0xff : this.elcr;
  }

  /** Sets input `ir` to `level`; a rising edge (or a high level input) requests service. */
  setLine(ir: number, level: boolean): void {
    const bit = 1 << ir;
    if (level) {
      if ((this.lines & bit) === 0 || (this.levelMask() & bit) !== 0) this.irr |= bit;
      this.lines |= bit;
    } else {
      this.lines &= ~bit;
      // A level-triggered request goes away with its line; an edge stays latched (see header).
      if ((this.levelMask() & bit) !== 0) this.irr &= ~bit;
    }
  }

  /** The highest-priority IR among the bits of `mask`, or -1. */
  highest(mask: number): number {
    if (mask === 0) return -1;
    for (let p = 0; p < 8; p++) {
      const ir = (this.lowest + 1 + p) & 7;
      if ((mask & (1 << ir)) !== 0) return ir;
    }
    return -1;
  }

  /** Priority rank of `ir`: 0 is the highest. */
  rank(ir: number): number {
    return (ir - this.lowest - 1) & 7;
  }

  /**
   * The IR this chip would present on INT, given the request bits (`irr` with a cascade input
   * already merged in by the caller), or -1. A request is blocked by an in-service IR of equal or
   * higher priority, except in special mask mode where only masked in-service IRs are ignored
   * and every unmasked, not-in-service IR may interrupt.
   */
  pending(requests: number): number {
    const req = requests & ~this.imr & 0xff;
    if (req === 0) return -1;
    if (this.specialMask) return this.highest(req & ~this.isr);
    const ir = this.highest(req);
    const inService = this.highest(this.isr);
    if (inService >= 0 && this.rank(inService) <= this.rank(ir)) return -1;
    return ir;
  }

  /** INTA for IR `ir`: move it from IRR to ISR (or not, in auto-EOI mode). */
  acknowledgeIr(ir: number): void {
    const bit = 1 << ir;
    // A level input still high re-requests immediately; an edge needs a new edge.
    if ((this.levelMask() & bit) === 0 || (this.lines & bit) === 0) this.irr &= ~bit;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.lowest = ir;
    } else {
      this.isr |= bit;
    }
  }

  /** ICW1: starts the initialisation sequence (datasheet: "Initialization Command Words"). */
  writeIcw1(v: number): void {
    this.needIcw4 = (v & 0x01) !== 0;
    this.single = (v & 0x02) !== 0;
    this.ltim = (v & 0x08) !== 0;
    this.initStep = INIT_ICW2;
    // Edge sense reset: an input must go low-to-high again to request; IMR cleared, IR7 lowest
    // priority, special mask mode off, status read set to IRR, ICW4 functions zero when IC4 = 0.
    this.irr = this.lines & this.levelMask();
    this.isr = 0;
    this.imr = 0;
    this.lowest = 7;
    this.specialMask = false;
    this.readIsr = false;
    this.poll = false;
    this.autoEoi = false;
    this.rotateOnAutoEoi = false;
  }

  writeData(v: number): void {
    switch (this.initStep) {
      case INIT_ICW2:
        this.vectorBase = v & 0xf8;
        this.initStep = this.single ? (this.needIcw4 ? INIT_ICW4 : INIT_NONE) : INIT_ICW3;
        return;
      case INIT_ICW3:
        this.icw3 = v;
        this.initStep = this.needIcw4 ? INIT_ICW4 : INIT_NONE;
        return;
      case INIT_ICW4:
        // Bit 0 uPM (8086), bit 1 AEOI, bits 2-3 buffered mode, bit 4 SFNM: only AEOI matters here.
        this.autoEoi = (v & 0x02) !== 0;
        this.initStep = INIT_NONE;
        return;
      default:
        this.imr = v; // OCW1
    }
  }

  /** Command-port write that is not ICW1: OCW2 (bit 3 = 0) or OCW3 (bit 3 = 1). */
  writeOcw(v: number): void {
    if ((v & 0x08) !== 0) {
      // OCW3: bits 6-5 ESMM/SMM, bit 2 poll, bits 1-0 RR/RIS.
      if ((v & 0x40) !== 0) this.specialMask = (v & 0x20) !== 0;
      this.poll = (v & 0x04) !== 0;
      if ((v & 0x02) !== 0) this.readIsr = (v & 0x01) !== 0;
      return;
    }
    const level = v & 7;
    switch (v >> 5) {
      case 0: // clear rotate in automatic EOI mode
        this.rotateOnAutoEoi = false;
        return;
      case 4: // set rotate in automatic EOI mode
        this.rotateOnAutoEoi = true;
        return;
      case 1: // non-specific EOI: the highest-priority in-service IR
      case 5: {
        // rotate on non-specific EOI: that IR also becomes the lowest priority
        const ir = this.highest(this.isr);
        if (ir < 0) return;
        this.isr &= ~(1 << ir);
        if (v >> 5 === 5) this.lowest = ir;
        return;
      }
      case 3: // specific EOI
        this.isr &= ~(1 << level);
        return;
      case 7: // rotate on specific EOI
        this.isr &= ~(1 << level);
        this.lowest = level;
        return;
      case 6: // set priority command
        this.lowest = level;
        return;
      default: // 2: no operation
    }
  }
}

const PORT_MASTER = 0x20;
const PORT_SLAVE = 0xa0;
const PORT_ELCR = 0x4d0;
/** The master IR input the slave's INT output drives on a PC. */
const CASCADE_IR = 2;

/**
 * The PC's master/slave pair. Register it on the port bus at 0x20 (2 ports), 0xA0 (2 ports) and
 * 0x4D0 (2 ports). The run loop calls `hasInterrupt()` at instruction or block boundaries when IF
 * allows, then `acknowledge()` for the vector (the two INTA cycles in one call).
 */
export class PicPair implements PortDevice {
  /** IRQ 0, 1, 2 and 8, 13 are edge-only on a PC (their ELCR bits are reserved). */
  private readonly master = new Pic8259(0xf8);
  private readonly slave = new Pic8259(0xde);
  private readonly irqLines: IrqLine[] = [];
  /** The slave's INT output as last seen on the master's IR2. */
  private slaveOut = false;
  /** The master's INT output, recomputed after every change: the CPU asks every instruction. */
  private intr = false;

  constructor() {
    for (let n = 0; n < 16; n++) {
      this.irqLines.push({ raise: () => this.setIrq(n, true), lower: () => this.setIrq(n, false) });
    }
  }

  /** The line a device drives for IRQ `n` (0..15). */
  irq(n: number): IrqLine {
    return this.irqLines[n];
  }

  setIrq(n: number, level: boolean): void {
    if (n < 8) {
      this.master.setLine(n, level);
    } else {
      this.slave.setLine(n - 8, level);
      this.syncCascade();
    }
    this.update();
  }

  private update(): void {
    this.intr = this.master.pending(this.master.irr) >= 0;
  }

  /**
   * Carries the slave's INT output to the master's IR2, an edge-triggered input: a rising output
   * latches IRR2 on the master. Called after anything that can change the slave's output.
   */
  private syncCascade(): void {
    const out = this.slave.pending(this.slave.irr) >= 0;
    if (out !== this.slaveOut) {
      this.slaveOut = out;
      this.master.setLine(CASCADE_IR, out);
    }
  }

  /** True while the master drives INT: some unmasked request beats everything in service. */
  hasInterrupt(): boolean {
    return this.intr;
  }

  /**
   * The INTA sequence: returns the vector and updates IRR/ISR. When the request went away
   * between INT and INTA the chip answers IR7 without setting its ISR bit (the datasheet's
   * "default IR7"). A slave request that vanished after the master latched IR2 gives the slave's
   * IR7 (vector base + 7, "spurious IRQ 15") with the master's IR2 left in service, as on hardware.
   */
  acknowledge(): number {
    const vector = this.inta();
    this.update();
    return vector;
  }

  private inta(): number {
    const m = this.master;
    const ir = m.pending(m.irr);
    if (ir < 0) return m.vectorBase | 7;
    if (ir !== CASCADE_IR || m.single) {
      m.acknowledgeIr(ir);
      return m.vectorBase | ir;
    }
    const s = this.slave;
    const sir = s.pending(s.irr);
    m.acknowledgeIr(CASCADE_IR);
    if (sir >= 0) s.acknowledgeIr(sir);
    // The slave's INT is sampled again after INTA: still high (auto-EOI, another request) is a
    // new request on IR2.
    this.slaveOut = false;
    this.master.setLine(CASCADE_IR, false);
    this.syncCascade();
    return sir < 0 ? s.vectorBase | 7 : s.vectorBase | sir;
  }

  portRead(port: number, _size: number): number {
    if ((port & ~1) === PORT_ELCR) return port === PORT_ELCR ? this.master.elcr : this.slave.elcr;
    const chip = (port & ~1) === PORT_SLAVE ? this.slave : this.master;
    if ((port & 1) === 1) return chip.imr;
    if (chip.poll) return this.pollRead(chip);
    return chip.readIsr ? chip.isr : chip.irr;
  }

  /** OCW3 poll: the read acts as an acknowledge on this chip and returns 0x80 | IR, or 0. */
  private pollRead(chip: Pic8259): number {
    chip.poll = false;
    const ir = chip.pending(chip.irr);
    if (ir >= 0) chip.acknowledgeIr(ir);
    if (chip === this.slave) this.syncCascade();
    this.update();
    return ir < 0 ? 0 : 0x80 | ir;
  }

  portWrite(port: number, _size: number, value: number): void {
    const v = value & 0xff;
    if ((port & ~1) === PORT_ELCR) {
      const chip = port === PORT_ELCR ? this.master : this.slave;
      chip.elcr = v & chip.elcrMask;
      this.syncCascade();
      this.update();
      return;
    }
    const chip = (port & ~1) === PORT_SLAVE ? this.slave : this.master;
    if ((port & 1) === 1) chip.writeData(v);
    else if ((v & 0x10) !== 0) chip.writeIcw1(v);
    else chip.writeOcw(v);
    if (chip === this.slave) this.syncCascade();
    this.update();
  }
}

export const PIC_MASTER_PORT = PORT_MASTER;
export const PIC_SLAVE_PORT = PORT_SLAVE;
export const PIC_ELCR_PORT = PORT_ELCR;
