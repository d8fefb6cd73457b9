; CPU benchmark guest (not a test: tests/bench/bench_cpu.py runs it).
; A multiboot kernel (a.out-kludge header, loads at 1 MiB) that turns on
; paging (4 KiB pages identity-mapping the first 256 MiB), then runs
;   1. a byte sieve of Eratosthenes over 64 MiB and counts the primes,
;   2. an integer mix (LCG, xorshift, multiply, divide, shifts),
;   3. an x87 mix (Leibniz series, sqrt), unless the command line has
;      "nofpu" or CPUID reports no FPU,
; prints the results on the debug console (port 0xe9) and leaves through
; isa-debug-exit (0x10 = results correct, 0x11 = wrong).
        cpu     686
        bits    32
        org     0x100000

MB_FLAGS        equ 0x00010003
PD              equ 0x200000
PT              equ 0x201000            ; 64 page tables
SIEVE           equ 0x1000000           ; 16 MiB
SIEVE_N         equ 64 * 1024 * 1024
PRIMES_BELOW_N  equ 3957809             ; pi(2^26)
MIX_ITERS       equ 20000000
FPU_ITERS       equ 4000000

header:
        dd      0x1badb002
        dd      MB_FLAGS
        dd      -(0x1badb002 + MB_FLAGS)
        dd      header                  ; header_addr
        dd      header                  ; load_addr
        dd      image_end               ; load_end_addr
        dd      bss_end                 ; bss_end_addr
        dd      start                   ; entry_addr

start:
        cli
        mov     esp, 0x90000
        mov     [mbi_ptr], ebx
        lgdt    [gdt_desc]
        jmp     0x08:.cs
.cs:    mov     ax, 0x10
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     fs, ax
        mov     gs, ax
        mov     esi, msg_start
        call    puts

        ; page tables: 64 x 1024 entries identity-mapping 256 MiB
        mov     edi, PT
        mov     eax, 3
        mov     ecx, 64 * 1024
.pt:    stosd
        add     eax, 0x1000
        loop    .pt
        mov     edi, PD
        mov     eax, PT | 3
        mov     ecx, 64
.pd:    stosd
        add     eax, 0x1000
        loop    .pd
        mov     ecx, 1024 - 64
        xor     eax, eax
        rep     stosd
        mov     eax, PD
        mov     cr3, eax
        mov     eax, cr0
        or      eax, 0x80000000
        mov     cr0, eax

        ; ---- 1. sieve -------------------------------------------------
        mov     edi, SIEVE
        mov     ecx, SIEVE_N / 4
        mov     eax, 0x01010101
        rep     stosd
        mov     word [SIEVE], 0
        mov     esi, 2
.outer: mov     eax, esi
        mul     esi
        cmp     eax, SIEVE_N
        jae     .count
        cmp     byte [SIEVE + esi], 0
        je      .next
        mov     edi, eax
.inner: mov     byte [SIEVE + edi], 0
        add     edi, esi
        cmp     edi, SIEVE_N
        jb      .inner
.next:  inc     esi
        jmp     .outer
.count: xor     eax, eax
        xor     ecx, ecx
.cnt:   movzx   edx, byte [SIEVE + ecx]
        add     eax, edx
        inc     ecx
        cmp     ecx, SIEVE_N
        jb      .cnt
        mov     [primes], eax
        mov     esi, msg_primes
        call    puts
        call    print_dec
        call    newline
        cmp     eax, PRIMES_BELOW_N
        je      .ok1
        mov     byte [bad], 1
.ok1:

        ; ---- 2. integer mix -------------------------------------------
        mov     ebx, 12345              ; LCG state
        mov     esi, 0x9e3779b9         ; xorshift state
        xor     edi, edi                ; accumulator
        mov     ebp, MIX_ITERS
.mix:   imul    ebx, ebx, 1103515245
        add     ebx, 12345
        mov     eax, esi
        shl     eax, 13
        xor     esi, eax
        mov     eax, esi
        shr     eax, 17
        xor     esi, eax
        mov     eax, esi
        shl     eax, 5
        xor     esi, eax
        mov     eax, ebx
        xor     edx, edx
        mov     ecx, esi
        or      ecx, 1
        div     ecx
        add     edi, edx
        rol     edi, 3
        test    ebx, 0x100
        jz      .m1
        sub     edi, eax
