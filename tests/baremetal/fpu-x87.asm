; x87 in a bare machine: FNINIT state, arithmetic under every rounding
; and precision control, conversions (integer, single, double, BCD),
; compares into FSW and EFLAGS, FCMOVcc, FXAM classes, FPREM quotient
; bits, exact transcendental cases, constants rounded per RC, #MF at the
; next waiting instruction (CR0.NE), #NM (CR0.TS/EM, WAIT with MP),
; FNSTENV/FNSAVE/FRSTOR images and pointers.
; All expected values are exact (worked out with rational arithmetic or
; given by the SDM), and QEMU's x87 agrees with every one of them; the
; details QEMU does not model are in fpu-x87-strict.asm.
%include "common.inc"

T       equ scratch             ; 16-byte scratch for stores
ENV     equ scratch + 0x40      ; environment / state images (108 bytes)

; CHECK_T80 addr, mant64, exp16, "what": an 80-bit value in memory
%macro CHECK_T80 4
        cmp     dword [%1], (%2) & 0xffffffff
        CHECK   e, %4
        cmp     dword [%1 + 4], (%2) >> 32
        CHECK   e, %4
        cmp     word [%1 + 8], %3
        CHECK   e, %4
%endmacro

; SW_IS mask, value, "what": (FSW & mask) == value
%macro SW_IS 3
        fnstsw  ax
        and     ax, %1
        cmp     ax, %2
        CHECK   e, %3
%endmacro

; SET_CW value
%macro SET_CW 1
        mov     word [T + 14], %1
        fldcw   [T + 14]
%endmacro

test_main:
        mov     eax, cr0
        and     eax, ~(CR0_EM_BIT | CR0_TS_BIT)
        or      eax, CR0_NE_BIT | CR0_MP_BIT
        mov     cr0, eax
        call    t_init
        call    t_arith
        call    t_conv
        call    t_compare
        call    t_stack
        call    t_misc
        call    t_trans
        call    t_mf
        call    t_nm
        call    t_env
        ret

CR0_MP_BIT equ 2
CR0_EM_BIT equ 4
CR0_TS_BIT equ 8
CR0_NE_BIT equ 0x20

; ---- FNINIT ---------------------------------------------------------------
t_init:
        fninit
        fnstcw  [T]
        CHECK_EQ word [T], 0x037f, "FNINIT control word"
        fnstsw  ax
        CHECK_EQ ax, 0, "FNINIT status word"
        fnstenv [ENV]
        CHECK_EQ word [ENV + 8], 0xffff, "FNINIT tag word"
        ret

; ---- arithmetic -------------------------------------------------------------
third_cases:    ; control word, expected significand of 1/3
        dw      0x037f
        dq      0xaaaaaaaaaaaaaaab
        dw      0x0f7f
        dq      0xaaaaaaaaaaaaaaaa
        dw      0x0b7f
        dq      0xaaaaaaaaaaaaaaab
        dw      0x027f
        dq      0xaaaaaaaaaaaaa800
        dw      0x0a7f
        dq      0xaaaaaaaaaaaab000
        dw      0x007f
        dq      0xaaaaab0000000000
        dw      0x0c7f
        dq      0xaaaaaa0000000000
third_cases_end:

t_arith:
        fninit
        ; 1/3 under each RC and PC
        mov     esi, third_cases
