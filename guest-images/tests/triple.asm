; triple.asm: a triple fault. With an IDT whose limit covers no gate, UD2 raises #UD, its delivery
; raises #GP (past the limit), that one's delivery #DF, and #DF's delivery faults again: the CPU
; shuts down. QEMU with -no-reboot then exits (status 0); ringvm stops with status 3. Nothing may
; be printed after the last line below.

%include "common.inc"
%include "lib64.inc"

main:
    PRINT "triple", 10
    PRINT "IDT limit 0, then ud2", 10
    lidt [rel empty_idt]
    ud2
    PRINT "still running after the triple fault", 10
    ret

align 8
empty_idt:
    dw 0
    dq idt

%include "end64.inc"
