/* bench: the CPU-bound workload of the benchmark suite. A mix like real programs: a prime sieve,
 * CRC32, an integer matrix product, sorting, string search, a hash table and linked-list walks,
 * each on data from a fixed pseudo-random generator, so the checksum depends only on the
 * iteration count (the argument, default 1). Built with gcc -O2 like the rest. */
#include "ulib.h"

static uint32_t rng = 1;
static uint32_t next(void) { return rng = rng * 1664525u + 1013904223u; }

/* ---- sieve of Eratosthenes ---- */
#define SIEVE_N 30000
static uint8_t composite[SIEVE_N];
static uint32_t sieve(void) {
  memset(composite, 0, sizeof composite);
  uint32_t count = 0;
  for (uint32_t i = 2; i < SIEVE_N; i++) {
    if (composite[i]) continue;
    count++;
    for (uint32_t j = i * i; j < SIEVE_N; j += i) composite[j] = 1;
  }
  return count;
}

/* ---- CRC32 (IEEE, bitwise table built once) ---- */
static uint32_t crc_table[256];
static uint8_t data[16384];
static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}
static uint32_t crc32(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  while (n--) c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
  return ~c;
}

/* ---- integer matrix product ---- */
#define MN 32
static int32_t ma[MN][MN], mb[MN][MN], mc[MN][MN];
static uint32_t matmul(void) {
  for (int i = 0; i < MN; i++)
    for (int j = 0; j < MN; j++) ma[i][j] = (int32_t)(next() % 201) - 100, mb[i][j] = (int32_t)(next() % 201) - 100;
  uint32_t sum = 0;
  for (int i = 0; i < MN; i++)
    for (int j = 0; j < MN; j++) {
      int32_t s = 0;
      for (int k = 0; k < MN; k++) s += ma[i][k] * mb[k][j];
      mc[i][j] = s;
      sum = sum * 3u + (uint32_t)s;
    }
  return sum;
}

/* ---- sorting: quicksort on random keys, then a check ---- */
#define SORT_N 4000
static int32_t keys[SORT_N];
static void quicksort(int32_t *a, int lo, int hi) {
  while (lo < hi) {
    int32_t pivot = a[lo + (hi - lo) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        int32_t t = a[i];
        a[i++] = a[j], a[j--] = t;
      }
    }
    if (j - lo < hi - i) quicksort(a, lo, j), lo = i;
    else quicksort(a, i, hi), hi = j;
  }
}
static uint32_t sort(void) {
  for (int i = 0; i < SORT_N; i++) keys[i] = (int32_t)(next() >> 1);
  quicksort(keys, 0, SORT_N - 1);
  uint32_t sum = 0;
  for (int i = 0; i < SORT_N; i++) {
    if (i && keys[i - 1] > keys[i]) return 0; /* not sorted: a wrong checksum */
    sum += (uint32_t)keys[i] * (uint32_t)(i + 1);
  }
  return sum;
}

/* ---- string search: count occurrences of a few words in generated text ---- */
#define TEXT_N 12000
static char text[TEXT_N + 1];
static uint32_t search(void) {
  static const char *const words[] = {"the", "ring", "virtual", "abc", "zz"};
  static const char letters[] = "abcdefghijklmnopqrstuvwxyz  ";
  for (int i = 0; i < TEXT_N; i++) text[i] = letters[next() % (sizeof letters - 1)];
  memcpy(text + 100, "the ring virtual", 16);
  text[TEXT_N] = 0;
  uint32_t found = 0;
  for (unsigned w = 0; w < sizeof words / sizeof words[0]; w++) {
    size_t n = strlen(words[w]);
    for (int i = 0; i + (int)n <= TEXT_N; i++)
      if (text[i] == words[w][0] && !memcmp(text + i, words[w], n)) found += (uint32_t)(i + 1) * (w + 1);
  }
  return found;
}

/* ---- hash table: open addressing, inserts then lookups ---- */
#define HSIZE 4096
static uint32_t hkeys[HSIZE], hvals[HSIZE];
static uint32_t hash(void) {
  memset(hkeys, 0, sizeof hkeys);
  for (int i = 0; i < 3000; i++) {
    uint32_t k = next() | 1, h = (k * 2654435761u) >> 20;
    while (hkeys[h] && hkeys[h] != k) h = (h + 1) & (HSIZE - 1);
    hkeys[h] = k, hvals[h] = (uint32_t)i;
  }
  uint32_t sum = 0;
  for (int i = 0; i < HSIZE; i++) {
    uint32_t k = hkeys[i];
    if (!k) continue;
    uint32_t h = (k * 2654435761u) >> 20;
    while (hkeys[h] != k) h = (h + 1) & (HSIZE - 1);
    sum += hvals[h] ^ k;
  }
  return sum;
}

/* ---- linked lists: a shuffled singly linked list walked several times ---- */
#define LN 4000
struct node {
  struct node *next;
  uint32_t value;
};
static struct node nodes[LN];
static uint32_t order[LN];
static uint32_t lists(void) {
  for (uint32_t i = 0; i < LN; i++) order[i] = i;
  for (uint32_t i = LN - 1; i > 0; i--) {
    uint32_t j = next() % (i + 1), t = order[i];
    order[i] = order[j], order[j] = t;
  }
  for (uint32_t i = 0; i < LN; i++) {
    nodes[order[i]].next = i + 1 < LN ? &nodes[order[i + 1]] : 0;
    nodes[order[i]].value = next() & 0xFFFF;
  }
  uint32_t sum = 0;
  for (int pass = 0; pass < 4; pass++)
    for (struct node *n = &nodes[order[0]]; n; n = n->next) sum = sum * 33u + n->value + (uint32_t)pass;
  return sum;
}

int main(const char *arg) {
  int64_t iters = (int64_t)parse_num(arg, 0);
  if (iters <= 0) iters = 1;
  crc_init();
  uint32_t total = 0, part[7] = {0};
  for (int64_t it = 0; it < iters; it++) {
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)next();
    part[0] += sieve();
    part[1] ^= crc32(data, sizeof data);
    part[2] += matmul();
    part[3] += sort();
    part[4] += search();
    part[5] += hash();
    part[6] += lists();
  }
  static const char *const names[7] = {"sieve", "crc32", "matmul", "sort", "search", "hash", "lists"};
  for (int i = 0; i < 7; i++) {
    printf("bench: %s 0x%08x\n", names[i], part[i]);
    total = total * 0x9E3779B1u + part[i];
  }
  printf("bench: %ld iterations, checksum 0x%08x\n", iters, total);
  return 0;
}
