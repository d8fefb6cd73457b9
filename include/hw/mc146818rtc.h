/*
 * MC146818 real-time clock and 128 bytes of CMOS RAM, at index port 0x70
 * (bit 7 masks NMI) and data port 0x71, interrupting on ISA IRQ 8.
 *
 * The clock starts from the host's wall clock (UTC, or local time) and
 * then advances with CLOCK_VIRTUAL, so it stops with the VM and is
 * restored with snapshots.
 *
 * CMOS bytes the firmware reads, filled by the machine (SeaBIOS layout):
 *   0x10 floppy types (drive A high nibble, B low; 4 = 1.44 MB) and
 *   0x14 equipment: bit 0 floppies present, bits 7:6 floppy count - 1,
 *        bit 1 FPU, bit 2 PS/2 mouse, bits 5:4 display (00 = VGA)
 *                                                   -> rtc_set_equipment
 *   0x12, 0x19/0x1a hard disk types, 0x1b-0x23 and 0x24-0x2c their
 *   geometry                                        -> rtc_set_hd_geometry
 *   0x15/0x16 base memory (KiB), 0x17/0x18 and 0x30/0x31 memory above
 *   1 MiB (KiB), 0x34/0x35 memory above 16 MiB (64 KiB units),
 *   0x5b-0x5d memory above 4 GiB (64 KiB units)    -> rtc_set_ram_size
 *   0x38/0x3d boot order                            -> rtc_set_boot_order
 *   0x39/0x3a disk translation (2 bits per disk)    -> rtc_set_disk_translation
 *   0x5f CPU count - 1                              -> rtc_set_cpu_count
 *   0x32 century (kept by the clock itself, in the clock's BCD/binary mode)
 */
#ifndef HW_MC146818RTC_H
#define HW_MC146818RTC_H

#include "cpu/memory.h"
#include "hw/irq.h"
#include "migration/vmstate.h"
#include "util/error.h"

#define RTC_ISA_IRQ 8
#define RTC_CMOS_SIZE 128

/* CMOS offsets the machine fills. */
#define RTC_CMOS_FLOPPY_TYPES 0x10
#define RTC_CMOS_EQUIPMENT 0x14
#define RTC_CMOS_CENTURY 0x32
#define RTC_CMOS_CPU_COUNT 0x5f

typedef enum {
    RTC_BASE_UTC,
    RTC_BASE_LOCALTIME,
} RTCBase;

typedef struct RTCState RTCState;

/* Maps ports 0x70-0x71 into 'io'; the time comes from CLOCK_HOST now. */
RTCState *rtc_new(MemoryRegion *io, IRQLine *irq, RTCBase base);
void rtc_free(RTCState *s);
/* System reset: interrupt enables and flags clear; time and RAM stay. */
void rtc_reset(RTCState *s);

/* The clock's time as seconds since 1970-01-01 00:00 in the guest's
 * frame (what the registers show, read as UTC). */
void rtc_set_time(RTCState *s, int64_t seconds);
int64_t rtc_get_time(RTCState *s);

/* Raw CMOS RAM (0x0e-0x7f; clock registers and the century are ignored). */
void rtc_set_memory(RTCState *s, int addr, uint8_t val);
uint8_t rtc_get_memory(RTCState *s, int addr);

/* Memory size bytes from the RAM below and above 4 GiB. */
void rtc_set_ram_size(RTCState *s, uint64_t below_4g, uint64_t above_4g);
/* Boot order as in -boot order=: up to three of a, b (floppy), c (disk),
 * d (CD-ROM), n (network). -EINVAL with errp set for anything else. */
int rtc_set_boot_order(RTCState *s, const char *order, bool floppy_signature_check,
                       Error **errp);
/* Floppy drive types for A: and B: (0 none, 1 360K, 2 1.2M, 3 720K,
 * 4 1.44M, 5 2.88M) and the equipment byte (FPU and PS/2 mouse bits). */
void rtc_set_equipment(RTCState *s, int floppy_a, int floppy_b, bool fpu, bool ps2_mouse);
/* Hard disk 0 or 1 as the AT's "user type" 47 with this geometry
 * (cylinders 0 removes the disk). */
void rtc_set_hd_geometry(RTCState *s, int disk, unsigned cylinders, unsigned heads,
                         unsigned sectors);
void rtc_set_cpu_count(RTCState *s, unsigned cpus);
/* BIOS disk translation for IDE disk 0-7 (controller*2 + unit): 0 none,
 * 1 LBA, 2 large, 3 r-echs. */
void rtc_set_disk_translation(RTCState *s, int disk, int mode);

/* Whether the guest has masked NMI through port 0x70 bit 7. */
bool rtc_nmi_masked(const RTCState *s);

/* Section "mc146818rtc". */
extern const VMStateDescription vmstate_mc146818rtc;

#endif