.third: fldcw   [esi]
        fld1
        fidiv   dword [three]
        fstp    tword [T]
        mov     eax, [esi + 2]
        cmp     [T], eax
        CHECK   e, "1/3 low significand (RC/PC)"
        mov     eax, [esi + 6]
        cmp     [T + 4], eax
        CHECK   e, "1/3 high significand (RC/PC)"
        CHECK_EQ word [T + 8], 0x3ffd, "1/3 exponent"
        add     esi, 10
        cmp     esi, third_cases_end
        jb      .third
        fninit
        ; sqrt(2), and C1 for a round up under RU
        fld     dword [two_f]
        fsqrt
        fstp    tword [T]
        CHECK_T80 T, 0xb504f333f9de6484, 0x3fff, "FSQRT 2"
        SET_CW  0x0b7f
        fld     dword [two_f]
        fsqrt
        SW_IS   0x0020, 0x0020, "FSQRT RU: PE"
        fstp    tword [T]
        CHECK_T80 T, 0xb504f333f9de6485, 0x3fff, "FSQRT 2 RU"
        fninit
        ; reversed forms: 10 - 3, 3 - 10 with DE/DC/D8 encodings
        fild    dword [ten]
        fild    dword [three]
        fsubp   st1, st0                ; st1 = st1 - st0 = 7
        fistp   dword [T]
        CHECK_EQ dword [T], 7, "FSUBP st1, st0"
        fild    dword [ten]
        fild    dword [three]
        fsubrp  st1, st0                ; st1 = st0 - st1 = -7
        fistp   dword [T]
        CHECK_EQ dword [T], -7, "FSUBRP st1, st0"
        fild    dword [ten]
        fidivr  dword [three]           ; 3 / 10 = 0.3
        fimul   dword [ten]
        fistp   dword [T]
        CHECK_EQ dword [T], 3, "FIDIVR, FIMUL"
        ; overflow masked: infinity; x - x = +0 except -0 under RD
        fld     tword [big80]
        fmul    st0, st0
        SW_IS   0x0029, 0x0028, "overflow: OE and PE"
        fstp    tword [T]
        CHECK_T80 T, 0x8000000000000000, 0x7fff, "overflow to infinity"
        SET_CW  0x077f
        fild    dword [ten]
        fisub   dword [ten]
        fstp    tword [T]
        CHECK_EQ word [T + 8], 0x8000, "x - x under RD is -0"
        fninit
        ; invalid: inf - inf gives the indefinite
        fld     tword [inf80]
        fld     tword [inf80]
        fsubp   st1, st0
        SW_IS   0x0001, 0x0001, "inf - inf: IE"
        fstp    tword [T]
        CHECK_T80 T, 0xc000000000000000, 0xffff, "inf - inf: indefinite"
        fninit
        ret

; ---- conversions ---------------------------------------------------------------
rnd_cases:      ; control word, 2.5 -> , -2.5 ->
        dw      0x037f, 2, -2
        dw      0x077f, 2, -3
        dw      0x0b7f, 3, -2
        dw      0x0f7f, 2, -2
rnd_cases_end:

t_conv:
        fninit
        mov     esi, rnd_cases
.rnd:   fldcw   [esi]
        fld     dword [two_half_f]
        fistp   word [T]
        mov     ax, [esi + 2]
        cmp     [T], ax
        CHECK   e, "FISTP 2.5 per RC"
        fld     dword [two_half_f]
        fchs
        fistp   dword [T]
        movsx   eax, word [esi + 4]
        cmp     [T], eax
        CHECK   e, "FISTP -2.5 per RC"
        add     esi, 6
        cmp     esi, rnd_cases_end
        jb      .rnd
        fninit
        ; out of range: IE and the integer indefinite
        fild    dword [big_int]                 ; 100000
        fistp   word [T]
        CHECK_EQ word [T], 0x8000, "FISTP m16 overflow: indefinite"
        SW_IS   0x0001, 0x0001, "FISTP m16 overflow: IE"
        fninit
        ; FILD m64 / FISTP m64 round trip of a 63-bit value
        fild    qword [i64val]
        fistp   qword [T]
        mov     eax, [i64val]
        cmp     [T], eax
        CHECK   e, "FILD/FISTP m64 low"
        mov     eax, [i64val + 4]
        cmp     [T + 4], eax
        CHECK   e, "FILD/FISTP m64 high"
        ; single and double stores of 1/3
        fld1
        fidiv   dword [three]
        fst     dword [T]
        CHECK_EQ dword [T], 0x3eaaaaab, "FST m32 1/3"
        fstp    qword [T]
        CHECK_EQ dword [T], 0x55555555, "FST m64 1/3 low"
        CHECK_EQ dword [T + 4], 0x3fd55555, "FST m64 1/3 high"
        ; a signaling NaN load: IE, quieted
        fld     dword [snan_f]
        SW_IS   0x0001, 0x0001, "FLD m32 SNaN: IE"
        fstp    tword [T]
        CHECK_T80 T, 0xc000010000000000, 0x7fff, "FLD m32 SNaN quieted"
        fninit
        ; BCD both ways, and -12345.5 rounding to even
        fbld    [bcd_val]
        fistp   dword [T]
        CHECK_EQ dword [T], 123456789, "FBLD"
        fild    dword [bcd_src]                 ; -24691
        fidiv   dword [two_i]                   ; -12345.5
        fbstp   [T]
        CHECK_EQ dword [T], 0x00012346, "FBSTP digits (ties to even)"
        CHECK_EQ byte [T + 9], 0x80, "FBSTP sign"
        fninit
        ret

