import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** What a new user meets first: the command line, the banner, the first errors, the log, the README. */
class FirstHourTest extends Fixture {

    @Test
    void versionFlag_printsTheVersion() {
        PrintStream out = System.out;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        System.setOut(new PrintStream(b, true, StandardCharsets.UTF_8));
        try {
            QwenProxy.main(new String[] {"--version"});
        } finally {
            System.setOut(out);
        }
        assertEquals(QwenProxy.NAME + " " + QwenProxy.VERSION + "\n", b.toString(StandardCharsets.UTF_8));
        assertTrue(QwenProxy.Config.helpText().contains("--version"));
    }

    @Test
    void aFlagWithoutItsValue_saysSo_insteadOfSwallowingTheNextFlag() {
        String msg = assertThrows(QwenProxy.UsageException.class,
                () -> QwenProxy.Config.load(new String[] {"--host", "--port", "8790"}, Map.of())).getMessage();
        assertEquals("--host needs a value", msg);
    }

    @Test
    void aBusyPort_namesTheAddressAndTheFlag_andCreatesNothing() throws Exception {
        try (QwenProxy.Server first = withToken()) {
            Path dir = scratchDir().resolve("never");
            IOException e = assertThrows(IOException.class, () -> QwenProxy.start(QwenProxy.Config.load(new String[] {"--port",
                    "" + first.port(), "--base-url", fake.url(), "--token", FakeQwen.TOKEN, "--data-dir", dir.toString()}, Map.of())));
            assertEquals("port " + first.port() + " on 127.0.0.1 is already in use (another QwenProxy?); choose another with --port or PORT",
                    e.getMessage());
            assertFalse(Files.exists(dir), "the data directory is not created for a proxy that cannot start");
        }
    }

    @Test
    void aPublicBind_saysSoInTheBanner_andKeepsItsGeneratedKeyAcrossRestarts() throws Exception {
        String data = tempDir();
        QwenProxy.Server p = withToken("--host", "0.0.0.0", "--data-dir", data);
        String key;
        try {
            key = p.generatedKey;
            assertTrue(p.banner().startsWith("QwenProxy " + QwenProxy.VERSION + " listening on http://0.0.0.0:" + p.port()
                    + "  (every interface: reachable from the network; locally http://127.0.0.1:" + p.port() + ")"), p.banner());
            assertTrue(p.banner().contains(key));
        } finally {
            p.stop();
        }
        try (QwenProxy.Server again = withToken("--host", "0.0.0.0", "--data-dir", data)) {
            assertEquals(key, again.generatedKey, "clients configured with the key keep working after a restart");
            assertEquals(200, post(again, chat("qwen3.7-plus", false, ""), "Authorization", "Bearer " + key).statusCode());
        }
    }

    @Test
    void theBannerSaysWhenEveryAccountIsAnExpiringToken_andWhatLasts() throws Exception {
        long exp = System.currentTimeMillis() / 1000 + 900;
        try (QwenProxy.Server p = withToken("--token", FakeQwen.jwt(exp, 0, "someone"))) {
            String b = p.banner();
            assertTrue(b.contains("every account is a plain access token, and they expire: the last at "
                    + java.time.Instant.ofEpochSecond(exp)), b);
            assertTrue(b.contains("QWEN_REFRESH_TOKEN=") && b.contains("java QwenProxy.java login"), b);
        }
        try (QwenProxy.Server none = QwenProxy.start(QwenProxy.Config.load(new String[] {"--port", "0", "--base-url", fake.url(),
                "--data-dir", tempDir()}, Map.of()))) {
            assertTrue(none.banner().contains("QWEN_REFRESH_TOKEN=") && none.banner().contains("login"), none.banner());
            HttpResponse<String> r = post(none, chat("qwen3.7-plus", false, ""));
            assertEquals(401, r.statusCode());
            String msg = (String) errorOf(r).get("message");
            assertTrue(msg.contains("QWEN_REFRESH_TOKEN") && msg.contains("java QwenProxy.java login") && msg.contains("QWEN_AUTH_TOKEN"), msg);
        }
    }

