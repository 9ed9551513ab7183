import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Issue 16: running it for real (graceful shutdown, metrics, per-account egress). */
class OperationsTest extends Fixture {

    static CompletableFuture<HttpResponse<String>> streaming(String url) {
        return http.sendAsync(HttpRequest.newBuilder(URI.create(url + "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(chat("qwen3.7-plus", true, ""))).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A reply that takes pauseMs between its two halves. */
    static void slowReply(long pauseMs) {
        script(FakeQwen.delta("$RID", "one ", "answer", "typing", 1), pauseMs, FakeQwen.delta("$RID", "two", "answer", "typing", 2),
                FakeQwen.finished("$RID", "answer"));
    }

    @Test
    void aStopLetsTheStreamInFlightFinishAndTurnsNewRequestsAway() throws Exception {
        QwenProxy.Server p = withToken("--chat-pool", "0");
        int before = fake.completionBodies.size();
        slowReply(800);
        CompletableFuture<HttpResponse<String>> r = streaming(p.url());
        waitFor("the upstream call", () -> fake.completionBodies.size() > before);
        assertEquals(200, get(p, "/healthz").statusCode());     // a second connection, idle in the client's pool now
        long t0 = System.currentTimeMillis();
        Thread stopper = new Thread(() -> p.stop(10_000));
        stopper.start();
        waitFor("draining", p::draining);
        HttpResponse<String> late = get(p, "/healthz");       // on the pooled connection
        assertEquals(503, late.statusCode(), "a load balancer sees the proxy leave");
        assertEquals("shutting_down", errorOf(late).get("code"));
        java.net.http.HttpClient other = java.net.http.HttpClient.newHttpClient();
        waitFor("the listening socket closed", () -> {
            try {
                other.send(HttpRequest.newBuilder(URI.create(p.url() + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
                return false;
            } catch (java.net.ConnectException e) {
                return true;                                   // no new connections
            }
        });
        HttpResponse<String> done = r.get(10, TimeUnit.SECONDS);
        assertEquals(200, done.statusCode());
        assertTrue(done.body().contains("one ") && done.body().contains("two") && done.body().endsWith("data: [DONE]\n\n"), done.body());
        stopper.join();
        assertTrue(System.currentTimeMillis() - t0 < 5000, "the stop ended when the stream did, not at the end of the grace");
    }

    /** The precompiled proxy in a process of its own, as a service manager runs it; its URL from the banner. */
    static Process proxyProcess(String... extra) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("java", "-cp", "build/main", "QwenProxy", "--port", "0", "--base-url", fake.url(),
                "--token", FakeQwen.TOKEN, "--data-dir", tempDir(), "--chat-pool", "0"));
        cmd.addAll(List.of(extra));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    static boolean refused(String url) {
        java.net.URI u = java.net.URI.create(url);
        try (java.net.Socket probe = new java.net.Socket(u.getHost(), u.getPort())) {
            return false;
        } catch (java.io.IOException e) {
            return true;
        }
    }

    static String urlOf(Process p) throws Exception {
        String first = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
        assertNotNull(first, "the proxy printed its banner");
        return first.substring(first.indexOf("http://")).split("\\s")[0];
    }

    @Test
    void sigtermDrainsAndExitsZeroAndASecondSignalExitsAtOnce() throws Exception {
        Process p = proxyProcess();
        String url = urlOf(p);
        int before = fake.completionBodies.size();
        slowReply(1000);
        CompletableFuture<HttpResponse<String>> r = streaming(url);
        waitFor("the upstream call", () -> fake.completionBodies.size() > before);
        p.destroy();                                             // SIGTERM
        HttpResponse<String> done = r.get(10, TimeUnit.SECONDS);
        assertTrue(done.body().contains("two") && done.body().endsWith("data: [DONE]\n\n"), "the stream in flight finished: " + done.body());
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "a clean stop is a success");

        Process q = proxyProcess();
        url = urlOf(q);
        int before2 = fake.completionBodies.size();
        slowReply(20_000);
        streaming(url);
        waitFor("the upstream call", () -> fake.completionBodies.size() > before2);
        q.destroy();
        String u = url;             // the signal was taken when the listener is closed; the stream still holds the process
        waitFor("the listener closed by the first signal", () -> refused(u));
        assertTrue(q.isAlive(), "the first signal waits for the stream");
        long t0 = System.currentTimeMillis();
        q.destroy();                                             // the impatient second Ctrl-C
        assertTrue(q.waitFor(5, TimeUnit.SECONDS));
        assertTrue(System.currentTimeMillis() - t0 < 3000);
        assertNotEquals(0, q.exitValue());
    }

    /** A scrape, parsed: series (name and labels as written) -> value; checks the text format line by line. */
    static java.util.Map<String, Double> scrape(QwenProxy.Server p, String key) throws Exception {
        HttpResponse<String> r = get(p, "/metrics", "Authorization", "Bearer " + key);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
        java.util.Map<String, Double> m = new java.util.LinkedHashMap<>();
        java.util.Set<String> typed = new java.util.HashSet<>();
        for (String line : r.body().split("\n")) {
            if (line.startsWith("# TYPE ")) { typed.add(line.split(" ")[2]); continue; }
            if (line.startsWith("# HELP ")) continue;
            assertTrue(line.matches("[a-z_]+(\\{([a-z_]+=\"[^\"]*\",?)+\\})? -?[0-9.E+-]+"), "a sample line: " + line);
            String series = line.substring(0, line.lastIndexOf(' '));
            assertTrue(typed.stream().anyMatch(series::startsWith), "TYPE before samples: " + line);
            m.put(series, Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
        }
        return m;
    }

    @Test
    void metricsAreScrapeableBehindTheAdminKey() throws Exception {
        try (QwenProxy.Server p = withToken("--admin-key", "adm-key", "--api-key", "client-key")) {
            String[] auth = {"Authorization", "Bearer client-key"};
            assertEquals(200, post(p, chat("qwen3.7-plus", false, ""), auth).statusCode());
            assertEquals(200, post(p, chat("qwen3.7-plus", true, ""), auth).statusCode());
            assertEquals(404, post(p, chat("no-such-model", false, ""), auth).statusCode());
            assertEquals(401, get(p, "/metrics").statusCode(), "protected like the admin API");
            assertEquals(403, get(p, "/metrics", auth).statusCode(), "a client key is not the admin key");
            // a request is counted as its handling ends, a moment after its answer went out
            waitFor("the three requests counted", () -> scrape(p, "adm-key").entrySet().stream()
                    .filter(e -> e.getKey().startsWith("qwenproxy_requests_total{route=\"/chat/completions\"")).mapToDouble(e -> e.getValue()).sum() == 3);
            java.util.Map<String, Double> m = scrape(p, "adm-key");
            assertEquals(2.0, m.get("qwenproxy_requests_total{route=\"/chat/completions\",status=\"200\",model=\"qwen3.7-plus\"}"), m.toString());
            assertEquals(1.0, m.get("qwenproxy_requests_total{route=\"/chat/completions\",status=\"404\",model=\"\"}"), m.toString());
            assertTrue(m.get("qwenproxy_upstream_latency_seconds_count{backend=\"web\"}") >= 2);
            assertEquals(m.get("qwenproxy_upstream_latency_seconds_count{backend=\"web\"}"),
                    m.get("qwenproxy_upstream_latency_seconds_bucket{backend=\"web\",le=\"+Inf\"}"));
            assertTrue(m.get("qwenproxy_upstream_latency_seconds_bucket{backend=\"web\",le=\"0.05\"}")
                    <= m.get("qwenproxy_upstream_latency_seconds_bucket{backend=\"web\",le=\"60.0\"}"), "buckets are cumulative");
            assertEquals(1.0, m.get("qwenproxy_time_to_first_byte_seconds_count{backend=\"web\"}"));
            assertEquals(0.0, m.get("qwenproxy_active_streams"));
            assertTrue(m.get("qwenproxy_tokens_total{direction=\"out\",model=\"qwen3.7-plus\"}") > 0, m.toString());
            assertEquals(1.0, m.get("qwenproxy_accounts{backend=\"web\",state=\"OK\"}"));
            assertEquals(0.0, m.get("qwenproxy_accounts{backend=\"web\",state=\"INVALID\"}"));
            assertEquals(1.0, m.get("qwenproxy_build_info{version=\"" + QwenProxy.VERSION + "\"}"));
            HttpResponse<String> up = http.send(HttpRequest.newBuilder(URI.create(p.url() + "/v1/files")).header("Authorization", "Bearer client-key")
                    .header("Content-Type", "multipart/form-data; boundary=b").POST(HttpRequest.BodyPublishers.ofString(
                            "--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nuser_data\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; "
                                    + "filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, up.statusCode(), up.body());
            assertEquals(1.0, scrape(p, "adm-key").get("qwenproxy_uploads_total{to=\"files\",result=\"ok\"}"));
        }
    }

    @Test
    void eachAccountLeavesThroughItsOwnProxy() throws Exception {
        try (TestProxy first = new TestProxy("egress", "p@ss word"); TestProxy second = new TestProxy(null, null);
             TestProxy fallback = new TestProxy(null, null)) {
            java.nio.file.Path file = scratchDir().resolve("accounts.txt");
            java.nio.file.Files.writeString(file, FakeQwen.TOKEN2 + " proxy=" + first.url("egress:p%40ss%20word") + "\n"
                    + "refresh=rt-0 proxy=" + second.url(null) + "\n");
            try (QwenProxy.Server p = start("--accounts-file", file.toString(), "--chat-pool", "0", "--keep-chats", "--upstream-proxy", fallback.url(null),
                    "--admin-key", "adm")) {      // --keep-chats: no deletions in the background to race the counts
                for (int i = 0; i < 4; i++) assertEquals(200, post(p, chat("qwen3.7-plus", i % 2 == 0, "")).statusCode());
                String firstToken = "Bearer " + FakeQwen.TOKEN2;
                assertFalse(first.passed.isEmpty());
                assertTrue(first.passed.stream().allMatch(l -> l.endsWith(firstToken) || l.endsWith("null")), first.passed.toString());
                assertTrue(first.passed.stream().anyMatch(l -> l.startsWith("POST /api/v2/chat/completions")), first.passed.toString());
                assertFalse(first.refused.isEmpty(), "the proxy asked for its password (407) and got it");
                assertTrue(second.passed.stream().anyMatch(l -> l.startsWith("GET /api/v2/auths/refresh")), "the refresh left through the account's proxy: " + second.passed);
                assertTrue(second.passed.stream().anyMatch(l -> l.startsWith("POST /api/v2/chat/completions")), second.passed.toString());
                assertTrue(second.passed.stream().noneMatch(l -> l.endsWith(firstToken)), "no call of the other account: " + second.passed);
                assertTrue(fallback.passed.stream().noneMatch(l -> l.contains("completions")), "accounts with a proxy do not use the default");
                String admin = get(p, "/admin/accounts", "Authorization", "Bearer adm").body();
                assertTrue(admin.contains("\"proxy\":\"http://egress:***@127.0.0.1:" + first.port() + "\""), admin);
                assertFalse(admin.contains("p%40ss") || logs.toString().contains("p%40ss%20word"), "the proxy's password is a secret");
                // a line's proxy can change while the proxy runs
                java.nio.file.Files.writeString(file, FakeQwen.TOKEN2 + "\nrefresh=rt-0 proxy=" + second.url(null) + "\n");
                p.reload();
                first.passed.clear();
                int before = fallback.passed.size();
                for (int i = 0; i < 2; i++) assertEquals(200, post(p, chat("qwen3.7-plus", false, "")).statusCode());
                assertTrue(first.passed.isEmpty());
                assertTrue(fallback.passed.size() > before, "an account without a proxy uses --upstream-proxy: " + fallback.passed);
            }
        }
    }

    @Test
    void aProxyIsHttpHostPortOrDirect() {
        assertThrows(QwenProxy.UsageException.class, () -> QwenProxy.Config.load(new String[] {"--upstream-proxy", "socks5://h:1080"}, java.util.Map.of()));
        assertThrows(QwenProxy.UsageException.class, () -> QwenProxy.Config.load(new String[] {"--upstream-proxy", "http://h"}, java.util.Map.of()));
        assertEquals("direct", QwenProxy.Config.load(new String[0], java.util.Map.of("QWEN_UPSTREAM_PROXY", "direct")).upstreamProxy());
        QwenProxy.Account a = QwenProxy.Account.parse("refresh=abc proxy=http://u:pw@10.0.0.1:3128");
        assertEquals("http://u:pw@10.0.0.1:3128", a.proxy);
        assertEquals("abc", a.refreshToken, "the credential is what stands before proxy=");
        assertEquals(QwenProxy.Account.parse("refresh=abc").id, a.id, "the proxy is not part of the account's identity");
        assertEquals("http://u:***@10.0.0.1:3128", QwenProxy.Upstream.maskedEgress(a.proxy));
        assertThrows(IllegalArgumentException.class, () -> QwenProxy.Account.parse("refresh=abc proxy=ftp://h:1"));
    }
}
