# Xen PV block backend for QEMU: build, demo and tests.  See README.md.
#
#   make        install what is missing, fetch both QEMU bases, overlay,
#               build (build/qemu-7.2/ and build/qemu-10.0/, and 10.0 again
#               with sanitizers)
#   make demo   build, then run the main job (QEMU=7.2 for the 7.2 build)
#   make check  build, then run every test on both bases ('N passed, N failed')
#   make bench  build, then compare our speed with both stock QEMUs (IOPS,
#               CPU and instructions per I/O), then with the rig's limit
#   make fuzz   build, then fuzz the sanitizer build long (FUZZ_COUNT
#               requests per run, ten runs; FUZZ_SEED to replay)
#   make deb    build, then package as a drop-in for Debian's
#               qemu-system-xen (build/deb/qemu-system-xen-pvblock_*.deb;
#               both bases, QEMU=7.2 or QEMU=10.0 for one)
#
# QEMU_DEVICES=minimal (on the command line or in the environment) builds
# both bases with the Xen machines and devices only, for quick work; the
# default, debian, is Debian's qemu-system-xen device set.  The sanitizer
# build is minimal unless QEMU_SAN_DEVICES=debian.  (scripts/build-qemu.sh)

TOP := $(CURDIR)
BUILD := $(TOP)/build
BASES := 7.2 10.0
QEMU ?= 10.0

.PHONY: all deps qemu $(addprefix qemu-,$(BASES)) qemu-sanitizers stock \
	xenemu demo check bench fuzz deb clean distclean

all: qemu qemu-sanitizers stock xenemu

deps:
	@scripts/install-deps.sh

qemu: $(addprefix qemu-,$(BASES))

# One base at a time: each build already uses every core.
qemu-10.0: | qemu-7.2

$(addprefix qemu-,$(BASES)): qemu-%: deps
	@scripts/fetch-qemu.sh $*
	@python3 scripts/overlay.py $*
	@scripts/build-qemu.sh $*

# QEMU 10.0 again, with AddressSanitizer and UndefinedBehaviorSanitizer,
# from the same overlaid sources (build/qemu-10.0/qemu-build-san/).
qemu-sanitizers: qemu-10.0
	@scripts/build-qemu.sh 10.0 sanitizers

# Debian 13's stock QEMU 10.0 and xenstored 4.20, unpacked under build/
# (the reference and baseline on that base; nothing is installed).
stock: deps
	@scripts/fetch-stock-qemu.sh

xenemu: deps
	@if [ -f tests/xenemu/Makefile ]; then \
	    $(MAKE) -s --no-print-directory -C tests/xenemu BUILD=$(BUILD)/xenemu; \
	fi

demo: qemu-$(QEMU) xenemu
	@scripts/demo.sh $(QEMU)

check: all
	@scripts/run-tests.sh

bench: all
	@scripts/bench.sh --callgrind
	@scripts/bench.sh --ceiling --callgrind

FUZZ_COUNT ?= 1000000
fuzz: all
	@mkdir -p $(BUILD)/test-logs
	@FUZZ_COUNT=$(FUZZ_COUNT) tests/check-sanitized.sh \
	    $(BUILD)/test-logs/san-fuzz-long tests/check-fuzz.sh \
	    $(BUILD)/qemu-10.0/qemu-system-i386-san $(BUILD)/xenemu

# Builds and packages both bases, or the one QEMU names when given.
DEB_BASES := $(if $(filter file,$(origin QEMU)),$(BASES),$(QEMU))
deb: $(addprefix qemu-,$(DEB_BASES))
	@scripts/make-deb.sh $(DEB_BASES)

# Keeps the fetched QEMU sources; distclean drops them too.
clean:
	rm -rf $(addprefix $(BUILD)/qemu-,$(addsuffix /qemu-build,$(BASES))) \
	    $(BUILD)/qemu-10.0/qemu-build-san \
	    $(BUILD)/xenemu $(BUILD)/test-logs

distclean:
	rm -rf $(BUILD)
