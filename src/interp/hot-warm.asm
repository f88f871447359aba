; The hot loop warm-up program (src/interp/hot-warm.ts embeds its bytes): nasm -f bin hot-warm.asm
bits 64
; rsi = data (page-aligned, 0x10000), rsp = stack top (0x20000), rcx = loop counter
start:
  mov ecx, 3000
top:
  mov eax, ecx
  mov rbx, rcx
  add eax, ebx
  or eax, ebx
  and eax, 0x7fff
  sub eax, ebx
  xor edx, eax
  cmp eax, ebx
  test eax, ebx
  add rax, rbx
  or rax, rbx
  and rax, rbx
  sub rax, rbx
  xor rdx, rax
  cmp rax, rbx
  test rax, rbx
  add eax, 5
  sub rax, 100000
  cmp eax, 1
  cmp rax, -1
  and edx, 0xff0
  test edx, 0x10
  mov r8d, edx
  mov r9, rax
  mov edi, 12345
  mov rdi, 0x123456789
  mov qword [rsi+8], -5
  mov dword [rsi+16], 7
  mov byte [rsi+3], 9
  mov [rsi+rdx], ebx
  mov [rsi+rdx*2+8], rbx
  mov ebx, [rsi+rdx]
  mov rbx, [rsi+rdx*2+8]
  mov [rsi+5], bl
  mov al, [rsi+5]
  movzx eax, byte [rsi+5]
  movzx eax, bl
  movsxd rax, dword [rsi+16]
  movsxd rax, ebx
  lea eax, [rsi+rdx*4+8]
  lea rax, [rsi+rdx*8-8]
  lea rax, [rel top]
  add eax, [rsi+16]
  add rax, [rsi+8]
  cmp ebx, [rsi+16]
  xor [rsi+16], eax
  add [rsi+8], rax
  cmp [rsi+16], ebx
  test [rsi+8], rax
  add dword [rsi+16], 3
  sub qword [rsi+8], 3
  cmp dword [rsi+16], 3
  cmp byte [rsi+3], 9
  add byte [rsi+3], 1
  cmp byte [rsi+3], al
  xor [rsi+3], al
  mov eax, [rel data]
  imul eax, ebx
  imul eax, [rsi+16]
  imul eax, ebx, 1000
  imul eax, ebx, -3
  shl eax, 3
  shr eax, 2
  sar eax, 1
  shl rax, 40
  shr rax, 3
  sar rax, 35
  sar rax, 2
  shl rbx, 5
  inc eax
  dec eax
  inc rax
  dec rbx
  cmp eax, ebx
  setb dl
  setl dl
  seto dl
  setz dl
  cmovb eax, ebx
  cmovg eax, ebx
  push rax
  push rbx
  pop rbx
  pop rax
  call fn
  call far_fn
  cmp rax, rbx
  jo .a
.a: jno .b
.b: jb .c
.c: jae .d
.d: jz .e
.e: jnz .f
.f: jbe .g
.g: ja .h
.h: js .i
.i: jns .j
.j: jp .k
.k: jnp .l
.l: jl .m
.m: jge .n
.n: jle .o
.o: jg .p
.p: test eax, eax
  jz .q
.q: cmp al, 3
  jb .r
.r: cmp ax, 3
  jl .s
.s: add eax, ebx
  jc .t
.t: dec ecx
  jnz top
  jmp far_end
fn:
  ret
data: dd 42
align 4096
far_fn:
  ret
far_end:
  hlt
