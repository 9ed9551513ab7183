#!/usr/bin/env bash
# make clients: installs the client libraries into build/clients (npm), starts the fake upstream
# and the precompiled proxy on loopback, runs agent.mjs against them, and stops both. Versions are
# pinned so that a new SDK release cannot change the outcome unnoticed.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/clients
cp test/clients/agent.mjs build/clients/
# exit 3 = not run: the registry could not be reached (CI tells that apart from a failing client)
(cd build/clients && [ -d node_modules/@anthropic-ai/sdk ] || npm install --silent --no-audit --no-fund openai@6.49.0 @langchain/openai@1.5.8 @langchain/core@1.4.0 zod@4.6.7 @anthropic-ai/sdk@1.16.0 >/dev/null) \
  || { echo "clients: SKIPPED, npm install failed"; exit 3; }
rm -f build/clients/fake.url build/clients/code.url
java -cp build/main:build/test Bench fake > build/clients/fake.url 2>/dev/null & fake=$!
java -cp build/main:build/test Bench fake-code build/clients/oauth_creds.json > build/clients/code.url 2>/dev/null & code=$!
trap 'kill $fake $code ${proxy:-} 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s build/clients/fake.url ] && [ -s build/clients/code.url ] && break; sleep 0.1; done
java -cp build/main QwenProxy --port 18931 --base-url "$(head -1 build/clients/fake.url)" --token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6ImZha2UtdXNlciJ9.c2lnbmF0dXJlLWZha2U \
  --qwen-code=build/clients/oauth_creds.json --oauth-base-url "$(head -1 build/clients/code.url)" \
  --data-dir build/clients/data --log-level warn >/dev/null 2>&1 & proxy=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:18931/healthz >/dev/null && break; sleep 0.1; done
node build/clients/agent.mjs http://127.0.0.1:18931 "$(head -1 build/clients/fake.url)"