    /** A raw upstream whose completion stream breaks its chunked framing after one event. */
    @Test
    void aStreamThatBreaksOff_isA502InPlainWords_noJavaInternals() throws Exception {
        try (ServerSocket raw = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> serveBroken(raw), "broken-upstream");
            t.setDaemon(true);
            t.start();
            try (QwenProxy.Server p = QwenProxy.start(QwenProxy.Config.load(new String[] {"--port", "0", "--base-url",
                    "http://127.0.0.1:" + raw.getLocalPort(), "--token", FakeQwen.TOKEN, "--data-dir", tempDir()}, Map.of()))) {
                HttpResponse<String> r = post(p, chat("qwen3.7-plus", false, ""));
                assertEquals(502, r.statusCode(), r.body());
                String msg = (String) errorOf(r).get("message");
                assertEquals("The connection to Qwen broke off in the middle of the reply; retry the request.", msg);
                assertFalse(r.body().contains("java.") || r.body().contains("Exception"), r.body());
            }
        }
    }

    static void serveBroken(ServerSocket raw) {
        while (!raw.isClosed()) {
            try (Socket s = raw.accept()) {
                InputStream in = s.getInputStream();
                StringBuilder head = new StringBuilder();
                while (!head.toString().endsWith("\r\n\r\n")) {
                    int ch = in.read();
                    if (ch < 0) break;
                    head.append((char) ch);
                }
                Matcher len = Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
                if (len.find()) in.readNBytes(Integer.parseInt(len.group(1)));
                OutputStream out = s.getOutputStream();
                String line = head.toString().split("\r\n")[0];
                if (line.contains("/api/v2/chats/new")) {
                    byte[] b = "{\"success\": true, \"data\": {\"id\": \"c1\"}}".getBytes(StandardCharsets.UTF_8);
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + b.length + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.UTF_8));
                    out.write(b);
                } else if (line.contains("/api/v2/chat/completions")) {
                    String event = "data: " + FakeQwen.created("c1", "r1") + " \n\n";
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + Integer.toHexString(event.length()) + "\r\n" + event + "\r\nZZ-not-a-length\r\n").getBytes(StandardCharsets.UTF_8));
                } else {
                    out.write("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".getBytes(StandardCharsets.UTF_8));
                }
                out.flush();
            } catch (IOException e) {
                // the next connection
            }
        }
    }

    @Test
    void oneQwenUserGivenTwice_isOneAccount_theRenewableOneStays() throws Exception {
        String token = FakeQwen.jwt(System.currentTimeMillis() / 1000 + 900, 0, "same-person");
        String other = FakeQwen.jwt(System.currentTimeMillis() / 1000 + 800, 0, "same-person");
        QwenProxy.Server p = withToken("--cookie", "token=" + other + "; refresh_token=rt-9");
        try {   // start() gave --token FakeQwen.TOKEN (fake-user) too
            assertEquals(2, p.accounts.all.size());
        } finally {
            p.stop();
        }
        QwenProxy.Server q = QwenProxy.start(QwenProxy.Config.load(new String[] {"--port", "0", "--base-url", fake.url(),
                "--auth-base-url", fake.url(), "--token", token, "--cookie", "token=" + other + "; refresh_token=rt-9",
                "--data-dir", tempDir()}, Map.of()));
        try {
            assertEquals(1, q.accounts.all.size(), "a token and a cookie of one person are one account");
            assertEquals("cookie", q.accounts.all.get(0).kind, "the one that renews itself stays");
        } finally {
            q.stop();
        }
        QwenProxy.Server r = start("--cookie", "token=opaque-token-1; cna=x", "--token", "opaque-token-1");
        try {
            assertEquals(1, r.accounts.all.size(), "one token given twice, as a cookie and as a token, even when it is no JWT");
        } finally {
            r.stop();
        }
    }

    @Test
    void aClientErrorIsLoggedOnce_withItsCode() throws Exception {
        try (QwenProxy.Server p = withToken()) {
            HttpResponse<String> r = post(p, "{\"model\":\"qwen3.7-plus\",\"messages\":\"hi\"}");
            assertEquals(400, r.statusCode());
            String rid = r.headers().firstValue("X-Request-Id").orElseThrow();
            logLine(rid);      // the request's line comes last, after the reply went out
            List<String> lines = new ArrayList<>();
            for (String l : logs.toString(StandardCharsets.UTF_8).split("\n")) if (l.contains(rid)) lines.add(l);
            assertEquals(1, lines.size(), lines.toString());
            assertTrue(lines.get(0).contains(" INFO ") && lines.get(0).contains("POST /v1/chat/completions 400 ")
                    && lines.get(0).contains("error=invalid_type: 'messages' must be an array"), lines.get(0));
        }
    }

    @Test
    void clientTextCannotForgeLogLinesOrReachTheTerminal() throws Exception {
        try (QwenProxy.Server p = withToken()) {
            String model = "x\u001b[31mRED\nFAKE 2026-12-02T00:00:00Z INFO injected";
            HttpResponse<String> r = post(p, "{\"model\":" + QwenProxy.Json.write(model) + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            assertEquals(404, r.statusCode());
            String msg = (String) errorOf(r).get("message");
            assertTrue(msg.contains("x\\u001b[31mRED\\nFAKE"), msg);
            assertFalse(msg.contains("\u001b") || msg.contains("\n"), msg);
            assertTrue(logLine(r.headers().firstValue("X-Request-Id").orElseThrow()).contains("x\\u001b[31mRED\\nFAKE"));
            String log = logs.toString(StandardCharsets.UTF_8);
            assertFalse(log.contains("\u001b"), "no terminal escape in the log");
            for (String line : log.split("\n")) assertFalse(line.startsWith("FAKE"), "no forged line: " + line);
        }
        assertEquals("a\\nb\\r\\tc\\u001bd\\u0085", QwenProxy.Log.clean("a\nb\r\tc\u001bd\u0085"));
        assertEquals("plain é 中", QwenProxy.Log.clean("plain é 中"));
    }

    /** The log line of a request, once it is written (it follows the reply), within 5 s. */
    static String logLine(String rid) throws InterruptedException {
        for (long end = System.currentTimeMillis() + 5000; System.currentTimeMillis() < end; Thread.sleep(10))
            for (String l : logs.toString(StandardCharsets.UTF_8).split("\n")) if (l.contains("[" + rid + "]")) return l;
        return fail("no log line for " + rid);
    }

    @Test
    void nonStreamingMessages_carryRefusalNull_asTheOpenApiSchemaRequires() throws Exception {
        try (QwenProxy.Server p = withToken()) {
            Map<String, Object> done = json(post(p, chat("qwen3.7-plus", false, "")).body());
            Map<?, ?> message = (Map<?, ?>) at(done, "choices", 0, "message");
            assertTrue(message.containsKey("refusal"));
            assertEquals(QwenProxy.Json.NULL, message.get("refusal"));
        }
    }

    @Test
    void sigterm_isLogged() throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path err = scratchDir().resolve("stderr"), out = err.resolveSibling("stdout");
        Process proc = new ProcessBuilder(javaBin, "-cp", "build/main", "QwenProxy", "--port", "0",
                "--base-url", fake.url(), "--data-dir", tempDir())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            for (long end = System.currentTimeMillis() + 20_000; System.currentTimeMillis() < end; Thread.sleep(50))
                if (Files.readString(out).contains("  try ")) break;
            assertTrue(Files.readString(out).contains("listening on"), Files.readString(out) + Files.readString(err));
            assertEquals(0, new ProcessBuilder("kill", "-TERM", "" + proc.pid()).start().waitFor());
            assertTrue(proc.waitFor(20, java.util.concurrent.TimeUnit.SECONDS));
            String all = Files.readString(err);
            assertTrue(all.contains("INFO shutting down"), all);
            assertTrue(all.contains("INFO stopped"), all);
        } finally {
            proc.destroyForcibly();
        }
    }

    // ---- the README agrees with the program

    static String readme() throws IOException { return Files.readString(Path.of("README.md")); }

    @Test
    void readme_documentsEveryOption_andNoOtherOption() throws IOException {
        Set<String> documented = new java.util.TreeSet<>();
        Matcher m = Pattern.compile("(?m)^\\| `(--[a-z-]+)`").matcher(readme());
        while (m.find()) documented.add(m.group(1));
        Matcher slash = Pattern.compile("(?m)^\\| `--[a-z-]+` / `(--[a-z-]+)`").matcher(readme());
        while (slash.find()) documented.add(slash.group(1));
        Set<String> options = new java.util.TreeSet<>();
        for (QwenProxy.Config.Option o : QwenProxy.Config.OPTIONS) {
            options.add(o.flag());
            if (!o.env().isEmpty()) assertTrue(readme().contains("`" + o.env() + "`"), "README names the variable " + o.env());
        }
        assertEquals(options, documented, "the README's option table and --help list the same flags");
    }

    @Test
    void readme_namesEveryEndpointThatGetRootLists() throws Exception {
        try (QwenProxy.Server p = withToken()) {
            for (Object e : (List<?>) json(get(p, "/").body()).get("endpoints")) {
                String path = String.valueOf(e).split(" ")[1];
                assertTrue(readme().contains(path), "README names " + e);
            }
        }
    }

    @Test
    void readme_listsEveryErrorCodeTheProxySends() throws IOException {
        String src = Files.readString(Path.of("QwenProxy.java")), readme = readme();
        Set<String> codes = new LinkedHashSet<>();
        for (Pattern p : List.of(Pattern.compile("new ApiException\\(\\d+, \"[a-z_]+\", \"([a-z_]+)\""),
                Pattern.compile("ApiException\\.invalid\\([^,]+, \"([a-z_]+)\""))) {
            Matcher m = p.matcher(src);
            while (m.find()) codes.add(m.group(1));
        }
        assertTrue(codes.size() > 25, codes.toString());
        String errors = readme.substring(readme.indexOf("## Errors"), readme.indexOf("## ", readme.indexOf("## Errors") + 5));
        List<String> missing = new ArrayList<>();
        for (String code : codes) if (!errors.contains("`" + code + "`")) missing.add(code);
        assertEquals(List.of(), missing, "codes the README's error table lacks");
    }
}
