/**
 * A 16550A UART (National Semiconductor datasheet register set), as wired at COM1 on a PC:
 * eight registers at base..base+7, IRQ 4.
 *
 *   +0  RBR (read) / THR (write), or DLL when LCR.DLAB = 1
 *   +1  IER, or DLM when LCR.DLAB = 1
 *   +2  IIR (read) / FCR (write)
 *   +3  LCR    +4 MCR    +5 LSR    +6 MSR    +7 SCR
 *
 * Transmission is instantaneous: a byte written to THR goes straight to the host sink, so THRE and
 * TEMT always read 1 outside loopback. Received bytes come from a host-side queue that the console
 * fills; the UART moves them into its receive FIFO (16 bytes with FCR.0, else one holding
 * register) only as room frees, which models a host with flow control: piped input is never
 * lost to an overrun. The interrupt output follows the datasheet's priorities (line status >
 * received data / character timeout > THR empty > modem status) and, as on a PC, reaches the
 * interrupt controller only while MCR.OUT2 is set (QEMU ignores OUT2; see docs/devices.md).
 */
import type { IrqLine, PortDevice } from './device.js';

const IER_RDA = 0x01;
const IER_THRE = 0x02;
const IER_RLS = 0x04;
const IER_MS = 0x08;

const IIR_NONE = 0x01;
const IIR_MS = 0x00;
const IIR_THRE = 0x02;
const IIR_RDA = 0x04;
const IIR_RLS = 0x06;
const IIR_FIFO_ENABLED = 0xc0;

const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_BI = 0x10;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;

const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;

const LCR_DLAB = 0x80;
const FIFO_SIZE = 16;

export class Uart16550 implements PortDevice {
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private lsrErrors = 0; // OE/PE/FE/BI, cleared by reading LSR
  private msrDelta = 0; // MSR bits 0..3
  private scr = 0;
  private dll = 0x0c; // 9600 baud after reset, as a PC BIOS leaves it
  private dlm = 0;
  private fifoEnabled = false;
  private threPending = false;
  private readonly rxFifo: number[] = [];
  /** Bytes from the host not yet accepted into the receive FIFO. */
  private readonly hostInput: number[] = [];
  private irqLevel = false;
  /** Statistics for --stats. */
  bytesOut = 0;
  bytesIn = 0;

  constructor(
    readonly base: number,
    private readonly irq: IrqLine | null,
    /** Where transmitted bytes go (stdout, a file, or nowhere). */
    private readonly sink: (byte: number) => void,
  ) {}

  /** The console hands over bytes typed or piped by the user. */
  receive(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.hostInput.push(bytes[i] & 0xff);
    this.refill();
    this.updateIrq();
  }

  /** True while received bytes wait for the guest to read them. */
  hasPendingInput(): boolean {
    return this.rxFifo.length > 0 || this.hostInput.length > 0;
  }

