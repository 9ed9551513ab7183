# QwenProxy — one source file, plain JDK. JUnit is fetched through Maven for the tests only.
JAVA      ?= java
JAVAC     ?= javac
JDK25     ?= $(firstword $(wildcard /usr/lib/jvm/temurin-25*))
JUNIT_V   := 1.11.4
JUNIT     := $(HOME)/.m2/repository/org/junit/platform/junit-platform-console-standalone/$(JUNIT_V)/junit-platform-console-standalone-$(JUNIT_V).jar
ARGS      ?=

.PHONY: build run dev test test-on bench clients toc clean

build: build/main/QwenProxy.class

# compiled from scratch each time: a nested class that no longer exists must not linger
build/main/QwenProxy.class: QwenProxy.java
	@rm -rf build/main && mkdir -p build/main
	$(JAVAC) --release 17 -Xlint:all,-serial -Werror -d build/main QwenProxy.java

# precompiled fast path: starts in a fraction of a second. Not echoed: ARGS may hold a secret
# (the README passes secrets in the environment instead: QWEN_REFRESH_TOKEN=... make run)
run: build
	@$(JAVA) -cp build/main QwenProxy $(ARGS)

# the plain single-file way, exactly as users run it
dev:
	@$(JAVA) QwenProxy.java $(ARGS)

$(JUNIT):
	mvn -q -B dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:$(JUNIT_V)

# the list of test sources is a prerequisite too, so a deleted test's classes do not linger
TEST_SRC  := $(wildcard test/*.java)
$(shell mkdir -p build; echo '$(TEST_SRC)' | cmp -s - build/.test-sources || echo '$(TEST_SRC)' > build/.test-sources)

build/test/.compiled: build/main/QwenProxy.class $(JUNIT) $(TEST_SRC) build/.test-sources
	@rm -rf build/test && mkdir -p build/test
	$(JAVAC) --release 17 -cp build/main:$(JUNIT) -d build/test test/*.java
	@touch $@

# Runs the suite on the default JDK (17) and, when present, on JDK 25; names any failed test again
# just above the closing line "N passed, M failed" (CI shows only the end of the output).
test: build/test/.compiled
	@rm -f build/test-*.log
	@$(MAKE) --no-print-directory test-on JDKBIN=$(JAVA) TAG=default
	@if [ -n "$(JDK25)" ]; then $(MAKE) --no-print-directory test-on JDKBIN=$(JDK25)/bin/java TAG=jdk25; fi
	@for f in build/test-*.log; do grep -A2 '^  JUnit Jupiter:' $$f | grep -v -e 'MethodSource' -e '^--$$' \
		| sed -e "s|^  JUnit Jupiter:|FAILED on $$(basename $$f .log | sed 's/test-//'): |" -e 's|^ *=> |    |' | cut -c1-300; done
	@cat build/test-*.log | awk '/tests successful/ {p+=$$2} /tests failed/ {f+=$$2} END {print p " passed, " f " failed"; exit (f > 0 || p == 0)}'

test-on:
	@echo "== tests on $$($(JDKBIN) -version 2>&1 | head -1)"
	@$(JDKBIN) -jar $(JUNIT) execute -cp build/main:build/test --scan-classpath --disable-banner \
		--details=summary --details-theme=ascii > build/test-$(TAG).log 2>&1; rc=$$?; \
		grep -E '^\s*(\[|[A-Za-z].*(=>|Exception|expected))' build/test-$(TAG).log | grep -vE '^\s*\[ +0 ' | head -80; \
		grep -A30 'Failures (' build/test-$(TAG).log | head -120; exit 0

bench: build/test/.compiled
	$(JAVA) -cp build/main:build/test Bench

# real client libraries (OpenAI Node SDK, LangChain JS) through the proxy; needs node and npm
clients: build/test/.compiled
	test/clients/run.sh

toc:
	@grep -n '// ====' QwenProxy.java

clean:
	rm -rf build
