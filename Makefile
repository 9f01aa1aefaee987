# statusflow: PGXS build.  Run `make installcheck` against a running server;
# scripts/test.sh starts a throwaway one and runs every suite.

EXTENSION = statusflow
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(EXTENSION).control)

MODULE_big = statusflow
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

DATA = $(sort $(wildcard $(EXTENSION)--*.sql))

# pg_regress suites run in this order in one database; "setup" creates the
# extension and the roles the later files use.
REGRESS = setup workflow_definition attach enforcement history transition_api \
	cache partitions bad_input
REGRESS_OPTS = --dbname=statusflow_regress

ISOLATION = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
ISOLATION_OPTS = --dbname=statusflow_isolation --load-extension=statusflow

PG_CPPFLAGS = -I$(srcdir)/include -Wall -Wmissing-prototypes -Werror
PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# every object depends on the shared header
$(OBJS): include/statusflow.h
