; Virtual-8086 mode: enter through IRET with VM=1, real-mode style
; segments, IOPL-sensitive instructions (#GP with IOPL 0), INT n to a
; ring-0 handler with IOPL 3 (the V86 segment registers pushed, data
; segments nulled), IRET inside V86, leaving back to protected mode.
%include "common.inc"

V86_SS  equ 0x0900
V86_SP  equ 0x1000

; TO_V86 label, iopl: IRET into V86 mode at F000:label
%macro TO_V86 2
        push    dword 0                 ; GS
        push    dword 0                 ; FS
        push    dword 0x2000            ; DS
        push    dword 0x3000            ; ES
        push    dword V86_SS
        push    dword V86_SP
        push    dword 0x20002 | ((%2) << 12)
        push    dword 0xf000
        push    dword (%1) - ROMBASE
        iretd
%endmacro

test_main:
        ; ---- segment arithmetic and memory in V86 ----
        mov     dword [0x20010], 0
        EXPECT_FAULT .t1
        TO_V86  v86_a, 3
.t1:    CHECK_EXC 0x81, 0
        CHECK_EQ dword [exc_cs], 0xf000, "V86 CS saved by INT"
        mov     eax, [exc_eflags]
        test    eax, 0x20000
        CHECK   nz, "saved EFLAGS has VM"
        CHECK_EQ word [0x20010], 0x4242, "V86 store through DS=0x2000"
        CHECK_EQ word [0x30020], 0x4343, "V86 store through ES=0x3000"
        CHECK_EQ word [0x50000], 0x5555, "V86 store after MOV DS, 0x5000"
        ; the frame on the ring-0 stack: GS FS DS ES SS ESP EFLAGS CS EIP
        CHECK_EQ dword [ISTACK_TOP - 4], 0x1111, "pushed GS"
        CHECK_EQ dword [ISTACK_TOP - 8], 0, "pushed FS"
        CHECK_EQ dword [ISTACK_TOP - 12], 0x5000, "pushed DS"
        CHECK_EQ dword [ISTACK_TOP - 16], 0x3000, "pushed ES"
        CHECK_EQ dword [ISTACK_TOP - 20], V86_SS, "pushed SS"
        CHECK_EQ dword [scratch], 0x77, "IRET inside V86 returned"
        CHECK_EQ dword [scratch + 4], 0x3202, "PUSHF in V86 (IOPL 3, IF)"

        ; ---- IOPL 0: CLI, PUSHF and INT n fault with #GP(0) ----
        EXPECT_FAULT .t2
        TO_V86  v86_cli, 0
.t2:    CHECK_EXC 13, 0
        CHECK_EQ dword [exc_cs], 0xf000, "#GP from V86 saved CS"
        CHECK_EQ dword [exc_eip], v86_cli - ROMBASE, "#GP at the CLI"
        EXPECT_FAULT .t3
        TO_V86  v86_pushf, 0
.t3:    CHECK_EXC 13, 0
        EXPECT_FAULT .t4
        TO_V86  v86_int, 0
.t4:    CHECK_EXC 13, 0
        ; I/O is governed by the bitmap, not IOPL, in V86
        EXPECT_FAULT .t5
        TO_V86  v86_io, 0
.t5:    CHECK_EXC 13, 0
        CHECK_EQ dword [exc_eip], v86_io_int - ROMBASE, "I/O allowed by the bitmap in V86"
        ret

        [bits 16]
v86_a:
        mov     word [0x10], 0x4242     ; DS = 0x2000
        mov     word [es:0x20], 0x4343
        mov     ax, 0x5000
        mov     ds, ax
        mov     word [0], 0x5555
        mov     ax, 0x1111
        mov     gs, ax
        ; IRET within V86 (IOPL 3): push flags, cs, ip as an INT would
        pushf
        push    cs
        push    word .ret_here - ROMBASE
        iret
.ret_here:
        xor     ax, ax
        mov     es, ax
        mov     dword [es:scratch], 0x77
        pushf
        pop     ax
        or      ax, 0x200
        push    ax
        popf
        pushf
        pop     ax
        and     ax, 0xfffe & ~0x00d5    ; keep IOPL/IF/reserved, drop arithmetic
        movzx   eax, ax
        mov     [es:scratch + 4], eax
        mov     ax, 0x3000
        mov     es, ax
        int     0x81
        jmp     $

v86_cli:
        cli
        jmp     $
v86_pushf:
        pushf
        jmp     $
v86_int:
        int     0x81
        jmp     $
v86_io:
        mov     dx, 0x84
        in      al, dx
        out     0x84, al
v86_io_int:
        int     0x81                    ; IOPL 0: #GP, proving we got here
        jmp     $
        [bits 32]

        END_IMAGE
