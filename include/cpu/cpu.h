/*
 * The x86 CPU: an i686-class processor (P6 integer ISA, x87 through the
 * FPU module) with real, protected and virtual-8086 modes and 2-level
 * paging (PSE, PGE, WP). Guest code is decoded once into translation
 * blocks of pre-decoded ops (include/cpu/ops.h) and run from a cache.
 *
 * The machine creates one CPU with cpu_new(), wires its memory and I/O
 * address spaces, its interrupt acknowledge callback and reset hook, and
 * calls cpu_exec() in slices from its run loop.
 */
#ifndef CPU_CPU_H
#define CPU_CPU_H

#include <setjmp.h>

#include "util/osdep.h"
#include "cpu/fpu.h"
#include "cpu/memory.h"

/* General registers, in encoding order. */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI, R_ZERO };
/* Segment registers, in encoding order. */
enum { R_ES, R_CS, R_SS, R_DS, R_FS, R_GS, SEG_NONE = 7 };

/* EFLAGS bits. */
enum {
    CC_C = 1 << 0, CC_P = 1 << 2, CC_A = 1 << 4, CC_Z = 1 << 6,
    CC_S = 1 << 7, CC_O = 1 << 11,
    CC_MASK = CC_C | CC_P | CC_A | CC_Z | CC_S | CC_O,
    TF_MASK = 1 << 8, IF_MASK = 1 << 9, DF_MASK = 1 << 10,
    IOPL_MASK = 3 << 12, IOPL_SHIFT = 12, NT_MASK = 1 << 14,
    RF_MASK = 1 << 16, VM_MASK = 1 << 17, AC_MASK = 1 << 18,
    VIF_MASK = 1 << 19, VIP_MASK = 1 << 20, ID_MASK = 1 << 21,
};

/* CR0 / CR4 bits. */
enum {
    CR0_PE = 1u << 0, CR0_MP = 1u << 1, CR0_EM = 1u << 2, CR0_TS = 1u << 3,
    CR0_ET = 1u << 4, CR0_NE = 1u << 5, CR0_WP = 1u << 16, CR0_AM = 1u << 18,
    CR0_NW = 1u << 29, CR0_CD = 1u << 30, CR0_PG = 1u << 31,
    CR4_VME = 1u << 0, CR4_PVI = 1u << 1, CR4_TSD = 1u << 2, CR4_DE = 1u << 3,
    CR4_PSE = 1u << 4, CR4_PAE = 1u << 5, CR4_MCE = 1u << 6, CR4_PGE = 1u << 7,
    CR4_PCE = 1u << 8, CR4_OSFXSR = 1u << 9, CR4_OSXMMEXCPT = 1u << 10,
};

/* Exception vectors. */
enum {
    EXCP_DE = 0, EXCP_DB = 1, EXCP_NMI = 2, EXCP_BP = 3, EXCP_OF = 4,
    EXCP_BR = 5, EXCP_UD = 6, EXCP_NM = 7, EXCP_DF = 8, EXCP_TS = 10,
    EXCP_NP = 11, EXCP_SS = 12, EXCP_GP = 13, EXCP_PF = 14, EXCP_MF = 16,
    EXCP_AC = 17, EXCP_MC = 18, EXCP_XM = 19,
};

/* Descriptor attribute bits as they sit in the high dword of a segment
 * descriptor (SegmentCache.flags keeps the high dword masked with
 * DESC_ATTR_MASK). */
enum {
    DESC_TYPE_SHIFT = 8, DESC_TYPE_MASK = 15 << 8,
    DESC_A = 1 << 8,      /* accessed (code/data) */
    DESC_W = 1 << 9,      /* data: writable */
    DESC_R = 1 << 9,      /* code: readable */
    DESC_E = 1 << 10,     /* data: expand-down */
    DESC_C = 1 << 10,     /* code: conforming */
    DESC_CODE = 1 << 11,  /* code (when DESC_S) */
    DESC_S = 1 << 12,     /* code/data (not system) */
    DESC_DPL_SHIFT = 13, DESC_DPL_MASK = 3 << 13,
    DESC_P = 1 << 15,
    DESC_AVL = 1 << 20,
    DESC_B = 1 << 22,     /* D/B: 32-bit default */
    DESC_G = 1 << 23,
    DESC_ATTR_MASK = 0x00f0ff00,
};

