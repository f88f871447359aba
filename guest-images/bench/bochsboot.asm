; bochsboot.asm: a floppy boot sector that starts a multiboot (a.out kludge) kernel, for peers
; with no multiboot loader of their own (Bochs). bench/lib/bochs-run.ts builds the floppy: this
; sector, then one sector with the command line (zero-terminated), then the kernel image from
; sector 3 on. The BIOS loads us at 0x7C00 in real mode; we read 17 sectors (track 0: the command
; line and up to 8 KiB of kernel) to 0x8000, open A20, enter flat 32-bit protected mode, copy the
; kernel to its load address, zero its bss, and jump to its entry like a multiboot loader:
; EAX = 0x2BADB002, EBX = a multiboot info whose only field is the command line (flags bit 2).
; Built at bench time (nasm -f bin), not committed as an image.

bits 16
org 0x7C00

CMDLINE     equ 0x8000              ; sector 2
KERNEL      equ 0x8200              ; sector 3 on
MBI         equ 0x7000

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    mov [drive], dl                 ; the BIOS passes the boot drive in DL

    mov ax, 0x0211                  ; AH=2 read, AL=17 sectors
    mov cx, 0x0002                  ; cylinder 0, sector 2
    xor dh, dh                      ; head 0
    mov dl, [drive]
    mov bx, CMDLINE                 ; ES:BX = 0:0x8000
    int 0x13
    jc fail

    in al, 0x92                     ; fast A20: the kernel lives above 1 MiB
    or al, 2
    and al, 0xFE                    ; never the reset bit
    out 0x92, al

    lgdt [gdt_ptr]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp 0x08:pm

fail:
    mov si, msg_fail
.print:
    lodsb
    test al, al
    jz .halt
    mov ah, 0x0E
    int 0x10
    jmp .print
.halt:
    hlt
    jmp .halt

bits 32
pm:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7C00
    ; The a.out kludge fields: our kernels put the header at the image's first byte.
    mov esi, KERNEL
    cmp dword [esi], 0x1BADB002
    jne .bad
    mov edi, [esi + 16]             ; load_addr
    mov ecx, [esi + 20]             ; load_end_addr
    sub ecx, edi
    cld
    rep movsb
    mov ecx, [KERNEL + 24]          ; bss_end_addr: zero from load_end up to it
    sub ecx, edi
    xor eax, eax
    rep stosb
    mov dword [MBI], 1 << 2         ; flags: cmdline valid
    mov dword [MBI + 16], CMDLINE
    mov ebx, MBI
    mov eax, 0x2BADB002
    jmp [KERNEL + 28]               ; entry_addr
.bad:
    hlt
    jmp .bad

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF           ; 0x08 flat code
    dq 0x00CF92000000FFFF           ; 0x10 flat data
gdt_ptr:
    dw gdt_ptr - gdt - 1
    dd gdt

drive:      db 0
msg_fail:   db "bochsboot: disk read failed", 0

times 510 - ($ - $$) db 0
    dw 0xAA55
