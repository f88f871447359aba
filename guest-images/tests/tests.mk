# tests.mk: the bare-metal test kernels (guest-images/tests/*.asm), included by ../Makefile so that
# `make -C guest-images` builds them too, into $(OUT)/tests/. Each kernel includes the shared
# library files (common.inc, lib32.inc/lib64.inc, end32.inc/end64.inc), so every kernel depends on
# all of them. See docs/system-conformance.md for what each kernel checks.

TEST_KERNELS := exc64 pf64 priv64 sys64 timer triple exc32 io32 pf32 modes sys32 dbg64
TEST_LIB := $(wildcard tests/*.inc)
TEST_IMAGES := $(patsubst %,$(OUT)/tests/%.bin,$(TEST_KERNELS))
IMAGES += $(TEST_IMAGES)

$(OUT)/tests/%.bin: tests/%.asm $(TEST_LIB)
	@mkdir -p $(OUT)/tests
	$(NASM) -I tests/ -f bin -o $@ $<
