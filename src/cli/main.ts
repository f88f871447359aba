/**
 * The `ringvm` command line (commander). Each subcommand lives in its own file and registers
 * itself here. Any error that escapes a command is reported in one line with status 1 (an
 * internal error: a bug in ringvm, never something a guest can cause).
 */
import { Command, CommanderError } from 'commander';
import { registerDemo } from './demo.js';
import { registerTranslate } from './translate.js';
import { registerDisasm } from './disasm.js';
import { registerRun } from './run.js';
import { UsageError } from './errors.js';

const program = new Command();
program
  .name('ringvm')
  .description('A full-system x86 virtual machine monitor: simulated kernel, translated user code')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

registerRun(program);
registerDisasm(program);
registerDemo(program);
registerTranslate(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof UsageError) {
    process.stderr.write(`ringvm: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    const err = e as Error;
    process.stderr.write(`ringvm: internal error: ${err.message}\n`);
    if (process.env.RINGVM_DEBUG) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  }
}
// Leave promptly even if a stdin handle or timer is still open, but only once stdout and stderr
// have flushed: a pipe whose reader is slow queues writes, and process.exit would drop the tail
// (a --trace run lost its last lines and the --stats line after them).
let flushed = 0;
const leave = (): void => {
  if (++flushed === 2) process.exit(process.exitCode ?? 0);
};
setImmediate(() => {
  process.stdout.write('', leave);
  process.stderr.write('', leave);
});
