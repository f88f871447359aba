/**
 * Regenerates test/system-kernels/expected/<kernel>.txt from QEMU: boot each kernel (or those
 * named on the command line) on QEMU, patch the documented SDM departures (kernels.ts) and write
 * the result. Run through update-expected.sh after changing a kernel; review the diff.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXPECTED_DIR, KERNELS, patchDepartures, runQemu } from './kernels.js';

const names = process.argv.length > 2 ? process.argv.slice(2) : KERNELS;
for (const k of names) {
  const q = await runQemu(k);
  const out = patchDepartures(k, q.text);
  writeFileSync(join(EXPECTED_DIR, `${k}.txt`), out);
  console.log(`${k}: ${out.split('\n').length - 1} lines`);
}