.m1:    dec     ebp
        jnz     .mix
        mov     [mixsum], edi
        mov     esi, msg_mix
        call    puts
        mov     eax, [mixsum]
        call    print_hex
        call    newline

        ; ---- 3. x87 mix -----------------------------------------------
        call    want_fpu
        test    eax, eax
        jz      .nofpu
        finit
        fldz                            ; sum
        fld1                            ; sign/term denominator d = 1
        mov     ecx, FPU_ITERS
.fp:    fld1
        fdiv    st0, st1                ; 1/d
        test    ecx, 1
        jnz     .fpneg
        faddp   st2, st0
        jmp     .fpn
.fpneg: fsubp   st2, st0
.fpn:   fld1
        fadd    st0, st0                ; 2
        faddp   st1, st0                ; d += 2
        dec     ecx
        jnz     .fp
        fstp    st0
        fld     dword [four]
        fmulp   st1, st0                ; pi approx
        fld     st0
        fsqrt
        fmulp   st1, st0                ; pi * sqrt(pi)
        fimul   dword [million]
        fistp   dword [fpres]
        mov     esi, msg_fpu
        call    puts
        mov     eax, [fpres]
        call    print_dec
        call    newline
        ; pi^1.5 * 1e6 = 5568328 (to within the series error)
        mov     eax, [fpres]
        sub     eax, 5568328
        cmp     eax, 3
        jg      .fpbad
        cmp     eax, -3
        jge     .done
.fpbad: mov     byte [bad], 1
        jmp     .done
.nofpu: mov     esi, msg_nofpu
        call    puts
.done:
        cmp     byte [bad], 0
        jne     .fail
        mov     esi, msg_ok
        call    puts
        mov     al, 0x10
        out     0xf4, al
        jmp     $
.fail:  mov     esi, msg_fail
        call    puts
        mov     al, 0x11
        out     0xf4, al
        jmp     $

; want_fpu: EAX = 1 if CPUID has FPU and the command line lacks "nofpu"
want_fpu:
        push    ebx
        push    ecx
        push    edx
        push    esi
        mov     eax, 1
        cpuid
        and     edx, 1
        jz      .no
        mov     ebx, [mbi_ptr]
        test    dword [ebx], 4          ; cmdline present
        jz      .yes
        mov     esi, [ebx + 16]
.scan:  cmp     byte [esi], 0
        je      .yes
        cmp     dword [esi], 'nofp'
        jne     .nx
        cmp     byte [esi + 4], 'u'
        je      .no
.nx:    inc     esi
        jmp     .scan
.yes:   mov     eax, 1
        jmp     .out
.no:    xor     eax, eax
.out:   pop     esi
        pop     edx
        pop     ecx
        pop     ebx
        ret

puts:   push    eax
        push    edx
        mov     dx, 0xe9
.l:     lodsb
        test    al, al
        jz      .d
        out     dx, al
        jmp     .l
.d:     pop     edx
        pop     eax
        ret

newline:
        push    eax
        mov     al, 10
        out     0xe9, al
        pop     eax
        ret

print_hex:
        pushad
        mov     ecx, 8
        mov     ebx, eax
.h:     rol     ebx, 4
        mov     al, bl
        and     al, 15
        add     al, '0'
        cmp     al, '9'
        jbe     .o
        add     al, 7
.o:     out     0xe9, al
        loop    .h
        popad
        ret

print_dec:
        pushad
        mov     ebx, 10
        xor     ecx, ecx
.dv:    xor     edx, edx
        div     ebx
        push    edx
        inc     ecx
        test    eax, eax
        jnz     .dv
.pr:    pop     eax
        add     al, '0'
        out     0xe9, al
        loop    .pr
        popad
        ret

        align   8
gdt:    dq      0
        dq      0x00cf9a000000ffff
        dq      0x00cf92000000ffff
gdt_desc:
        dw      23
        dd      gdt
four:   dd      4.0
million: dd     1000000
msg_start: db   "bench-cpu: start", 10, 0
msg_primes: db  "primes below 2^26: ", 0
msg_mix: db     "integer mix: ", 0
msg_fpu: db     "x87 mix: ", 0
msg_nofpu: db   "x87 mix: skipped", 10, 0
msg_ok: db      "bench-cpu: ok", 10, 0
msg_fail: db    "bench-cpu: WRONG RESULT", 10, 0
        align   4
mbi_ptr: dd     0
primes: dd      0
mixsum: dd      0
fpres:  dd      0
bad:    dd      0
image_end:
bss_end:
