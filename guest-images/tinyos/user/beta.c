/* beta: the other program at 0x40000000: same shape as alpha, different code (it counts down
 * and mixes differently), so that the two are told apart by what they print. */
#include "ulib.h"

static volatile uint32_t sink;

int main(const char *arg) {
  int n = (int)parse_num(arg, 0), pid = getpid();
  if (!strcmp(arg, "page")) {
    /* smc's question: which physical page holds this program's first page? As exit status. */
    uintptr_t pa = virt2phys((void *)0x40000000);
    printf("[beta] pid %d: page 0x40000000 is physical %p\n", pid, (void *)pa);
    return (int)(pa >> 12);
  }
  if (n <= 0) n = 3;
  printf("[beta] pid %d: main at %p, physical %p\n", pid, (void *)main, (void *)virt2phys((void *)main));
  for (int i = n; i >= 1; i--) {
    uint32_t x = 7;
    for (int k = 0; k < 100000; k++) x ^= (x << 13) ^ (x >> 7) ^ (uint32_t)k;
    sink = x;
    sleep_ms(10);
    printf("[beta] pid %d: %d lines to go\n", pid, i - 1);
  }
  return 0;
}
