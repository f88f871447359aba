/**
 * A stand-alone entry for the disasm subcommand (used by disasm-cli.test.ts as a subprocess, and
 * by hand until src/cli/main.ts registers it): `npx tsx test/cpu/disasm-cli-entry.ts disasm ...`.
 */
import { Command } from 'commander';
import { registerDisasm } from '../../src/cli/disasm.js';

const program = new Command().name('ringvm').exitOverride();
registerDisasm(program);
try {
  await program.parseAsync(process.argv);
} catch {
  process.exitCode = 2;
}
