; hello.asm: ringvm's first guest image, a multiboot v1 kernel that goes from 32-bit protected
; mode into 64-bit long mode with page tables of its own, then talks to the COM1 UART the way a
; real driver does: it prints a greeting and the CPUID vendor string and leaves through the
; isa-debug-exit port 0xF4. It is written to be read by students, so every step says why.
;
; Build: nasm -f bin -o hello.bin hello.asm  (see ../Makefile). The output is a flat binary loaded
; at 1 MiB; the multiboot header carries the load addresses itself (the "a.out kludge", flag bit
; 16), which is how QEMU's -kernel accepts a kernel that is not an ELF32 file.
;
; Exit status seen by the host (QEMU's isa-debug-exit turns a write of V into (V << 1) | 1; ringvm
; does the same):
;   0x10 -> 33  success: both lines printed
;   0x01 ->  3  not started by a multiboot loader (EAX != 0x2BADB002 on entry)

bits 32
org 0x100000                        ; the loader puts the first byte of this file here

; ---- multiboot v1 header (must lie in the first 8 KiB, 4-byte aligned) ----------------------

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ 0x00010000          ; bit 16: the address fields below are valid
MB_BOOTED   equ 0x2BADB002          ; what a multiboot loader leaves in EAX

mb_header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)       ; checksum: the three words sum to zero
    dd mb_header                    ; header_addr: where this header is loaded
    dd mb_header                    ; load_addr: the file's first byte goes here
    dd load_end                     ; load_end_addr: end of the bytes taken from the file
    dd bss_end                      ; bss_end_addr: the loader zeroes up to here
    dd start32                      ; entry_addr

; ---- constants ------------------------------------------------------------------------------

COM1        equ 0x3F8               ; first serial port: data / divisor low (DLAB=1)
COM1_IER    equ COM1 + 1            ; interrupt enable / divisor high (DLAB=1)
COM1_FCR    equ COM1 + 2            ; FIFO control
COM1_LCR    equ COM1 + 3            ; line control (bit 7 = DLAB)
COM1_MCR    equ COM1 + 4            ; modem control
COM1_LSR    equ COM1 + 5            ; line status (bit 5 = THR empty)
LSR_THRE    equ 0x20

EXIT_PORT   equ 0xF4                ; isa-debug-exit
EXIT_OK     equ 0x10                ; host sees status 33
EXIT_NOT_MB equ 0x01                ; host sees status 3

CR0_PG      equ 1 << 31
CR4_PAE     equ 1 << 5
MSR_EFER    equ 0xC0000080
EFER_LME    equ 1 << 8

PTE_P       equ 1 << 0              ; present
PTE_W       equ 1 << 1              ; writable
PTE_PS      equ 1 << 7              ; in a page directory: this entry maps a 2 MiB page

SEL_CODE64  equ gdt.code64 - gdt
SEL_DATA    equ gdt.data - gdt

; ---- 32-bit entry: protected mode, paging off, interrupts off --------------------------------

start32:
    cmp eax, MB_BOOTED              ; without a multiboot loader nothing below can be trusted
    jne not_multiboot

    ; The loader's GDT may be gone already: load ours before touching any segment register.
    lgdt [gdt_ptr]
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, stack_top

    ; Clear the page tables ourselves rather than trust bss zeroing.
    cld
    mov edi, tables_start
    mov ecx, (tables_end - tables_start) / 4
    xor eax, eax
    rep stosd

    ; 4-level identity map of the first 8 MiB: PML4[0] -> PDPT, PDPT[0] -> PD, PD[0..3] are
    ; 2 MiB pages. Everything this kernel touches lives below 2 MiB.
    mov dword [pml4], pdpt + (PTE_P | PTE_W)
    mov dword [pdpt], pd + (PTE_P | PTE_W)
    mov edi, pd
    mov eax, PTE_P | PTE_W | PTE_PS ; physical address 0
    mov ecx, 4
.map:
    mov [edi], eax                  ; the high dword stays zero: addresses are below 4 GiB
    add eax, 0x200000
    add edi, 8
    loop .map

    ; Long mode needs, in this order: PAE on, CR3 set, EFER.LME on, then paging on. The CPU
    ; then runs in compatibility mode until a far jump loads a 64-bit code segment.
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, pml4
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME
    wrmsr
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax
    jmp SEL_CODE64:start64

