/* ctxbench: the context-switch-heavy workload of the benchmark suite (issue 8, workload 3).
 * `ctxbench N` spawns four copies of itself (each its own process with its own address space,
 * all at the same virtual addresses) that run N rounds each: touch one word on each of 16 pages of
 * their own memory, then yield to the next process. Every switch writes CR3, so a VMM must refill
 * its TLB and find the right translations for code that sits at the same virtual address in four
 * address spaces. Timer-independent checksum: each child sums only its own work and returns it as
 * its exit status; the parent waits for the children in spawn order and combines them in that order. */
#include "ulib.h"

#define CHILDREN 4
#define PAGES 16
#define WORDS (4096 / 4)

static uint32_t mem[PAGES * WORDS]; /* bss: private to each process */

static uint32_t child(uint32_t id, int64_t rounds) {
  uint32_t sum = id * 0x9E3779B9u;
  for (int64_t r = 0; r < rounds; r++) {
    uint32_t off = (uint32_t)r & (WORDS - 1);
    for (uint32_t p = 0; p < PAGES; p++) {
      uint32_t *w = &mem[p * WORDS + off];
      *w += (uint32_t)r ^ (id << 4 | p);
      sum = sum * 31u + *w;
    }
    yield();
  }
  return sum & 0x7FFFFFFFu; /* the exit status: a non-negative int */
}

int main(const char *arg) {
  if (arg[0] == 'c') { /* "c ID N": a child */
    const char *s = arg + 1;
    uint32_t id = (uint32_t)parse_num(s + 1, &s);
    int64_t rounds = (int64_t)parse_num(s + 1, 0);
    return (int)child(id, rounds);
  }
  int64_t iters = (int64_t)parse_num(arg, 0);
  if (iters < 0) iters = 1;
  int pids[CHILDREN];
  for (int i = 0; i < CHILDREN; i++) {
    char a[32];
    fmt(a, sizeof a, "c %d %ld", i, iters); /* %ld: an int64_t on both kernels */
    pids[i] = spawn("ctxbench", a);
    if (pids[i] < 0) {
      printf("ctxbench: spawn failed\n");
      return 1;
    }
  }
  uint32_t total = 0;
  for (int i = 0; i < CHILDREN; i++) {
    int status = -1;
    if (wait(pids[i], &status) != pids[i]) printf("ctxbench: wait failed\n");
    total = total * 0x9E3779B1u + (uint32_t)status;
  }
  printf("ctxbench: %ld iterations, checksum 0x%08x\n", iters, total);
  return 0;
}
