/* sysbench: the system-call-heavy workload of the benchmark suite (issue 8, workload 2). N
 * iterations (the argument, default 1), each making two of the cheapest system calls: getpid
 * through the fast door (SYSCALL on tinyos, SYSENTER on tinyos32) and through INT 0x80, so a VMM
 * pays for the privilege switch and the return (SYSRET/SYSEXIT and IRET) and little else. The
 * checksum folds in every result and the loop counter: it depends only on N and the pid, which is
 * fixed for a given command line, not on when the timer fires. */
#include "ulib.h"

int main(const char *arg) {
  int64_t iters = (int64_t)parse_num(arg, 0);
  if (iters < 0) iters = 1;
  uint32_t sum = 0x811C9DC5u;
  for (int64_t i = 0; i < iters; i++) {
    uint32_t a = (uint32_t)sys3(SYS_GETPID, 0, 0, 0);
    uint32_t b = (uint32_t)int80(SYS_GETPID, 0, 0, 0);
    sum = (sum ^ (a + (uint32_t)i)) * 16777619u;
    sum = (sum ^ (b << 8)) * 16777619u;
  }
  printf("sysbench: %ld iterations, checksum 0x%08x\n", iters, sum);
  return 0;
}