not_multiboot:
    mov al, EXIT_NOT_MB
    out EXIT_PORT, al
.halt:
    hlt
    jmp .halt

; ---- 64-bit code -----------------------------------------------------------------------------

bits 64

start64:
    mov ax, SEL_DATA                ; data segments are mostly ignored in long mode, but keep
    mov ds, ax                      ; them valid so nothing depends on the loader's values
    mov es, ax
    mov ss, ax
    mov rsp, stack_top

    call uart_init
    lea rsi, [rel msg_hello]
    call puts

    ; CPUID leaf 0: the vendor string is 12 bytes in EBX, EDX, ECX (in that order).
    xor eax, eax
    cpuid
    mov [rel vendor], ebx
    mov [rel vendor + 4], edx
    mov [rel vendor + 8], ecx
    mov byte [rel vendor + 12], 0   ; terminate it ourselves too: no trust in bss zeroing
    lea rsi, [rel msg_vendor]
    call puts
    lea rsi, [rel vendor]
    call puts
    lea rsi, [rel msg_newline]
    call puts

    mov al, EXIT_OK
    out EXIT_PORT, al
.halt:                              ; only reached if nothing listens on port 0xF4
    hlt
    jmp .halt

; uart_init: 115200 baud (divisor 1), 8 data bits, no parity, 1 stop bit, FIFOs on, no
; interrupts (this kernel polls).
uart_init:
    mov dx, COM1_IER
    mov al, 0x00                    ; all UART interrupts off
    out dx, al
    mov dx, COM1_LCR
    mov al, 0x80                    ; DLAB = 1: the next two registers are the divisor
    out dx, al
    mov dx, COM1
    mov al, 1                       ; divisor low byte: 115200 / 1
    out dx, al
    mov dx, COM1_IER
    mov al, 0                       ; divisor high byte
    out dx, al
    mov dx, COM1_LCR
    mov al, 0x03                    ; DLAB = 0, 8 bits, no parity, 1 stop bit
    out dx, al
    mov dx, COM1_FCR
    mov al, 0xC7                    ; FIFOs on, both cleared, receive threshold 14 bytes
    out dx, al
    mov dx, COM1_MCR
    mov al, 0x03                    ; DTR and RTS asserted
    out dx, al
    ret

; putc: send AL, waiting until the transmit holding register is empty.
putc:
    push rax
    mov dx, COM1_LSR
.wait:
    in al, dx
    test al, LSR_THRE
    jz .wait
    pop rax
    mov dx, COM1
    out dx, al
    ret

; puts: send the zero-terminated string at RSI; "\n" goes out as "\r\n" like a terminal wants.
puts:
.next:
    lodsb
    test al, al
    jz .done
    cmp al, 10
    jne .plain
    mov al, 13
    call putc
    mov al, 10
.plain:
    call putc
    jmp .next
.done:
    ret

; ---- data ------------------------------------------------------------------------------------

align 8
gdt:
    dq 0                            ; the null descriptor
.code64:
    dq 0x00AF9A000000FFFF           ; code, DPL 0, present, L = 1 (64-bit), G = 1
.data:
    dq 0x00CF92000000FFFF           ; data, read/write, DPL 0, present, 4 GiB flat
gdt_end:

gdt_ptr:
    dw gdt_end - gdt - 1            ; limit
    dd gdt                          ; base (lgdt in 32-bit mode reads 6 bytes)

msg_hello:   db "Hello from ringvm's hello kernel (64-bit long mode)", 10, 0
msg_vendor:  db "CPU vendor: ", 0
msg_newline: db 10, 0

load_end:                           ; everything below is bss: not in the file

; ---- bss: zeroed by the loader, never stored in hello.bin --------------------------------------

absolute load_end
vendor:      resb 13                ; 12 characters and the terminating zero

alignb 4096
tables_start:
pml4:        resq 512
pdpt:        resq 512
pd:          resq 512
tables_end:

stack:       resb 4096
stack_top:
bss_end:
