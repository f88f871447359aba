/* support.c: the ring-0 half of the bench kernels in C, shared by the 64- and 32-bit builds: the
 * multiboot command line (iters=N), the COM1 report line, and the memset/memcpy gcc may call on
 * its own even in freestanding code. The entry code (kernel64.asm / kernel32.asm) calls these. */
#include "workload.h"

void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
u32 bench_parse_iters(const char *cmdline);
void bench_report(u32 checksum, u32 iterations);
void bench_fault(u32 vector);

void *memset(void *d, int c, unsigned long n) {
  u8 *p = d;
  while (n--) *p++ = (u8)c;
  return d;
}

void *memcpy(void *d, const void *s, unsigned long n) {
  u8 *p = d;
  const u8 *q = s;
  while (n--) *p++ = *q++;
  return d;
}

static void outb(unsigned short port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static u8 inb(unsigned short port) {
  u8 v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

#define COM1 0x3F8
static void putc_serial(char c) {
  while (!(inb(COM1 + 5) & 0x20)) {} /* wait for an empty transmit holding register */
  outb(COM1, (u8)c);
}
static void puts_serial(const char *s) {
  for (; *s; s++) {
    if (*s == '\n') putc_serial('\r');
    putc_serial(*s);
  }
}
static void put_hex(u32 v) {
  for (int sh = 28; sh >= 0; sh -= 4) putc_serial("0123456789abcdef"[(v >> sh) & 15]);
}
static void put_dec(u32 v) {
  char buf[11];
  int n = 0;
  do buf[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
  while (n) putc_serial(buf[--n]);
}

/* Finds the word "iters=N" anywhere on the command line; 1 when it is missing. */
u32 bench_parse_iters(const char *cmdline) {
  if (!cmdline) return 1;
  for (const char *p = cmdline; *p; p++) {
    if ((p == cmdline || p[-1] == ' ') && p[0] == 'i' && p[1] == 't' && p[2] == 'e' && p[3] == 'r' &&
        p[4] == 's' && p[5] == '=') {
      u32 n = 0;
      for (p += 6; *p >= '0' && *p <= '9'; p++) n = n * 10 + (u32)(*p - '0');
      return n;
    }
  }
  return 1;
}

/* 115200 8N1, FIFOs on, no interrupts: the kernel polls. */
static void uart_init(void) {
  outb(COM1 + 1, 0x00);
  outb(COM1 + 3, 0x80);
  outb(COM1 + 0, 0x01);
  outb(COM1 + 1, 0x00);
  outb(COM1 + 3, 0x03);
  outb(COM1 + 2, 0xC7);
  outb(COM1 + 4, 0x03);
}

void bench_report(u32 checksum, u32 iterations) {
  uart_init();
  puts_serial("checksum=0x");
  put_hex(checksum);
  puts_serial(" iterations=");
  put_dec(iterations);
  puts_serial("\n");
}

void bench_fault(u32 vector) {
  uart_init();
  puts_serial("bench: exception ");
  put_dec(vector);
  puts_serial("\n");
}
