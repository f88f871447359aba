; priv64.asm: privilege changes in long mode: the stack switch to TSS.RSP0 on an interrupt from
; ring 3 (SS becomes null), the IST, the 16-byte alignment of the frame, INT n through gates of
; DPL 0 and 3, IRETQ's checks, what ring 3 may not do (CLI, HLT, IN/OUT without IOPL, MOV CR),
; IOPL 3, alignment checks (#AC), and the sensitive instructions ring 3 may run (SGDT, SIDT,
; SMSW, STR, SLDT), which must show the guest's own tables.

%include "common.inc"
%include "lib64.inc"

main:
    PRINT "priv64", 10
    mov eax, 0x81                   ; DPL 3, no IST
    lea rdx, [rel show_frame]
    mov r8d, 0x60
    call set_gate
    mov eax, 0x82                   ; DPL 0
    lea rdx, [rel show_frame]
    xor r8d, r8d
    call set_gate
    mov eax, 0x83                   ; DPL 3, IST1
    lea rdx, [rel show_frame]
    mov r8d, 0x61
    call set_gate

    PRINT "ring 0 int 0x82, rsp = 8 mod 16: "
    TRY
    push rax                        ; RSP is 16-aligned in main after the call: now 8 mod 16
    int 0x82
    pop rax
    ENDTRY
    PRINT "ring 0 int 0x83 (IST1): "
    TRY
    int 0x83
    ENDTRY
    mov ax, K_DATA                  ; (QEMU 7.2 leaves SS null after an IST delivery: see docs)
    mov ss, ax
    PRINT "ring 3 int 0x81 (DPL 3): "
    TRY
    call user_mode
    push rax                        ; rsp 8 mod 16 in ring 3: the RSP0 frame is aligned anyway
    int 0x81
    int 0x80
    ENDTRY
    PRINT "ring 3 int 0x83 (DPL 3, IST1): "
    TRY
    call user_mode
    int 0x83
    int 0x80
    ENDTRY
    PRINT "ring 3 int 0x82 (DPL 0): "
    TRY
    call user_mode
    int 0x82
    int 0x80
    ENDTRY
    PRINT "ring 3 int3 through a DPL 0 gate: "
    TRY
    call user_mode
    int3
    int 0x80
    ENDTRY
    PRINT "ring 3 cli: "
    TRY
    call user_mode
    cli
    int 0x80
    ENDTRY
    PRINT "ring 3 hlt: "
    TRY
    call user_mode
    hlt
    int 0x80
    ENDTRY
    PRINT "ring 3 in al, 0x80: "
    TRY
    call user_mode
    in al, 0x80
    int 0x80
    ENDTRY
    PRINT "ring 3 mov rax, cr0: "
    TRY
    call user_mode
    mov rax, cr0
    int 0x80
    ENDTRY
    PRINT "ring 3 wrmsr: "
    TRY
    call user_mode
    wrmsr
    int 0x80
    ENDTRY
    PRINT "ring 3 mov ss, ring-0 data: "
    TRY
    call user_mode
    mov ax, K_DATA
    mov ss, ax
    int 0x80
    ENDTRY
    PRINT "ring 3 mov ds, ring-0 data: "
    TRY
    call user_mode
    mov ax, K_DATA
    mov ds, ax
    int 0x80
    ENDTRY
    PRINT "ring 3 with IOPL 3, in al, 0x80 and cli: "
    TRY
    lea rdi, [rel .iopl3]
    lea rsi, [rel ustack_top]
    mov edx, 0x3002
    jmp to_ring3
.iopl3:
    in al, 0x80
    cli
    int 0x80
    ENDTRY
    PRINT "ring 3 popf of IOPL 3 and IF: "
    TRY
    call user_mode
    push qword 0x3202
    popfq
    pushfq
    pop qword [rel saved]
    int 0x80
    ENDTRY
    PRINT "rflags after it: "
    mov rax, [rel saved]
    mov ecx, 8
    call puthex
    PRINT 10
    PRINT "iretq to ring 3 with SS.RPL 0: "
    TRY
    push qword U_DATA               ; RPL 0 != CS.RPL 3
    lea rax, [rel ustack_top]
    push rax
    push qword 2
    push qword U_CODE64 | 3
    lea rax, [rel .never]
    push rax
    iretq
.never:
    int 0x80
    ENDTRY
    PRINT "iretq to ring 3 through a ring-0 code selector with RPL 3: "
    TRY
    push qword U_DATA | 3
    lea rax, [rel ustack_top]
    push rax
    push qword 2
    push qword K_CODE | 3
    lea rax, [rel .never2]
    push rax
    iretq
.never2:
    int 0x80
    ENDTRY
    PRINT "iretq to ring 3 with a non-canonical RIP, iretq at "
    lea rax, [rel .nc_iret]
    call puthex16
    PRINT ": "
    TRY
    push qword U_DATA | 3
    lea rax, [rel ustack_top]
    push rax
    push qword 2
    push qword U_CODE64 | 3
    mov rax, 0x0000800000000000
    push rax
.nc_iret:
    iretq
    ENDTRY

    PRINT "ring 3 misaligned dword read, CR0.AM=1, AC=1, at "
    lea rax, [rel .acread]
    call puthex16
    PRINT ": "
    mov rax, cr0
    or eax, CR0_AM
    mov cr0, rax
    TRY
    lea rdi, [rel .ac]
    lea rsi, [rel ustack_top]
    mov edx, 0x40002
    jmp to_ring3
