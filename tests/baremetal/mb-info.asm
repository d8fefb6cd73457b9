; Multiboot test kernel (not a bare-metal BIOS test: test_machine.py
; boots it with -kernel). Prints the boot magic, the command line, the
; memory size and the loader flags on the debug console, writes "serial
; ok" to COM1, then exits through isa-debug-exit with 0x10. With "triple"
; on the command line it triple-faults instead.
        cpu     686
        bits    32
        org     0x100000

MB_FLAGS equ 0x00010003

header: dd      0x1badb002, MB_FLAGS, -(0x1badb002 + MB_FLAGS)
        dd      header, header, image_end, image_end, start

start:  mov     esp, 0x90000
        mov     [magic], eax
        mov     esi, s_magic
        call    puts
        mov     eax, [magic]
        call    hex
        mov     esi, s_flags
        call    puts
        mov     eax, [ebx]
        call    hex
        mov     esi, s_upper
        call    puts
        mov     eax, [ebx + 8]
        call    hex
        mov     esi, s_cmd
        call    puts
        mov     esi, [ebx + 16]
        call    puts
        mov     esi, s_nl
        call    puts
        ; serial: COM1 THR at 0x3f8
        mov     esi, s_serial
        mov     dx, 0x3f8
.s:     lodsb
        test    al, al
        jz      .sd
        out     dx, al
        jmp     .s
.sd:    ; "triple" on the command line: load an empty IDT and fault
        mov     esi, [ebx + 16]
.scan:  cmp     byte [esi], 0
        je      .exit
        cmp     dword [esi], 'trip'
        je      .triple
        inc     esi
        jmp     .scan
.triple:
        lidt    [empty_idt]
        int     3
.exit:  mov     al, 0x10
        out     0xf4, al
        hlt

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

hex:    pushad
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

empty_idt: dw 0
        dd      0
s_magic: db     "magic=", 0
s_flags: db     " flags=", 0
s_upper: db     " mem_upper=", 0
s_cmd:  db      " cmdline=", 0
s_nl:   db      10, 0
s_serial: db    "serial ok", 13, 10, 0
magic:  dd      0
image_end:
