/* lib.c: memory, string and formatting helpers shared by the kernel and the user programs
 * (compiled once for each). Written for clarity, not speed: the benchmark does its own loops. */
#include "lib.h"

void *memcpy(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (d < s) {
    while (n--) *d++ = *s++;
  } else {
    while (n--) d[n] = s[n];
  }
  return dst;
}

void *memset(void *dst, int c, size_t n) {
  unsigned char *d = dst;
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (; n; n--, x++, y++)
    if (*x != *y) return *x - *y;
  return 0;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n) {
  for (; n; n--, a++, b++) {
    if (*a != *b) return (unsigned char)*a - (unsigned char)*b;
    if (!*a) return 0;
  }
  return 0;
}

char *strcpy(char *dst, const char *src) {
  char *d = dst;
  while ((*d++ = *src++)) {
  }
  return dst;
}

uint64_t parse_num(const char *s, const char **end) {
  uint64_t v = 0;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s += 2;
    for (;; s++) {
      int d;
      if (*s >= '0' && *s <= '9') d = *s - '0';
      else if (*s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
      else if (*s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
      else break;
      v = v * 16 + (uint64_t)d;
    }
  } else {
    while (*s >= '0' && *s <= '9') v = v * 10 + (uint64_t)(*s++ - '0');
  }
  if (end) *end = s;
  return v;
}

/* The output state of vfmt: a bounded buffer that counts what it kept. */
struct out {
  char *buf;
  int size, len;
};

static void put(struct out *o, char c) {
  if (o->len < o->size - 1) o->buf[o->len++] = c;
}

static void put_num(struct out *o, uint64_t v, int base, int neg, int width, char pad) {
  char tmp[24];
  int n = 0;
  do {
    int d = (int)(v % (unsigned)base);
    tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    v /= (unsigned)base;
  } while (v);
  if (neg) tmp[n++] = '-';
  while (width-- > n) put(o, pad);
  while (n) put(o, tmp[--n]);
}

int vfmt(char *buf, int size, const char *f, va_list ap) {
  struct out o = {buf, size, 0};
  for (; *f; f++) {
    if (*f != '%') {
      put(&o, *f);
      continue;
    }
    f++;
    char pad = ' ';
    int width = 0, lng = 0;
    if (*f == '0') pad = '0', f++;
    while (*f >= '0' && *f <= '9') width = width * 10 + (*f++ - '0');
    while (*f == 'l') lng = 1, f++;
    switch (*f) {
    case 'd': {
      int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
      put_num(&o, v < 0 ? (uint64_t)-v : (uint64_t)v, 10, v < 0, width, pad);
      break;
    }
    case 'u':
      put_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, 0, width, pad);
      break;
    case 'x':
      put_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, 0, width, pad);
      break;
    case 'p':
      put(&o, '0'), put(&o, 'x');
      put_num(&o, (uintptr_t)va_arg(ap, void *), 16, 0, width, pad);
      break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      int n = (int)strlen(s);
      while (width-- > n) put(&o, ' ');
      while (*s) put(&o, *s++);
      break;
    }
    case 'c':
      put(&o, (char)va_arg(ap, int));
      break;
    case '%':
      put(&o, '%');
      break;
    default: /* unknown: print it as written */
      put(&o, '%'), put(&o, *f);
      if (!*f) f--;
    }
  }
  o.buf[o.len] = 0;
  return o.len;
}

int fmt(char *buf, int size, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  int n = vfmt(buf, size, f, ap);
  va_end(ap);
  return n;
}
