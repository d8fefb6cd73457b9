; Privilege levels: IRET to ring 3 (data segments nulled), INT from
; ring 3 through a DPL-3 gate with a TSS stack switch, a call gate with
; parameter copy and RETF back to ring 3, privileged instructions and the
; I/O permission bitmap in ring 3, DPL checks on INT and segment loads,
; SYSENTER/SYSEXIT.
%include "common.inc"

SEL_GATE equ SEL_FREE

test_main:
        ; ---- ring 3 and back through INT 0x81 ----
        mov     dword [scratch], 0xdeadbeef
        EXPECT_FAULT .back1
        TO_RING3 .r3a
.r3a:   mov     ax, ds
        movzx   ebx, ax                 ; DS was nulled by the IRET
        mov     ax, SEL_DATA32_R3
        mov     ds, ax
        mov     es, ax
        mov     [scratch], ebx
        mov     ax, cs
        movzx   eax, ax
        mov     [scratch + 4], eax
        mov     [scratch + 8], esp
        int     0x81
.back1: CHECK_EXC 0x81, 0
        CHECK_EQ dword [scratch], 0, "IRET to ring 3 nulls DS with DPL 0"
        CHECK_EQ dword [scratch + 4], SEL_CODE32_R3, "CS in ring 3"
        CHECK_EQ dword [scratch + 8], STACK3_TOP, "ESP in ring 3"
        CHECK_EQ dword [exc_cs], SEL_CODE32_R3, "INT from ring 3 saved CS"
        ; the ring-0 frame sits on the TSS stack: SS and ESP of ring 3
        CHECK_EQ dword [ISTACK_TOP - 4], SEL_DATA32_R3, "saved SS on the inner stack"
        CHECK_EQ dword [ISTACK_TOP - 8], STACK3_TOP, "saved ESP on the inner stack"

        ; ---- INT to a DPL-0 gate from ring 3: #GP(vector*8+2) ----
        EXPECT_FAULT .gpint
        TO_RING3 .r3b
.r3b:   int     0x82
.gpint: CHECK_EXC 13, 0x82 * 8 + 2

        ; ---- privileged instructions in ring 3 ----
        EXPECT_FAULT .p1
        TO_RING3 .r3c
.r3c:   hlt
.p1:    CHECK_EXC 13, 0
        EXPECT_FAULT .p2
        TO_RING3 .r3d
.r3d:   cli                             ; IOPL 0 < CPL 3
.p2:    CHECK_EXC 13, 0
        EXPECT_FAULT .p3
        TO_RING3 .r3e
.r3e:   mov     eax, cr0
.p3:    CHECK_EXC 13, 0
        EXPECT_FAULT .p4
        TO_RING3 .r3f
.r3f:   mov     ax, SEL_DATA32          ; RPL 0, DPL 0 data from CPL 3
        mov     ds, ax
.p4:    CHECK_EXC 13, SEL_DATA32
        ; I/O bitmap: port 0x80 denied, 0x84 allowed
        or      byte [TSS_ADDR + 0x68 + 0x80 / 8], 1
        EXPECT_FAULT .p5
        TO_RING3 .r3g
.r3g:   in      al, 0x84
        mov     ax, SEL_DATA32_R3
        mov     ds, ax
        mov     dword [scratch], 0x84
        in      al, 0x80
.p5:    CHECK_EXC 13, 0
        CHECK_EQ dword [scratch], 0x84, "allowed port before the denied one"
        and     byte [TSS_ADDR + 0x68 + 0x80 / 8], 0xfe

        ; ---- call gate ring 3 -> ring 0 with two parameters ----
        ; 32-bit call gate, DPL 3, target SEL_CODE32:gate_target, 2 dwords
        mov     eax, gate_target
        mov     word [GDT_ADDR + SEL_GATE], ax
        mov     word [GDT_ADDR + SEL_GATE + 2], SEL_CODE32
        mov     byte [GDT_ADDR + SEL_GATE + 4], 2
        mov     byte [GDT_ADDR + SEL_GATE + 5], 0xec
        shr     eax, 16
        mov     word [GDT_ADDR + SEL_GATE + 6], ax
        EXPECT_FAULT .cg
        TO_RING3 .r3h
