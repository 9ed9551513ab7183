import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What every test that talks HTTP shares: one fake upstream per test class (it serves the chat,
 * refresh, sign-in and upload endpoints), the proxy's log, proxies started on it, scratch
 * directories that vanish at exit, and the client helpers.
 */
abstract class Fixture {
    static FakeQwen fake;
    static final ByteArrayOutputStream logs = new ByteArrayOutputStream();
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void up() throws Exception {
        QwenProxy.Log.out = new PrintStream(logs, true, StandardCharsets.UTF_8);
        fake = new FakeQwen();
    }

    /** A test class's one proxy for all its tests, when it starts one in its @BeforeAll: closed after the class. */
    static QwenProxy.Server proxy;

    @AfterAll
    static void down() {
        if (proxy != null) proxy.close();
        proxy = null;
        fake.close();
        QwenProxy.Log.out = System.err;
    }

    @BeforeEach
    void resetFake() {
        fake.refreshToken = "rt-0";
        fake.completionHeaders.clear();
    }

    /** The same with the fake's plain token as its account. */
    static QwenProxy.Server withToken(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--token", FakeQwen.TOKEN));
        all.addAll(List.of(args));
        return start(all.toArray(new String[0]));
    }

    /** A proxy on the fake for both chat and auth; a fresh data dir unless the test names one. */
    static QwenProxy.Server start(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--port", "0", "--base-url", fake.url(), "--auth-base-url", fake.url()));
        if (!List.of(args).contains("--data-dir")) all.addAll(List.of("--data-dir", tempDir()));
        all.addAll(List.of(args));
        return QwenProxy.start(QwenProxy.Config.load(all.toArray(new String[0]), Map.of()));
    }

    interface Check { boolean ok() throws Exception; }

    /** Waits (8 s at most, polling) for something the proxy does after its reply or in the background. */
    static void waitFor(String what, Check c) throws Exception {
        for (long end = System.currentTimeMillis() + 8000; !c.ok(); Thread.sleep(10))
            if (System.currentTimeMillis() > end) fail("timed out waiting for " + what);
    }

    interface ProxyTest { void run(QwenProxy.Server p) throws Exception; }

    /** A proxy of its own, for tests that change the state of its account (cooling, blocked, invalid). */
    static void fresh(ProxyTest t, String... args) throws Exception {
        try (QwenProxy.Server p = withToken(args)) {
            t.run(p);
        }
    }

    /** A fresh data directory: tests never touch ~/.qwenproxy. */
    static String tempDir() throws java.io.IOException {
        return scratchDir().resolve("data").toString();
    }

    static final List<java.nio.file.Path> scratch = new java.util.concurrent.CopyOnWriteArrayList<>();
    static {   // deleteOnExit cannot remove a directory that is not empty: remove the whole trees at exit
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (java.nio.file.Path d : scratch) {
                try (var files = java.nio.file.Files.walk(d)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                } catch (java.io.IOException | RuntimeException ignored) {
                    // best effort at exit
                }
            }
        }));
    }

    /** A directory under the system's temp dir that is removed, contents and all, when the JVM exits. */
    static java.nio.file.Path scratchDir() throws java.io.IOException {
        java.nio.file.Path d = java.nio.file.Files.createTempDirectory("qwenproxy-test");
        scratch.add(d);
        return d;
    }

    // ---- client helpers

    static HttpResponse<String> post(QwenProxy.Server p, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(p.url() + "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Any method on any path, with a JSON body (null: none): the endpoints beside chat completions. */
    static HttpResponse<String> call(QwenProxy.Server p, String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(p.url() + path)).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(QwenProxy.Server p, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(p.url() + path));
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String chat(String model, boolean stream, String extra) {
        return "{\"model\":\"" + model + "\",\"stream\":" + stream + (extra.isEmpty() ? "" : "," + extra)
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"Hi there\"}]}";
    }

    /** The data payloads of an SSE body, checking the framing: every event is "data: ...\n\n". */
    static List<String> events(String body) {
        List<String> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            if (block.isEmpty() || block.startsWith(":")) continue;
            assertTrue(block.startsWith("data: "), "bad SSE block: " + block);
            assertFalse(block.contains("\n"), "one line per event: " + block);
            out.add(block.substring(6));
        }
        assertTrue(body.endsWith("\n\n"), "stream ends with a complete event");
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Object o) { return (Map<String, Object>) o; }

    static Map<String, Object> json(String s) { return obj(QwenProxy.Json.parse(s)); }

    static Object at(Object root, Object... path) {
        Object cur = root;
        for (Object k : path) {
            if (cur == null) return null;
            cur = k instanceof Integer i ? ((List<?>) cur).get(i) : obj(cur).get(k);
        }
        return cur;
    }

    static Map<String, Object> lastUpstreamMessage() {
        return obj(at(fake.completionBodies.get(fake.completionBodies.size() - 1), "messages", 0));
    }

    static Map<String, Object> errorOf(HttpResponse<String> r) {
        Map<String, Object> e = obj(json(r.body()).get("error"));
        assertEquals(List.of("message", "type", "param", "code"), new ArrayList<>(e.keySet()), "OpenAI error object");
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        return e;
    }

    static void script(Object... steps) { scriptOn(fake, steps); }

    /** Queues one completion reply: response.created, then the steps ($RID = the response id). */
    static void scriptOn(FakeQwen fake, Object... steps) {
        fake.next((ex, chat, rid) -> {
            Object[] resolved = new Object[steps.length + 1];
            resolved[0] = FakeQwen.created(chat, rid);
            for (int i = 0; i < steps.length; i++) resolved[i + 1] = steps[i] instanceof String s ? s.replace("$RID", rid) : steps[i];
            fake.stream(ex, resolved);
        });
    }

}
