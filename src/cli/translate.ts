/**
 * `ringvm translate --hex "09 ca" [--bitness N]`: the lecture notes' exercise ("translate
 * `or r4, r2, r1`") done by the tool — for a piece of user-mode code, the guest instructions, the
 * IR micro-ops and the WebAssembly the translator makes of them.
 */
import type { Command } from 'commander';
import { parseHex, translateText } from '../dbt/show.js';
import { UsageError } from './errors.js';

export function registerTranslate(program: Command): void {
  program
    .command('translate')
    .description('show how the translator turns x86 code into IR micro-ops and WebAssembly')
    .requiredOption('--hex <bytes>', 'the code as hex bytes, e.g. "09 ca c3"')
    .option('--bitness <n>', 'code size: 16, 32 or 64', '64')
    .option('--ip <addr>', 'address of the first byte (hex with 0x, or decimal)', '0')
    .action((o: { hex: string; bitness: string; ip: string }) => {
      const bitness = Number(o.bitness);
      if (bitness !== 16 && bitness !== 32 && bitness !== 64) throw new UsageError(`--bitness: expected 16, 32 or 64, got '${o.bitness}'`);
      let bytes: Uint8Array;
      try {
        bytes = parseHex(o.hex);
      } catch (e) {
        throw new UsageError(`--hex: ${(e as Error).message}`);
      }
      if (bytes.length === 0) throw new UsageError('--hex: no bytes given');
      const ip = Number(o.ip);
      if (!Number.isSafeInteger(ip) || ip < 0) throw new UsageError(`--ip: expected an address, got '${o.ip}'`);
      process.stdout.write(translateText(bytes, bitness, ip) + '\n');
    });
}