.ac:
.acread:
    mov eax, [rel ac_word + 1]
    int 0x80
    ENDTRY
    PRINT "ring 0 misaligned dword read, CR0.AM=1, AC=1: "
    TRY
    pushfq
    or dword [rsp], 0x40000
    popfq
    mov eax, [rel ac_word + 1]
    pushfq
    and dword [rsp], ~0x40000
    popfq
    ENDTRY
    mov rax, cr0
    and eax, ~CR0_AM
    mov cr0, rax

    ; a 64-bit call gate at 0x58 (DPL 3) to gate_target in ring 0
    lea rax, [rel gate_target]
    mov word [rel gdt + 0x58], ax
    mov word [rel gdt + 0x5A], K_CODE
    mov word [rel gdt + 0x5C], 0xEC00 ; present, DPL 3, type 0xC (64-bit call gate)
    shr rax, 16
    mov word [rel gdt + 0x5E], ax
    shr rax, 16
    mov dword [rel gdt + 0x60], eax
    mov dword [rel gdt + 0x64], 0
    PRINT "ring 3 far call through a DPL-3 call gate: "
    TRY
    call user_mode
    push rax                        ; ring-3 RSP = 8 mod 16
    call far dword [rel gate_ptr]   ; m16:32 (REX.W m16:64 is Intel-only)
    mov [rel back_rsp], rsp
    int 0x80
    ENDTRY
    PRINT "back in ring 3 after RETF, rsp="
    mov rax, [rel back_rsp]
    mov ecx, 16
    call puthex
    PRINT 10
    PRINT "ring 3 far jmp through it (to ring 0): "
    TRY
    call user_mode
    jmp far dword [rel gate_ptr]
    int 0x80
    ENDTRY
    PRINT "ring 3 far call through it with DPL 0: "
    mov byte [rel gdt + 0x5D], 0x8C ; present, DPL 0
    TRY
    call user_mode
    call far dword [rel gate_ptr]   ; m16:32 (REX.W m16:64 is Intel-only)
    int 0x80
    ENDTRY

    PRINT "iretq to ring 3 with DS/ES/GS = ring-0 data, FS = ring-3 data: "
    TRY
    mov ax, K_DATA
    mov ds, ax
    mov es, ax
    mov gs, ax
    mov ax, U_DATA | 3
    mov fs, ax
    lea rdi, [rel .r3segs]
    lea rsi, [rel ustack_top]
    mov edx, 2
    jmp to_ring3
.r3segs:
    mov [rel r3_segs], ds
    mov [rel r3_segs + 2], es
    mov [rel r3_segs + 4], fs
    mov [rel r3_segs + 6], gs
    int 0x80
    ENDTRY
    mov ax, K_DATA
    mov fs, ax
    mov gs, ax
    PRINT "ring 3 saw ds/es/fs/gs = "
    mov ecx, 4
    movzx eax, word [rel r3_segs]
    call puthex
    PRINT "/"
    movzx eax, word [rel r3_segs + 2]
    call puthex
    PRINT "/"
    movzx eax, word [rel r3_segs + 4]
    call puthex
    PRINT "/"
    movzx eax, word [rel r3_segs + 6]
    call puthex
    PRINT 10

    PRINT "ring 3 sgdt/sidt/str/sldt/smsw: "
    TRY
    call user_mode
    sgdt [rel u_gdtr]
    sidt [rel u_idtr]
    str word [rel u_tr]
    sldt word [rel u_ldtr]
    smsw word [rel u_msw]
    int 0x80
    ENDTRY
    PRINT "gdtr="
    movzx eax, word [rel u_gdtr]
    mov ecx, 4
    call puthex
    PRINT ":"
    mov rax, [rel u_gdtr + 2]
    mov ecx, 16
    call puthex
    PRINT " idtr="
    movzx eax, word [rel u_idtr]
    mov ecx, 4
    call puthex
    PRINT ":"
    mov rax, [rel u_idtr + 2]
    mov ecx, 16
    call puthex
    PRINT " tr="
    movzx eax, word [rel u_tr]
    mov ecx, 4
    call puthex
    PRINT " ldtr="
    movzx eax, word [rel u_ldtr]
    call puthex
    PRINT " msw="
    movzx eax, word [rel u_msw]
    call puthex
    PRINT 10
    ret

; gate_target: ring 0 by the call gate: show what the far call pushed on the RSP0 stack, return
; to ring 3 with a 64-bit far RET (pops RIP, CS, RSP, SS).
gate_target:
    PRINT "in ring 0, cs="
    mov ax, cs
    movzx eax, ax
    mov ecx, 4
    call puthex
    PRINT " ss="
    mov ax, ss
    movzx eax, ax
    call puthex
    PRINT " pushed rip="
    mov rax, [rsp]
    mov ecx, 16
    call puthex
    PRINT " cs="
    mov rax, [rsp + 8]
    mov ecx, 4
    call puthex
    PRINT " rsp="
    mov rax, [rsp + 16]
    mov ecx, 16
    call puthex
    PRINT " ss="
    mov rax, [rsp + 24]
    mov ecx, 4
    call puthex
    PRINT " at="
    mov rax, rsp
    mov ecx, 16
    call puthex
    PRINT 10
    o64 retf

align 8
gate_ptr: dd 0                      ; the offset is ignored through a call gate
          dw 0x58 | 3
align 8
r3_segs:  dw 0, 0, 0, 0
back_rsp: dq 0
saved:  dq 0
u_gdtr: dq 0, 0
u_idtr: dq 0, 0
u_tr:   dw 0
u_ldtr: dw 0
u_msw:  dw 0
align 8
ac_word: dq 0x1122334455667788

%include "end64.inc"
