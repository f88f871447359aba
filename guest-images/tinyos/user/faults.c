/* faults: user code that does what user code must not. Without an argument it starts itself
 * once per case (spawn "faults" with the case's name) and reports how each child ended; the
 * kernel prints the vector, error code and CR2 of each exception and kills the child with status
 * 128 + vector. Expected (Intel SDM vol. 3, 6.15): div -> #DE 0; kread -> #PF 14, error 5
 * (present, read, user), CR2 = the address; rowrite -> #PF 14, error 7 (present, write, user);
 * priv (HLT) -> #GP 13, error 0; ud (UD2) -> #UD 6; unmapped -> #PF 14, error 6 (not present). */
#include "ulib.h"

static const char *const cases[] = {"div", "kread", "rowrite", "priv", "ud", "unmapped"};
#define NCASES (int)(sizeof cases / sizeof cases[0])

static volatile int zero = 0;
static const int ro_value = 42; /* .rodata: on a read-only page */

static int do_case(const char *c) {
  if (!strcmp(c, "div")) { /* in assembly: gcc may drop a C division whose result is unused */
    int q;
    __asm__ volatile("divl %1" : "=a"(q) : "r"(zero), "a"(1), "d"(0));
    return q;
  }
  if (!strcmp(c, "kread")) return *(volatile int *)0x100000; /* the kernel image, supervisor only */
  if (!strcmp(c, "rowrite")) return *(volatile int *)&ro_value = 1;
  if (!strcmp(c, "priv")) __asm__ volatile("hlt");
  if (!strcmp(c, "ud")) __asm__ volatile("ud2");
  if (!strcmp(c, "unmapped")) *(volatile int *)0x50000000 = 1; /* user half, nothing mapped */
  return -1;
}

int main(const char *arg) {
  if (*arg) {
    printf("faults: child %d tries '%s'\n", getpid(), arg);
    do_case(arg);
    printf("faults: '%s' did not fault!\n", arg);
    return 1;
  }
  printf("faults: read-only value at %p\n", (void *)&ro_value);
  for (int i = 0; i < NCASES; i++) {
    int pid = spawn("faults", cases[i]), status = -1;
    wait(pid, &status);
    printf("faults: '%s' ended with status %d (vector %d)\n", cases[i], status, status - STATUS_KILLED);
  }
  return 0;
}
