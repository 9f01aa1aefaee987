# statusflow: PGXS build.  Run `make installcheck` against a running server;
# scripts/test.sh starts a throwaway one and runs every suite.

EXTENSION = statusflow
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(EXTENSION).control)

MODULE_big = statusflow
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is built from src/sql/*.sql, in name order: the first
# file holds the catalog (what keeps data), the others code.  The upgrade to
# the current version from an earlier one, statusflow--A--<current>.sql, is
# built from src/upgrade/A--<current>.sql (the catalog's changes, dropping
# the old code) followed by the code files.  When a version is released and
# the next begins, its built upgrade scripts are committed at the top level
# as they are (statusflow--A--B.sql), and installed unchanged.
SQL_PARTS = $(sort $(wildcard src/sql/*.sql))
CODE_PARTS = $(filter-out src/sql/00_catalog.sql,$(SQL_PARTS))
UPGRADES = $(patsubst src/upgrade/%.sql,$(EXTENSION)--%.sql,\
	$(wildcard src/upgrade/*--$(EXTVERSION).sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql $(UPGRADES)
DATA = $(filter-out $(DATA_built),$(wildcard $(EXTENSION)--*--*.sql))

# pg_regress suites run in one database: the core ones in this order
# ("setup" creates the extension and the roles), then any other file of
# sql/ in name order.
CORE_REGRESS = setup workflow_definition attach enforcement history \
	transition_api cache partitions bad_input
REGRESS = $(CORE_REGRESS) $(filter-out $(CORE_REGRESS),\
	$(sort $(patsubst sql/%.sql,%,$(wildcard sql/*.sql))))
REGRESS_OPTS = --dbname=statusflow_regress

ISOLATION = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
ISOLATION_OPTS = --dbname=statusflow_isolation --load-extension=statusflow

# Warnings are PostgreSQL's own (pg_config --cflags); CI adds -Werror and
# more through PG_CFLAGS (.ci/run), never this file.
PG_CPPFLAGS = -I$(srcdir)/include
PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# every object depends on our headers
$(OBJS): $(wildcard include/*.h)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS) $(EXTENSION).control
	cat $(SQL_PARTS) > $@

$(UPGRADES): $(EXTENSION)--%.sql: src/upgrade/%.sql $(CODE_PARTS)
	cat $< $(CODE_PARTS) > $@
