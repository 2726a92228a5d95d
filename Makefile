# Xen PV block backend for QEMU: build, demo and tests.  See README.md.
#
#   make        install what is missing, fetch QEMU 7.2, overlay, build
#   make demo   build, then run the main job
#   make check  build, then run every test ('N passed, N failed')
#   make bench  build, then compare our QEMU's speed with stock QEMU 7.2

TOP := $(CURDIR)
BUILD := $(TOP)/build

.PHONY: all deps qemu xenemu demo check bench clean distclean

all: qemu xenemu

deps:
	@scripts/install-deps.sh

$(BUILD)/qemu-src/VERSION: | deps
	@scripts/fetch-qemu.sh

qemu: deps $(BUILD)/qemu-src/VERSION
	@python3 scripts/overlay.py
	@scripts/build-qemu.sh

xenemu: deps
	@if [ -f tests/xenemu/Makefile ]; then \
	    $(MAKE) -s --no-print-directory -C tests/xenemu BUILD=$(BUILD)/xenemu; \
	fi

demo: all
	@scripts/demo.sh

check: all
	@scripts/run-tests.sh

bench: all
	@scripts/bench.sh

# Keeps the fetched QEMU source; distclean drops it too.
clean:
	rm -rf $(BUILD)/qemu-build $(BUILD)/xenemu $(BUILD)/test-logs \
	    $(BUILD)/qemu-system-i386 $(BUILD)/qemu-img

distclean:
	rm -rf $(BUILD)
