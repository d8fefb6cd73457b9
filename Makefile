# minipc: one non-recursive Makefile.
# Sources are found by wildcard per room, so adding a file needs no edit
# here. Works in-tree (./configure && make) and out-of-tree
# (mkdir build && cd build && ../configure && make).

ifeq ($(wildcard config-host.mak),)
$(error Run ./configure first (or ../configure from a build directory))
endif
include config-host.mak

S := $(SRC_PATH)
B := $(BUILD_PATH)

# Rooms that go into the library shared by every program and test.
LIB_ROOMS := util block migration cpu hw monitor ui net
LIB_SRCS := $(foreach r,$(LIB_ROOMS),$(wildcard $(S)/$(r)/*.c))
# Backend files that need an optional library are named after it.
ifneq ($(CONFIG_SDL),yes)
LIB_SRCS := $(filter-out $(S)/ui/sdl%.c,$(LIB_SRCS))
endif
ifneq ($(CONFIG_SLIRP),yes)
LIB_SRCS := $(filter-out $(S)/net/slirp%.c,$(LIB_SRCS))
endif

# $(call objs,SRCS): source paths -> object paths in the build directory
objs = $(patsubst $(S)/%.c,$(B)/%.o,$(1))

LIB_OBJS := $(call objs,$(LIB_SRCS))
LIB := $(B)/libminipc.a

SYSTEM_OBJS := $(call objs,$(wildcard $(S)/system/*.c))
IMG_OBJS := $(call objs,$(wildcard $(S)/tools/*.c))

UNIT_SRCS := $(wildcard $(S)/tests/unit/test-*.c)
UNIT_BINS := $(patsubst $(S)/%.c,$(B)/%,$(UNIT_SRCS))
UNIT_HELPER_OBJS := $(call objs,$(filter-out $(UNIT_SRCS),$(wildcard $(S)/tests/unit/*.c)))

FUZZ_SRCS := $(wildcard $(S)/tests/fuzz/fuzz-*.c)
FUZZ_SMOKE_BINS := $(patsubst $(S)/tests/fuzz/fuzz-%.c,$(B)/tests/fuzz/smoke-%,$(FUZZ_SRCS))
FUZZ_LIBFUZZER_BINS := $(patsubst $(S)/tests/fuzz/fuzz-%.c,$(B)/tests/fuzz/libfuzzer-%,$(FUZZ_SRCS))

ASM_SRCS := $(wildcard $(S)/tests/baremetal/*.asm)
ASM_BINS := $(patsubst $(S)/%.asm,$(B)/%.bin,$(ASM_SRCS))
ASM_INCS := $(wildcard $(S)/tests/baremetal/*.inc)

ALL_CFLAGS := $(CFLAGS) -I$(B) -I$(S)/include $(ZLIB_CFLAGS) $(SDL_CFLAGS) $(SLIRP_CFLAGS)
LIBS := $(ZLIB_LIBS) $(SDL_LIBS) $(SLIRP_LIBS) -lm -lutil -lpthread

PROGS := $(if $(SYSTEM_OBJS),$(B)/minipc) $(if $(IMG_OBJS),$(B)/minipc-img)
ifneq ($(NASM),)
TEST_DATA := $(ASM_BINS)
endif

.PHONY: all check check-unit check-fuzz check-integration bench fuzz install clean
.DEFAULT_GOAL := all

all: $(PROGS) $(UNIT_BINS) $(FUZZ_SMOKE_BINS) $(TEST_DATA)

$(B)/%.o: $(S)/%.c $(B)/config-host.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/config-host.h: ;

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/minipc: $(SYSTEM_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/minipc-img: $(IMG_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/unit/%.o: $(S)/tests/unit/%.c $(B)/config-host.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tests/unit/test-%: $(B)/tests/unit/test-%.o $(UNIT_HELPER_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS)

# Fuzz targets: the same LLVMFuzzerTestOneInput linked two ways. The
# smoke driver runs a fixed, seeded set of mutations (part of make check);
# the libFuzzer build (make fuzz, clang only) runs open-ended.
$(B)/tests/fuzz/smoke-%: $(B)/tests/fuzz/fuzz-%.o $(B)/tests/fuzz/smoke-main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/fuzz/libfuzzer-%: $(S)/tests/fuzz/fuzz-%.c $(LIB_SRCS)
	@mkdir -p $(dir $@)
	$(CLANG) $(filter-out -fsanitize% -fno-sanitize% -Werror -Wshadow=local,$(ALL_CFLAGS)) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

fuzz: $(FUZZ_LIBFUZZER_BINS)

$(B)/tests/baremetal/%.bin: $(S)/tests/baremetal/%.asm $(ASM_INCS)
	@mkdir -p $(dir $@)
	$(NASM) -f bin -I$(S)/tests/baremetal/ -o $@ $<

check: all
	python3 $(S)/tests/run-tests.py --build $(B)

check-unit: all
	python3 $(S)/tests/run-tests.py --build $(B) --only unit

check-fuzz: all
	python3 $(S)/tests/run-tests.py --build $(B) --only fuzz

check-integration: all
	python3 $(S)/tests/run-tests.py --build $(B) --only integration

bench: $(PROGS) $(TEST_DATA)
	python3 $(S)/tests/bench/run-bench.py --build $(B)

install: $(PROGS)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -f $(LIB) $(PROGS)
	find $(B) \( -name "*.o" -o -name "*.d" \) -type f -delete 2>/dev/null || true
	rm -rf $(B)/tests/unit/test-* $(B)/tests/fuzz/smoke-* $(B)/tests/fuzz/libfuzzer-* $(B)/tests/baremetal/*.bin

-include $(LIB_OBJS:.o=.d) $(SYSTEM_OBJS:.o=.d) $(IMG_OBJS:.o=.d) $(UNIT_BINS:=.d)