/* A segment register with its hidden (descriptor cache) part. Also used
 * for LDTR and TR; GDTR/IDTR use base and limit only. */
typedef struct SegmentCache {
    uint32_t base;
    uint32_t limit;      /* byte-granular limit (G already applied) */
    uint32_t flags;      /* DESC_* attributes; 0 with !DESC_P = unusable */
    uint16_t selector;
    /* Derived, not saved: offsets lo..hi (inclusive) are valid; fast_rd/
     * fast_wr say that every 32-bit offset is valid for reads/writes so
     * the hot path can skip the limit check. */
    bool fast_rd, fast_wr;
    uint32_t lo, hi;
} SegmentCache;

/* Lazy condition codes: the flags of the last flag-setting operation are
 * computed from (cc_op, cc_dst, cc_src, cc_src2) only when read. */
typedef enum CCOp {
    CC_OP_EFLAGS,        /* cc_src holds the CC_MASK bits */
    CC_OP_ADD8, CC_OP_ADD16, CC_OP_ADD32,   /* dst=res, src=operand 2 */
    CC_OP_ADC8, CC_OP_ADC16, CC_OP_ADC32,   /* + src2 = carry in */
    CC_OP_SUB8, CC_OP_SUB16, CC_OP_SUB32,   /* dst=res, src=operand 2 */
    CC_OP_SBB8, CC_OP_SBB16, CC_OP_SBB32,   /* + src2 = borrow in */
    CC_OP_LOGIC8, CC_OP_LOGIC16, CC_OP_LOGIC32, /* dst=res; CF=OF=AF=0 */
    CC_OP_INC8, CC_OP_INC16, CC_OP_INC32,   /* dst=res, src=old CF */
    CC_OP_DEC8, CC_OP_DEC16, CC_OP_DEC32,   /* dst=res, src=old CF */
    /* SF/ZF/PF from dst; CF, OF and AF taken from the bits in src
     * (shifts, multiplies). */
    CC_OP_RES8, CC_OP_RES16, CC_OP_RES32,
    CC_OP_COUNT,
} CCOp;

/* Translation-block mode flags: everything that changes how bytes decode
 * or which checks an op must make. Part of the TB key. */
enum {
    HF_CODE32 = 1 << 0,      /* CS.D */
    HF_SS32 = 1 << 1,        /* SS.B */
    HF_PE = 1 << 2,          /* CR0.PE */
    HF_VM = 1 << 3,          /* EFLAGS.VM */
    HF_CPL_SHIFT = 4, HF_CPL_MASK = 3 << 4,
    HF_EM = 1 << 6,          /* CR0.EM */
    HF_TS = 1 << 7,          /* CR0.TS */
    HF_MP = 1 << 8,          /* CR0.MP */
    HF_TF = 1 << 9,          /* single-step: one instruction per block */
    HF_SINGLE = 1 << 10,     /* one instruction per block (irq shadow, breakpoints) */
    HF_OSFXSR = 1 << 11,     /* CR4.OSFXSR */
    HF_DR = 1 << 12,         /* DR7 code breakpoints armed */
};

typedef struct TLBEntry TLBEntry;
typedef struct TBCache TBCache;
typedef struct IRQLine IRQLine;

/* Why cpu_exec() returned. */
typedef enum {
    CPU_EXIT_BUDGET,     /* the instruction budget ran out */
    CPU_EXIT_REQUEST,    /* cpu_exit() was called (kick, device, monitor) */
    CPU_EXIT_HALTED,     /* HLT with no interrupt pending */
    CPU_EXIT_RESET,      /* triple fault or a reset request */
    CPU_EXIT_SHUTDOWN,   /* a device asked to stop the machine */
} CPUExitReason;

