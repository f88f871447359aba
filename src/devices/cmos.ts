/**
 * The PC's CMOS RAM and real-time clock (Motorola MC146818A register set) at ports 0x70 (index,
 * bit 7 = NMI disable) and 0x71 (data): 128 bytes, of which 0x00-0x0D are the clock.
 *
 *   0x00 seconds  0x01 alarm s  0x02 minutes  0x03 alarm m  0x04 hours  0x05 alarm h
 *   0x06 day of week (1 = Sunday)  0x07 day of month  0x08 month  0x09 year (two digits)
 *   0x0A A: UIP, divider, rate    0x0B B: SET PIE AIE UIE SQWE DM 24/12 DSE
 *   0x0C C: IRQF PF AF UF (read clears)  0x0D D: VRT
 *   0x32 century (BCD or binary like the time), and as a PC BIOS leaves them: the memory-size
 *   bytes (0x15-0x18, 0x30-0x31, 0x34-0x35) and the checksum of 0x10-0x2D at 0x2E-0x2F.
 *
 * The time of day is not ticked: it is the start time given to the constructor plus the guest
 * seconds elapsed on the instruction clock (`clock.ips` instructions per second), rendered into
 * the registers in BCD or binary and 24- or 12-hour form on each read. The machine passes the
 * host's time at boot for --realtime and a fixed epoch otherwise, so deterministic runs read the
 * same dates. A guest that sets the clock (SET bit, or a direct write) moves that base. UIP is
 * high during the last 244 us of each second; the periodic, alarm and update-ended interrupts go
 * to IRQ 8 through clock deadlines when enabled, and are computed on a read of register C when not.
 */
import type { Clock, IrqLine, PortDevice, TimerOwner } from './device.js';
import { TickRate } from './pit8254.js';

export const CMOS_PORT_INDEX = 0x70;
export const CMOS_PORT_DATA = 0x71;

const REG_SECONDS = 0x00;
const REG_ALARM_SECONDS = 0x01;
const REG_MINUTES = 0x02;
const REG_ALARM_MINUTES = 0x03;
const REG_HOURS = 0x04;
const REG_ALARM_HOURS = 0x05;
const REG_WEEKDAY = 0x06;
const REG_DAY = 0x07;
const REG_MONTH = 0x08;
const REG_YEAR = 0x09;
const REG_A = 0x0a;
const REG_B = 0x0b;
const REG_C = 0x0c;
const REG_D = 0x0d;
const REG_CENTURY = 0x32;

const A_UIP = 0x80;
const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_BINARY = 0x04;
const B_24H = 0x02;
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;

/** The update cycle takes 244 us after UIP rises (datasheet t_BUC). */
const UIP_US = 244;

const TIME_REGS = [REG_SECONDS, REG_MINUTES, REG_HOURS, REG_WEEKDAY, REG_DAY, REG_MONTH, REG_YEAR, REG_CENTURY];

export interface CmosOptions {
  /** Guest RAM in bytes, for the memory-size bytes. */
  ramSize: number;
  /** Wall-clock time at instruction 0, in seconds since 1970-01-01 00:00:00 UTC. */
  startTime: number;
  /** IRQ 8, for the periodic / alarm / update-ended interrupts. */
  irq?: IrqLine;
}

const toBcd = (v: number): number => ((Math.floor(v / 10) % 10) << 4) | (v % 10);
const fromBcd = (v: number): number => (v >> 4) * 10 + (v & 0xf);

export class Cmos implements PortDevice, TimerOwner {
  readonly ram = new Uint8Array(128);
  index = 0;
  /** Port 0x70 bit 7: the machine should hold NMIs off while it is set. */
  nmiMasked = false;
  /** Unix time at instruction 0, moved when the guest sets the clock. */
  private base: number;
  private readonly seconds: TickRate;
  private readonly micros: TickRate;
  private readonly osc: TickRate;
  private readonly irq: IrqLine | null;
  /** The second count up to which register C's update-ended flag has been accounted. */
  private flaggedSecond = 0;
  /** Next periodic-interrupt tick (32.768 kHz units) and next update (seconds) the timer waits for. */
  private nextPeriodic = -1;
  private nextUpdate = -1;

