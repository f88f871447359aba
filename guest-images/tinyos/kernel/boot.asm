; boot.asm: where tinyos starts. The multiboot loader (GRUB, QEMU -kernel, ringvm) enters at
; start32 in 32-bit protected mode with paging off. This file switches to 64-bit long mode on its
; own (temporary GDT, identity page tables for the first 1 GiB, PAE, EFER.LME, paging) and calls
; kmain in C. The image is a flat binary: the multiboot header below carries its load addresses
; (flag bit 16, the "a.out kludge"), which is how QEMU's -kernel accepts a non-ELF32 kernel.

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ 0x00010000          ; bit 16: the address fields are valid
MB_BOOTED   equ 0x2BADB002          ; what the loader leaves in EAX

extern kmain, image_start, image_load_end, image_bss_end
extern boot_pml4, boot_pdpt, kernel_pd
global start32, boot_stack_top

section .multiboot progbits alloc noexec nowrite align=4
mb_header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)       ; the three words sum to zero
    dd mb_header                    ; header_addr
    dd image_start                  ; load_addr: the file's first byte goes here (1 MiB)
    dd image_load_end               ; load_end_addr: end of the bytes taken from the file
    dd image_bss_end                ; bss_end_addr: the loader zeroes up to here
    dd start32                      ; entry_addr

section .text.boot progbits alloc exec nowrite align=16
bits 32
start32:
    cmp eax, MB_BOOTED
    jne .not_multiboot
    mov edi, ebx                    ; the multiboot info pointer: kmain's argument later
    lgdt [boot_gdt_ptr]
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, boot_stack_top

    ; Page tables: PML4[0] -> PDPT, PDPT[0] -> kernel_pd, whose 512 entries map 0..1 GiB with
    ; 2 MiB pages, present + writable, supervisor only. Processes reuse kernel_pd (mm.c).
    mov dword [boot_pml4], boot_pdpt + 3
    mov dword [boot_pdpt], kernel_pd + 3
    mov ebx, kernel_pd
    mov eax, 0x83                   ; present, writable, 2 MiB page (PS)
    mov ecx, 512
.map:
    mov [ebx], eax
    mov dword [ebx + 4], 0
    add eax, 0x200000
    add ebx, 8
    loop .map

    mov eax, cr4
    or eax, 1 << 5                  ; PAE
    mov cr4, eax
    mov eax, boot_pml4
    mov cr3, eax
    mov ecx, 0xC0000080             ; EFER
    rdmsr
    or eax, (1 << 8) | (1 << 0)     ; LME, and SCE so that SYSCALL works later
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | (1 << 16)   ; PG, and WP: the kernel too respects read-only pages
    mov cr0, eax
    jmp 0x08:start64

.not_multiboot:
    mov al, 0x01                    ; isa-debug-exit: host status 3
    out 0xF4, al
.halt:
    hlt
    jmp .halt

bits 64
start64:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax
    mov rsp, boot_stack_top
    call kmain                      ; RDI = multiboot info (zero-extended by the 32-bit mov)
.hang:
    hlt
    jmp .hang

section .rodata
align 8
boot_gdt:
    dq 0
    dq 0x00AF9A000000FFFF           ; 0x08: 64-bit code, DPL 0
    dq 0x00CF92000000FFFF           ; 0x10: data, DPL 0
boot_gdt_ptr:
    dw boot_gdt_ptr - boot_gdt - 1
    dd boot_gdt

section .bss
alignb 16
    resb 16384
boot_stack_top:                     ; the stack of kmain, which becomes the shell (pid 0)