#define TLB_BITS 14
#define TLB_SIZE (1 << TLB_BITS)
#define JMP_CACHE_BITS 12
#define JMP_CACHE_SIZE (1 << JMP_CACHE_BITS)

/* The hot part of a TLB entry: 16 bytes, what loads and stores check. */
struct TLBEntry {
    uint32_t read_tag;   /* linear page for reads, or TLB_INVALID */
    uint32_t write_tag;  /* same for writes (RAM not holding code, not logged) */
    uintptr_t addend;    /* host address = linear + addend */
};
/* The cold part, in a parallel array. */
typedef struct TLBExtra {
    uint32_t code_tag;   /* linear page for instruction fetch */
    uint32_t global;     /* PGE global page: survives CR3 writes */
    uint64_t ram_page;   /* RAM page number (code tracking) */
} TLBExtra;
#define TLB_INVALID 0xffffffffu

typedef struct JmpCacheEntry {
    void *tb;
    uint32_t gen;
} JmpCacheEntry;

typedef struct CPUX86State CPUX86State;
typedef CPUX86State CPUState;

struct CPUX86State {
    /* ---- hot: touched by nearly every op ------------------------------ */
    uint32_t regs[9];        /* EAX..EDI; regs[R_ZERO] is always 0 (EA helper) */
    uint32_t eip;            /* valid at block boundaries and in exceptions */
    uint32_t cc_op, cc_dst, cc_src, cc_src2;
    uint32_t eflags;         /* every bit except CC_MASK (lazy, see cc_*) */
    TLBEntry *tlb;           /* tlb_table[0] (supervisor) or [1] (CPL 3) */
    int32_t budget;          /* instructions left in this slice */
    volatile int exit_request;
    uint32_t hflags;         /* HF_*: mode bits of the TB key */
    uint32_t tlb_gen;        /* bumped on every TLB flush (links, jmp cache) */
    SegmentCache segs[6];

    /* ---- architectural ------------------------------------------------ */
    SegmentCache ldt, tr;
    SegmentCache gdt, idt;   /* base and limit only */
    uint32_t cr[5];          /* CR0, -, CR2, CR3, CR4 */
    uint32_t dr[8];          /* DR0-3, DR6 (index 6), DR7 (index 7) */
    uint8_t cpl;
    bool halted;
    bool irq_inhibit;        /* after STI / MOV SS / POP SS: one insn without IRQs */
    bool nmi_pending;
    bool nmi_blocked;        /* from NMI delivery until the next IRET */
    bool intr_level;         /* INTR input from the interrupt controller */
    bool a20_enabled;
    uint32_t a20_mask;
    uint64_t tsc_offset;     /* TSC = icount + tsc_offset */
    uint64_t icount;         /* instructions retired (approximate inside blocks) */
    /* MSRs */
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t apic_base;
    uint64_t pat;
    uint64_t mtrr_cap, mtrr_def_type, mtrr_fixed[11], mtrr_var[16];
    uint64_t misc_enable;
    X86FPUState fpu;

    /* ---- exception delivery -------------------------------------------- */
    int pending_exc;         /* vector being raised, -1 none */
    uint32_t pending_err;
    bool pending_has_err;
    int exc_class_in_delivery; /* for double-fault detection; -1 none */
    bool in_delivery;
    sigjmp_buf jmp_env;      /* cpu_exec's catch point for exceptions */

    /* ---- the machine's wiring ------------------------------------------ */
    AddressSpace *as_mem;    /* physical memory */
    AddressSpace *as_io;     /* 64 KiB port space */
    void *machine_opaque;
    /* INTA cycle: returns the vector of the pending interrupt (PIC). */
    int (*irq_ack)(void *opaque);
    /* x87 FERR# output for the legacy (CR0.NE=0) IRQ13 path. */
    IRQLine *ferr_line;
    /* Optional: TSC source (e.g. the virtual clock); NULL uses icount. */
    uint64_t (*get_tsc)(void *opaque);

