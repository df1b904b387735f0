# The two commands a new user types (see README.md):
#   make demo   - a day in the life of the sync server and three devices
#   make test   - install what is missing, build, run every test
# Both install missing Debian packages first (scripts/install-deps.sh).

BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps configure build test demo serve sanitize fuzz format clean

all: build

deps:
	@./scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize:
	@$(MAKE) test BUILD_DIR=build-asan CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=Debug -DOUTREACH_SANITIZE=ON"

# libFuzzer targets with clang; run e.g. build-fuzz/tests/fuzz/frame_decoder_fuzzer tests/fuzz/corpus/frame_decoder
fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOUTREACH_FUZZ=ON -DOUTREACH_WERROR=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target frame_decoder_fuzzer

demo: build
	@BUILD_DIR=$(BUILD_DIR) ./scripts/demo.sh

serve: build
	@BUILD_DIR=$(BUILD_DIR) ./scripts/serve.sh

format:
	@clang-format -i $$(git ls-files '*.cc' '*.h' '*.c')

clean:
	@rm -rf $(BUILD_DIR) build-asan build-fuzz
