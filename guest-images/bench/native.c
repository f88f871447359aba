/* native.c: the workload as a Linux program, the host CPU's figure (the physical limit) for the
 * benchmark suite. Same source, same flags as the guest kernels; prints the kernels' line:
 *   checksum=0x%08x iterations=N
 * Usage: bench-native iters=N (the bench kernels' command-line word; a bare N works too). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "workload.h"

int main(int argc, char **argv) {
  u32 n = 1;
  if (argc > 1) n = (u32)strtoul(strncmp(argv[1], "iters=", 6) == 0 ? argv[1] + 6 : argv[1], 0, 10);
  printf("checksum=0x%08x iterations=%u\n", workload(n), n);
  return 0;
}