    /* ---- caches (not architectural, never saved) ----------------------- */
    TLBEntry tlb_table[2][TLB_SIZE];
    TLBExtra tlb_extra[2][TLB_SIZE];
    /* Never filled: the active TLB while alignment checking is on
     * (CPL 3, CR0.AM, EFLAGS.AC), so every access takes the slow path. */
    TLBEntry tlb_nocache[TLB_SIZE];
    /* Indices of TLB entries filled since the last flush, so a flush
     * touches only those (tlb_used_n > TLB_SIZE: flush everything). */
    uint32_t tlb_used_n[2];
    uint16_t tlb_used[2][TLB_SIZE];
    /* The last RAM/ROM range the MMU looked up (page walks, fills). */
    uint64_t pcache_start, pcache_end;   /* inclusive guest-physical range */
    uint8_t *pcache_host;                /* host address of pcache_start */
    MemoryRegion *pcache_mr;
    uint64_t pcache_mr_offset;           /* offset in mr of pcache_start */
    bool pcache_valid, pcache_readonly;
    JmpCacheEntry jmp_cache[JMP_CACHE_SIZE];
    TBCache *tbc;
    void *cur_tb;            /* block being executed (for SMC) */
    bool reset_requested;
};

/* Lifecycle. */
CPUX86State *cpu_new(AddressSpace *mem, AddressSpace *io, size_t code_cache_bytes);
void cpu_free(CPUX86State *cpu);
/* Power-on / RESET# state: real mode at F000:FFF0 (CS base 0xffff0000). */
void cpu_reset(CPUX86State *cpu);

/* Runs guest code until 'max_insns' instructions (approximately, at block
 * granularity) have run or another exit reason occurs. */
CPUExitReason cpu_exec(CPUX86State *cpu, int32_t max_insns);
/* Makes cpu_exec() return at the next block boundary (device callbacks,
 * signal handlers, the monitor). */
void cpu_exit(CPUX86State *cpu);

/* Interrupt inputs. INTR is level-triggered (the PIC's output); NMI is
 * an edge. Both wake a halted CPU. */
void cpu_set_intr(CPUX86State *cpu, bool level);
void cpu_raise_nmi(CPUX86State *cpu);
/* IRQHandler adapter so the PIC output can be an IRQLine (n ignored). */
void cpu_intr_irq_handler(void *opaque, int n, int level);
/* True when the CPU would take an interrupt now (to leave HLT). */
bool cpu_has_work(CPUX86State *cpu);

/* A20 gate (port 0x92 / keyboard controller). */
void cpu_set_a20(CPUX86State *cpu, bool enabled);

/* Register access with lazy flags folded in. */
uint32_t cpu_get_eflags(CPUX86State *cpu);
void cpu_set_eflags(CPUX86State *cpu, uint32_t value, uint32_t mask);

/* Recomputes hflags, derived segment fields and the active TLB from the
 * architectural state (after loadvm or a debugger write), and flushes
 * the TLB and code cache. */
void cpu_sync_after_state_change(CPUX86State *cpu);

/* Debugger-style access through the current page tables (no faults, no
 * A/D updates). Returns false if some byte is not mapped. */
bool cpu_memory_rw_debug(CPUX86State *cpu, uint32_t lin, void *buf, uint32_t len, bool write);

/* "info registers" style dump. */
typedef void CPUPrintFn(void *opaque, const char *line);
void cpu_dump_state(CPUX86State *cpu, CPUPrintFn *print, void *opaque);

/* Code cache statistics (monitor, tests). */
typedef struct CPUCacheStats {
    uint64_t tbs_translated;
    uint64_t tbs_invalidated;
    uint64_t flushes;
    size_t bytes_used, bytes_total;
} CPUCacheStats;
void cpu_get_cache_stats(CPUX86State *cpu, CPUCacheStats *st);

/* The whole architectural state, for savevm/loadvm. */
struct VMStateDescription;
extern const struct VMStateDescription vmstate_x86_cpu;

#endif