; ---- compares -------------------------------------------------------------------
t_compare:
        fninit
        fild    dword [three]
        fild    dword [ten]
        fcom    st1                              ; 10 > 3
        SW_IS   0x4500, 0x0000, "FCOM greater"
        fcom    dword [ten_f]                    ; 10 == 10.0f
        SW_IS   0x4500, 0x4000, "FCOM m32 equal"
        ficom   word [eleven_w]                  ; 10 < 11
        SW_IS   0x4500, 0x0100, "FICOM less"
        fnstsw  ax
        sahf
        CHECK   b, "FNSTSW AX / SAHF: below"
        fcomi   st0, st1
        CHECK   a, "FCOMI: above"
        fxch    st1
        fucomi  st0, st1
        CHECK   b, "FUCOMI: below"
        ; FCMOVB with CF set: st0 = st1 (10)
        fcmovb  st0, st1
        fistp   dword [T]
        CHECK_EQ dword [T], 10, "FCMOVB taken"
        ; unordered with a QNaN: FUCOM quiet, FCOM invalid
        fninit
        fld     tword [qnan80]
        fld1
        fucom   st1
        SW_IS   0x4501, 0x4500, "FUCOM QNaN: unordered, no IE"
        fcom    st1
        SW_IS   0x4501, 0x4501, "FCOM QNaN: unordered, IE"
        fucomip st0, st1
        CHECK   p, "FUCOMIP QNaN: PF"
        ftst                                      ; st0 = QNaN now
        SW_IS   0x4500, 0x4500, "FTST QNaN: unordered"
        fninit
        ; FXAM classes
        fldz
        fxam
        SW_IS   0x4700, 0x4000, "FXAM +0"
        fchs
        fxam
        SW_IS   0x4700, 0x4200, "FXAM -0"
        fld     tword [inf80]
        fxam
        SW_IS   0x4700, 0x0500, "FXAM +inf"
        fld     tword [qnan80]
        fxam
        SW_IS   0x4700, 0x0100, "FXAM NaN"
        fld     tword [den80]
        fxam
        SW_IS   0x4700, 0x4400, "FXAM denormal"
        fld1
        fxam
        SW_IS   0x4700, 0x0400, "FXAM normal"
        ffree   st0
        fxam
        SW_IS   0x4500, 0x4100, "FXAM empty"
        fninit
        ret

; ---- stack faults ------------------------------------------------------------------
t_stack:
        ; (stack fault flags, C1 and the indefinite are in fpu-x87-strict)
        fninit
        mov     ecx, 8
.push:  fld1
        loop    .push
        fnstenv [ENV]
        CHECK_EQ word [ENV + 8], 0x0000, "eight pushes: all tags valid"
        CHECK_EQ word [ENV + 4], 0x0000, "eight pushes: TOP back to 0"
        fninit
        ret

