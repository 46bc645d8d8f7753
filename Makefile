# The two commands of the README's quick start, and what they stand on.
# Everything here calls scripts with argument lists; no logic lives in make.
.PHONY: deps build demo test testbed lint bench install uninstall

# make install DESTDIR=/tmp/stage PREFIX=/usr: see .ci/install.sh for the layout. install does not
# build (run make build first, as the user who builds), so it never runs npm as root.
PREFIX ?= /usr
SYSCONFDIR ?= /etc
DESTDIR ?=

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

install:
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" SYSCONFDIR="$(SYSCONFDIR)" CRONTAB_SPOOL="$(CRONTAB_SPOOL)" bash .ci/install.sh install

uninstall:
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" SYSCONFDIR="$(SYSCONFDIR)" CRONTAB_SPOOL="$(CRONTAB_SPOOL)" bash .ci/install.sh uninstall
