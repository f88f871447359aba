# tinyos.mk: how guest-images/Makefile builds tinyos.bin (included from there; run from
# guest-images/). The user programs are linked one by one into flat binaries at 0x40000000,
# embedded into the kernel by programs.asm (incbin), and the kernel is linked into one flat
# multiboot image loaded at 1 MiB. Intermediate files go to tinyos/build (in-place builds, git
# ignores it) or to $(OUT)/tinyos-build; only tinyos.bin lands in $(OUT). Reproducible: no
# debug info, no build id, no timestamps, no paths in the output.

# Included before the Makefile's "all": keep "all" the default goal (restored at the end).
TOS_SAVED_GOAL := $(.DEFAULT_GOAL)
CC ?= cc
LD ?= ld
TOS_B := $(if $(filter .,$(OUT)),tinyos/build,$(OUT)/tinyos-build)

# -mgeneral-regs-only: no SSE/x87 code anywhere (ringvm does not run it yet). -mno-red-zone: an
# interrupt in the kernel must not clobber the area below RSP. No PIC: fixed addresses.
TOS_CFLAGS := -std=gnu11 -O2 -m64 -ffreestanding -nostdlib -fno-pic -fno-pie -mno-red-zone \
  -mgeneral-regs-only -mcmodel=small -fno-stack-protector -fcf-protection=none \
  -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-ident -Wall -Wextra -Werror

