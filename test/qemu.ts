/**
 * The one QEMU command line the guest-image, tinyos and system-kernel tests boot a multiboot
 * image with: TCG, serial on stdio, no monitor or display, isa-debug-exit at 0xf4 (exit status
 * (value << 1) | 1), `-cpu qemu64,vendor=<v>` so CPUID leaf 0 answers as on ringvm (or as a test
 * asks), and two flags that keep SeaBIOS from writing its banner to the serial port
 * (`etc/sercon-port` = 0) and drop the iPXE option ROM (`-net none`); those two change nothing
 * the kernel sees. What differs between tests (vendor, -append, how the process is run and its
 * timeout) is left to the caller.
 */
import { VENDOR } from '../src/system/cpuid.js';

export const QEMU = 'qemu-system-x86_64';

export interface QemuBoot {
  kernel: string; // path of the multiboot image, given to -kernel
  vendor?: string; // CPUID vendor string; ringvm's by default
  append?: string; // kernel command line; no -append when empty
}

/** The arguments to QEMU for booting `kernel`. */
export function qemuArgs({ kernel, vendor = VENDOR, append = '' }: QemuBoot): string[] {
  return [
    '-accel', 'tcg', '-cpu', `qemu64,vendor=${vendor}`, '-nographic', '-monitor', 'none', '-serial', 'stdio',
    '-no-reboot', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-net', 'none',
    '-fw_cfg', 'name=etc/sercon-port,string=0',
    ...(append ? ['-append', append] : []),
    '-kernel', kernel,
  ];
}
