/* workload.c: a CPU-bound mix like real programs -- a prime sieve, CRC32, an integer matrix
 * product, sorting, string search, a hash table and linked-list walks -- over data from a fixed
 * linear congruential generator, so the checksum depends on the iteration count alone. Every
 * kernel re-initialises its own data each round (no trust in bss), uses 32-bit integers only
 * (no 64-bit division helpers on -m32) and calls no library function. Sizes are chosen so one
 * round is a few million instructions and the working set (~150 KiB) stays cache-sized. */
#include "workload.h"

static u32 seed;
static u32 rnd(void) {
  seed = seed * 1103515245u + 12345u;
  return seed >> 8; /* the low bits of an LCG are weak */
}

/* ---- sieve of Eratosthenes: count the primes below SIEVE_N ---- */
#define SIEVE_N 40000
static u8 marks[SIEVE_N];
static u32 run_sieve(void) {
  for (u32 i = 0; i < SIEVE_N; i++) marks[i] = 0;
  u32 primes = 0;
  for (u32 i = 2; i < SIEVE_N; i++) {
    if (marks[i]) continue;
    primes += i; /* sum, not count: more sensitive to a wrong answer */
    for (u32 j = i * 2; j < SIEVE_N; j += i) marks[j] = 1;
  }
  return primes;
}

