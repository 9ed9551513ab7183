import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Issue 15: the qwen-code backend against a fake OAuth server and API (test/PROTOCOL.md §Q). */
class QwenCodeTest extends Fixture {
    static FakeQwenCode code;

    @BeforeAll
    static void upCode() throws Exception { code = new FakeQwenCode(); }

    @AfterAll
    static void downCode() { code.close(); }

    @BeforeEach
    void resetCode() {
        code.generation = 1;
        code.mode = "ok";
        code.rejectNextToken = code.htmlRefresh = code.omitRefreshToken = code.omitResourceUrl = false;
        code.refreshStatus = 0;
        code.refreshDelayMs = 0;
        code.refreshes.set(0);
        code.unauthorized.set(0);
        code.bodies.clear();
        code.headers.clear();
        code.paths.clear();
    }

    /** A credentials file as the CLI leaves it, for the fake's current tokens, expiring at `expiry`. */
    static Path creds(long expiry) throws Exception {
        Path f = scratchDir().resolve(".qwen/oauth_creds.json");
        Files.createDirectories(f.getParent());
        Files.writeString(f, code.file(expiry));
        return f;
    }

    static QwenProxy.Server proxy(Path file, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--qwen-code=" + file, "--oauth-base-url", code.url()));
        args.addAll(List.of(extra));
        return start(args.toArray(new String[0]));
    }

    static long hour() { return System.currentTimeMillis() + 3_600_000; }

    static List<String> keys(Path f) throws Exception { return new ArrayList<>(json(Files.readString(f)).keySet()); }

