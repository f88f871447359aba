/* procs: starts alpha and beta, two different programs that both live at 0x40000000 (every
 * program does), and waits for them. They print their lines while the timer switches between
 * them; each line is tagged with its program, so the order within one program is fixed even
 * though the interleaving of the two depends on timing. Then fork: one program, two processes,
 * one copy of memory each; and fork followed by exec in the child. */
#include "ulib.h"

int main(const char *arg) {
  (void)arg;
  int a = spawn("alpha", "8"), b = spawn("beta", "8"), status;
  printf("procs: started alpha (pid %d) and beta (pid %d)\n", a, b);
  wait(a, &status);
  wait(b, &status);
  printf("procs: both done\n");

  static volatile int shared = 100; /* each process gets its own copy at fork */
  int pid = fork();
  if (pid == 0) {
    shared += 1;
    printf("[fork-child] shared=%d\n", shared);
    exit(7);
  }
  wait(pid, &status);
  printf("procs: fork child exited with %d, parent still sees shared=%d\n", status, shared);

  /* fork + exec: the child becomes another program (alpha answers with its first page's frame). */
  if ((pid = fork()) == 0) {
    exec("alpha", "page");
    printf("procs: exec failed\n");
    exit(1);
  }
  wait(pid, &status);
  printf("procs: forked child %d ran exec(alpha) and exited with status %d\n", pid, status);
  return 0;
}
