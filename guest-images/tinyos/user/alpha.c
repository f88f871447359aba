/* alpha: prints its identity, then computes between lines long enough to be preempted. Its code
 * sits at 0x40000000 like beta's, but it is different code (see the physical addresses). The
 * argument is the number of lines. Uses INT 0x80 for getpid to show the second system call door. */
#include "ulib.h"

static volatile uint32_t sink;

int main(const char *arg) {
  int n = (int)parse_num(arg, 0), pid = (int)int80(SYS_GETPID, 0, 0, 0);
  if (!strcmp(arg, "page")) {
    /* smc's question: which physical page holds this program's first page? As exit status. */
    uintptr_t pa = virt2phys((void *)0x40000000);
    printf("[alpha] pid %d: page 0x40000000 is physical %p\n", pid, (void *)pa);
    return (int)(pa >> 12);
  }
  if (n <= 0) n = 3;
  printf("[alpha] pid %d: main at %p, physical %p\n", pid, (void *)main, (void *)virt2phys((void *)main));
  for (int i = 1; i <= n; i++) {
    uint32_t x = 1; /* 32-bit arithmetic: the same cost on tinyos and tinyos32 */
    for (int k = 0; k < 150000; k++) x = x * 1664525u + 1013904223u;
    sink = x;
    printf("[alpha] pid %d: line %d of %d\n", pid, i, n);
  }
  return 0;
}