; ---- FPREM, FSCALE, FXTRACT, FRNDINT, constants --------------------------------------
t_misc:
        fninit
        fild    dword [three]
        fild    dword [ten]
        fprem                                   ; 10 rem 3 = 1, q = 3
        SW_IS   0x4700, 0x4200, "FPREM quotient bits (q = 3)"
        fistp   dword [T]
        CHECK_EQ dword [T], 1, "FPREM remainder"
        fild    dword [eleven]
        fprem1                                  ; 11 rem 3 = -1, q = 4
        SW_IS   0x0400, 0x0000, "FPREM1 complete"
        fistp   dword [T]
        CHECK_EQ dword [T], -1, "FPREM1 remainder"
        fninit
        fild    dword [three]
        fld1
        fscale                                  ; 1 * 2^3
        fistp   dword [T]
        CHECK_EQ dword [T], 8, "FSCALE"
        fstp    st0
        fild    dword [ten]
        fxtract                                 ; 1.25, 3
        fstp    tword [T]
        CHECK_T80 T, 0xa000000000000000, 0x3fff, "FXTRACT significand"
        fistp   dword [T]
        CHECK_EQ dword [T], 3, "FXTRACT exponent"
        SET_CW  0x077f
        fld     dword [two_half_f]
        frndint
        fistp   dword [T]
        CHECK_EQ dword [T], 2, "FRNDINT RD"
        ; constants: pi rounded per RC
        SET_CW  0x037f
        fldpi
        fstp    tword [T]
        CHECK_T80 T, 0xc90fdaa22168c235, 0x4000, "FLDPI RN"
        SET_CW  0x0f7f
        fldpi
        fstp    tword [T]
        CHECK_T80 T, 0xc90fdaa22168c234, 0x4000, "FLDPI RZ"
        fldl2e
        fstp    tword [T]
        CHECK_T80 T, 0xb8aa3b295c17f0bb, 0x3fff, "FLDL2E RZ"
        fninit
        fldln2
        fstp    tword [T]
        CHECK_T80 T, 0xb17217f7d1cf79ac, 0x3ffe, "FLDLN2 RN"
        ret

; ---- transcendentals: exact cases ---------------------------------------------------------
t_trans:
        fninit
        fldz
        fsin
        ftst
        SW_IS   0x4500, 0x4000, "FSIN 0 = 0"
        fcos
        fistp   dword [T]
        CHECK_EQ dword [T], 1, "FCOS 0 = 1"
        fldz
        fptan
        fistp   dword [T]
        CHECK_EQ dword [T], 1, "FPTAN pushes 1"
        ftst
        SW_IS   0x4500, 0x4000, "FPTAN 0 = 0"
        fstp    st0
        fldz
        fsincos
        fistp   dword [T]
        CHECK_EQ dword [T], 1, "FSINCOS cos 0"
        fstp    st0
        ; out of range: C2 = 1, operand unchanged
        fld     tword [two64]
        fsin
        SW_IS   0x0400, 0x0400, "FSIN 2^64: C2"
        fstp    tword [T]
        CHECK_T80 T, 0x8000000000000000, 0x403f, "FSIN 2^64 unchanged"
        ; 3 * log2(8) = 9; log2(1 + 0) * 3 = 0; 2^0 - 1 = 0
        fild    dword [three]
        fild    dword [eight]
        fyl2x
        fistp   dword [T]
        CHECK_EQ dword [T], 9, "FYL2X"
        fild    dword [three]
        fldz
        fyl2xp1
        ftst
        SW_IS   0x4500, 0x4000, "FYL2XP1 0"
        fstp    st0
        fldz
        f2xm1
        ftst
        SW_IS   0x4500, 0x4000, "F2XM1 0"
        fstp    st0
        ; atan2(+0, -1) = pi
        fldz
        fld1
        fchs
        fpatan
        fstp    tword [T]
        CHECK_T80 T, 0xc90fdaa22168c235, 0x4000, "FPATAN(0, -1) = pi"
        fninit
        ret

; ---- #MF ----------------------------------------------------------------------------------
t_mf:
        ; (#MF before other waiting instructions than WAIT, FIP/FOP of the
        ; faulting instruction and ES bookkeeping through FNSTENV/FLDCW/
        ; FLDENV are in fpu-x87-strict)
        fninit
        SET_CW  0x037b                          ; ZE unmasked
        fldz
        fld1
        fdiv    st0, st1                        ; no fault here
        SW_IS   0x80ff, 0x8084, "unmasked ZE: B, ES, ZE"
        fnstsw  ax                              ; not waiting: no fault
        EXPECT_FAULT .mf1
