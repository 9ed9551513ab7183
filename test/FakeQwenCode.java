import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The qwen-code side of Qwen as test/PROTOCOL.md §Q describes it: the OAuth token endpoint (refresh
 * with rotation: the previous refresh token dies on use; the device grant with PKCE), the device
 * authorization, and the OpenAI-compatible API (one live access token; the strict "system first"
 * rule; quota and throttling switches; streams with reasoning, tool calls and the usage chunk).
 */
final class FakeQwenCode implements AutoCloseable {
    static final String CLIENT_ID = "f0304373b74a44d2b584a3fb70ca9e56";
    final HttpServer server;
    // tokens: generation n has at-n / rt-n; only the newest pair is alive
    volatile int generation = 1;
    volatile int expiresIn = 21600;
    volatile boolean omitRefreshToken, omitResourceUrl, htmlRefresh;
    volatile int refreshStatus;               // > 0: the token endpoint answers this status to refreshes
    volatile long refreshDelayMs;
    final AtomicInteger refreshes = new AtomicInteger();
    // the API
    volatile String mode = "ok";              // ok | quota | throttle | reasoning | stall
    volatile boolean strictSystem = true;
    volatile boolean rejectNextToken;         // one 401 for a token that is otherwise current
    final List<Map<String, Object>> bodies = new CopyOnWriteArrayList<>();
    final List<Map<String, List<String>>> headers = new CopyOnWriteArrayList<>();
    final List<String> paths = new CopyOnWriteArrayList<>();
    final AtomicInteger unauthorized = new AtomicInteger();
    volatile String lastStream;               // the exact bytes of the last stream sent
    // the device login
    volatile String challenge, deviceCode;
    volatile int polls, approveAfter = 1;

