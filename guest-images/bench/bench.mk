# bench.mk: how guest-images/Makefile builds the benchmark kernels bench64.bin and bench32.bin
# (included from there; run from guest-images/). Each is the entry code (kernel64.asm or
# kernel32.asm), the ring-0 helpers (support.c) and the workload (workload.c), linked by bench.ld
# into one flat multiboot image loaded at 1 MiB. Intermediate files go to bench/build (in-place
# builds, ignored by git) or $(OUT)/bench-build. Reproducible: no debug info, no build id, no
# timestamps, no paths in the output. The workload flags are the ones bench/run.ts uses for the
# native build (BENCH_WFLAGS), so the host runs the same code generator output, give or take PIE.

BENCH_SAVED_GOAL := $(.DEFAULT_GOAL)
CC ?= cc
LD ?= ld
BENCH_B := $(if $(filter .,$(OUT)),bench/build,$(OUT)/bench-build)

# -mgeneral-regs-only: no SSE/x87 (ringvm does not run it yet); no loop-to-memset rewriting.
BENCH_WFLAGS := -std=gnu11 -O2 -mgeneral-regs-only -fno-tree-loop-distribute-patterns -ffreestanding
BENCH_CFLAGS := $(BENCH_WFLAGS) -nostdlib -fno-pic -fno-pie -mno-red-zone -fno-stack-protector \
  -fcf-protection=none -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-ident -Wall -Wextra -Werror
BENCH_SRC := bench/workload.c bench/workload.h bench/support.c bench/bench.ld

IMAGES += $(OUT)/bench64.bin $(OUT)/bench32.bin

$(OUT)/bench64.bin: $(BENCH_B)/k64.o $(BENCH_B)/s64.o $(BENCH_B)/w64.o bench/bench.ld
	@mkdir -p $(OUT)
	$(LD) -m elf_x86_64 -nostdlib -T bench/bench.ld -o $@ $(BENCH_B)/k64.o $(BENCH_B)/s64.o $(BENCH_B)/w64.o

$(OUT)/bench32.bin: $(BENCH_B)/k32.o $(BENCH_B)/s32.o $(BENCH_B)/w32.o bench/bench.ld
	@mkdir -p $(OUT)
	$(LD) -m elf_i386 -nostdlib -T bench/bench.ld -o $@ $(BENCH_B)/k32.o $(BENCH_B)/s32.o $(BENCH_B)/w32.o

$(BENCH_B)/k64.o: bench/kernel64.asm
	@mkdir -p $(BENCH_B)
	$(NASM) -f elf64 -o $@ $<

$(BENCH_B)/k32.o: bench/kernel32.asm
	@mkdir -p $(BENCH_B)
	$(NASM) -f elf32 -o $@ $<

$(BENCH_B)/s64.o $(BENCH_B)/w64.o: $(BENCH_B)/%64.o: $(BENCH_SRC)
	@mkdir -p $(BENCH_B)
	$(CC) $(BENCH_CFLAGS) -m64 -c -o $@ bench/$(if $(filter s,$*),support,workload).c

$(BENCH_B)/s32.o $(BENCH_B)/w32.o: $(BENCH_B)/%32.o: $(BENCH_SRC)
	@mkdir -p $(BENCH_B)
	$(CC) $(BENCH_CFLAGS) -m32 -c -o $@ bench/$(if $(filter s,$*),support,workload).c

.DEFAULT_GOAL := $(BENCH_SAVED_GOAL)
