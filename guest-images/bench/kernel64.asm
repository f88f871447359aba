; kernel64.asm: the 64-bit bench kernel. Multiboot entry in 32-bit protected mode, the switch to
; long mode (identity map of the first 1 GiB in 2 MiB pages, user-accessible), a GDT with ring-3
; segments and a TSS, an IDT whose vector 0x80 is callable from ring 3, then IRETQ to ring 3 to run
; workload(N), N from the command line word iters=N (support.c). The user code hands the
; checksum back with INT 0x80; the kernel prints "checksum=0x... iterations=N" on COM1 and writes
; 0x10 to isa-debug-exit (host status 33). Any CPU exception prints its vector and exits with 0x02
; (status 5). Interrupts stay off throughout (RFLAGS.IF = 0 in ring 3 too): no timer, no noise.

bits 32

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ 0x00010000          ; bit 16: a.out kludge, the address fields below are valid
MB_BOOTED   equ 0x2BADB002
EXIT_PORT   equ 0xF4

SEL_KCODE   equ 0x08
SEL_KDATA   equ 0x10
SEL_UCODE   equ 0x18 | 3
SEL_UDATA   equ 0x20 | 3
SEL_TSS     equ 0x28

extern image_load_end, image_bss_end
extern workload, bench_parse_iters, bench_report, bench_fault

section .multiboot
mb_header:
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
    dd mb_header                    ; header_addr
    dd mb_header                    ; load_addr: the header is the image's first byte
    dd image_load_end               ; load_end_addr
    dd image_bss_end                ; bss_end_addr: the loader zeroes the bss
    dd start32                      ; entry_addr

section .text
global start32
start32:
    cmp eax, MB_BOOTED
    jne .not_multiboot
    mov [mbi_ptr], ebx
    lgdt [gdt_ptr]
    mov ax, SEL_KDATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, kstack_top

    ; PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] = 2 MiB page i. U/S set at every level so ring 3 can
    ; run the workload where the linker put it (this kernel protects nothing from its one program).
    mov dword [pml4], pdpt + 7      ; present, writable, user
    mov dword [pdpt], pd + 7
    xor ecx, ecx
.map:
    mov eax, ecx
    shl eax, 21
    or eax, 0x87                    ; present, writable, user, 2 MiB page
    mov [pd + ecx * 8], eax
    inc ecx
    cmp ecx, 512
    jb .map

    mov eax, cr4
    or eax, 1 << 5                  ; PAE
    mov cr4, eax
    mov eax, pml4
    mov cr3, eax
    mov ecx, 0xC0000080             ; EFER
    rdmsr
    or eax, 1 << 8                  ; LME
    wrmsr
    mov eax, cr0
    or eax, 1 << 31                 ; PG: long mode is active from here, compatibility mode
    mov cr0, eax
    jmp SEL_KCODE:start64
.not_multiboot:
    mov al, 0x01
    out EXIT_PORT, al
    hlt

bits 64
start64:
    mov ax, SEL_KDATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, kstack_top

    ; TSS: RSP0 is where INT 0x80 from ring 3 lands. The descriptor's base is patched in here
    ; because its bits are scattered over the descriptor.
    mov rax, kstack_top
    mov [tss + 4], rax
    mov word [tss + 102], 104       ; I/O bitmap offset past the limit: no bitmap
    mov rax, tss
    mov [gdt.tss + 2], ax           ; base 15:0
    shr rax, 16
    mov [gdt.tss + 4], al           ; base 23:16
    mov [gdt.tss + 7], ah           ; base 31:24
    mov ax, SEL_TSS
    ltr ax

    ; IDT: vectors 0-31 to the fault stubs (DPL 0), 0x80 to the system call (DPL 3).
    xor ecx, ecx
.idt:
    mov eax, ecx
    shl eax, 4
    add rax, fault_stubs
    mov edx, 0x8E00                 ; present, DPL 0, 64-bit interrupt gate
    call set_gate
    inc ecx
    cmp ecx, 32
    jb .idt
    mov ecx, 0x80
    mov rax, syscall_entry
    mov edx, 0xEE00                 ; present, DPL 3
    call set_gate
    lidt [idt_ptr]

    ; The multiboot info's flags bit 2 says the command line pointer (offset 16) is valid.
    xor edi, edi
    mov ebx, [mbi_ptr]
    test dword [rbx], 1 << 2
    jz .no_cmdline
    mov edi, [rbx + 16]
.no_cmdline:
    call bench_parse_iters
    mov [iters], eax

    ; Drop to ring 3: IRETQ pops RIP, CS, RFLAGS, RSP, SS. EDI carries the argument through.
    mov edi, eax
    push SEL_UDATA
    push ustack_top
    push 0x2                        ; RFLAGS: IF = 0, IOPL 0
    push SEL_UCODE
    push user_entry
    iretq

; set_gate: IDT entry ECX -> handler RAX with type/attribute word EDX (bits 8-15 of dword 1).
set_gate:
    mov esi, ecx
    shl esi, 4
    add rsi, idt
    mov [rsi], ax                   ; offset 15:0
    mov word [rsi + 2], SEL_KCODE
    mov [rsi + 4], dx               ; IST 0, type and attributes
    shr rax, 16
    mov [rsi + 6], ax               ; offset 31:16
    shr rax, 16
    mov [rsi + 8], eax              ; offset 63:32
    mov dword [rsi + 12], 0
    ret

; Ring 3: the workload, then its checksum to the kernel. RSP is 16-byte aligned before the call.
user_entry:
    call workload
    mov edi, eax
    int 0x80
    jmp user_entry                  ; not reached

; INT 0x80 from ring 3, on RSP0: report and leave.
syscall_entry:
    and rsp, -16
    mov esi, [iters]
    call bench_report
    mov al, 0x10
    out EXIT_PORT, al
.halt:
    hlt
    jmp .halt

; One 16-byte stub per exception vector, so the stub's address tells the vector.
align 16
fault_stubs:
%assign v 0
%rep 32
    align 16
    mov edi, v
    jmp fault_common
%assign v v + 1
%endrep
fault_common:
    mov rsp, kstack_top
    call bench_fault
    mov al, 0x02
    out EXIT_PORT, al
.halt:
    hlt
    jmp .halt

section .data
align 8
gdt:
    dq 0
    dq 0x00AF9A000000FFFF           ; 0x08 kernel code, 64-bit
    dq 0x00CF92000000FFFF           ; 0x10 kernel data
    dq 0x00AFFA000000FFFF           ; 0x18 user code, 64-bit, DPL 3
    dq 0x00CFF2000000FFFF           ; 0x20 user data, DPL 3
.tss:
    dq 0x0000890000000067           ; 0x28 TSS (available, limit 103); base patched at start64
    dq 0                            ;      upper half: base 63:32 = 0
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dq gdt                          ; lgdt in 32-bit mode reads only the low 4 bytes
idt_ptr:
    dw 256 * 16 - 1
    dq idt

section .bss
alignb 4096
pml4:       resq 512
pdpt:       resq 512
pd:         resq 512
idt:        resb 256 * 16
tss:        resb 104
mbi_ptr:    resd 1
iters:      resd 1
alignb 16
kstack:     resb 8192
kstack_top:
ustack:     resb 16384
ustack_top:
