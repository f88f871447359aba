/* workload.h: the CPU-bound benchmark workload shared by the bench kernels (bench64.bin,
 * bench32.bin, run in ring 3) and the native Linux build (the host's physical limit). Freestanding:
 * no libc, no floating point, only 32-bit arithmetic, so -m64, -m32 and the host all compute the
 * same checksum from the same iteration count. */
#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H

typedef unsigned int u32;
typedef unsigned char u8;
typedef int i32;

/* Runs every kernel `iterations` times and returns one checksum of all their results. */
u32 workload(u32 iterations);

#endif
