# The two commands of the README's quick start, and what they stand on.
# Everything here calls scripts with argument lists; no logic lives in make.
.PHONY: deps build demo test testbed lint bench

deps:
	bash .ci/deps.sh

build: deps
	npm run build

demo: build
	bash test/demo/demo.sh

testbed:
	bash test/testbed/build.sh

test: deps testbed
	npm test

lint: deps
	npm run lint

bench: build
	npm run bench