    @Test
    void passesAChatThroughWithTheClisHeadersAndALeadingSystemMessage() throws Exception {
        try (QwenProxy.Server p = proxy(creds(hour()))) {
            HttpResponse<String> r = post(p, "{\"model\":\"coder-model\",\"temperature\":0.2,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("ok", at(json(r.body()), "choices", 0, "message", "content"));
            assertEquals("chat.completion", json(r.body()).get("object"));
            Map<String, Object> sent = code.bodies.get(0);
            assertEquals("system", at(sent, "messages", 0, "role"), "§Q5: the API refuses a first message that is not system");
            assertEquals("Hi", at(sent, "messages", 1, "content"));
            assertEquals("0.2", String.valueOf(sent.get("temperature")).replace("Num[text=", "").replace("]", ""));
            Map<String, List<String>> h = code.headers.get(0);
            assertEquals(List.of("Bearer at-1"), h.get("Authorization"));
            assertEquals(List.of("qwen-oauth"), h.get("X-dashscope-authtype"));
            assertEquals(List.of("enable"), h.get("X-dashscope-cachecontrol"));
            assertTrue(h.get("User-agent").get(0).startsWith("QwenCode/"), h.toString());
            assertEquals(0, code.refreshes.get(), "a valid token is not refreshed");
        }
    }

    @Test
    void theClisHeadersCanBeChangedByConfiguration() throws Exception {
        try (QwenProxy.Server p = proxy(creds(hour()), "--qwen-code-header", "user-agent: QwenCode/9.9.9 (linux; x64)",
                "--qwen-code-header", "X-Stainless-Lang:")) {
            assertEquals(200, post(p, chat("coder-model", false, "")).statusCode());
            assertEquals(List.of("QwenCode/9.9.9 (linux; x64)"), code.headers.get(0).get("User-agent"));
            assertNull(code.headers.get(0).get("X-stainless-lang"), "an empty value removes a header");
            assertEquals(List.of("node"), code.headers.get(0).get("X-stainless-runtime"), "the others stay");
        }
    }

    @Test
    void refreshesAheadOfExpiryAndWritesTheRotationBackAsTheCliWould() throws Exception {
        Path f = creds(System.currentTimeMillis() + 10_000);        // inside the 30 s buffer
        Files.writeString(f, Files.readString(f).replace("\n}", ",\n  \"note\": \"kept\"\n}"));
        try (QwenProxy.Server p = proxy(f)) {
            HttpResponse<String> r = post(p, chat("coder-model", false, ""));
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(1, code.refreshes.get());
            assertEquals(List.of("Bearer at-2"), code.headers.get(0).get("Authorization"));
            String text = Files.readString(f);
            Map<String, Object> saved = json(text);
            assertEquals("at-2", saved.get("access_token"));
            assertEquals("rt-2", saved.get("refresh_token"), "the rotated refresh token is persisted (the old one is dead)");
            assertEquals(List.of("access_token", "token_type", "refresh_token", "resource_url", "expiry_date", "note"), keys(f));
            assertEquals("kept", saved.get("note"), "keys the proxy does not know stay");
            long expiry = Long.parseLong(String.valueOf(saved.get("expiry_date")).replaceAll("\\D", ""));
            assertTrue(Math.abs(expiry - (System.currentTimeMillis() + 21_600_000)) < 60_000, "expiry_date in ms: " + expiry);
            assertTrue(text.startsWith("{\n  \"access_token\": \"at-2\",\n") && text.endsWith("\n}"), "JSON.stringify(c, null, 2): " + text);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
            assertFalse(Files.exists(f.resolveSibling("oauth_creds.lock")), "the lock is released");
            try (var l = Files.list(f.getParent())) { assertEquals(1, l.count(), "no temp file left"); }
            assertEquals(200, post(p, chat("coder-model", false, "")).statusCode());
            assertEquals(1, code.refreshes.get(), "one refresh, then the new token serves");
            waitFor("both requests counted", () -> get(p, "/metrics").body()
                    .contains("qwenproxy_requests_total{route=\"/chat/completions\",status=\"200\",model=\"coder-model\"} 2\n"));
            String metrics = get(p, "/metrics").body();
            assertTrue(metrics.contains("qwenproxy_tokens_total{direction=\"in\",model=\"coder-model\"} 24\n")
                    && metrics.contains("qwenproxy_tokens_total{direction=\"out\",model=\"coder-model\"} 2\n"), "the usage of both replies: " + metrics);
            assertEquals(200, post(p, chat("coder-model", true, "\"stream_options\":{\"include_usage\":true}")).statusCode());
            assertEquals(200, post(p, chat("coder-model", true, "")).statusCode());
            waitFor("a streamed reply's usage chunk counted, a stream without one not", () -> get(p, "/metrics").body()
                    .contains("qwenproxy_tokens_total{direction=\"out\",model=\"coder-model\"} 5\n"));
            metrics = get(p, "/metrics").body();
            assertTrue(metrics.contains("qwenproxy_tokens_total{direction=\"in\",model=\"coder-model\"} 36\n"), metrics);
            assertTrue(metrics.contains("qwenproxy_token_refreshes_total{backend=\"qwen-code\",result=\"ok\"} 1\n"), metrics);
            assertTrue(metrics.contains("qwenproxy_accounts{backend=\"qwen-code\",state=\"OK\"} 1\n"), metrics);
        }
    }

    @Test
    void concurrentRequestsOnAnExpiredTokenShareOneRefresh() throws Exception {
        try (QwenProxy.Server p = proxy(creds(System.currentTimeMillis() - 1000))) {
            code.refreshDelayMs = 300;
            List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 8; i++) all.add(http.sendAsync(java.net.http.HttpRequest.newBuilder(java.net.URI.create(p.url() + "/v1/chat/completions"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(chat("coder-model", i % 2 == 0, ""))).build(), HttpResponse.BodyHandlers.ofString()));
            for (var f : all) assertEquals(200, f.get().statusCode(), f.get().body());
            assertEquals(1, code.refreshes.get(), "one refresh for all of them: a second would have used a dead refresh token");
            assertEquals(0, code.unauthorized.get());
        }
    }

    @Test
    void aLockHeldByTheCliIsWaitedForAndItsRefreshUsed() throws Exception {
        Path f = creds(System.currentTimeMillis() - 1000), lock = f.resolveSibling("oauth_creds.lock");
        Files.writeString(lock, "cli-lock");
        try (QwenProxy.Server p = proxy(f)) {
            Thread cli = new Thread(() -> {      // qwen-code refreshing: rotates, writes the file, releases
                try {
                    Thread.sleep(700);
                    code.generation++;
                    Files.writeString(f, code.file(hour()));
                    Files.delete(lock);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            cli.start();
            long t0 = System.currentTimeMillis();
            HttpResponse<String> r = post(p, chat("coder-model", false, ""));
            cli.join();
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(System.currentTimeMillis() - t0 >= 600, "the proxy waited for the lock");
            assertEquals(0, code.refreshes.get(), "the CLI's fresh token was used: no second refresh (it would have revoked the CLI's)");
            assertEquals(List.of("Bearer at-2"), code.headers.get(0).get("Authorization"));
        }
    }

    @Test
    void aStaleLockIsBroken() throws Exception {
        Path f = creds(System.currentTimeMillis() - 1000), lock = f.resolveSibling("oauth_creds.lock");
        Files.writeString(lock, "left by a crashed process");
        Files.setLastModifiedTime(lock, FileTime.fromMillis(System.currentTimeMillis() - 20_000));
        try (QwenProxy.Server p = proxy(f)) {
            assertEquals(200, post(p, chat("coder-model", false, "")).statusCode());
            assertEquals(1, code.refreshes.get());
            assertFalse(Files.exists(lock));
            try (var l = Files.list(f.getParent())) { assertEquals(List.of(f), l.toList(), "the stale lock's renamed copy is gone too"); }
        }
    }

    @Test
    void a401RefreshesOnceAndRetriesOnce() throws Exception {
        try (QwenProxy.Server p = proxy(creds(hour()))) {
            code.rejectNextToken = true;
            HttpResponse<String> r = post(p, chat("coder-model", false, ""));
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(1, code.unauthorized.get());
            assertEquals(1, code.refreshes.get(), "a forced refresh although the token had not expired");
            assertEquals(2, code.paths.size(), "exactly one retry");
            assertEquals(List.of("Bearer at-2"), code.headers.get(1).get("Authorization"));
        }
    }

    @Test
    void aRefusedRefreshTokenAsksForANewLoginAndNeverDeletesTheFile() throws Exception {
        Path f = creds(hour());
        code.generation = 3;              // another copy rotated the tokens: at-1 and rt-1 are dead
        try (QwenProxy.Server p = proxy(f)) {
            HttpResponse<String> r = post(p, chat("coder-model", true, ""));
            assertEquals(401, r.statusCode(), r.body());
            Map<String, Object> e = errorOf(r);
            assertEquals("qwen_code_login_required", e.get("code"));
            assertTrue(String.valueOf(e.get("message")).contains("/auth"), e.toString());
            assertEquals(1, code.refreshes.get(), "one refresh, no loop");
            assertTrue(Files.exists(f), "the user's file stays");
            HttpResponse<String> again = post(p, chat("coder-model", false, ""));
            assertEquals(401, again.statusCode(), "still a matter of logging in, not of waiting");
            assertEquals("qwen_code_login_required", errorOf(again).get("code"));
            assertEquals(1, code.refreshes.get(), "a dead refresh token is not tried again until the file changes");
            Map<String, Object> account = obj(at(json(get(p, "/admin/accounts").body()), "data", 0));
            assertEquals("INVALID", account.get("state"));
            assertEquals("qwen-code", account.get("backend"));
            assertFalse(get(p, "/admin/accounts").body().contains("rt-1"), "no secret in the admin API");
            // the user logs in again with the CLI: the new file is picked up
            Files.writeString(f, code.file(hour()));
            Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 2000));
            assertEquals(200, post(p, chat("coder-model", false, "")).statusCode());
        }
    }

    @Test
    void aFirewallPageFromTheTokenEndpointIsA502AndTheCredentialStaysUsable() throws Exception {
        try (QwenProxy.Server p = proxy(creds(System.currentTimeMillis() - 1000))) {
            code.htmlRefresh = true;
            HttpResponse<String> r = post(p, chat("coder-model", false, ""));
            assertEquals(502, r.statusCode(), r.body());
            assertTrue(errorOf(r).get("message").toString().contains("firewall"), r.body());
            code.htmlRefresh = false;
            assertEquals(200, post(p, chat("coder-model", false, "")).statusCode());
        }
    }

    @Test
    void quotaAndThrottlingBecomeHonest429s() throws Exception {
        try (QwenProxy.Server p = proxy(creds(hour()))) {
            code.mode = "quota";
            HttpResponse<String> r = post(p, chat("coder-model", false, ""));
            assertEquals(429, r.statusCode());
            Map<String, Object> e = errorOf(r);
            assertEquals("insufficient_quota", e.get("code"));
            assertTrue(e.get("message").toString().contains("free tier") && e.get("message").toString().contains("2026-04-15"), e.toString());
            long after = Long.parseLong(r.headers().firstValue("Retry-After").orElseThrow());
            assertTrue(after > 0 && after <= 86_401, "until 00:00 UTC: " + after);
            assertEquals("false", r.headers().firstValue("x-should-retry").orElse(""));
            assertEquals("COOLING", at(json(get(p, "/admin/accounts").body()), "data", 0, "state"));
            code.mode = "ok";
            assertEquals(429, post(p, chat("coder-model", false, "")).statusCode(), "the credential waits for its day to turn");
        }
        try (QwenProxy.Server p = proxy(creds(hour()))) {
            code.mode = "throttle";
            HttpResponse<String> r = post(p, chat("coder-model", false, ""));
            assertEquals(429, r.statusCode());
            assertEquals("rate_limit_exceeded", errorOf(r).get("code"));
            assertEquals("7", r.headers().firstValue("Retry-After").orElse(""));
        }
    }

    @Test
    void aPoolMovesToTheNextCredentialAndCountsRequests() throws Exception {
        Path a = creds(hour()), b = creds(hour());
        try (QwenProxy.Server p = start("--qwen-code=" + a, "--qwen-code=" + b, "--oauth-base-url", code.url())) {
            code.mode = "quota";
            assertEquals(429, post(p, chat("coder-model", false, "")).statusCode(), "both credentials are out of quota");
            assertEquals(2, code.bodies.size(), "the second credential was tried");
            List<?> data = (List<?>) json(get(p, "/admin/accounts").body()).get("data");
            assertEquals(2, data.size());
            for (Object o : data) assertEquals(1L, Long.parseLong(String.valueOf(obj(o).get("requests_today")).replaceAll("\\D", "")));
        }
    }

    @Test
    void streamsPassThroughByteForByteWithToolCallsAndUsage() throws Exception {
        try (QwenProxy.Server p = proxy(creds(hour()))) {
            String tools = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\"}}}],"
                    + "\"stream_options\":{\"include_usage\":true}";
            HttpResponse<String> r = post(p, chat("coder-model", true, tools));
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
            assertEquals(code.lastStream, r.body(), "relayed unchanged");
            List<String> ev = events(r.body());
            assertEquals("[DONE]", ev.get(ev.size() - 1));
            assertEquals("get_weather", at(json(ev.get(0)), "choices", 0, "delta", "tool_calls", 0, "function", "name"));
            assertEquals(List.of("text/event-stream"), code.headers.get(0).get("Accept"));
            assertNotNull(at(code.bodies.get(0), "tools", 0), "native tools go as they are");
            r = post(p, chat("coder-model", false, "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}]"));
            assertEquals("tool_calls", at(json(r.body()), "choices", 0, "finish_reason"));
        }
    }

    @Test
    void aSilentStreamEndsWithAnErrorEvent() throws Exception {
        try (QwenProxy.Server p = proxy(creds(hour()), "--request-timeout-ms", "1000")) {
            code.mode = "stall";
            HttpResponse<String> r = post(p, chat("coder-model", true, ""));
            assertEquals(200, r.statusCode());
            List<String> ev = events(r.body());
            assertEquals("upstream_timeout", at(json(ev.get(ev.size() - 1)), "error", "code"), r.body());
        }
    }

    @Test
    void routesByModelAndPrefixAndListsTheModels() throws Exception {
        try (QwenProxy.Server p = withToken("--qwen-code=" + creds(hour()), "--oauth-base-url", code.url(), "--model-map", "gpt-4o=coder-model")) {
            int web = fake.completionBodies.size();
            assertEquals(200, post(p, chat("qwen3-coder-plus", false, "")).statusCode());
            assertEquals(web + 1, fake.completionBodies.size(), "a web model stays on chat.qwen.ai");
            assertEquals(0, code.bodies.size());
            assertEquals(200, call(p, "POST", "/cli/v1/chat/completions", chat("qwen3-coder-plus", false, "")).statusCode());
            assertEquals("qwen3-coder-plus", code.bodies.get(0).get("model"), "the route chooses the backend");
            assertEquals(200, call(p, "POST", "/code/v1/chat/completions", chat("qwen3.5-plus", false, "")).statusCode());
            assertEquals("coder-model", code.bodies.get(1).get("model"), "an id the API refuses goes as coder-model");
            assertEquals(200, post(p, chat("gpt-4o", false, "")).statusCode());
            assertEquals("coder-model", code.bodies.get(2).get("model"), "--model-map can send a name here");
            assertEquals(200, post(p, chat("vision-model", false, "")).statusCode());
            assertEquals(4, code.bodies.size());
            String models = get(p, "/v1/models").body();
            assertTrue(models.contains("\"id\":\"coder-model\",\"object\":\"model\",\"created\":0,\"owned_by\":\"qwen-code\""), models);
            assertTrue(models.contains("qwen3-coder-plus"), "the web models are listed too");
            String cli = get(p, "/cli/v1/models").body();
            assertEquals(2, ((List<?>) json(cli).get("data")).size(), cli);
            assertEquals("qwen-code", json(get(p, "/v1/models/coder-model").body()).get("owned_by"));
            HttpResponse<String> emb = call(p, "POST", "/v1/embeddings?x=1", "{\"model\":\"text-embedding-v4\",\"input\":\"hi\"}");
            assertEquals(200, emb.statusCode(), emb.body());
            assertEquals("/v1/embeddings", json(emb.body()).get("path"), "the rest of /v1 is passed through");
            assertEquals("x=1", json(emb.body()).get("query"));
            assertEquals("hi", at(json(emb.body()), "echo", "input"));
            // a request is counted as its handling ends, a moment after its answer went out
            waitFor("pass-through paths under one route label", () -> get(p, "/metrics").body()
                    .contains("qwenproxy_requests_total{route=\"/qwen-code/other\",status=\"200\""));
        }
        try (QwenProxy.Server p = withToken()) {      // without the backend nothing changes
            int web = fake.completionBodies.size();
            assertEquals(200, post(p, chat("coder-model", false, "")).statusCode());
            assertEquals(web + 1, fake.completionBodies.size());
            assertEquals(404, call(p, "POST", "/cli/v1/chat/completions", chat("coder-model", false, "")).statusCode());
            assertFalse(get(p, "/v1/models").body().contains("qwen-code"));
        }
    }

    @Test
    void aFileRewrittenByTheCliIsReadAgain() throws Exception {
        Path f = creds(hour());
        try (QwenProxy.Server p = proxy(f)) {
            assertEquals(200, post(p, chat("coder-model", false, "")).statusCode());
            code.generation = 2;                          // the CLI refreshed on its own
            Files.writeString(f, code.file(hour()));
            Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 2000));
            assertEquals(200, post(p, chat("coder-model", false, "")).statusCode());
            assertEquals(List.of("Bearer at-2"), code.headers.get(1).get("Authorization"));
            assertEquals(0, code.refreshes.get() + code.unauthorized.get(), "no stale token in memory over the newer one on disk");
        }
    }

