; PC chipset and storage devices as a guest sees them on the default
; board (no disks; an empty CD-ROM drive on the secondary master, as
; QEMU's pc machine has): PCI IDs through configuration mechanism #1,
; i440FX PAM and SMRAM register semantics, PIIX3 PIRQ defaults, the IDE
; channels and the ATAPI drive's replies, fw_cfg (ports and DMA) and the
; IOAPIC registers.
;
; Pending: this program moves to tests/baremetal/ when hw/pc.c wires the
; i440FX, PIIX3, PIIX IDE (with an empty CD-ROM at index 2), fw_cfg and
; IOAPIC; until then it runs only against qemu-system-i386, e.g.
;   nasm -f bin -I tests/baremetal/ -o /tmp/pcide.bin tests/baremetal/pending/pcide.asm
;   qemu-system-i386 -display none -no-reboot -m 128 \
;     -device isa-debug-exit,iobase=0xf4,iosize=4 -bios /tmp/pcide.bin -debugcon stdio
%include "common.inc"

DMA_DESC        equ 0x6000
DMA_BUF         equ 0x6100
SECTOR_BUF      equ 0x7000

; cfg_read: EAX = CONFIG_ADDRESS (dword aligned) -> EAX = dword
cfg_read:
        push    edx
        mov     dx, 0xcf8
        out     dx, eax
        mov     dx, 0xcfc
        in      eax, dx
        pop     edx
        ret

; cfg_writeb: EAX = CONFIG_ADDRESS of the dword, ECX = byte offset (0-3), BL = value
cfg_writeb:
        push    edx
        mov     dx, 0xcf8
        out     dx, eax
        mov     dx, 0xcfc
        add     dx, cx
        mov     al, bl
        out     dx, al
        pop     edx
        ret

; cfg_readb: EAX = CONFIG_ADDRESS of the dword, ECX = byte offset -> EAX = byte
cfg_readb:
        push    edx
        mov     dx, 0xcf8
        out     dx, eax
        mov     dx, 0xcfc
        add     dx, cx
        xor     eax, eax
        in      al, dx
        pop     edx
        ret

; atapi_packet: ESI = 12-byte packet; sends PACKET (PIO, limit 0x100) to
; the secondary master. Returns AL = status after the packet.
atapi_packet:
        push    ecx
        push    edx
        mov     dx, 0x176
        mov     al, 0xa0
        out     dx, al
        mov     dx, 0x171
        xor     al, al
        out     dx, al
        mov     dx, 0x174
        out     dx, al
        mov     dx, 0x175
        mov     al, 1
        out     dx, al
        mov     dx, 0x177
        mov     al, 0xa0
        out     dx, al
        mov     dx, 0x170
        mov     ecx, 6
.w:     lodsw
        out     dx, ax
        loop    .w
        mov     dx, 0x376
        in      al, dx
        pop     edx
        pop     ecx
        ret

; atapi_read_data: reads the PIO reply of the last packet into EDI
; (word by word) while DRQ is set; returns ECX = bytes read.
atapi_read_data:
        push    edx
        push    ebx
        xor     ecx, ecx
.chunk: mov     dx, 0x376
        in      al, dx
        test    al, 0x08
        jz      .done
        mov     dx, 0x174
        in      al, dx
        movzx   ebx, al
        mov     dx, 0x175
        in      al, dx
        shl     eax, 8
        or      ebx, eax
        and     ebx, 0xffff
        add     ecx, ebx
        inc     ebx
        shr     ebx, 1
        mov     dx, 0x170
.w:     in      ax, dx
        stosw
        dec     ebx
        jnz     .w
        jmp     .chunk
.done:  mov     dx, 0x177
        in      al, dx          ; acknowledge the completion interrupt
        pop     ebx
        pop     edx
        ret

test_main:
        PRINT   "pcide: PCI IDs", 10
        mov     eax, 0x80000000
        call    cfg_read
        CHECK_EQ eax, 0x12378086, "i440FX ID"
        mov     eax, 0x8000002c
        call    cfg_read
        CHECK_EQ eax, 0x11001af4, "host bridge subsystem IDs"
        mov     eax, 0x80000800
        call    cfg_read
        CHECK_EQ eax, 0x70008086, "PIIX3 ID"
        mov     eax, 0x80000900
        call    cfg_read
        CHECK_EQ eax, 0x70108086, "PIIX3 IDE ID"
        mov     eax, 0x80000908
        call    cfg_read
        and     eax, 0xffffff00
        CHECK_EQ eax, 0x01018000, "IDE class"
        mov     eax, 0x8000080c
        call    cfg_read
        shr     eax, 16
        and     eax, 0xff
        CHECK_EQ eax, 0x80, "PIIX3 multi-function header"
        mov     eax, 0x80000860
        call    cfg_read
        CHECK_EQ eax, 0x80808080, "PIRQ routing disabled at reset"
        mov     eax, 0x80f80000         ; slot 31: nothing
        call    cfg_read
        CHECK_EQ eax, 0xffffffff, "absent function"
        mov     eax, 0x80010000         ; bus 1: nothing
        call    cfg_read
        CHECK_EQ eax, 0xffffffff, "absent bus"
        mov     eax, 0x80000000
        mov     dx, 0xcf8
        out     dx, eax
        in      eax, dx
        CHECK_EQ eax, 0x80000000, "CONFIG_ADDRESS reads back"

        PRINT   "pcide: PAM", 10
        mov     eax, 0x80000058
        mov     ecx, 1
        call    cfg_readb
        CHECK_EQ eax, 0, "PAM0 at reset"
        ; segment 0xe0000 (PAM5 low nibble): RAM read/write, write, then
        ; write-protect and check the write is dropped
        mov     eax, 0x8000005c
        mov     ecx, 2
        mov     bl, 0x03
        call    cfg_writeb
        mov     dword [0xe0000], 0x12345678
        CHECK_EQ dword [0xe0000], 0x12345678, "PAM RAM read/write"
        mov     eax, 0x8000005c
        mov     ecx, 2
        mov     bl, 0x01
        call    cfg_writeb
        mov     dword [0xe0000], 0x9abcdef0
        CHECK_EQ dword [0xe0000], 0x12345678, "PAM write protect"
        ; back to the PCI side: nothing decodes there, DRAM shows through
        mov     eax, 0x8000005c
        mov     ecx, 2
        mov     bl, 0x00
        call    cfg_writeb
        CHECK_EQ dword [0xe0000], 0x12345678, "PAM PCI side empty"

        PRINT   "pcide: SMRAM", 10
        mov     eax, 0x80000070
        mov     ecx, 2
        call    cfg_readb
        CHECK_EQ eax, 0x02, "SMRAM at reset"
        mov     eax, 0x80000070
        mov     ecx, 2
        mov     bl, 0x4a
        call    cfg_writeb
        mov     eax, 0x80000070
        mov     ecx, 2
        call    cfg_readb
        CHECK_EQ eax, 0x4a, "SMRAM open"
        mov     eax, 0x80000070
        mov     ecx, 2
        mov     bl, 0x0a
        call    cfg_writeb
        mov     eax, 0x80000070
        mov     ecx, 2
        call    cfg_readb
        CHECK_EQ eax, 0x0a, "SMRAM closed"
        ; (D_LCK and reserved-bit semantics follow the datasheet here and
        ; are not in QEMU: covered by tests/unit/test-pci.c instead)

        PRINT   "pcide: IDE", 10
        ; empty primary channel
        mov     dx, 0x1f6
        mov     al, 0xa0
        out     dx, al
        mov     dx, 0x1f7
        in      al, dx
        movzx   eax, al
        CHECK_EQ eax, 0, "empty channel status"
        ; CD-ROM on the secondary master: packet signature
        mov     dx, 0x176
        mov     al, 0xa0
        out     dx, al
        mov     dx, 0x174
        in      al, dx
        movzx   eax, al
        CHECK_EQ eax, 0x14, "ATAPI signature low"
        mov     dx, 0x175
        in      al, dx
        movzx   eax, al
        CHECK_EQ eax, 0xeb, "ATAPI signature high"
        ; register latches
        mov     dx, 0x172
        mov     al, 0x55
        out     dx, al
        in      al, dx
        movzx   eax, al
        CHECK_EQ eax, 0x55, "sector count latch"
        ; IDENTIFY DEVICE aborts on a packet device
        mov     dx, 0x177
        mov     al, 0xec
        out     dx, al
        in      al, dx
        movzx   eax, al
        CHECK_EQ eax, 0x41, "IDENTIFY on ATAPI: status"
        mov     dx, 0x171
        in      al, dx
        movzx   eax, al
        CHECK_EQ eax, 0x04, "IDENTIFY on ATAPI: ABRT"
        ; IDENTIFY PACKET DEVICE
        mov     dx, 0x177
        mov     al, 0xa1
        out     dx, al
        in      al, dx
        movzx   eax, al
        CHECK_EQ eax, 0x58, "IDENTIFY PACKET: DRQ"
        mov     edi, SECTOR_BUF
        mov     ecx, 256
        mov     dx, 0x170
        rep insw
        movzx   eax, word [SECTOR_BUF]
        CHECK_EQ eax, 0x85c0, "IDENTIFY PACKET word 0"
        movzx   eax, word [SECTOR_BUF + 2 * 49]
        and     eax, 0x300
        CHECK_EQ eax, 0x300, "IDENTIFY PACKET LBA+DMA"
        mov     dx, 0x177
        in      al, dx
        movzx   eax, al
        CHECK_EQ eax, 0x50, "IDENTIFY PACKET done"

        PRINT   "pcide: ATAPI", 10
        mov     esi, pkt_inquiry
        call    atapi_packet
        mov     edi, SECTOR_BUF
        call    atapi_read_data
        CHECK_EQ ecx, 36, "INQUIRY length"
        movzx   eax, word [SECTOR_BUF]
        CHECK_EQ eax, 0x8005, "INQUIRY CD-ROM removable"
        mov     esi, pkt_tur
        call    atapi_packet
        movzx   eax, al
        and     eax, 0x89
        CHECK_EQ eax, 0x01, "TEST UNIT READY without medium: CHECK CONDITION"
        mov     dx, 0x171
        in      al, dx
        shr     al, 4
        movzx   eax, al
        CHECK_EQ eax, 2, "NOT READY in the error register"
        mov     dx, 0x172
        in      al, dx
        and     al, 3
        movzx   eax, al
        CHECK_EQ eax, 3, "interrupt reason: completion"
        mov     dx, 0x177
        in      al, dx
        mov     esi, pkt_sense
        call    atapi_packet
        mov     edi, SECTOR_BUF
        call    atapi_read_data
        CHECK_EQ ecx, 18, "REQUEST SENSE length"
        movzx   eax, byte [SECTOR_BUF + 2]
        CHECK_EQ eax, 2, "sense key NOT READY"
        movzx   eax, byte [SECTOR_BUF + 12]
        CHECK_EQ eax, 0x3a, "MEDIUM NOT PRESENT"
        mov     esi, pkt_gesn
        call    atapi_packet
        mov     edi, SECTOR_BUF
        call    atapi_read_data
        CHECK_EQ ecx, 8, "GET EVENT STATUS length"
        movzx   eax, word [SECTOR_BUF + 2]
        CHECK_EQ eax, 0x1004, "media event class"
        movzx   eax, byte [SECTOR_BUF + 5]
        CHECK_EQ eax, 0, "no medium, tray closed"
        mov     esi, pkt_badop
        call    atapi_packet
        mov     dx, 0x171
        in      al, dx
        shr     al, 4
        movzx   eax, al
        CHECK_EQ eax, 5, "unknown opcode: ILLEGAL REQUEST"
        mov     dx, 0x177
        in      al, dx

        PRINT   "pcide: fw_cfg", 10
        mov     dx, 0x510
        xor     ax, ax
        out     dx, ax
        mov     dx, 0x511
        xor     ebx, ebx
        mov     ecx, 4
.sig:   in      al, dx
        shl     ebx, 8
        mov     bl, al
        loop    .sig
        CHECK_EQ ebx, 0x51454d55, "fw_cfg signature"
        mov     dx, 0x510
        mov     ax, 1
        out     dx, ax
        mov     dx, 0x511
        in      al, dx
        movzx   eax, al
        CHECK_EQ eax, 3, "fw_cfg ID with DMA"
        mov     dx, 0x514
        in      eax, dx
        CHECK_EQ eax, 0x554d4551, "fw_cfg DMA signature high"
        mov     dx, 0x518
        in      eax, dx
        CHECK_EQ eax, 0x47464320, "fw_cfg DMA signature low"
        ; DMA: select the file directory and read its count + first record
        mov     dword [DMA_DESC], 0x0a001900      ; be32 (0x19 << 16) | SELECT | READ
        mov     dword [DMA_DESC + 4], 0x44000000  ; be32 68
        mov     dword [DMA_DESC + 8], 0
        mov     dword [DMA_DESC + 12], 0x00610000 ; be64 low: DMA_BUF
        mov     dx, 0x514
        xor     eax, eax
        out     dx, eax
        mov     dx, 0x518
        mov     eax, 0x00600000                   ; be32 DMA_DESC
        out     dx, eax
        CHECK_EQ dword [DMA_DESC], 0, "fw_cfg DMA done"
        mov     eax, [DMA_BUF]
        bswap   eax
        cmp     eax, 0
        CHECK   a, "fw_cfg has files"
        movzx   eax, word [DMA_BUF + 8]           ; be16 select of the first file
        xchg    al, ah
        CHECK_EQ eax, 0x20, "first file key"

        PRINT   "pcide: IOAPIC", 10
        mov     dword [0xfec00000], 1
        mov     eax, [0xfec00010]
        CHECK_EQ eax, 0x00170020, "IOAPIC version"
        mov     dword [0xfec00000], 0x10
        mov     eax, [0xfec00010]
        CHECK_EQ eax, 0x00010000, "redirection entry masked"
        mov     dword [0xfec00010], 0x0001a0f5
        mov     eax, [0xfec00010]
        CHECK_EQ eax, 0x0001a0f5, "redirection entry written"
        mov     dword [0xfec00000], 0
        mov     dword [0xfec00010], 0x0f000000
        mov     eax, [0xfec00010]
        CHECK_EQ eax, 0x0f000000, "IOAPIC ID"
        mov     dword [0xfec00000], 2
        mov     eax, [0xfec00010]
        CHECK_EQ eax, 0x0f000000, "arbitration ID follows the ID"
        mov     dword [0xfec00000], 0x10
        mov     dword [0xfec00010], 0x00010000
        ret

pkt_inquiry:    db 0x12, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0
pkt_tur:        db 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
pkt_sense:      db 0x03, 0, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0
pkt_gesn:       db 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0, 0, 0
pkt_badop:      db 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0

        END_IMAGE
