; Real mode: 16-bit addressing forms, segment arithmetic, INT n through
; the IVT (flags pushed, IF/TF cleared, IRET), string instructions with
; REP, LOOP, BCD, 16-bit MUL/DIV, the A20 gate on port 0x92. The real
; mode part stores results; the protected mode part checks them.
%define HAS_REAL_MAIN
%include "common.inc"

R       equ 0x600                       ; results, 4 bytes each

        [bits 16]
real_main:
        xor     ax, ax
        mov     ds, ax
        mov     es, ax
        ; addressing: [bx+si+disp], [bp+di] (SS), [si]
        mov     word [0x6100], 0x1111
        mov     word [0x6202], 0x2222
        mov     bx, 0x6000
        mov     si, 0x100
        mov     ax, [bx + si]
        mov     [R + 0], ax
        mov     bp, 0x6200
        mov     di, 2
        mov     ax, [bp + di]
        mov     [R + 4], ax
        ; segment:offset and 16-bit offset wrap
        mov     ax, 0x0650
        mov     es, ax
        mov     word [es:0x10], 0x3333          ; linear 0x6510
        mov     ax, [0x6510]
        mov     [R + 8], ax
        xor     ax, ax
        mov     es, ax
        ; INT 0x50 through the IVT
        mov     word [0x50 * 4], int50 - ROMBASE
        mov     word [0x50 * 4 + 2], 0xf000
        sti
        mov     cx, 0x4444
        int     0x50
        cli
        mov     [R + 12], cx
        ; REP STOSW / REP MOVSB / REPE CMPSB
        mov     di, 0x7000
        mov     ax, 0xa5a5
        mov     cx, 8
        cld
        rep     stosw
        mov     si, 0x7000
        mov     di, 0x7100
        mov     cx, 16
        rep     movsb
        mov     si, 0x7000
        mov     di, 0x7100
        mov     cx, 16
        repe    cmpsb
        mov     [R + 16], cx                    ; 0: all equal
        mov     byte [0x7105], 0
        mov     si, 0x7000
        mov     di, 0x7100
        mov     cx, 16
        repe    cmpsb
        mov     [R + 20], cx                    ; stops after the 6th byte: 10 left
        ; LOOP
        xor     ax, ax
        mov     cx, 10
.l:     add     ax, cx
        loop    .l
        mov     [R + 24], ax                    ; 55
        ; BCD: 0x19 + 0x28 = 0x47 with DAA; AAM/AAD
        mov     al, 0x19
        add     al, 0x28
        daa
        mov     [R + 28], al
        mov     al, 0x35
        sub     al, 0x17
        das
        mov     [R + 29], al                    ; 0x18
        mov     al, 79
        aam
        mov     [R + 30], ax                    ; 0x0709
        mov     ax, 0x0709
        aad
        mov     [R + 32], ax                    ; 79
        ; 16-bit MUL/DIV
        mov     ax, 0x1234
        mov     bx, 0x100
        mul     bx
        mov     [R + 36], ax
        mov     [R + 38], dx
        mov     dx, 0x0012
        mov     ax, 0x3456
        mov     bx, 0x100
        div     bx
        mov     [R + 40], ax
        mov     [R + 42], dx
        ; A20: disabled, 0xffff:0x0010 wraps to 0
        in      al, 0x92
        and     al, ~2
        out     0x92, al
        mov     ax, 0xffff
        mov     es, ax
        mov     byte [0], 0x11
        mov     byte [es:0x10], 0x22
        mov     al, [0]
        mov     [R + 44], al                    ; 0x22: wrapped
        in      al, 0x92
        or      al, 2
        out     0x92, al
        mov     byte [es:0x10], 0x33
        mov     al, [0]
        mov     [R + 45], al                    ; still 0x22
        mov     al, [es:0x10]
        mov     [R + 46], al                    ; 0x33 above 1 MiB
        xor     ax, ax
        mov     es, ax
        ret

int50:
        pushf
        pop     ax
        mov     [R + 48], ax                    ; IF cleared inside
        mov     bp, sp
        mov     ax, [bp + 4]
        mov     [R + 50], ax                    ; pushed FLAGS has IF
        mov     cx, 0x5555
        iret

        [bits 32]
test_main:
        CHECK_EQ word [R + 0], 0x1111, "[bx+si]"
        CHECK_EQ word [R + 4], 0x2222, "[bp+di]"
        CHECK_EQ word [R + 8], 0x3333, "segment base"
        CHECK_EQ word [R + 12], 0x5555, "INT through the IVT"
        test    word [R + 48], 0x200
        CHECK   z, "IF clear in the handler"
        test    word [R + 50], 0x200
        CHECK   nz, "IF set in the pushed FLAGS"
        CHECK_EQ word [R + 16], 0, "REPE CMPSB over equal bytes"
        CHECK_EQ word [R + 20], 10, "REPE CMPSB stops at a difference"
        CHECK_EQ dword [0x7100], 0xa5a5a5a5, "REP MOVSB copied"
        CHECK_EQ word [R + 24], 55, "LOOP"
        CHECK_EQ byte [R + 28], 0x47, "DAA"
        CHECK_EQ byte [R + 29], 0x18, "DAS"
        CHECK_EQ word [R + 30], 0x0709, "AAM"
        CHECK_EQ word [R + 32], 79, "AAD"
        CHECK_EQ word [R + 36], 0x3400, "MUL low"
        CHECK_EQ word [R + 38], 0x0012, "MUL high"
        CHECK_EQ word [R + 40], 0x1234, "DIV quotient"
        CHECK_EQ word [R + 42], 0x0056, "DIV remainder"
        CHECK_EQ byte [R + 44], 0x22, "A20 off wraps at 1 MiB"
        CHECK_EQ byte [R + 45], 0x22, "A20 on does not wrap"
        CHECK_EQ byte [R + 46], 0x33, "A20 on reaches 1 MiB"
        ret

        END_IMAGE
