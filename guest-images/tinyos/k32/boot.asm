; boot.asm (tinyos32): the multiboot entry of the 32-bit kernel. The loader leaves us in 32-bit
; protected mode with flat segments and paging off, which is already the mode this kernel runs
; in: set a stack and call kmain(multiboot_info). mm_init turns paging on, cpu_init loads the
; kernel's own GDT. The header's address fields (flag bit 16) make the flat binary loadable.

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ 0x00010000
MB_BOOTED   equ 0x2BADB002

extern kmain, image_start, image_load_end, image_bss_end
global start32

section .multiboot progbits alloc noexec nowrite align=4
mb_header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)
    dd mb_header
    dd image_start
    dd image_load_end
    dd image_bss_end
    dd start32

section .text.boot progbits alloc exec nowrite align=16
bits 32
start32:
    cmp eax, MB_BOOTED
    jne .not_multiboot
    mov esp, boot_stack_top
    push ebx                        ; kmain's argument: the multiboot info
    call kmain
.not_multiboot:
    mov al, 0x01                    ; isa-debug-exit: host status 3
    out 0xF4, al
.halt:
    hlt
    jmp .halt

section .bss
alignb 16
    resb 16384
boot_stack_top:
