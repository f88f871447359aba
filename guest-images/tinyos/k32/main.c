/* main.c (tinyos32): kmain and the shell are the 64-bit kernel's, compiled against the 32-bit
 * kernel.h. Including it here first makes ../kernel/main.c's own #include "kernel.h" (which
 * would find ../kernel/kernel.h) a no-op: both headers use the guard TINYOS_KERNEL_H. */
#include "kernel.h"
#include "../kernel/main.c"
