/*
 * 82093AA I/O APIC (register interface of version 0x20, as QEMU's
 * board): 24 redirection entries behind IOREGSEL (offset 0x00) and IOWIN
 * (0x10), plus the EOI register (0x40) of version 0x20 parts. Usually at
 * 0xfec00000.
 *
 * Inputs are IRQLines (ioapic_irq(s, pin)) carrying logical levels: 1 is
 * "asserted" whatever the entry's polarity bit says. Edge-triggered
 * entries deliver on 0->1 transitions while unmasked (an edge on a masked
 * pin is lost, as the datasheet says); level-triggered entries deliver
 * while asserted and remote IRR is clear, set remote IRR, and deliver
 * again after an EOI for their vector if still asserted.
 *
 * Delivery goes to the local APIC side through a callback the machine
 * installs; the IOAPIC never calls the CPU. The local APIC reports EOIs
 * of level-triggered vectors with ioapic_eoi_broadcast().
 */
#ifndef HW_IOAPIC_H
#define HW_IOAPIC_H

#include "util/osdep.h"
#include "cpu/memory.h"
#include "hw/irq.h"
#include "migration/vmstate.h"

#define IOAPIC_NUM_PINS     24
#define IOAPIC_DEFAULT_BASE 0xfec00000ULL
#define IOAPIC_VERSION      0x20

/* Redirection entry bits */
#define IOAPIC_LVT_VECTOR        0xffULL
#define IOAPIC_LVT_DELIV_MODE_SHIFT 8
#define IOAPIC_LVT_DEST_MODE     (1ULL << 11)   /* 1: logical */
#define IOAPIC_LVT_DELIV_STATUS  (1ULL << 12)
#define IOAPIC_LVT_POLARITY      (1ULL << 13)
#define IOAPIC_LVT_REMOTE_IRR    (1ULL << 14)
#define IOAPIC_LVT_TRIGGER_LEVEL (1ULL << 15)
#define IOAPIC_LVT_MASKED        (1ULL << 16)
#define IOAPIC_LVT_DEST_SHIFT    56

/* Delivery modes */
#define IOAPIC_DM_FIXED    0
#define IOAPIC_DM_LOWEST   1
#define IOAPIC_DM_SMI      2
#define IOAPIC_DM_NMI      4
#define IOAPIC_DM_INIT     5
#define IOAPIC_DM_EXTINT   7

/* One interrupt message to the local APIC(s). */
typedef void IOAPICDeliverFn(void *opaque, uint8_t vector, uint8_t delivery_mode,
                             uint8_t dest, bool dest_logical, bool level_trigger);

typedef struct IOAPICState {
    uint8_t id;
    uint8_t ioregsel;
    uint32_t irr;             /* requests waiting for delivery / asserted levels */
    uint32_t level;           /* input levels now */
    uint64_t ioredtbl[IOAPIC_NUM_PINS];
    IRQLine *in[IOAPIC_NUM_PINS];
    IOAPICDeliverFn *deliver;
    void *opaque;
    MemoryRegion *mr;
    bool in_service;          /* re-entrancy guard for deliver() */
    bool service_again;
} IOAPICState;

/* Maps the registers at 'base' of 'sysmem' (a 4 KiB window). */
IOAPICState *ioapic_new(MemoryRegion *sysmem, uint64_t base, IOAPICDeliverFn *deliver,
                        void *opaque);
void ioapic_free(IOAPICState *s);
/* All entries masked, ID 0, nothing pending. */
void ioapic_reset(IOAPICState *s);
IRQLine *ioapic_irq(IOAPICState *s, int pin);
/* The local APIC got an EOI for a level-triggered 'vector'. */
void ioapic_eoi_broadcast(IOAPICState *s, uint8_t vector);

extern const VMStateDescription vmstate_ioapic;

#endif
