; Task switches: CALL to a TSS (back link, NT, busy bits, TR, CR0.TS),
; IRET with NT back to the caller, JMP between tasks, JMP to a busy task
; (#GP), INT through a task gate.
%include "common.inc"

; set_tss2: initialise the second TSS to start at EAX
init_tss2:
        push    edi
        push    ecx
        push    eax
        mov     edi, TSS2_ADDR
        mov     ecx, 0x68 / 4
        xor     eax, eax
        rep     stosd
        pop     eax
        mov     [TSS2_ADDR + 0x20], eax         ; EIP
        mov     dword [TSS2_ADDR + 0x24], 2     ; EFLAGS
        mov     dword [TSS2_ADDR + 0x38], 0x60000 ; ESP
        mov     dword [TSS2_ADDR + 0x28], 0x1234 ; EAX
        mov     word [TSS2_ADDR + 0x48], SEL_DATA32   ; ES
        mov     word [TSS2_ADDR + 0x4c], SEL_CODE32   ; CS
        mov     word [TSS2_ADDR + 0x50], SEL_DATA32   ; SS
        mov     word [TSS2_ADDR + 0x54], SEL_DATA32   ; DS
        mov     word [TSS2_ADDR + 0x58], SEL_DATA32   ; FS
        mov     word [TSS2_ADDR + 0x5c], SEL_DATA32   ; GS
        mov     word [TSS2_ADDR + 0x66], 0x68
        pop     ecx
        pop     edi
        ret

test_main:
        ; ---- CALL to a task and IRET back ----
        mov     eax, task_a
        call    init_tss2
        mov     ebx, 0xb0b0b0b0
        mov     esi, 0x51515151
        call    SEL_TSS2:0
.after_call:
        CHECK_EQ ebx, 0xb0b0b0b0, "EBX restored after the nested task returned"
        CHECK_EQ esi, 0x51515151, "ESI restored"
        str     ax
        CHECK_EQ ax, SEL_TSS, "TR back to the first task"
        mov     eax, cr0
        test    eax, 8
        CHECK   nz, "task switch sets CR0.TS"
        clts
        CHECK_EQ dword [scratch], 0x1234, "new task started with its TSS EAX"
        CHECK_EQ dword [scratch + 4], SEL_TSS, "back link in the new TSS"
        CHECK_EQ dword [scratch + 8], 0x4000, "NT set in the nested task"
        CHECK_EQ dword [scratch + 12], SEL_TSS2, "TR in the nested task"
        CHECK_EQ dword [scratch + 16], 0xb, "caller TSS stays busy"
        CHECK_EQ dword [scratch + 20], 0xb, "called TSS busy"
        ; after the IRET the nested TSS is free again and holds its state
        movzx   eax, byte [GDT_ADDR + SEL_TSS2 + 5]
        and     eax, 15
        CHECK_EQ eax, 9, "IRET clears the busy bit of the task left"
        CHECK_EQ dword [TSS2_ADDR + 0x2c], 0x77, "outgoing task state saved (ECX)"
        ; the first task's TSS holds the state of the CALL
        CHECK_EQ dword [TSS_ADDR + 0x20], .after_call, "saved EIP of the caller"
        CHECK_EQ dword [TSS_ADDR + 0x40], 0x51515151, "saved ESI of the caller"

        ; ---- JMP to a task and JMP back ----
        mov     eax, task_b
        call    init_tss2
        jmp     SEL_TSS2:0
.after_jmp:
        clts
        str     ax
        CHECK_EQ ax, SEL_TSS, "TR after JMP back"
        CHECK_EQ dword [scratch + 0x20], 0, "no NT after JMP"
        CHECK_EQ dword [scratch + 0x24], 0xb, "JMP target TSS busy"
        CHECK_EQ dword [scratch + 0x28], 9, "JMP source TSS not busy"
        pushfd
        pop     eax
        test    eax, 0x4000
        CHECK   z, "NT clear after JMP back"

        ; ---- JMP to the busy current task: #GP(selector) ----
        EXPECT_FAULT .busy
        jmp     SEL_TSS:0
.busy:  CHECK_EXC 13, SEL_TSS

        ; ---- INT through a task gate ----
        mov     eax, task_c
        call    init_tss2
        mov     word [IDT_ADDR + 0x90 * 8], 0
        mov     word [IDT_ADDR + 0x90 * 8 + 2], SEL_TSS2
        mov     word [IDT_ADDR + 0x90 * 8 + 4], 0x8500
        mov     word [IDT_ADDR + 0x90 * 8 + 6], 0
        mov     dword [scratch + 0x30], 0
        int     0x90
        clts
        CHECK_EQ dword [scratch + 0x30], 0xc0c0, "task gate ran the task"
        CHECK_EQ dword [scratch + 0x34], SEL_TSS, "task gate: back link"
        ret

task_a:
        mov     [scratch], eax
        movzx   eax, word [TSS2_ADDR]
        mov     [scratch + 4], eax
        pushfd
        pop     eax
        and     eax, 0x4000
        mov     [scratch + 8], eax
        str     ax
        movzx   eax, ax
        mov     [scratch + 12], eax
        movzx   eax, byte [GDT_ADDR + SEL_TSS + 5]
        and     eax, 15
        mov     [scratch + 16], eax
        movzx   eax, byte [GDT_ADDR + SEL_TSS2 + 5]
        and     eax, 15
        mov     [scratch + 20], eax
        mov     ecx, 0x77
        iretd
        jmp     $

task_b:
        pushfd
        pop     eax
        and     eax, 0x4000
        mov     [scratch + 0x20], eax
        movzx   eax, byte [GDT_ADDR + SEL_TSS2 + 5]
        and     eax, 15
        mov     [scratch + 0x24], eax
        movzx   eax, byte [GDT_ADDR + SEL_TSS + 5]
        and     eax, 15
        mov     [scratch + 0x28], eax
        jmp     SEL_TSS:0
        jmp     $

task_c:
        mov     dword [scratch + 0x30], 0xc0c0
        movzx   eax, word [TSS2_ADDR]
        mov     [scratch + 0x34], eax
        iretd
        jmp     $

        END_IMAGE