.r3h:   mov     ax, SEL_DATA32_R3
        mov     ds, ax
        push    dword 0x1111
        push    dword 0x2222
        call    (SEL_GATE | 3):0
        ; back in ring 3 after RETF 8
        mov     [scratch + 0x20], esp
        mov     ax, cs
        movzx   eax, ax
        mov     [scratch + 0x24], eax
        int     0x81
.cg:    CHECK_EXC 0x81, 0
        CHECK_EQ dword [scratch + 0x10], SEL_CODE32_R3, "call gate: caller CS on the inner stack"
        CHECK_EQ dword [scratch + 0x14], 0x2222, "call gate: first copied parameter"
        CHECK_EQ dword [scratch + 0x18], 0x1111, "call gate: second copied parameter"
        CHECK_EQ dword [scratch + 0x1c], STACK3_TOP - 8, "call gate: caller ESP"
        CHECK_EQ dword [scratch + 0x2c], 0, "call gate: CPL 0 in the target"
        CHECK_EQ dword [scratch + 0x20], STACK3_TOP, "RETF 8 releases the parameters"
        CHECK_EQ dword [scratch + 0x24], SEL_CODE32_R3, "RETF returns to ring 3"

        ; ---- SYSENTER / SYSEXIT ----
        mov     ecx, 0x174
        xor     edx, edx
        mov     eax, SEL_CODE32
        wrmsr
        mov     ecx, 0x175
        mov     eax, ISTACK_TOP - 0x1000
        wrmsr
        mov     ecx, 0x176
        mov     eax, sysenter_target
        wrmsr
        mov     ecx, 0x174
        rdmsr
        CHECK_EQ eax, SEL_CODE32, "SYSENTER_CS MSR reads back"
        EXPECT_FAULT .se
        mov     ecx, STACK3_TOP - 0x100
        mov     edx, .r3_after_sysexit
        sysexit
.r3_after_sysexit:
        mov     ax, cs
        movzx   eax, ax
        mov     [ss:scratch + 0x30], eax
        mov     [ss:scratch + 0x34], esp
        sysenter
.se:    CHECK_EXC 0x81, 0
        CHECK_EQ dword [scratch + 0x30], (SEL_CODE32 + 16) | 3, "SYSEXIT CS"
        CHECK_EQ dword [scratch + 0x34], STACK3_TOP - 0x100, "SYSEXIT ESP"
        CHECK_EQ dword [scratch + 0x38], SEL_CODE32, "SYSENTER CS"
        CHECK_EQ dword [scratch + 0x3c], ISTACK_TOP - 0x1000, "SYSENTER ESP"
        ret

gate_target:
        ; stack: EIP, CS, param0, param1, ESP, SS
        mov     eax, [esp + 4]
        mov     [scratch + 0x10], eax
        mov     eax, [esp + 8]
        mov     [scratch + 0x14], eax
        mov     eax, [esp + 12]
        mov     [scratch + 0x18], eax
        mov     eax, [esp + 16]
        mov     [scratch + 0x1c], eax
        mov     ax, cs
        and     eax, 3
        mov     [scratch + 0x2c], eax
        retf    8

sysenter_target:
        mov     ax, cs
        movzx   eax, ax
        mov     [ss:scratch + 0x38], eax
        mov     [ss:scratch + 0x3c], esp
        ; report through the frame: record as if by INT 0x81
        mov     dword [ss:exc_vector], 0x81
        mov     dword [ss:exc_error], 0
        mov     esp, [ss:resume_esp]
        push    dword [ss:resume_eip]
        mov     dword [ss:resume_eip], 0
        mov     ax, SEL_DATA32
        mov     ds, ax
        mov     es, ax
        ret

        END_IMAGE
