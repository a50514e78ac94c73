# Two commands do everything on a fresh Debian machine:
#   make demo   installs build dependencies, builds, runs the engine on a built-in tiny model
#   make test   builds and runs the whole test suite
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
ifeq ($(CI),true)
  CMAKE_FLAGS += -DG3N_WERROR=ON
endif

.PHONY: setup build demo test clean

setup:
	@bash scripts/setup.sh

build: setup
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# The demo model is a tiny random-weight Gemma 3n committed as a test fixture: it runs the whole
# text architecture (PLE, AltUp, LAuReL, KV sharing, sliding/global attention, sparsity) in a
# blink, but its output is meaningless token ids.
demo: build
	./$(BUILD)/gemma3n info --model tests/fixtures/tiny-nested
	./$(BUILD)/gemma3n run --model tests/fixtures/tiny-nested --tokens 2,105,17,42,99,7,106 -n 24 --temp 0.8 --top-k 40 --top-p 0.95 --seed 1

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
