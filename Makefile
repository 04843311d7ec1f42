# GEFIS-MD developer entry points. The logic lives in scripts/dev/*.sh.
#   make run                  set everything up and serve on http://127.0.0.1:8000/
#   make test [ARGS="-k x"]   set everything up and run the test suite
#   make fuzz                 schemathesis against a throwaway service (FUZZ_MAX_EXAMPLES=50)
# See README.md ("Quick start") for the configuration variables.

ARGS ?=

.PHONY: run test fuzz db stop status lint destroy-db clean-db help

run: ## install, start the database, migrate, load demo data, serve
	@bash scripts/dev/bootstrap.sh run

test: ## same bootstrap (without serving), then pytest $(ARGS)
	@bash scripts/dev/bootstrap.sh test $(ARGS)

fuzz: ## schemathesis (all checks) against a throwaway service, anonymous and as admin
	@bash scripts/dev/fuzz.sh

db: ## start only the project-local PostGIS cluster and print its DATABASE_URL
	@bash scripts/dev/bootstrap.sh db

stop: ## stop the project-local PostGIS cluster (no-op when not running)
	@bash scripts/dev/pg_local.sh stop

status: ## show the state of the project-local PostGIS cluster
	@bash scripts/dev/pg_local.sh status || true

lint: ## ruff
	@bash scripts/dev/bootstrap.sh lint

destroy-db: ## stop the project-local cluster and DELETE its data
	@bash scripts/dev/pg_local.sh destroy

clean-db: destroy-db ## alias of destroy-db

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'
