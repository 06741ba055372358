# pglearn: PGXS build of the extension, its tests, and the pglearn command.

EXTENSION = pglearn
MODULE_big = pglearn

OBJS = \
	src/pglearn.o \
	src/fvec.o \
	src/fvec_parse.o \
	src/tokenize.o \
	src/features.o \
	src/model.o \
	src/model_parse.o \
	src/solver.o \
	src/train.o \
	src/classify.o \
	src/evaluate.o \
	src/redis.o \
	src/redis_url.o \
	src/redis_client.o \
	src/redis_publish.o \
	src/ranking.o \
	src/similar.o \
	src/search.o \
	src/reclaim.o \
	src/diversity.o \
	src/jsonbuild.o

# publish() writes to Redis with hiredis (Debian libhiredis-dev)
SHLIB_LINK += -lhiredis
# export only what PostgreSQL looks up (src/pglearn.map says why)
SHLIB_LINK += -Wl,--version-script=$(srcdir)/src/pglearn.map

# Released install and update scripts never change; CREATE EXTENSION of the
# default version (pglearn.control) runs the 0.1 script and the updates.
DATA = sql/pglearn--0.1.sql sql/pglearn--0.1--0.2.sql sql/pglearn--0.2--0.3.sql

REGRESS = fvec model features train classify evaluate fit active_learning recommend reports security limits ranking similar reclaim search
REGRESS_OPTS = --inputdir=. --load-extension=pglearn

# specs/publish_race.spec needs a Redis server: t/redis/run.sh runs it
ISOLATION = fit_concurrency crawl_label rescore_label crawl_claims
ISOLATION_OPTS = --load-extension=pglearn

PG_CONFIG ?= pg_config
# -Wextra, less the unused-parameter warnings PostgreSQL's own headers raise
PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The pglearn command (crawler/) is built, installed and uninstalled with the
# extension, with the version of the control file (crawler/version.h), and
# linked into /usr/local/bin when that is writable (crawler/Makefile, LINKDIR).
PGLEARN_VERSION := $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" $(srcdir)/pglearn.control)
CRAWLER_MAKE = $(MAKE) -C crawler PG_CONFIG=$(PG_CONFIG) PGLEARN_VERSION=$(PGLEARN_VERSION)

all: crawler-all
install: crawler-install
uninstall: crawler-uninstall
clean: crawler-clean

.PHONY: crawler-all crawler-install crawler-uninstall crawler-clean
crawler-all:
	$(CRAWLER_MAKE)
crawler-install:
	$(CRAWLER_MAKE) install
crawler-uninstall:
	$(CRAWLER_MAKE) uninstall
crawler-clean:
	$(MAKE) -C crawler clean

# C unit tests of the Postgres-free parts, under AddressSanitizer and UBSan.
UNIT_CC ?= $(CC)
UNIT_CFLAGS = -O1 -g -Wall -Wextra -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -iquote src
UNIT_TESTS = t/unit/build/test_tokenize t/unit/build/test_solver t/unit/build/test_serial

t/unit/build/test_tokenize: t/unit/test_tokenize.c src/tokenize.c src/tokenize.h t/lib/tap.h
	@mkdir -p t/unit/build
	$(UNIT_CC) $(UNIT_CFLAGS) -o $@ t/unit/test_tokenize.c src/tokenize.c -lm

t/unit/build/test_solver: t/unit/test_solver.c src/solver.c src/solver.h t/lib/tap.h
	@mkdir -p t/unit/build
	$(UNIT_CC) $(UNIT_CFLAGS) -o $@ t/unit/test_solver.c src/solver.c -lm

t/unit/build/test_serial: t/unit/test_serial.c src/model_parse.c src/model_parse.h \
		src/feature_settings.h src/fvec_parse.c src/fvec_parse.h src/wire.h src/solver.h \
		t/lib/parse_alloc.h t/lib/tap.h
	@mkdir -p t/unit/build
	$(UNIT_CC) $(UNIT_CFLAGS) -o $@ t/unit/test_serial.c src/model_parse.c src/fvec_parse.c -lm

.PHONY: unit
unit: $(UNIT_TESTS)
	@status=0; for t in $(UNIT_TESTS); do ./$$t || status=1; done; exit $$status