TOS_PROGRAMS := redpill procs alpha beta smc faults bench sysbench ctxbench jitbench
TOS_KOBJS := $(addprefix $(TOS_B)/k_,boot.o trap.o main.o console.o cpu.o mm.o proc.o trap_c.o lib.o programs.o)
TOS_UCOMMON := $(addprefix $(TOS_B)/u_,crt0.o ulib.o lib.o)
TOS_HEADERS := $(wildcard tinyos/kernel/*.h tinyos/user/*.h tinyos/lib/*.h)

IMAGES += $(OUT)/tinyos.bin

$(OUT)/tinyos.bin: $(TOS_KOBJS) tinyos/kernel/kernel.ld
	@mkdir -p $(OUT)
	$(LD) -nostdlib -T tinyos/kernel/kernel.ld -o $@ $(TOS_KOBJS)

$(TOS_B)/k_%.o: tinyos/kernel/%.asm
	@mkdir -p $(TOS_B)
	$(NASM) -f elf64 -o $@ $<

$(TOS_B)/k_trap_c.o: tinyos/kernel/trap.c $(TOS_HEADERS)
	@mkdir -p $(TOS_B)
	$(CC) $(TOS_CFLAGS) -c -o $@ $<

$(TOS_B)/k_%.o: tinyos/kernel/%.c $(TOS_HEADERS)
	@mkdir -p $(TOS_B)
	$(CC) $(TOS_CFLAGS) -c -o $@ $<

$(TOS_B)/k_lib.o: tinyos/lib/lib.c $(TOS_HEADERS)
	@mkdir -p $(TOS_B)
	$(CC) $(TOS_CFLAGS) -c -o $@ $<

$(TOS_B)/k_programs.o: tinyos/kernel/programs.asm $(addprefix $(TOS_B)/,$(addsuffix .bin,$(TOS_PROGRAMS)))
	@mkdir -p $(TOS_B)
	$(NASM) -f elf64 -I$(TOS_B)/ -o $@ $<

$(TOS_B)/u_crt0.o: tinyos/user/crt0.asm
	@mkdir -p $(TOS_B)
	$(NASM) -f elf64 -o $@ $<

$(TOS_B)/u_lib.o: tinyos/lib/lib.c $(TOS_HEADERS)
	@mkdir -p $(TOS_B)
	$(CC) $(TOS_CFLAGS) -c -o $@ $<

$(TOS_B)/u_%.o: tinyos/user/%.c $(TOS_HEADERS)
	@mkdir -p $(TOS_B)
	$(CC) $(TOS_CFLAGS) -c -o $@ $<

$(TOS_B)/%.bin: $(TOS_B)/u_%.o $(TOS_UCOMMON) tinyos/user/user.ld
	$(LD) -nostdlib -T tinyos/user/user.ld -o $@ $(TOS_UCOMMON) $<

.SECONDARY:

# ---- tinyos32: the same kernel for 32-bit protected mode (tinyos/k32 + the same programs) ----
# libgcc supplies the 64-bit division that printf's number formatting needs on i386.

TOS32_CFLAGS := $(filter-out -m64 -mcmodel=small -mno-red-zone,$(TOS_CFLAGS)) -m32
TOS32_LIBGCC := $(shell $(CC) -m32 -print-libgcc-file-name)
TOS32_KOBJS := $(addprefix $(TOS_B)/k32_,boot.o trap.o main.o console.o cpu.o mm.o proc.o trap_c.o lib.o programs.o)
TOS32_UCOMMON := $(addprefix $(TOS_B)/u32_,crt0.o ulib.o lib.o)

IMAGES += $(OUT)/tinyos32.bin

$(OUT)/tinyos32.bin: $(TOS32_KOBJS) tinyos/k32/kernel.ld
	@mkdir -p $(OUT)
	$(LD) -m elf_i386 -nostdlib -T tinyos/k32/kernel.ld -o $@ $(TOS32_KOBJS) $(TOS32_LIBGCC)

$(TOS_B)/k32_%.o: tinyos/k32/%.asm
	@mkdir -p $(TOS_B)
	$(NASM) -f elf32 -o $@ $<

$(TOS_B)/k32_trap_c.o: tinyos/k32/trap.c $(TOS_HEADERS) tinyos/k32/kernel.h
	@mkdir -p $(TOS_B)
	$(CC) $(TOS32_CFLAGS) -c -o $@ $<

$(TOS_B)/k32_main.o: tinyos/kernel/main.c

$(TOS_B)/k32_%.o: tinyos/k32/%.c $(TOS_HEADERS) tinyos/k32/kernel.h
	@mkdir -p $(TOS_B)
	$(CC) $(TOS32_CFLAGS) -c -o $@ $<

$(TOS_B)/k32_lib.o: tinyos/lib/lib.c $(TOS_HEADERS)
	@mkdir -p $(TOS_B)
	$(CC) $(TOS32_CFLAGS) -c -o $@ $<

$(TOS_B)/k32_programs.o: tinyos/kernel/programs.asm $(addprefix $(TOS_B)/,$(addsuffix .bin32,$(TOS_PROGRAMS)))
	@mkdir -p $(TOS_B)/p32
	for p in $(TOS_PROGRAMS); do cp $(TOS_B)/$$p.bin32 $(TOS_B)/p32/$$p.bin; done
	$(NASM) -f elf32 -DPTR=dd -I$(TOS_B)/p32/ -o $@ $<

$(TOS_B)/u32_crt0.o: tinyos/user/crt0_32.asm
	@mkdir -p $(TOS_B)
	$(NASM) -f elf32 -o $@ $<

$(TOS_B)/u32_lib.o: tinyos/lib/lib.c $(TOS_HEADERS)
	@mkdir -p $(TOS_B)
	$(CC) $(TOS32_CFLAGS) -c -o $@ $<

$(TOS_B)/u32_%.o: tinyos/user/%.c $(TOS_HEADERS)
	@mkdir -p $(TOS_B)
	$(CC) $(TOS32_CFLAGS) -c -o $@ $<

$(TOS_B)/%.bin32: $(TOS_B)/u32_%.o $(TOS32_UCOMMON) tinyos/user/user.ld
	$(LD) -m elf_i386 -nostdlib -T tinyos/user/user.ld -o $@ $(TOS32_UCOMMON) $< $(TOS32_LIBGCC)

.DEFAULT_GOAL := $(TOS_SAVED_GOAL)
