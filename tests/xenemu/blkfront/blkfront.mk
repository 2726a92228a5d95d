# xen-blkfront: the userspace Xen PV block frontend (see blkfront/README.md).
#
# Included by tests/xenemu/Makefile, which builds libxenemu-guest.a:
#   make -C tests/xenemu blkfront-all      xen-blkfront and its tests
#   make -C tests/xenemu blkfront-check    the same, then check-blkfront
#
# SPDX-License-Identifier: GPL-2.0-or-later

BLKFRONT_SRC := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

BLKFRONT_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Wall -Werror -pthread \
                   -I$(BLKFRONT_SRC) -I$(BLKFRONT_SRC)/.. -MMD -MP

# The library (ring ABI, handshake, request engine) and the CLI on top.
BLKFRONT_LIB_OBJS := ring.o xenbus.o io.o util.o
BLKFRONT_CLI_OBJS := main.o bench.o hostile.o stream.o fuzz.o

blkfront-all: $(BUILD)/xen-blkfront $(BUILD)/test-blkfront-ring \
              $(BUILD)/blkfront-test-backend $(BUILD)/check-blkfront
all: blkfront-all

$(BUILD)/blkfront:
	mkdir -p $@

$(BUILD)/blkfront/%.o: $(BLKFRONT_SRC)/%.c | $(BUILD)/blkfront
	$(CC) $(CFLAGS) $(BLKFRONT_CFLAGS) -c -o $@ $<

$(BUILD)/blkfront/libblkfront.a: \
        $(addprefix $(BUILD)/blkfront/,$(BLKFRONT_LIB_OBJS))
	rm -f $@
	ar rcs $@ $^

$(BUILD)/xen-blkfront: $(addprefix $(BUILD)/blkfront/,$(BLKFRONT_CLI_OBJS)) \
                       $(BUILD)/blkfront/libblkfront.a \
                       $(BUILD)/libxenemu-guest.a
	$(CC) $(CFLAGS) -pthread -o $@ $^

# Ring ABI and index arithmetic against an in-process backend: no double.
$(BUILD)/test-blkfront-ring: $(BUILD)/blkfront/test-ring.o \
                             $(BUILD)/blkfront/ring.o $(BUILD)/blkfront/util.o
	$(CC) $(CFLAGS) -o $@ $^

# A minimal backend offering what stock QEMU lacks (indirect, multi-queue),
# run as a dom0 program under LD_PRELOAD=$XENEMU_PRELOAD.
$(BUILD)/blkfront-test-backend: $(BUILD)/blkfront/test-backend.o \
                                $(BUILD)/blkfront/ring.o
	$(CC) $(CFLAGS) -o $@ $^ -lxenstore -lxengnttab -lxenevtchn

$(BUILD)/check-blkfront: $(BLKFRONT_SRC)/check-blkfront \
                         $(BUILD)/libxl-disk.sh | $(BUILD)/blkfront
	install -m 755 $< $@

$(BUILD)/libxl-disk.sh: $(BLKFRONT_SRC)/libxl-disk.sh | $(BUILD)/blkfront
	install -m 644 $< $@

blkfront-check: blkfront-all
	$(BUILD)/check-blkfront

.PHONY: blkfront-all blkfront-check

-include $(wildcard $(BUILD)/blkfront/*.d)
