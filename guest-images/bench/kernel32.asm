; kernel32.asm: the 32-bit bench kernel. Multiboot enters in flat protected mode; the kernel
; loads its own GDT (ring-0 and ring-3 flat segments, a TSS), an IDT whose vector 0x80 is callable
; from ring 3, and IRETs to ring 3 to run workload(N), N from the command-line word iters=N
; (support.c). Paging stays off: this kernel has nothing to protect. The user code hands the
; checksum back with INT 0x80; the kernel prints "checksum=0x... iterations=N" on COM1 and writes
; 0x10 to isa-debug-exit (host status 33). A CPU exception prints its vector and exits with 0x02
; (status 5). Interrupts stay off throughout (EFLAGS.IF = 0 in ring 3 too).

bits 32

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ 0x00010000
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
    dd mb_header, mb_header, image_load_end, image_bss_end, start32

section .text
global start32
start32:
    cmp eax, MB_BOOTED
    jne .not_multiboot
    lgdt [gdt_ptr]
    jmp SEL_KCODE:.reload
.reload:
    mov ax, SEL_KDATA
    mov ss, ax
    mov esp, kstack_top
    ; DS/ES get the ring-3 data selector now: at CPL 0 it works the same (flat), and IRET to
    ; ring 3 keeps it instead of nulling a DPL-0 selector.
    mov ax, SEL_UDATA
    mov ds, ax
    mov es, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax

    ; TSS: ESP0/SS0 is where INT 0x80 from ring 3 lands; base patched into the descriptor.
    mov dword [tss + 4], kstack_top
    mov dword [tss + 8], SEL_KDATA
    mov word [tss + 102], 104       ; no I/O bitmap
    mov eax, tss
    mov [gdt.tss + 2], ax
    shr eax, 16
    mov [gdt.tss + 4], al
    mov [gdt.tss + 7], ah
    mov ax, SEL_TSS
    ltr ax

    xor ecx, ecx
.idt:
    mov eax, ecx
    shl eax, 4
    add eax, fault_stubs
    mov edx, 0x8E00                 ; present, DPL 0, 32-bit interrupt gate
    call set_gate
    inc ecx
    cmp ecx, 32
    jb .idt
    mov ecx, 0x80
    mov eax, syscall_entry
    mov edx, 0xEE00                 ; present, DPL 3
    call set_gate
    lidt [idt_ptr]

    xor eax, eax
    test dword [ebx], 1 << 2        ; multiboot flags bit 2: cmdline (offset 16) valid
    jz .no_cmdline
    mov eax, [ebx + 16]
.no_cmdline:
    push eax
    call bench_parse_iters
    add esp, 4
    mov [iters], eax

    ; Drop to ring 3: IRET pops EIP, CS, EFLAGS, ESP, SS. EBX carries the argument through.
    mov ebx, eax
    push SEL_UDATA
    push ustack_top
    push 0x2                        ; EFLAGS: IF = 0, IOPL 0
    push SEL_UCODE
    push user_entry
    iret
.not_multiboot:
    mov al, 0x01
    out EXIT_PORT, al
    hlt

; set_gate: IDT entry ECX -> handler EAX with type/attribute word EDX.
set_gate:
    lea esi, [idt + ecx * 8]
    mov [esi], ax                   ; offset 15:0
    mov word [esi + 2], SEL_KCODE
    mov [esi + 4], dx               ; type and attributes
    shr eax, 16
    mov [esi + 6], ax               ; offset 31:16
    ret

; Ring 3: cdecl call with ESP 16-byte aligned at the call, then the checksum to the kernel.
user_entry:
    sub esp, 12
    push ebx
    call workload
    int 0x80
    jmp user_entry                  ; not reached

; INT 0x80 from ring 3, on ESP0: EAX is the checksum.
syscall_entry:
    push dword [iters]
    push eax
    call bench_report
    mov al, 0x10
    out EXIT_PORT, al
.halt:
    hlt
    jmp .halt

align 16
fault_stubs:
%assign v 0
%rep 32
    align 16
    push v
    jmp fault_common
%assign v v + 1
%endrep
fault_common:
    call bench_fault                ; the vector pushed by the stub is its argument
    mov al, 0x02
    out EXIT_PORT, al
.halt:
    hlt
    jmp .halt

section .data
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF           ; 0x08 kernel code
    dq 0x00CF92000000FFFF           ; 0x10 kernel data
    dq 0x00CFFA000000FFFF           ; 0x18 user code, DPL 3
    dq 0x00CFF2000000FFFF           ; 0x20 user data, DPL 3
.tss:
    dq 0x0000890000000067           ; 0x28 TSS (available, limit 103); base patched at start
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dd gdt
idt_ptr:
    dw 256 * 8 - 1
    dd idt

section .bss
alignb 16
idt:        resb 256 * 8
tss:        resb 104
iters:      resd 1
alignb 16
kstack:     resb 8192
kstack_top:
ustack:     resb 16384
ustack_top:
