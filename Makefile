# statusflow: PGXS build.  Run `make installcheck` against a running server;
# scripts/test.sh starts a throwaway one and runs every suite.

EXTENSION = statusflow
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(EXTENSION).control)

MODULE_big = statusflow
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is built from src/sql/*.sql, in name order; upgrade
# scripts (statusflow--A--B.sql) are kept as they are.
SQL_PARTS = $(sort $(wildcard src/sql/*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
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

PG_CPPFLAGS = -I$(srcdir)/include -Wall -Wmissing-prototypes -Werror
PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# every object depends on the shared header
$(OBJS): include/statusflow.h

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS) $(EXTENSION).control
	cat $(SQL_PARTS) > $@
