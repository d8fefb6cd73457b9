; MMX and FXSAVE/FXRSTOR in a bare machine: lane arithmetic with
; saturation, packs and unpacks, shifts past the lane width, MOVD/MOVQ,
; the aliasing of MMi onto the x87 register Ri (TOP 0, EMMS emptying the
; tags), #UD under CR0.EM and #NM under CR0.TS, the FXSAVE image and #GP
; for a misaligned one, and the CPUID bits. (The exponent an MMX write
; leaves in Ri and EMMS under CR0.EM, which QEMU gets wrong, are checked
; in fpu-x87-strict.asm.)
%include "common.inc"

T       equ scratch
FXAREA  equ 0x6000              ; 16-byte aligned, 512 bytes

; CHECK_MM mmreg, expected64, "what"
%macro CHECK_MM 3
        movq    [T], %1
        cmp     dword [T], (%2) & 0xffffffff
        CHECK   e, %3
        cmp     dword [T + 4], (%2) >> 32
        CHECK   e, %3
%endmacro

test_main:
        mov     eax, cr0
        and     eax, ~0x0c                      ; EM, TS
        or      eax, 0x22                       ; NE, MP
        mov     cr0, eax
        call    t_cpuid
        call    t_mmx
        call    t_alias
        call    t_mmx_faults
        call    t_fxsave
        ret

t_cpuid:
        mov     eax, 1
        cpuid
        test    edx, 1
        CHECK   nz, "CPUID FPU"
        test    edx, 1 << 15
        CHECK   nz, "CPUID CMOV (FCMOVcc)"
        test    edx, 1 << 23
        CHECK   nz, "CPUID MMX"
        test    edx, 1 << 24
        CHECK   nz, "CPUID FXSR"
        ret

t_mmx:
        fninit
        movq    mm0, [a]
        paddb   mm0, [b]
        CHECK_MM mm0, 0x8000fe007e80fe01, "PADDB wraps"
        movq    mm1, [a]
        paddsb  mm1, [b]
        CHECK_MM mm1, 0x80807f007e7ffe01, "PADDSB saturates"
        movq    mm2, [a]
        paddusb mm2, [b]
        CHECK_MM mm2, 0x80fffeffff80ff01, "PADDUSB saturates"
        movq    mm3, [w1]
        pmaddwd mm3, [w2]
        CHECK_MM mm3, 0x000000010000000c, "PMADDWD"
        movq    mm4, [w1]
        pmulhw  mm4, [w2]
        CHECK_MM mm4, 0xffff000000000000, "PMULHW"
        movq    mm4, [w1]
        pmullw  mm4, [w2]
        CHECK_MM mm4, 0xffff000200060006, "PMULLW"
        movq    mm5, [w3]
        packsswb mm5, [w3]
        CHECK_MM mm5, 0x7f7f80107f7f8010, "PACKSSWB"
        movq    mm5, [w3]
        packuswb mm5, [w3]
        CHECK_MM mm5, 0xffff0010ffff0010, "PACKUSWB"
        movq    mm6, [a]
        punpcklbw mm6, [b]
        CHECK_MM mm6, 0x7fff7f01ffff0001, "PUNPCKLBW"
        movq    mm6, [w1]
        pcmpgtw mm6, [w2]
        CHECK_MM mm6, 0x000000000000ffff, "PCMPGTW"
        movq    mm7, [a]
        psllq   mm7, 64
        CHECK_MM mm7, 0, "PSLLQ by 64"
        movq    mm7, [w3]
        psraw   mm7, 20
        CHECK_MM mm7, 0x00000000ffff0000, "PSRAW by 20 fills the sign"
        movq    mm7, [w3]
        mov     eax, 4
        movd    mm6, eax
        psrlw   mm7, mm6
        CHECK_MM mm7, 0x0010070008000001, "PSRLW by MM"
        movq    mm0, [a]
        movd    eax, mm0
        CHECK_EQ eax, 0xff01ff01, "MOVD r32, mm"
        pxor    mm0, mm0
        CHECK_MM mm0, 0, "PXOR"
        emms
        ret