/* ---- CRC32 (reflected polynomial 0xEDB88320) with a 256-entry table ---- */
#define CRC_BYTES 20000
static u32 crc_tab[256];
static u8 crc_buf[CRC_BYTES];
static u32 run_crc(void) {
  for (u32 n = 0; n < 256; n++) {
    u32 c = n;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    crc_tab[n] = c;
  }
  for (u32 i = 0; i < CRC_BYTES; i++) crc_buf[i] = (u8)rnd();
  u32 crc = 0xFFFFFFFFu;
  for (u32 i = 0; i < CRC_BYTES; i++) crc = crc_tab[(crc ^ crc_buf[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

/* ---- integer matrix product C = A * B, then a weighted sum of C ---- */
#define MAT 40
static i32 mat_a[MAT][MAT], mat_b[MAT][MAT], mat_c[MAT][MAT];
static u32 run_matmul(void) {
  for (int i = 0; i < MAT; i++)
    for (int j = 0; j < MAT; j++) {
      mat_a[i][j] = (i32)(rnd() & 0xFF) - 128;
      mat_b[i][j] = (i32)(rnd() & 0xFF) - 128;
    }
  for (int i = 0; i < MAT; i++)
    for (int j = 0; j < MAT; j++) {
      i32 s = 0;
      for (int k = 0; k < MAT; k++) s += mat_a[i][k] * mat_b[k][j];
      mat_c[i][j] = s;
    }
  u32 h = 0;
  for (int i = 0; i < MAT; i++)
    for (int j = 0; j < MAT; j++) h = (h ^ (u32)mat_c[i][j]) * 16777619u;
  return h;
}

/* ---- sorting: heapsort of random keys, then an order check folded into the sum ---- */
#define SORT_N 5000
static u32 sort_keys[SORT_N];
static void sift_down(u32 *a, u32 root, u32 end) {
  for (;;) {
    u32 child = root * 2 + 1;
    if (child >= end) return;
    if (child + 1 < end && a[child + 1] > a[child]) child++;
    if (a[root] >= a[child]) return;
    u32 t = a[root];
    a[root] = a[child];
    a[child] = t;
    root = child;
  }
}
static u32 run_sort(void) {
  for (u32 i = 0; i < SORT_N; i++) sort_keys[i] = rnd();
  for (u32 i = SORT_N / 2; i-- > 0;) sift_down(sort_keys, i, SORT_N);
  for (u32 end = SORT_N - 1; end > 0; end--) {
    u32 t = sort_keys[0];
    sort_keys[0] = sort_keys[end];
    sort_keys[end] = t;
    sift_down(sort_keys, 0, end);
  }
  u32 sum = 0;
  for (u32 i = 0; i < SORT_N; i++) {
    if (i > 0 && sort_keys[i - 1] > sort_keys[i]) sum ^= 0xDEAD0000u; /* unsorted: wrong sum */
    sum = sum * 31u + sort_keys[i];
  }
  return sum;
}

/* ---- string search: occurrences of a few patterns in a text over a small alphabet ---- */
#define TEXT_N 16000
static char text[TEXT_N];
static const char *const patterns[] = {"abc", "cab", "aaaa", "bcdbc", "dd"};
static u32 run_search(void) {
  for (u32 i = 0; i < TEXT_N; i++) text[i] = (char)('a' + rnd() % 5);
  u32 found = 0;
  for (u32 p = 0; p < sizeof patterns / sizeof patterns[0]; p++) {
    const char *pat = patterns[p];
    u32 len = 0;
    while (pat[len]) len++;
    for (u32 i = 0; i + len <= TEXT_N; i++) {
      u32 k = 0;
      while (k < len && text[i + k] == pat[k]) k++;
      if (k == len) found = found * 7u + i;
    }
  }
  return found;
}

/* ---- hash table: chained buckets in arrays, inserts with updates, then lookups ---- */
#define BUCKETS 1024
#define ENTRIES 6000
static i32 bucket_head[BUCKETS];
static u32 ent_key[ENTRIES], ent_val[ENTRIES];
static i32 ent_next[ENTRIES];
static u32 hash_of(u32 k) { return (k * 2654435761u) >> 22; /* 10 bits: BUCKETS */ }
static u32 run_hash(void) {
  for (u32 b = 0; b < BUCKETS; b++) bucket_head[b] = -1;
  u32 used = 0;
  for (u32 i = 0; i < ENTRIES; i++) {
    u32 k = rnd() % 4000; /* collisions on purpose: some inserts are updates */
    u32 b = hash_of(k);
    i32 e = bucket_head[b];
    while (e >= 0 && ent_key[e] != k) e = ent_next[e];
    if (e >= 0) {
      ent_val[e] += i;
    } else {
      ent_key[used] = k;
      ent_val[used] = i;
      ent_next[used] = bucket_head[b];
      bucket_head[b] = (i32)used++;
    }
  }
  u32 sum = used;
  for (u32 k = 0; k < 4000; k += 3) {
    i32 e = bucket_head[hash_of(k)];
    while (e >= 0 && ent_key[e] != k) e = ent_next[e];
    sum = sum * 3u + (e >= 0 ? ent_val[e] : 1u);
  }
  return sum;
}

/* ---- linked lists: nodes threaded in a shuffled order, walked several times ---- */
#define NODES 6000
struct node {
  struct node *next;
  u32 value;
};
static struct node nodes[NODES];
static u32 perm[NODES];
static u32 run_lists(void) {
  for (u32 i = 0; i < NODES; i++) perm[i] = i;
  for (u32 i = NODES - 1; i > 0; i--) { /* Fisher-Yates */
    u32 j = rnd() % (i + 1), t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  for (u32 i = 0; i < NODES; i++) {
    nodes[perm[i]].next = i + 1 < NODES ? &nodes[perm[i + 1]] : 0;
    nodes[perm[i]].value = rnd() & 0xFFFF;
  }
  u32 sum = 0;
  for (u32 pass = 1; pass <= 5; pass++)
    for (const struct node *n = &nodes[perm[0]]; n; n = n->next) sum = (sum ^ n->value) * pass + 1;
  return sum;
}

u32 workload(u32 iterations) {
  u32 check = 0x811C9DC5u;
  for (u32 it = 0; it < iterations; it++) {
    seed = 12345; /* every round the same work: instruction counts grow linearly */
    u32 parts[7] = {run_sieve(), run_crc(), run_matmul(), run_sort(), run_search(), run_hash(), run_lists()};
    for (int p = 0; p < 7; p++) check = (check ^ parts[p]) * 16777619u;
  }
  return check;
}
