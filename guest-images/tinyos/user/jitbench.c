/* jitbench: the code-write-heavy workload of the benchmark suite (issue 8, workload 4): a guest
 * JIT. Each of N rounds (the argument, default 1) generates a new function of 8 random operations
 * on EAX (add, sub, xor, imul, rol by an immediate, bswap) into one of 32 slots of the same page,
 * calls it on 8 inputs and checks each result against the same operations done in C. Every round
 * thus writes into a page whose code has just run, which a translating VMM must notice and
 * invalidate. The checksum folds in every result the generated code returned (QEMU is the oracle);
 * the line also says how many disagreed with C. */
#include "ulib.h"

#define OPS 8
#define SLOTS 32
#define SLOT_BYTES 64

static uint8_t code[4096] __attribute__((aligned(4096))); /* bss: writable and executable (no NX) */
static uint32_t rng = 7;
static uint32_t next(void) { return rng = rng * 1664525u + 1013904223u; }

static uint8_t *emit32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) *p++ = (uint8_t)(v >> (8 * i));
  return p;
}

static uint32_t rol(uint32_t v, uint32_t r) { return v << r | v >> (32 - r); }

int main(const char *arg) {
  int64_t iters = (int64_t)parse_num(arg, 0);
  if (iters < 0) iters = 1;
  uint32_t sum = 0, bad = 0;
  uint8_t kind[OPS];
  uint32_t imm[OPS];
  for (int64_t round = 0; round < iters; round++) {
    uint8_t *p = code + (round % SLOTS) * SLOT_BYTES, *f = p;
#ifdef __x86_64__
    *p++ = 0x89, *p++ = 0xF8; /* mov eax, edi  (x) */
#else
    *p++ = 0x8B, *p++ = 0x44, *p++ = 0x24, *p++ = 0x04; /* mov eax, [esp + 4]  (x) */
#endif
    for (int i = 0; i < OPS; i++) {
      uint32_t r = next();
      kind[i] = (uint8_t)(r >> 24) % 6;
      imm[i] = next();
      switch (kind[i]) {
      case 0: *p++ = 0x05, p = emit32(p, imm[i]); break;               /* add eax, imm32 */
      case 1: *p++ = 0x2D, p = emit32(p, imm[i]); break;               /* sub eax, imm32 */
      case 2: *p++ = 0x35, p = emit32(p, imm[i]); break;               /* xor eax, imm32 */
      case 3: *p++ = 0x69, *p++ = 0xC0, p = emit32(p, imm[i] | 1); break; /* imul eax, eax, imm32 */
      case 4: imm[i] = 1 + imm[i] % 31, *p++ = 0xC1, *p++ = 0xC0, *p++ = (uint8_t)imm[i]; break; /* rol eax, imm8 */
      default: *p++ = 0x0F, *p++ = 0xC8; break;                        /* bswap eax */
      }
    }
    *p++ = 0xC3; /* ret */
    for (uint32_t j = 0; j < 8; j++) {
      uint32_t x = (uint32_t)round * 2654435761u + j, got = ((uint32_t(*)(uint32_t))(void *)f)(x), want = x;
      for (int i = 0; i < OPS; i++) switch (kind[i]) {
        case 0: want += imm[i]; break;
        case 1: want -= imm[i]; break;
        case 2: want ^= imm[i]; break;
        case 3: want *= imm[i] | 1; break;
        case 4: want = rol(want, imm[i]); break;
        default: want = __builtin_bswap32(want); break;
        }
      if (got != want) bad++;
      sum = sum * 31u + got;
    }
  }
  printf("jitbench: %ld iterations, checksum 0x%08x, %u wrong\n", iters, sum, bad);
  return 0;
}
