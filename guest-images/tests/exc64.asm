; exc64.asm: exceptions in 64-bit mode, each printed with its vector, error code and frame:
; #DE #DB #BP #UD #NM #DF #NP #SS #GP and INT n through present, absent and out-of-limit gates.
; Every line is a deterministic fact QEMU and ringvm must agree on (or the SDM decides).

%include "common.inc"
%include "lib64.inc"

main:
    PRINT "exc64", 10
    PRINT "div by zero: "
    TRY
    xor edx, edx
    xor ecx, ecx
    mov eax, 1
    div ecx
    ENDTRY

    PRINT "int3: "
    TRY
    int3
    ENDTRY

    PRINT "int1 (icebp): "
    TRY
    db 0xF1
    ENDTRY

    PRINT "single step: "
    TRY
    pushfq
    or qword [rsp], 0x100
    popfq
    nop                             ; #DB after this one (TF was set by POPF: trap after next)
    nop
    ENDTRY
    PRINT "dr6 low bits: "
    mov rax, dr6
    and eax, 0x4000                 ; BS
    mov ecx, 4
    call puthex
    PRINT 10

    PRINT "ud2: "
    TRY
    ud2
    ENDTRY

    PRINT "into in 64-bit mode: "
    TRY
    db 0xCE
    ENDTRY

    PRINT "fninit with CR0.EM: "
    mov rax, cr0
    or eax, 1 << 2
    mov cr0, rax
    TRY
    fninit
    ENDTRY
    mov rax, cr0
    and eax, ~(1 << 2)
    mov cr0, rax

    PRINT "mov ds, not-present: "
    TRY
    mov ax, K_DATA_NP
    mov ds, ax
    ENDTRY

    PRINT "mov ds, past GDT limit: "
    TRY
    mov ax, 0x1238
    mov ds, ax
    ENDTRY

    PRINT "mov ss, null: "
    TRY
    xor eax, eax
    mov ss, ax
    ENDTRY
    mov ax, K_DATA
    mov ss, ax

    PRINT "non-canonical load: "
    TRY
    mov rax, 0x0000800000000000
    mov rax, [rax]
    ENDTRY

    PRINT "non-canonical stack: "
    TRY
    mov rbp, 0x8000000000001000
    mov rax, [rbp]
    ENDTRY

    PRINT "push on non-canonical rsp (#SS, #GP on IST1): "
    mov eax, 12
    lea rdx, [rel exc_stubs + 12 * exc_stub_size]
    mov r8d, 1
    call set_gate
    mov eax, 13
    lea rdx, [rel exc_stubs + 13 * exc_stub_size]
    call set_gate
    TRY
    mov rsp, 0x0000800000000008
    push rax
    ENDTRY
    PRINT "push on non-canonical rsp, #SS gate on the same stack: "
    mov eax, 12
    lea rdx, [rel exc_stubs + 12 * exc_stub_size]
    xor r8d, r8d
    call set_gate
    TRY
    mov rsp, 0x0000800000000008
    push rax
    ENDTRY
    mov eax, 13
    lea rdx, [rel exc_stubs + 13 * exc_stub_size]
    xor r8d, r8d
    call set_gate

    PRINT "wrmsr to unknown msr at "
    lea rax, [rel .wrmsr]
    call puthex16
    PRINT ": "
    TRY
    mov ecx, 0x12345678
    xor eax, eax
    xor edx, edx
.wrmsr:
    wrmsr
    ENDTRY

    PRINT "jmp non-canonical at "
    lea rax, [rel .jmp]
    call puthex16
    PRINT ": "
    TRY
    mov rax, 0x0000900000000000
.jmp:
    jmp rax
    ENDTRY

    PRINT "int 0x40, gate absent: "
    mov eax, 0x40
    lea rdx, [rel exc_stubs]
    mov r8d, 0x200                  ; not present
    call set_gate
    TRY
    int 0x40
    ENDTRY

    PRINT "int 0x41, past IDT limit: "
    mov word [rel idt_ptr], 0x41 * 16 - 1
    lidt [rel idt_ptr]
    TRY
    int 0x41
    ENDTRY
    mov word [rel idt_ptr], 256 * 16 - 1
    lidt [rel idt_ptr]

    PRINT "int 0x42 to a ring-0 code gate: "
    mov eax, 0x42
    lea rdx, [rel soft_handler]
    xor r8d, r8d
    call set_gate
    TRY
    mov eax, 0x1234
    int 0x42
    ENDTRY

    PRINT "#NP inside #NP delivery gives #DF: "
    mov eax, 11
    lea rdx, [rel exc_stubs]
    mov r8d, 0x200
    call set_gate                   ; #NP's own gate absent
    mov eax, 8
    lea rdx, [rel exc_stubs + 8 * exc_stub_size]
    mov r8d, 1                      ; #DF on IST1 (as the library sets it)
    call set_gate
    TRY
    int 0x40
    ENDTRY
    mov eax, 11
    lea rdx, [rel exc_stubs + 11 * exc_stub_size]
    xor r8d, r8d
    call set_gate
    ret

; soft_handler: a software-interrupt handler: prints what it got and returns with IRETQ.
soft_handler:
    PRINT "handler eax="
    mov ecx, 4
    call puthex
    PRINT " rip="
    mov rax, [rsp]
    mov ecx, 16
    call puthex
    PRINT " cs="
    mov rax, [rsp + 8]
    call puthex4
    PRINT " rflags="
    mov rax, [rsp + 16]
    mov ecx, 8
    call puthex
    PRINT 10
    iretq

puthex4:
    push rcx
    mov ecx, 4
    call puthex
    pop rcx
    ret

%include "end64.inc"