.wait:  fwait
.mf1:   CHECK_EXC 16, -1
        CHECK_EQ dword [exc_eip], .wait, "#MF at the next waiting instruction"
        fnclex
        fwait
        fld1                                    ; no fault now
        SW_IS   0x3800, 0x2800, "FLD1 after FNCLEX pushed"
        fninit
        ret

; ---- #NM ----------------------------------------------------------------------------------
t_nm:
        fninit
        mov     eax, cr0
        or      eax, CR0_TS_BIT
        mov     cr0, eax
        EXPECT_FAULT .nm1
        fld1
.nm1:   CHECK_EXC 7, -1
        EXPECT_FAULT .nm2
        fwait                                   ; TS and MP
.nm2:   CHECK_EXC 7, -1
        clts
        mov     eax, cr0
        or      eax, CR0_EM_BIT
        mov     cr0, eax
        EXPECT_FAULT .nm3
        fnstsw  ax
.nm3:   CHECK_EXC 7, -1
        mov     dword [exc_vector], 0xffffffff
        fwait                                   ; EM alone does not stop WAIT
        CHECK_EQ dword [exc_vector], 0xffffffff, "WAIT with EM"
        mov     eax, cr0
        and     eax, ~CR0_EM_BIT
        mov     cr0, eax
        ret

; ---- environment images ------------------------------------------------------------------
t_env:
        fninit
        fldpi
        fld1
.fadd:  fadd    dword [two_f]                   ; 3, memory operand
        fnstenv [ENV]
        CHECK_EQ word [ENV + 0], 0x037f, "FNSTENV FCW"
        CHECK_EQ word [ENV + 4], 0x3000, "FNSTENV FSW (TOP 6)"
        CHECK_EQ word [ENV + 8], 0x0fff, "FNSTENV tag word"
        CHECK_EQ dword [ENV + 12], .fadd, "FNSTENV FIP"
        CHECK_EQ word [ENV + 16], SEL_CODE32, "FNSTENV FCS"
        CHECK_EQ dword [ENV + 20], two_f, "FNSTENV FDP"
        CHECK_EQ word [ENV + 24], SEL_DATA32, "FNSTENV FDS"
        ; the 16-bit layout
        o16 fnstenv [ENV + 0x40]
        CHECK_EQ word [ENV + 0x40 + 2], 0x3000, "16-bit FNSTENV FSW"
        CHECK_EQ word [ENV + 0x40 + 4], 0x0fff, "16-bit FNSTENV tags"
        CHECK_EQ word [ENV + 0x40 + 6], ((.fadd - $$) & 0xffff), "16-bit FNSTENV FIP"
        ; FNSAVE reinitializes; FRSTOR brings everything back
        fnsave  [ENV]
        fnstcw  [T]
        CHECK_EQ word [T], 0x037f, "FNSAVE reinitializes"
        fnstsw  ax
        CHECK_EQ ax, 0, "FNSAVE: status clear"
        CHECK_EQ word [ENV + 28 + 8], 0x4000, "FNSAVE ST(0) = 3"
        frstor  [ENV]
        fistp   dword [T]
        CHECK_EQ dword [T], 3, "FRSTOR ST(0)"
        fstp    tword [T]
        CHECK_T80 T, 0xc90fdaa22168c235, 0x4000, "FRSTOR ST(1) = pi"
        fninit
        ret

        align   4
three:          dd      3
ten:            dd      10
eleven:         dd      11
eight:          dd      8
two_i:          dd      2
big_int:        dd      100000
bcd_src:        dd      -24691
eleven_w:       dw      11
two_f:          dd      0x40000000
ten_f:          dd      0x41200000
two_half_f:     dd      0x40200000
snan_f:         dd      0x7f800001
i64val:         dq      0x7123456789abcdef
bcd_val:        dq      0x123456789
                dw      0
big80:          dq      0xffffffffffffffff
                dw      0x7ffe
inf80:          dq      0x8000000000000000
                dw      0x7fff
qnan80:         dq      0xc000000000000000
                dw      0x7fff
den80:          dq      0x0000000000000001
                dw      0x0000
two64:          dq      0x8000000000000000
                dw      0x403f

        END_IMAGE