    FakeQwenCode() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newCachedThreadPool());
        server.start();
    }

    String url() { return "http://127.0.0.1:" + server.getAddress().getPort(); }

    String access() { return "at-" + generation; }

    String refresh() { return "rt-" + generation; }

    /** A credentials file as the CLI writes it after a refresh (§Q1), for the current tokens. */
    String file(long expiry) {
        return "{\n  \"access_token\": \"" + access() + "\",\n  \"token_type\": \"Bearer\",\n  \"refresh_token\": \"" + refresh()
                + "\",\n  \"resource_url\": \"" + url() + "\",\n  \"expiry_date\": " + expiry + "\n}";
    }

    @Override public void close() { server.stop(0); }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath(), body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            switch (path) {
                case "/api/v1/oauth2/token" -> token(ex, form(body));
                case "/api/v1/oauth2/device/code" -> deviceCode(ex, form(body));
                default -> api(ex, path, body);
            }
        } catch (Exception e) {
            e.printStackTrace();
        }
    }

    static Map<String, String> form(String body) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String kv : body.split("&")) {
            int eq = kv.indexOf('=');
            if (eq > 0) m.put(kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return m;
    }

    private void token(HttpExchange ex, Map<String, String> f) throws Exception {
        if (!CLIENT_ID.equals(f.get("client_id"))) { json(ex, 401, "{\"error\":\"invalid_client\"}"); return; }
        if ("refresh_token".equals(f.get("grant_type"))) {
            refreshes.incrementAndGet();
            if (refreshDelayMs > 0) Thread.sleep(refreshDelayMs);
            if (!ex.getRequestHeaders().getFirst("User-Agent").startsWith("QwenCode/")) { html(ex); return; }
            if (htmlRefresh) { html(ex); return; }
            if (refreshStatus > 0) { json(ex, refreshStatus, "{\"error\":\"server_error\"}"); return; }
            synchronized (this) {
                if (!refresh().equals(f.get("refresh_token"))) {
                    json(ex, 400, "{\"error\":\"invalid_request\",\"error_description\":\"Invalid refresh token or client_id\"}");
                    return;
                }
                generation++;
                json(ex, 200, tokens());
            }
        } else if ("urn:ietf:params:oauth:grant-type:device_code".equals(f.get("grant_type"))) {
            if (!f.get("device_code").equals(deviceCode)) { json(ex, 400, "{\"error\":\"expired_token\"}"); return; }
            if (++polls <= approveAfter) { json(ex, polls == 1 ? 429 : 400, polls == 1 ? "{\"error\":\"slow_down\"}" : "{\"error\":\"authorization_pending\"}"); return; }
            byte[] sha = java.security.MessageDigest.getInstance("SHA-256").digest(f.get("code_verifier").getBytes(StandardCharsets.US_ASCII));
            if (!Base64.getUrlEncoder().withoutPadding().encodeToString(sha).equals(challenge)) { json(ex, 400, "{\"error\":\"invalid_grant\"}"); return; }
            json(ex, 200, tokens());
        } else json(ex, 400, "{\"error\":\"unsupported_grant_type\"}");
    }

    private String tokens() {
        return "{\"access_token\":\"" + access() + "\",\"token_type\":\"Bearer\",\"expires_in\":" + expiresIn
                + (omitRefreshToken ? "" : ",\"refresh_token\":\"" + refresh() + "\"")
                + (omitResourceUrl ? "" : ",\"resource_url\":\"" + url() + "\"") + "}";
    }

    private void deviceCode(HttpExchange ex, Map<String, String> f) throws IOException {
        if (!CLIENT_ID.equals(f.get("client_id")) || !"S256".equals(f.get("code_challenge_method"))) {
            json(ex, 401, "{\"error\":\"invalid_client\",\"error_description\":\"bad client\"}");
            return;
        }
        challenge = f.get("code_challenge");
        deviceCode = "dc_" + System.nanoTime();
        polls = 0;
        json(ex, 200, "{\"device_code\":\"" + deviceCode + "\",\"user_code\":\"ABCD1234\",\"verification_uri\":\"" + url()
                + "/authorize\",\"verification_uri_complete\":\"" + url() + "/authorize?user_code=ABCD1234&client=qwen-code\",\"expires_in\":1800,\"interval\":1}");
    }

    private void api(HttpExchange ex, String path, String body) throws Exception {
        paths.add(ex.getRequestMethod() + " " + path);
        headers.add(Map.copyOf(ex.getRequestHeaders()));
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (!("Bearer " + access()).equals(auth) || rejectNextToken) {
            rejectNextToken = false;
            unauthorized.incrementAndGet();
            json(ex, 401, "{\"error\":{\"code\":\"invalid_api_key\",\"message\":\"invalid access token or token expired\",\"param\":null,"
                    + "\"type\":\"invalid_request_error\"},\"request_id\":\"r-1\"}");
            return;
        }
        if (!path.equals("/v1/chat/completions")) {
            json(ex, 200, "{\"object\":\"list\",\"path\":\"" + path + "\",\"query\":\"" + ex.getRequestURI().getRawQuery() + "\",\"echo\":" + (body.isEmpty() ? "null" : body) + "}");
            return;
        }
        Map<String, Object> b = Fixture.json(body);
        bodies.add(b);
        if (strictSystem && !"system".equals(Fixture.at(b, "messages", 0, "role"))) {
            json(ex, 400, "{\"error\":{\"code\":\"invalid_parameter_error\",\"message\":\"bad request\",\"param\":null,\"type\":\"invalid_request_error\"},\"request_id\":\"r-2\"}");
            return;
        }
        switch (mode) {
            case "quota" -> { json(ex, 429, "{\"error\":{\"message\":\"Free allocated quota exceeded.\",\"type\":\"insufficient_quota\",\"param\":null,\"code\":\"insufficient_quota\"},\"request_id\":\"r-3\"}"); return; }
            case "throttle" -> {
                ex.getResponseHeaders().set("Retry-After", "7");
                json(ex, 429, "{\"error\":{\"message\":\"Requests throttling triggered.\",\"type\":\"limit_requests\",\"param\":null,\"code\":\"Throttling\"},\"request_id\":\"r-4\"}");
                return;
            }
            default -> { }
        }
        String model = String.valueOf(b.get("model"));
        // with tools, a user's turn gets a call of the first tool and a tool's result an answer quoting it
        List<?> messages = (List<?>) b.get("messages");
        Map<String, Object> lastMessage = Fixture.obj(messages.get(messages.size() - 1));
        boolean tools = b.get("tools") != null && "user".equals(lastMessage.get("role"));
        String answer = "tool".equals(lastMessage.get("role")) ? "The tool said: " + lastMessage.get("content") : "ok";
        if (!Boolean.TRUE.equals(b.get("stream"))) {
            String message = tools ? "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]}"
                    : "{\"role\":\"assistant\",\"content\":\"" + answer + "\"}";
            json(ex, 200, "{\"choices\":[{\"message\":" + message + ",\"finish_reason\":\"" + (tools ? "tool_calls" : "stop") + "\",\"index\":0,\"logprobs\":null}],"
                    + "\"object\":\"chat.completion\",\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":1,\"total_tokens\":13,\"prompt_tokens_details\":{\"cached_tokens\":0}},"
                    + "\"created\":1756618477,\"system_fingerprint\":null,\"model\":\"" + model + "\",\"id\":\"chatcmpl-1\"}");
            return;
        }
        String head = "{\"choices\":[{\"delta\":", tail = "\"object\":\"chat.completion.chunk\",\"usage\":null,\"created\":1756618477,\"system_fingerprint\":null,\"model\":\"" + model + "\",\"id\":\"chatcmpl-2\"}";
        List<String> deltas = new java.util.ArrayList<>();
        if (mode.equals("reasoning")) deltas.add("{\"role\":\"assistant\",\"reasoning_content\":\"Let me think.\"}");
        if (tools) {
            deltas.add("{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}");
            deltas.add("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]}");
            deltas.add("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}");
        } else if (!answer.equals("ok")) {
            deltas.add("{\"role\":\"assistant\",\"content\":\"" + answer.substring(0, 5) + "\"}");
            deltas.add("{\"content\":\"" + answer.substring(5) + "\"}");
        } else {
            deltas.add("{\"role\":\"assistant\",\"content\":\"Hel\"}");
            deltas.add("{\"content\":\"lo ✓\"}");
        }
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.sendResponseHeaders(200, 0);
        StringBuilder all = new StringBuilder();
        OutputStream out = ex.getResponseBody();
        for (String d : deltas) send(out, all, "data: " + head + d + ",\"finish_reason\":null,\"index\":0,\"logprobs\":null}]," + tail + "\n\n");
        if (mode.equals("stall")) Thread.sleep(3000);      // silent: the proxy's --request-timeout-ms ends it
        send(out, all, "data: " + head + "{\"content\":\"\"},\"finish_reason\":\"" + (tools ? "tool_calls" : "stop") + "\",\"index\":0,\"logprobs\":null}]," + tail + "\n\n");
        if (Boolean.TRUE.equals(Fixture.at(b, "stream_options", "include_usage")))
            send(out, all, "data: {\"choices\":[],\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15},"
                    + "\"created\":1756618477,\"model\":\"" + model + "\",\"id\":\"chatcmpl-2\"}\n\n");
        send(out, all, "data: [DONE]\n\n");
        lastStream = all.toString();
    }

    private static void send(OutputStream out, StringBuilder all, String event) throws IOException {
        all.append(event);
        out.write(event.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void html(HttpExchange ex) throws IOException {
        byte[] b = "<html><body>Access denied (aliyun_waf)</body></html>".getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/html");
        ex.sendResponseHeaders(200, b.length);
        ex.getResponseBody().write(b);
    }

    static void json(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }
}
