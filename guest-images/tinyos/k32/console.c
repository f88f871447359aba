/* console.c (tinyos32: the same as the 64-bit kernel's): the serial console on COM1 (a 16550 UART at 0x3F8), used by polling: the kernel
 * waits for "transmit holding register empty" before each byte and looks at "data ready" when it
 * wants input. "\n" goes out as "\r\n" as a terminal expects. */
#include "kernel.h"

#define COM1 0x3F8
#define LSR_DATA_READY 0x01
#define LSR_THRE 0x20

void uart_init(void) {
  outb(COM1 + 1, 0x00); /* no UART interrupts */
  outb(COM1 + 3, 0x80); /* DLAB: the next two registers are the divisor */
  outb(COM1 + 0, 1);    /* 115200 baud */
  outb(COM1 + 1, 0);
  outb(COM1 + 3, 0x03); /* 8 bits, no parity, 1 stop bit */
  outb(COM1 + 2, 0xC7); /* FIFOs on and cleared */
  outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void raw_putc(char c) {
  while (!(inb(COM1 + 5) & LSR_THRE)) {
  }
  outb(COM1, (uint8_t)c);
}

void uart_putc(char c) {
  if (c == '\n') raw_putc('\r');
  raw_putc(c);
}

int uart_getc(void) { return (inb(COM1 + 5) & LSR_DATA_READY) ? inb(COM1) : -1; }

void kwrite(const char *s, size_t n) {
  while (n--) uart_putc(*s++);
}

void kprintf(const char *f, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, f);
  int n = vfmt(buf, sizeof buf, f, ap);
  va_end(ap);
  kwrite(buf, (size_t)n);
}
