/* smc: self-modifying code, the hard case for a translating VMM. Three parts:
 * 1. a tiny JIT: one page rewritten 200 times with a new function f(x) = (x * k) op c and
 *    called each time; every result is checked against the same formula computed in C;
 * 2. a loop that patches an instruction inside itself: each iteration stores i into the
 *    immediate of an ADD a few bytes ahead in the same block, so the sum is 0+1+...+99 = 4950
 *    only if the patched byte is executed as written;
 * 3. one physical page, two programs: alpha runs and exits, then beta starts and gets the very
 *    same physical page for its code at 0x40000000 (the kernel's free list is a stack). */
#include "ulib.h"

static uint8_t jit[4096] __attribute__((aligned(4096))); /* bss: writable, and executable (no NX) */

static uint8_t *emit32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) *p++ = (uint8_t)(v >> (8 * i));
  return p;
}

static void part_jit(void) {
  uint32_t seed = 12345, sum = 0;
  int bad = 0;
  for (int round = 0; round < 200; round++) {
    seed = seed * 1103515245u + 12345u;
    uint32_t k = seed >> 8 & 0xFFFF, c = seed * 7u, op = round % 3;
    /* Put the function at a different offset each time, so old code stays around too. */
    uint8_t *p = jit + (round % 16) * 64, *f = p;
#ifdef __x86_64__
    *p++ = 0x69, *p++ = 0xC7, p = emit32(p, k);   /* imul eax, edi, k  (x is in EDI) */
#else
    *p++ = 0x8B, *p++ = 0x44, *p++ = 0x24, *p++ = 0x04; /* mov eax, [esp + 4]  (x) */
    *p++ = 0x69, *p++ = 0xC0, p = emit32(p, k);   /* imul eax, eax, k */
#endif
    static const uint8_t opcodes[3] = {0x05, 0x2D, 0x35}; /* add / sub / xor eax, imm32 */
    *p++ = opcodes[op], p = emit32(p, c);
    *p++ = 0xC3;                                  /* ret */
    uint32_t x = (uint32_t)round * 977u, got = ((uint32_t(*)(uint32_t))(void *)f)(x);
    uint32_t want = x * k;
    want = op == 0 ? want + c : op == 1 ? want - c : want ^ c;
    if (got != want) bad++;
    sum = sum * 31u + got;
  }
  printf("smc: jit: 200 functions generated and run, %d wrong, checksum 0x%08x\n", bad, sum);
}

static void part_patch(void) {
  static const uint8_t code[] = {
      0x31, 0xC0,                         /* xor eax, eax */
      0x31, 0xD2,                         /* xor edx, edx */
      0x88, 0x15, 0x02, 0x00, 0x00, 0x00, /* loop: mov [rip + 2], dl  (the ADD's immediate);
                                             in 32-bit mode the 4 bytes are an absolute address */
      0x83, 0xC0, 0x00,                   /* add eax, 0  <- patched every iteration */
      0xFF, 0xC2,                         /* inc edx */
      0x83, 0xFA, 0x64,                   /* cmp edx, 100 */
      0x75, 0xF0,                         /* jne loop */
      0xC3};                              /* ret */
  uint8_t *f = jit + 2048;
  memcpy(f, code, sizeof code);
#ifndef __x86_64__
  uint32_t imm = (uint32_t)(uintptr_t)(f + 12); /* the ADD's immediate byte */
  emit32(f + 6, imm);
#endif
  uint32_t got = ((uint32_t(*)(void))(void *)f)();
  printf("smc: patch: a loop rewriting its own ADD immediate summed %u (expected 4950)\n", got);
}

static void part_page_reuse(void) {
  int sa = -1, sb = -1;
  wait(spawn("alpha", "page"), &sa);
  wait(spawn("beta", "page"), &sb);
  printf("smc: page reuse: alpha ran from frame 0x%x, then beta from frame 0x%x: %s\n", sa, sb,
         sa == sb ? "same physical page" : "different pages");
}

int main(const char *arg) {
  (void)arg;
  part_jit();
  part_patch();
  part_page_reuse();
  return 0;
}
