# `sam build` runs these targets (template.yaml: Metadata BuildMethod makefile). Each function
# ships exactly the bundle the tests check: scripts/build.mjs (esbuild, AWS SDK bundled and
# pinned by package-lock.json), copied as it is into the artifact folder SAM hands in.
# Run `sam build --build-in-source` to build in place rather than in a scratch copy.

.PHONY: bundles build-ResponderFunction build-WatcherFunction build-SweeperFunction build-HookFunction

bundles:
	test -d node_modules || npm ci --no-audit --no-fund
	node scripts/build.mjs

build-ResponderFunction: bundles
	cp -R dist/functions/responder/. "$(ARTIFACTS_DIR)"

build-WatcherFunction: bundles
	cp -R dist/functions/watcher/. "$(ARTIFACTS_DIR)"

build-SweeperFunction: bundles
	cp -R dist/functions/sweeper/. "$(ARTIFACTS_DIR)"

build-HookFunction: bundles
	cp -R dist/functions/hook/. "$(ARTIFACTS_DIR)"
