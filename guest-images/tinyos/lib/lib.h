/* lib.h: the few freestanding helpers both the kernel and the user programs need (memory and
 * string functions, and a printf-style formatter). gcc may call memcpy/memset on its own, so
 * both sides must link these. */
#ifndef TINYOS_LIB_H
#define TINYOS_LIB_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strcpy(char *dst, const char *src);

/* Formats into buf (at most size-1 characters, always terminated); returns the length.
 * Knows %d %u %x %lx %ld %lu %s %c %p %%, a '0' flag and a width: enough for a kernel. */
int vfmt(char *buf, int size, const char *fmt, va_list ap);
int fmt(char *buf, int size, const char *fmt, ...);

/* Parses a decimal or 0x-prefixed number; *end gets the first character after it. */
uint64_t parse_num(const char *s, const char **end);

#endif
