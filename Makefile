# Mizar's entry points over the npm scripts:
#   make                            build everything (BPF objects, addon, protos, TypeScript)
#   make test                       root-free unit tests (test/unit)
#   make functest                   the functional suite on droplets (test/func; root)
#   make run_func_test TEST=<name>  one functional test file, e.g. TEST=scenario
.PHONY: all build test functest run_func_test

all: build

build:
	npm run build

test:
	npm run test:unit

functest: build
	npx vitest run --project main test/func

run_func_test:
	@test -n "$(TEST)" || { echo "give TEST=<name>, one of: $$(ls test/func | sed -n 's/\.test\.ts$$//p' | tr '\n' ' ')"; exit 2; }
	@test -f test/func/$(TEST).test.ts || { echo "no test/func/$(TEST).test.ts"; exit 2; }
	$(MAKE) build
	npx vitest run --project main test/func/$(TEST).test.ts