t_alias:
        fninit
        fld1                                    ; TOP 7, R7 = 1.0
        movq    mm1, [a]                        ; writes R1
        fnstsw  ax
        and     ax, 0x3800
        CHECK_EQ ax, 0, "an MMX instruction sets TOP to 0"
        fnsave  [T + 0x40]                      ; TOP 0: ST(i) = Ri
        CHECK_EQ dword [T + 0x40 + 28 + 10], 0xff01ff01, "MM1 is R1's significand"
        CHECK_EQ word [T + 0x40 + 28 + 78], 0x3fff, "R7 still holds 1.0"
        frstor  [T + 0x40]
        emms
        fnstenv [T + 0x40]
        CHECK_EQ word [T + 0x40 + 8], 0xffff, "EMMS empties the tag word"
        fninit
        ret

t_mmx_faults:
        mov     eax, cr0
        or      eax, 0x04                       ; EM
        mov     cr0, eax
        EXPECT_FAULT .ud
        paddb   mm0, mm1
.ud:    CHECK_EXC 6, -1
        mov     eax, cr0
        and     eax, ~0x04
        or      eax, 0x08                       ; TS
        mov     cr0, eax
        EXPECT_FAULT .nm
        paddb   mm0, mm1
.nm:    CHECK_EXC 7, -1
        EXPECT_FAULT .nm2
        fxsave  [FXAREA]
.nm2:   CHECK_EXC 7, -1
        clts
        ; the 66-prefixed (SSE2) form with CR4.OSFXSR clear: #UD
        EXPECT_FAULT .ud3
        db      0x66, 0x0f, 0xfc, 0xc1          ; paddb xmm0, xmm1
.ud3:   CHECK_EXC 6, -1
        ret

t_fxsave:
        fninit
        fld1
        fldpi
        mov     edi, FXAREA
        mov     ecx, 512 / 4
        mov     eax, 0xaaaaaaaa
        rep     stosd
        fxsave  [FXAREA]
        CHECK_EQ word [FXAREA + 0], 0x037f, "FXSAVE FCW"
        CHECK_EQ word [FXAREA + 2], 0x3000, "FXSAVE FSW (TOP 6)"
        CHECK_EQ byte [FXAREA + 4], 0xc0, "FXSAVE abridged tags"
        CHECK_EQ dword [FXAREA + 32 + 4], 0xc90fdaa2, "FXSAVE ST(0) = pi"
        CHECK_EQ word [FXAREA + 32 + 8], 0x4000, "FXSAVE ST(0) exponent"
        CHECK_EQ word [FXAREA + 48 + 8], 0x3fff, "FXSAVE ST(1) = 1.0"
        CHECK_EQ dword [FXAREA + 464], 0xaaaaaaaa, "FXSAVE leaves bytes 464-511 alone"
        ; FXRSTOR an edited image: ST(0) := 2.0, only R7 in use, TOP 7
        mov     word [FXAREA + 2], 0x3800
        mov     byte [FXAREA + 4], 0x80
        mov     word [FXAREA + 32 + 8], 0x4000
        mov     dword [FXAREA + 32 + 4], 0x80000000
        mov     dword [FXAREA + 32], 0
        fninit
        fxrstor [FXAREA]
        fistp   dword [T]
        CHECK_EQ dword [T], 2, "FXRSTOR ST(0)"
        fnstenv [T + 0x40]
        CHECK_EQ word [T + 0x40 + 8], 0xffff, "FXRSTOR tags: stack empty after the pop"
        ; misaligned: #GP(0)
        EXPECT_FAULT .gp
        fxsave  [FXAREA + 8]
.gp:    CHECK_EXC 13, 0
        fninit
        ret

        align   8
a:      dq      0x00807f40ff01ff01
b:      dq      0x80807fc07f7fff00
w1:     dq      0xffff000100020003
w2:     dq      0x0001000200030002
w3:     dq      0x0100700080000010

        END_IMAGE
