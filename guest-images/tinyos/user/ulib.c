/* ulib.c: printf for user programs: format into a buffer, then one write system call, so that a
 * line is never split by another process's output. */
#include "ulib.h"

int printf(const char *f, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, f);
  int n = vfmt(buf, sizeof buf, f, ap);
  va_end(ap);
  return (int)write(buf, n);
}
