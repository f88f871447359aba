; programs.asm: the user programs, built separately (user/) and embedded here as flat binaries.
; programs_table is {name, start, end} per program, then a zero entry (kernel.h: struct program).
; The Makefile passes the build directory with -I so that incbin finds them, and -DPTR=dd for
; the 32-bit kernel (pointers are 4 bytes there).

%ifndef PTR
%define PTR dq
%endif
global programs_table

%macro PROGRAM 1
section .rodata
prog_%1_name: db %str(%1), 0
align 16
prog_%1_start: incbin %str(%1.bin)
prog_%1_end:
%endmacro

PROGRAM redpill
PROGRAM procs
PROGRAM alpha
PROGRAM beta
PROGRAM smc
PROGRAM faults
PROGRAM bench
PROGRAM sysbench
PROGRAM ctxbench
PROGRAM jitbench

section .rodata
align 8
programs_table:
%macro ENTRY 1
    PTR prog_%1_name, prog_%1_start, prog_%1_end
%endmacro
ENTRY redpill
ENTRY procs
ENTRY alpha
ENTRY beta
ENTRY smc
ENTRY faults
ENTRY bench
ENTRY sysbench
ENTRY ctxbench
ENTRY jitbench
    PTR 0, 0, 0