    @Test
    void deviceLoginWritesAFileTheCliCanRead() throws Exception {
        Path f = scratchDir().resolve("q/oauth_creds.json");
        QwenProxy.Config cfg = QwenProxy.Config.load(new String[] {"--qwen-code=" + f, "--oauth-base-url", code.url()}, Map.of());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = QwenProxy.QwenCode.login(cfg, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8));
        String said = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, said);
        assertTrue(said.contains(code.url() + "/authorize?user_code=ABCD1234&client=qwen-code") && said.contains("ABCD1234"), said);
        assertEquals(List.of("access_token", "refresh_token", "token_type", "resource_url", "expiry_date"), keys(f));
        assertEquals("rt-1", json(Files.readString(f)).get("refresh_token"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f.getParent())));
        assertTrue(code.polls >= 2, "it kept polling after slow_down");
        try (QwenProxy.Server p = proxy(f)) {
            assertEquals(200, post(p, chat("coder-model", false, "")).statusCode(), "the proxy uses what the login wrote");
        }
    }

    @Test
    void baseUrlsFromResourceUrl() {
        String oauth = "https://chat.qwen.ai";
        assertEquals("https://portal.qwen.ai/v1", QwenProxy.QwenCode.baseUrl("portal.qwen.ai", oauth));
        assertEquals("https://portal.qwen.ai/v1", QwenProxy.QwenCode.baseUrl("https://portal.qwen.ai", oauth));
        assertEquals("https://portal.qwen.ai/v1", QwenProxy.QwenCode.baseUrl("https://portal.qwen.ai/", oauth));
        assertEquals("https://portal.qwen.ai/v1", QwenProxy.QwenCode.baseUrl("https://portal.qwen.ai/v1", oauth));
        assertEquals("http://127.0.0.1:9/v1", QwenProxy.QwenCode.baseUrl("http://127.0.0.1:9", oauth));
        assertEquals("https://portal.qwen.ai/v1", QwenProxy.QwenCode.baseUrl(null, oauth));
        assertEquals("http://fake.test:81/v1", QwenProxy.QwenCode.baseUrl("fake.test:81", "http://fake.test:81"), "the OAuth server's own host: its scheme");
        assertEquals("http://127.0.0.1:9/v1", QwenProxy.QwenCode.baseUrl("127.0.0.1:9", oauth), "a bare loopback address is a local server");
    }

    @Test
    void aBareResourceUrlOfTheFakeIsReached() throws Exception {
        Path f = creds(hour());
        Files.writeString(f, Files.readString(f).replace("\"" + code.url() + "\"", "\"" + code.url().substring(7) + "\""));
        assertTrue(Files.readString(f).contains("\"resource_url\": \"127.0.0.1:"), Files.readString(f));
        try (QwenProxy.Server p = proxy(f)) {
            assertEquals(200, post(p, chat("coder-model", false, "")).statusCode());
        }
    }

    @Test
    void qwenCodeApisNamesAreAccepted() {
        Map<String, String> env = Map.of("QWEN_HOME", "/tmp/qh", "QWEN_CODE_API_PORT", "9911", "QWEN_CODE_API_KEY", "k1",
                "QWEN_CODE_TOKEN_REFRESH_BUFFER_MS", "5000", "QWEN_CODE_API_UPSTREAM_BASE_URL", "http://up.example/v1");
        QwenProxy.Config c = QwenProxy.Config.load(new String[] {"--qwen-code"}, env);
        assertEquals(List.of("/tmp/qh/oauth_creds.json"), c.qwenCode());
        assertEquals(9911, c.port());
        assertEquals(List.of("k1"), c.apiKeys());
        assertEquals(5000, c.tokenRefreshBufferMs());
        assertEquals("http://up.example/v1", c.qwenCodeBaseUrl());
        assertEquals("https://chat.qwen.ai", c.oauthBaseUrl(), "the OAuth origin defaults to the web base URL");
        c = QwenProxy.Config.load(new String[] {"--credentials-file", "/x/a.json", "--upstream-base-url", "http://h/v1", "--port", "1"},
                Map.of("QWEN_CODE_OAUTH_CREDENTIALS_PATH", "/x/b.json", "QWEN_CODE_API_PORT", "9911"));
        assertEquals(List.of("/x/b.json", "/x/a.json"), c.qwenCode());
        assertEquals("http://h/v1", c.qwenCodeBaseUrl());
        assertEquals(1, c.port(), "a flag beats the environment");
        assertEquals(List.of(), QwenProxy.Config.load(new String[0], Map.of()).qwenCode(), "off unless asked for");
        assertEquals(List.of(System.getProperty("user.home") + "/.qwen/oauth_creds.json"),
                QwenProxy.Config.load(new String[0], Map.of("QWEN_CODE_OAUTH_CREDENTIALS_PATH", "true")).qwenCode());
    }
}