  constructor(
    private readonly clock: Clock,
    opts: CmosOptions,
  ) {
    this.base = Math.floor(opts.startTime);
    this.seconds = new TickRate(clock, 1);
    this.micros = new TickRate(clock, 1_000_000);
    this.osc = new TickRate(clock, 32768);
    this.irq = opts.irq ?? null;
    const r = this.ram;
    r[REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    r[REG_B] = B_24H; // 24-hour, BCD
    r[REG_D] = 0x80; // valid RAM and time
    r[0x14] = 0x02; // equipment: math coprocessor, VGA, no floppy
    this.setMemorySize(opts.ramSize);
    this.flaggedSecond = this.seconds.now();
    this.render(this.now());
  }

  /** The PC BIOS memory bytes: base 640 KiB, KiB above 1 MiB (to 64 MiB), 64 KiB blocks above 16 MiB. */
  private setMemorySize(ramSize: number): void {
    const r = this.ram;
    const put16 = (reg: number, v: number): void => {
      r[reg] = v & 0xff;
      r[reg + 1] = (v >> 8) & 0xff;
    };
    put16(0x15, 640);
    const extKb = Math.min(0xffff, Math.max(0, Math.floor(ramSize / 1024) - 1024));
    put16(0x17, extKb);
    put16(0x30, extKb);
    const above16 = ramSize > 16 * 1024 * 1024 ? Math.floor((ramSize - 16 * 1024 * 1024) / 65536) : 0;
    put16(0x34, Math.min(0xffff, above16));
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += r[i];
    r[0x2e] = (sum >> 8) & 0xff;
    r[0x2f] = sum & 0xff;
  }

  /** Current Unix time in whole seconds. */
  now(): number {
    return this.base + this.seconds.now();
  }

  // ---- register encoding ----------------------------------------------------------------

  private enc(v: number): number {
    return (this.ram[REG_B] & B_BINARY) !== 0 ? v : toBcd(v);
  }

  private dec(v: number): number {
    return (this.ram[REG_B] & B_BINARY) !== 0 ? v : fromBcd(v);
  }

  private encHour(h: number): number {
    if ((this.ram[REG_B] & B_24H) !== 0) return this.enc(h);
    // 12-hour: 12 AM, 1..11 AM, 12 PM, 1..11 PM; bit 7 = PM
    const h12 = h % 12 === 0 ? 12 : h % 12;
    return this.enc(h12) | (h >= 12 ? 0x80 : 0);
  }

  private decHour(v: number): number {
    if ((this.ram[REG_B] & B_24H) !== 0) return this.dec(v);
    return (this.dec(v & 0x7f) % 12) + ((v & 0x80) !== 0 ? 12 : 0);
  }

  /** Writes Unix time `t` into the time and date registers in the current format. */
  private render(t: number): void {
    const d = new Date(t * 1000);
    const r = this.ram;
    r[REG_SECONDS] = this.enc(d.getUTCSeconds());
    r[REG_MINUTES] = this.enc(d.getUTCMinutes());
    r[REG_HOURS] = this.encHour(d.getUTCHours());
    r[REG_WEEKDAY] = this.enc(d.getUTCDay() + 1);
    r[REG_DAY] = this.enc(d.getUTCDate());
    r[REG_MONTH] = this.enc(d.getUTCMonth() + 1);
    r[REG_YEAR] = this.enc(d.getUTCFullYear() % 100);
    r[REG_CENTURY] = this.enc(Math.floor(d.getUTCFullYear() / 100)); // follows DM, as Linux and QEMU expect
  }

  /** Reads the registers back as Unix time (after the guest set them). */
  private parse(): number {
    const r = this.ram;
    const year = this.dec(r[REG_CENTURY]) * 100 + this.dec(r[REG_YEAR]);
    const ms = Date.UTC(
      year,
      this.dec(r[REG_MONTH]) - 1,
      this.dec(r[REG_DAY]),
      this.decHour(r[REG_HOURS]),
      this.dec(r[REG_MINUTES]),
      this.dec(r[REG_SECONDS]),
    );
    return Number.isFinite(ms) ? Math.floor(ms / 1000) : this.now();
  }

  private setting(): boolean {
    return (this.ram[REG_B] & B_SET) !== 0;
  }

  // ---- ports ----------------------------------------------------------------------------

  portRead(port: number, _size: number): number {
    if (port === CMOS_PORT_INDEX) return 0xff; // the index register is write-only
    const i = this.index;
    if (i === REG_A) {
      if (this.setting()) return this.ram[REG_A];
      const us = this.micros.now() % 1_000_000;
      return this.ram[REG_A] | (us >= 1_000_000 - UIP_US ? A_UIP : 0);
    }
    if (i === REG_C) return this.readC();
    if (i <= REG_YEAR || i === REG_CENTURY) {
      if (!this.setting()) this.render(this.now());
    }
    return this.ram[i];
  }

  portWrite(port: number, _size: number, value: number): void {
    const v = value & 0xff;
    if (port === CMOS_PORT_INDEX) {
      this.index = v & 0x7f;
      this.nmiMasked = (v & 0x80) !== 0;
      return;
    }
    const i = this.index;
    switch (i) {
      case REG_A:
        this.ram[REG_A] = v & 0x7f; // UIP is read-only
        this.rearm();
        return;
      case REG_B: {
        const wasSet = this.setting();
        if (!wasSet && (v & B_SET) !== 0) this.render(this.now()); // freeze what the guest reads
        // Setting SET also clears UIE (datasheet, register B).
        this.ram[REG_B] = (v & B_SET) !== 0 ? v & ~B_UIE : v;
        if (wasSet && (v & B_SET) === 0) this.rebase(this.parse());
        this.rearm();
        return;
      }
      case REG_C:
      case REG_D:
        return; // read-only
      default:
        if (TIME_REGS.includes(i)) {
          if (this.setting()) {
            this.ram[i] = v;
          } else {
            // A write while the clock runs takes effect at once: the other fields keep the current time.
            this.render(this.now());
            this.ram[i] = v;
            this.rebase(this.parse());
          }
          return;
        }
        this.ram[i] = v;
    }
  }

  private rebase(t: number): void {
    this.base = t - this.seconds.now();
  }

  // ---- register C and IRQ 8 --------------------------------------------------------------

  private readC(): number {
    const sec = this.seconds.now();
    if (!this.setting() && sec > this.flaggedSecond) this.ram[REG_C] |= C_UF;
    this.flaggedSecond = sec;
    const c = this.ram[REG_C];
    this.ram[REG_C] = 0;
    if ((c & C_IRQF) !== 0 && this.irq !== null) this.irq.lower();
    return c;
  }

  /** Periodic interval in 32.768 kHz ticks for rate select RS (register A bits 3-0), or 0 if off. */
  private periodTicks(): number {
    const rs = this.ram[REG_A] & 0xf;
    if (rs === 0) return 0;
    if (rs <= 2) return 64 << rs; // 0001: 256 Hz, 0010: 128 Hz (datasheet table)
    return 1 << (rs - 1); // 0011: 8192 Hz ... 1111: 2 Hz
  }

  /** Recomputes the deadlines for the enabled interrupts. */
  private rearm(): void {
    const b = this.ram[REG_B];
    const period = this.periodTicks();
    this.nextPeriodic = (b & B_PIE) !== 0 && period !== 0 ? (Math.floor(this.osc.now() / period) + 1) * period : -1;
    this.nextUpdate = (b & (B_UIE | B_AIE)) !== 0 && (b & B_SET) === 0 ? this.seconds.now() + 1 : -1;
    let at = Infinity;
    if (this.nextPeriodic >= 0) at = this.osc.instrAt(this.nextPeriodic);
    if (this.nextUpdate >= 0) at = Math.min(at, this.seconds.instrAt(this.nextUpdate));
    if (at === Infinity) this.clock.cancel(this);
    else this.clock.schedule(this, at);
  }

  private alarmMatches(): boolean {
    this.render(this.now());
    const r = this.ram;
    // An alarm byte of 0xC0-0xFF matches any value ("don't care").
    const m = (alarm: number, cur: number): boolean => (alarm & 0xc0) === 0xc0 || alarm === cur;
    return m(r[REG_ALARM_SECONDS], r[REG_SECONDS]) && m(r[REG_ALARM_MINUTES], r[REG_MINUTES]) && m(r[REG_ALARM_HOURS], r[REG_HOURS]);
  }

  onTimer(now: number): void {
    let flags = 0;
    if (this.nextPeriodic >= 0 && this.osc.ticksAt(now) >= this.nextPeriodic) flags |= C_PF;
    if (this.nextUpdate >= 0 && this.seconds.ticksAt(now) >= this.nextUpdate) {
      flags |= C_UF;
      this.flaggedSecond = this.seconds.ticksAt(now);
      if (this.alarmMatches()) flags |= C_AF;
    }
    this.ram[REG_C] |= flags;
    const enabled = this.ram[REG_B] & (B_PIE | B_AIE | B_UIE);
    // IRQF follows PF&PIE | AF&AIE | UF&UIE; IRQ 8 rises when it first becomes set.
    if ((this.ram[REG_C] & enabled & 0x70) !== 0 && (this.ram[REG_C] & C_IRQF) === 0) {
      this.ram[REG_C] |= C_IRQF;
      if (this.irq !== null) this.irq.raise();
    }
    this.rearm();
  }
}