  portRead(port: number, _size: number): number {
    switch (port - this.base) {
      case 0: {
        if (this.lcr & LCR_DLAB) return this.dll;
        const b = this.rxFifo.length > 0 ? (this.rxFifo.shift() as number) : 0;
        this.refill();
        this.updateIrq();
        return b;
      }
      case 1:
        return this.lcr & LCR_DLAB ? this.dlm : this.ier;
      case 2: {
        const id = this.interruptId();
        // Reading IIR while it reports THR empty acknowledges that interrupt (datasheet table 4).
        if (id === IIR_THRE) {
          this.threPending = false;
          this.updateIrq();
        }
        return id | (this.fifoEnabled ? IIR_FIFO_ENABLED : 0);
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5: {
        const lsr = this.lsr();
        this.lsrErrors = 0;
        this.updateIrq();
        return lsr;
      }
      case 6: {
        const msr = this.msr();
        this.msrDelta = 0;
        this.updateIrq();
        return msr;
      }
      default:
        return this.scr;
    }
  }

  portWrite(port: number, _size: number, value: number): void {
    value &= 0xff;
    switch (port - this.base) {
      case 0:
        if (this.lcr & LCR_DLAB) {
          this.dll = value;
          return;
        }
        this.transmit(value);
        return;
      case 1:
        if (this.lcr & LCR_DLAB) {
          this.dlm = value;
          return;
        }
        // Enabling the THRE interrupt while THR is empty raises it at once (datasheet note).
        if ((value & IER_THRE) !== 0 && (this.ier & IER_THRE) === 0) this.threPending = true;
        this.ier = value & 0x0f;
        this.updateIrq();
        return;
      case 2:
        this.writeFcr(value);
        return;
      case 3:
        this.lcr = value;
        return;
      case 4: {
        const before = this.msr();
        this.mcr = value & 0x1f;
        if (this.mcr & MCR_LOOP) this.noteModemChange(before, this.msr());
        this.updateIrq();
        return;
      }
      case 5:
      case 6:
        return; // LSR and MSR are read-only (factory test writes are ignored)
      default:
        this.scr = value;
    }
  }

  private transmit(value: number): void {
    if (this.mcr & MCR_LOOP) {
      this.pushRx(value); // loopback: the byte comes back on the receive side
    } else {
      this.bytesOut++;
      this.sink(value);
    }
    this.threPending = true; // the transmitter is instantly empty again
    this.updateIrq();
  }

  private writeFcr(value: number): void {
    const enable = (value & 0x01) !== 0;
    if (enable !== this.fifoEnabled) this.rxFifo.length = 0; // switching modes clears the FIFOs
    this.fifoEnabled = enable;
    if (value & 0x02) this.rxFifo.length = 0;
    this.refill();
    this.updateIrq();
  }

  private capacity(): number {
    return this.fifoEnabled ? FIFO_SIZE : 1;
  }

  private pushRx(b: number): void {
    if (this.rxFifo.length >= this.capacity()) {
      this.lsrErrors |= LSR_OE;
      return;
    }
    this.rxFifo.push(b);
    this.bytesIn++;
  }

  private refill(): void {
    if (this.mcr & MCR_LOOP) return;
    while (this.hostInput.length > 0 && this.rxFifo.length < this.capacity()) {
      this.rxFifo.push(this.hostInput.shift() as number);
      this.bytesIn++;
    }
  }

  private lsr(): number {
    return (this.rxFifo.length > 0 ? LSR_DR : 0) | this.lsrErrors | LSR_THRE | LSR_TEMT;
  }

  private msr(): number {
    if (this.mcr & MCR_LOOP) {
      // Loopback wires RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
      const m = this.mcr;
      return (
        this.msrDelta |
        ((m & MCR_RTS) ? 0x10 : 0) |
        ((m & MCR_DTR) ? 0x20 : 0) |
        ((m & MCR_OUT1) ? 0x40 : 0) |
        ((m & MCR_OUT2) ? 0x80 : 0)
      );
    }
    // A console is always there: CTS, DSR and DCD asserted.
    return this.msrDelta | 0xb0;
  }

  private noteModemChange(before: number, after: number): void {
    const changed = (before ^ after) & 0xf0;
    if (changed & 0x10) this.msrDelta |= 0x01;
    if (changed & 0x20) this.msrDelta |= 0x02;
    if (before & 0x40 && !(after & 0x40)) this.msrDelta |= 0x04; // RI trailing edge
    if (changed & 0x80) this.msrDelta |= 0x08;
  }

  /** The highest-priority pending interrupt's IIR code, or IIR_NONE. */
  private interruptId(): number {
    if (this.ier & IER_RLS && this.lsrErrors & (LSR_OE | LSR_BI | 0x0c)) return IIR_RLS;
    if (this.ier & IER_RDA && this.rxFifo.length > 0) return IIR_RDA;
    if (this.ier & IER_THRE && this.threPending) return IIR_THRE;
    if (this.ier & IER_MS && this.msrDelta !== 0) return IIR_MS;
    return IIR_NONE;
  }

  private updateIrq(): void {
    const level = this.interruptId() !== IIR_NONE && (this.mcr & MCR_OUT2) !== 0;
    if (level === this.irqLevel || this.irq === null) {
      this.irqLevel = level;
      return;
    }
    this.irqLevel = level;
    if (level) this.irq.raise();
    else this.irq.lower();
  }
}
