import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;

/**
 * An in-process chat.qwen.ai that follows test/PROTOCOL.md §13 to the byte:
 * Python-style JSON separators, the trailing space after response.created, two empty typing
 * deltas before the finished event, no [DONE]. Tests queue scripted replies with next(); without
 * one, a completion answers "Hello from Qwen." (with a thinking_summary phase first when the
 * request enables thinking).
 */
final class FakeQwen implements AutoCloseable {
    static final String TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6ImZha2UtdXNlciJ9.c2lnbmF0dXJlLWZha2U";
    static final String TOKEN2 = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6InNlY29uZC11c2VyIn0.c2Vjb25kLXNpZ25hdHVyZQ";

    /** A scripted completion reply. */
    interface Script { void run(HttpExchange ex, String chatId, String responseId) throws Exception; }

    final HttpServer server;
    final LinkedBlockingQueue<Script> scripts = new LinkedBlockingQueue<>();
    final List<Map<String, Object>> completionBodies = new CopyOnWriteArrayList<>();
    final List<Map<String, Object>> newChatBodies = new CopyOnWriteArrayList<>();
    final List<Map<String, List<String>>> completionHeaders = new CopyOnWriteArrayList<>();
    final List<String> deleted = new CopyOnWriteArrayList<>();
    final Map<String, Boolean> chats = new ConcurrentHashMap<>();
    final Map<String, Long> chatCreatedAt = new ConcurrentHashMap<>();     // chat id -> System.nanoTime() of chats/new
    final AtomicInteger modelCalls = new AtomicInteger();
    final List<String> brokenWrites = new CopyOnWriteArrayList<>();   // responses whose client went away
    final java.util.Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();   // one per upstream connection
    volatile String modelsJson = defaultModels();
    volatile int modelsStatus = 200;
    volatile long modelsDelayMs;
    volatile boolean gzip;
    volatile boolean parallel;
    volatile long roundTripMs;          // added to every call: a distant upstream          // §6.3b: every default reply opens a second candidate
    volatile int answerDeltas;          // > 0: the default reply is this many "tok " deltas (benchmarks)
    // §2.2 refresh flow: one live refresh token, rotated on every use; access tokens expire
    volatile String refreshToken = "rt-0";
    volatile int tokenTtlSeconds = 900;
    final AtomicInteger refreshRefused = new AtomicInteger();   // refreshes with a revoked (already rotated) refresh token
    volatile long refreshDelayMs;
    volatile boolean guestModels;
    // §5.6 and §10: the edge's size limit, uploads (STS, OSS, parse)
    static final int BODY_LIMIT = 128 * 1024;
    final List<Integer> completionSizes = Collections.synchronizedList(new ArrayList<>());
    final Map<String, String> stsIssued = new ConcurrentHashMap<>();     // file_id -> object key
    final Map<String, String> stored = new ConcurrentHashMap<>();        // file_id -> uploaded text
    final Map<String, byte[]> storedBytes = new ConcurrentHashMap<>();   // file_id -> uploaded bytes
    // media a client's message may link to, served under /_fake/media/<name> (a web server of the user's)
    final Map<String, byte[]> media = new ConcurrentHashMap<>();
    final Map<String, java.util.Set<String>> answers = new ConcurrentHashMap<>();     // chat id -> the response ids answered in it (§9)
    // §10.5 t2v: task id -> status polls before it is done; the v2 status route can be switched off (404)
    final Map<String, Integer> videoTasks = new ConcurrentHashMap<>();
    final List<String> statusCalls = new CopyOnWriteArrayList<>();
    volatile int videoPolls = 2;
    volatile boolean videoV2 = true, videoFails;
    final Map<String, String> mediaTypes = new ConcurrentHashMap<>();
    final Map<String, Integer> parsing = new ConcurrentHashMap<>();      // file_id -> status polls so far
    final AtomicInteger stsCalls = new AtomicInteger();
    volatile boolean failUploads;       // the STS endpoint answers with an error envelope       // the model list answers any token, as for the web client's guests
    final Map<String, Long> issued = new ConcurrentHashMap<>();       // access token -> exp (ms)
    final AtomicInteger refreshes = new AtomicInteger(), rejected = new AtomicInteger();
    final java.util.Set<String> rateLimitedTokens = ConcurrentHashMap.newKeySet();
    final java.util.Set<String> blockedTokens = ConcurrentHashMap.newKeySet();
    final java.util.Set<String> rateLimitedChatTypes = ConcurrentHashMap.newKeySet();   // §10.5: a quota of their own (images, videos)
    // §2.2 password sign-in: the password arrives as its sha256 hex
    static final String EMAIL = "user@example.com", PASSWORD = "s3cret pass";
    volatile boolean signinV2 = true;
    final AtomicInteger signins = new AtomicInteger();

    FakeQwen() throws IOException {
        // a production upstream answers without Nagle delays; the JDK server reads this once per JVM
        System.setProperty("sun.net.httpserver.nodelay", "true");
        System.setProperty("sun.net.httpserver.maxIdleConnections", "4096");    // a production upstream keeps connections
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 512);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newCachedThreadPool(r -> { Thread t = new Thread(r, "fake-qwen"); t.setDaemon(true); return t; }));
        server.start();
    }

    String url() { return "http://127.0.0.1:" + server.getAddress().getPort(); }

    void next(Script s) { scripts.add(s); }

    @Override public void close() { server.stop(0); }

    static String defaultModels() {
        return "{\"data\": [" + model("qwen3.7-plus", "Qwen3.7-Plus", 3) + ", " + model("qwen3.7-max", "Qwen3.7-Max", 3)
                + ", " + model("qwen3-coder-plus", "Qwen3-Coder", 0) + ", " + model(THINK_ONLY, "Qwen3.8-Max", 3) + "]}";
    }

    /** §3.3: a qwen3.8 model, whose thinking cannot be switched off (think_skip.enable false). */
    static final String THINK_ONLY = "qwen3.8-max";

    /** §3.3 capabilities as the fake-server checklist suggests: qwen3.7-max reads no images; the coder reads text only. */
    static String model(String id, String name, int thinking) {
        boolean coder = id.contains("coder"), vision = !coder && !id.equals("qwen3.7-max");
        // chat types: the plus model lists them all, the coder only t2t; qwen3.7-max's entry says nothing (unknown)
        String types = id.equals("qwen3.7-max") ? "" : coder ? ", \"chat_type\": [\"t2t\"]"
                : ", \"chat_type\": [\"t2t\", \"search\", \"t2i\", \"t2v\", \"image_edit\", \"deep_research\"]";
        return "{\"id\": \"" + id + "\", \"name\": \"" + name + "\", \"object\": \"model\", \"owned_by\": \"qwen\", \"info\": {\"id\": \""
                + id + "\", \"name\": \"" + name + "\", \"meta\": {\"capabilities\": {\"thinking\": " + (thinking > 0)
                + ", \"vision\": " + vision + ", \"document\": " + !coder + ", \"video\": " + vision + ", \"audio\": " + vision
                + "}, \"abilities\": {\"thinking\": " + thinking + "}" + types + ", \"thinking_format\": \"summary\", \"think_skip\": {\"enable\": "
                + !id.equals(THINK_ONLY) + "}}, \"is_active\": true, \"created_at\": 1780000000}, \"preset\": true}";
    }

    // ---- routes (§13)

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath(), method = ex.getRequestMethod();
            clientPorts.add(ex.getRemoteAddress().getPort());
            byte[] in = ex.getRequestBody().readAllBytes();
            if (roundTripMs > 0 && !path.startsWith("/_fake")) Thread.sleep(roundTripMs);   // a distant upstream (the benchmark)
            if (path.equals("/api/models") && method.equals("GET")) {
                modelCalls.incrementAndGet();
                if (modelsDelayMs > 0) Thread.sleep(modelsDelayMs);
                if (!guestModels && !authorized(ex)) { json(ex, 200, unauthorized()); return; }
                json(ex, modelsStatus, modelsStatus == 200 ? modelsJson : "{\"detail\": \"boom\"}");
            } else if (path.equals("/api/v2/models/") && method.equals("GET")) {      // §3.2: the same list, wrapped
                modelCalls.incrementAndGet();
                if (!authorized(ex)) { json(ex, 200, unauthorized()); return; }
                json(ex, 200, "{\"success\": true, \"request_id\": \"" + UUID.randomUUID() + "\", \"data\": " + modelsJson + "}");
            } else if (path.equals("/api/v2/chats/new") && method.equals("POST")) {
                newChatBodies.add(parse(in));
                if (!authorized(ex)) { json(ex, 200, unauthorized()); return; }
                String id = UUID.randomUUID().toString();
                chats.put(id, true);
                chatCreatedAt.put(id, System.nanoTime());
                String rid = ex.getRequestHeaders().getFirst("X-Request-Id");
                json(ex, 200, "{\"success\": true, \"request_id\": \"" + rid + "\", \"data\": {\"id\": \"" + id + "\"}}");
            } else if (path.equals("/api/v2/chat/completions") && method.equals("POST")) {
                completion(ex, in);
            } else if (path.equals("/api/v2/auths/signin") && method.equals("POST") && signinV2) {
                signIn(ex, in, true);
            } else if (path.equals("/api/v1/auths/signin") && method.equals("POST")) {
                signIn(ex, in, false);
            } else if (path.equals("/api/v2/auths/refresh") && method.equals("GET")) {
                if (refreshDelayMs > 0) Thread.sleep(refreshDelayMs);
                refresh(ex);
            } else if (path.equals("/api/v1/auths/") && method.equals("GET")) {     // who am I (§13)
                if (!authorized(ex)) { json(ex, 401, "{\"detail\": \"Your session has expired or the token is invalid. Please sign in again.\"}"); return; }
                String t = tokenOf(ex), user = userOf(t);
                json(ex, 200, "{\"id\": \"" + user + "\", \"email\": \"" + user + "@example.com\", \"name\": \"" + user
                        + "\", \"role\": \"user\", \"token\": \"" + t + "\", \"token_type\": \"Bearer\", \"expires_at\": null}");
            } else if (path.equals("/api/v2/files/getstsToken") && method.equals("POST")) {
                sts(ex, in);
            } else if (path.startsWith("/oss/") && method.equals("PUT")) {
                ossPut(ex, path.substring(5), in);
            } else if (path.equals("/api/v2/files/parse") && method.equals("POST")) {
                if (!authorized(ex)) { json(ex, 200, unauthorized()); return; }
                String id = String.valueOf(parse(in).get("file_id"));
                if (!stored.containsKey(id)) { json(ex, 200, badRequest("file not found")); return; }
                parsing.put(id, 0);
                json(ex, 200, "{\"success\": true, \"request_id\": \"" + UUID.randomUUID() + "\", \"data\": {}}");
            } else if (path.equals("/api/v2/files/parse/status") && method.equals("POST")) {
                String id = String.valueOf(((List<?>) parse(in).get("file_id_list")).get(0));
                int polls = parsing.merge(id, 1, Integer::sum);     // "parsing" once, then "success"
                json(ex, 200, "{\"success\": true, \"data\": [{\"file_id\": \"" + id + "\", \"status\": \""
                        + (polls < 2 ? "parsing" : "success") + "\"}]}");
            } else if ((path.startsWith("/api/v2/task/status/") && videoV2) || path.startsWith("/api/v1/tasks/status/")) {
                String task = path.substring(path.lastIndexOf('/') + 1);
                Integer left = videoTasks.computeIfPresent(task, (k, v) -> v - 1);
                statusCalls.add(path.substring(0, path.lastIndexOf('/') + 1));
                if (left == null) { json(ex, 200, badRequest("task not found")); return; }
                String state = left > 0 ? "running" : videoFails ? "failed" : "success";
                if (state.equals("success")) media.put(task + ".mp4", ("fake mp4 of task " + task).getBytes(StandardCharsets.UTF_8));
                json(ex, 200, "{\"task_status\": \"" + state + "\", \"content\": \"" + (state.equals("success") ? url() + "/_fake/media/" + task + ".mp4" : "") + "\"}");
            } else if (path.startsWith("/_fake/media/") && method.equals("GET")) {
                byte[] b = media.get(path.substring(13));
                if (b == null) { respond(ex, 404, "text/plain", "no such file"); return; }
                ex.getResponseHeaders().set("Content-Type", mediaTypes.getOrDefault(path.substring(13), "application/octet-stream"));
                ex.sendResponseHeaders(200, b.length);
                ex.getResponseBody().write(b);
            } else if (path.startsWith("/_fake/redirect/") && method.equals("GET")) {    // /_fake/redirect/<hops>/<name>
                String[] p = path.substring(16).split("/", 2);
                int hops = Integer.parseInt(p[0]);
                ex.getResponseHeaders().set("Location", hops > 1 ? "/_fake/redirect/" + (hops - 1) + "/" + p[1] : "/_fake/media/" + p[1]);
                ex.sendResponseHeaders(302, -1);
            } else if (path.equals("/_fake/last") && method.equals("GET")) {      // for client tests in another process
                int n = completionSizes.size();
                Map<String, Object> last = completionBodies.isEmpty() ? Map.of() : completionBodies.get(completionBodies.size() - 1);
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("size", n == 0 ? 0 : completionSizes.get(n - 1));
                out.put("body", last);
                out.put("files", stored);
                json(ex, 200, QwenProxy.Json.write(out));
            } else if (path.startsWith("/api/v2/chats/") && method.equals("DELETE")) {
                deleted.add(path.substring("/api/v2/chats/".length()));
                json(ex, 200, "{\"success\": true, \"data\": {\"status\": true}}");
            } else {
                json(ex, 404, "{\"detail\": \"Not Found\"}");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void completion(HttpExchange ex, byte[] in) throws IOException {
        completionSizes.add(in.length);
        if (in.length > BODY_LIMIT) { respond(ex, 200, "text/html", WAF_HTML); return; }     // §5.6: the edge, before anything else
        Map<String, Object> body = parse(in);
        completionBodies.add(body);
        completionHeaders.add(new LinkedHashMap<>(ex.getRequestHeaders()));
        String chatId = ex.getRequestURI().getQuery() == null ? "" : ex.getRequestURI().getQuery().replaceFirst("^chat_id=", "");
        if (!authorized(ex)) { json(ex, 200, unauthorized()); return; }
        if (!chats.containsKey(chatId)) { json(ex, 200, badRequest("Invalid chat_id")); return; }
        Object parent = body.get("parent_id");      // §9: a follow-up names an answer of this very chat
        if (parent != null && parent != QwenProxy.Json.NULL && !answers.getOrDefault(chatId, java.util.Set.of()).contains(String.valueOf(parent))) {
            json(ex, 200, badRequest("Invalid input chat parent_id " + parent + " is not exist."));
            return;
        }
        List<?> messages = (List<?>) body.get("messages");
        if (messages == null || messages.size() != 1) { json(ex, 200, badRequest("Invalid input too many messages.")); return; }
        boolean video = "t2v".equals(((Map<?, ?>) messages.get(0)).get("chat_type"));
        if (video == Boolean.TRUE.equals(body.get("stream"))) { json(ex, 200, badRequest("Internal error")); return; }     // t2v: stream false
        Object files = ((Map<?, ?>) messages.get(0)).get("files");
        for (Object f : files instanceof List<?> l ? l : List.of()) {      // §10.4: uploaded files only; documents parsed (§10.3)
            Object id = ((Map<?, ?>) f).get("id");
            if (!storedBytes.containsKey(String.valueOf(id))) { json(ex, 200, badRequest("file " + id + " was never uploaded")); return; }
            boolean document = "document".equals(((Map<?, ?>) f).get("file_class"));
            if (document && parsing.getOrDefault(String.valueOf(id), 0) < 2) { json(ex, 200, badRequest("file " + id + " is not ready")); return; }
        }
        Map<?, ?> features = (Map<?, ?>) ((Map<?, ?>) messages.get(0)).get("feature_config");
        if (THINK_ONLY.equals(body.get("model")) && (features == null || !Boolean.TRUE.equals(features.get("thinking_enabled")))) {   // §3.3
            json(ex, 200, "{\"success\": false, \"request_id\": \"" + UUID.randomUUID() + "\", \"data\": {\"code\": \"invalid_input\", "
                    + "\"details\": \"thinking cannot be disabled for this model\"}}");
            return;
        }
        String token = tokenOf(ex);
        if (blockedTokens.contains(token)) { respond(ex, 200, "text/html", WAF_HTML); return; }
        if (rateLimitedTokens.contains(token)) { json(ex, 200, rateLimited(1)); return; }
        if (rateLimitedChatTypes.contains(String.valueOf(((Map<?, ?>) messages.get(0)).get("chat_type")))) { json(ex, 200, rateLimited(2)); return; }
        if (video) {      // §10.5: JSON with the task id, no stream
            String task = UUID.randomUUID().toString();
            videoTasks.put(task, videoPolls);
            json(ex, 200, "{\"success\": true, \"request_id\": \"" + UUID.randomUUID() + "\", \"data\": {\"messages\": [{\"id\": \""
                    + UUID.randomUUID() + "\", \"role\": \"assistant\", \"content\": \"\", \"extra\": {\"wanx\": {\"task_id\": \"" + task
                    + "\"}}}], \"parent_id\": \"" + UUID.randomUUID() + "\", \"message_id\": \"" + UUID.randomUUID() + "\"}}");
            return;
        }
        Script s = scripts.poll();
        String responseId = UUID.randomUUID().toString();
        answers.computeIfAbsent(chatId, k -> ConcurrentHashMap.newKeySet()).add(responseId);
        try {
            if (s != null) s.run(ex, chatId, responseId);
            else defaultReply(ex, chatId, responseId, body);
        } catch (IOException e) {
            brokenWrites.add(responseId);
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private void defaultReply(HttpExchange ex, String chatId, String rid, Map<String, Object> body) throws IOException, InterruptedException {
        Map<String, Object> msg = (Map<String, Object>) ((List<?>) body.get("messages")).get(0);
        Map<String, Object> fc = (Map<String, Object>) msg.get("feature_config");
        boolean thinking = Boolean.TRUE.equals(fc.get("thinking_enabled"));
        boolean phases = "phase".equals(fc.get("output_schema"));
        List<String> events = new ArrayList<>();
        events.add(created(chatId, rid));
        if (thinking && "summary".equals(fc.get("thinking_format"))) {
            events.add(summary(rid, List.of("Understanding"), List.of("The user greets me.")));
            events.add(summary(rid, List.of("Understanding"), List.of("The user greets me. I should greet back.")));
            events.add(summary(rid, List.of("Understanding", "Answering"), List.of("The user greets me. I should greet back.", "Keep it short.")));
            events.add(summaryFinished(rid));
        } else if (thinking) {
            events.add(delta(rid, "Thinking ", "think", "typing", 5));
            events.add(delta(rid, "hard.", "think", "typing", 7));
            events.add(finished(rid, "think"));
        }
        int tokens = 10;
        // "deltas=N" as the whole prompt asks for N answer deltas (the benchmark, across processes)
        String prompt = String.valueOf(msg.get("content"));
        int n = prompt.matches("deltas=\\d{1,6}") ? Integer.parseInt(prompt.substring(7)) : answerDeltas;
        List<String> pieces = n > 0 ? Collections.nCopies(n, "tok ") : List.of("Hel", "lo from", " Qwen.");
        if (prompt.contains("<tools>\n")) pieces = agent(prompt);
        if ("image_edit".equals(msg.get("chat_type")) && !(msg.get("files") instanceof List<?> f && !f.isEmpty())) {
            json(ex, 200, badRequest("image_edit needs an image"));
            return;
        }
        if ("t2i".equals(msg.get("chat_type")) || "image_edit".equals(msg.get("chat_type"))) {   // §10.5: keep-alives, image_gen events, finished
            java.util.regex.Matcher many = java.util.regex.Pattern.compile("\\((\\d) images\\)").matcher(prompt);
            int count = many.find() ? Integer.parseInt(many.group(1)) : 1;
            events.add(keepAlive(chatId, rid));
            for (int i = 1; i <= count; i++) {
                String name = "gen-" + rid + "-" + i + ".png";
                media.put(name, MediaTest.PNG);
                mediaTypes.put(name, "image/png");
                events.add("{\"choices\": [{\"delta\": {\"role\": \"assistant\", \"content\": \"" + url() + "/_fake/media/" + name
                        + "?key=eyJhbGciOiJIUzI1NiJ9.e30.sig\", \"phase\": \"image_gen\", \"extra\": {\"output_image_hw\": [[1536, 2688]]}, "
                        + "\"status\": \"typing\"}}], \"response_id\": \"" + rid + "\", \"usage\": {\"input_tokens\": 0, \"output_tokens\": 0, "
                        + "\"characters\": 0, \"width\": 2688, \"image_count\": " + i + ", \"height\": 1536}, \"timestamp\": 1772616312}");
            }
            events.add("{\"choices\": [{\"delta\": {\"content\": \"\", \"role\": \"assistant\", \"status\": \"finished\", \"phase\": \"image_gen\"}}], "
                    + "\"response_id\": \"" + rid + "\"}");
            stream(ex, events.toArray());
            return;
        }
        if ("deep_research".equals(msg.get("chat_type"))) {     // G4F: planning and thinking as reasoning, the report as the answer
            events.add(delta(rid, "Planning the research.", "ResearchPlanning", "typing", 3));
            events.add(delta(rid, "Reading sources.", "DeepThinking", "typing", 6));
            pieces = List.of("# Report\n", "Paris is the capital of France.");
            for (String piece : pieces) events.add(delta(rid, piece, "ReportGeneration", "typing", tokens++));
            events.add(finished(rid, "ReportGeneration"));
            stream(ex, events.toArray());
            return;
        }
        if ("search".equals(msg.get("chat_type"))) {       // §6.2: the search call, its results, then an answer citing them
            events.add(searchCall(rid, prompt));
            events.add(searchResults(rid));
            pieces = List.of("Paris is the capital of France [[1]]", ". About 2.1 million people live there [[", "2]][[9]].");
        }
        else if (prompt.contains("# Output format")) pieces = List.of("```json\n", jsonFor(prompt), "\n```");
        for (String piece : pieces) events.add(phases ? delta(rid, piece, "answer", "typing", tokens++) : plain(rid, piece));
        events.add(delta(rid, "", "answer", "typing", tokens));
        events.add(delta(rid, "", "answer", "typing", tokens));
        events.add(finished(rid, "answer"));
        if (parallel) events = withSecondCandidate(events, chatId, thinking);
        stream(ex, events.toArray());
    }

    /**
     * §6.3b: a second candidate (response_index "1", its own response_id) opened right after the
     * main one; its events interleave with the main candidate's, and it finishes first.
     */
    static List<String> withSecondCandidate(List<String> main, String chatId, boolean thinking) {
        String other = UUID.randomUUID().toString();
        List<String> second = new ArrayList<>();
        if (thinking) {
            second.add(summary(other, List.of("Other"), List.of("A different line of thought.")));
            second.add(summaryFinished(other));
        }
        second.add(delta(other, "Another ", "answer", "typing", 90));
        second.add(delta(other, "candidate.", "answer", "typing", 91));
        second.add(finished(other, "answer"));
        String created = main.get(0);
        String parent = created.replaceFirst(".*\"parent_id\": \"([^\"]+)\".*", "$1");
        List<String> out = new ArrayList<>(List.of(created, "{\"response.created\":{\"chat_id\": \"" + chatId + "\", \"parent_id\": \""
                + parent + "\", \"response_id\":\"" + other + "\", \"response_index\": \"1\"}}"));
        for (int i = 1, j = 0; i < main.size(); i++) {
            if (j < second.size()) out.add(second.get(j++));
            out.add(main.get(i));
        }
        return out;
    }

    /** The bearer token of a request, or the cookie token= (§2.1). */
    static String tokenOf(HttpExchange ex) {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth != null && auth.startsWith("Bearer ")) return auth.substring(7);
        String cookie = ex.getRequestHeaders().getFirst("Cookie");
        if (cookie != null) for (String c : cookie.split(";")) if (c.trim().startsWith("token=")) return c.trim().substring(6);
        return null;
    }

    private boolean authorized(HttpExchange ex) {
        String t = tokenOf(ex);
        Long exp = t == null ? null : issued.get(t);
        boolean ok = TOKEN.equals(t) || TOKEN2.equals(t) || (exp != null && exp > System.currentTimeMillis());
        if (!ok) rejected.incrementAndGet();
        return ok;
    }

    /** GET /api/v2/auths/refresh (§2.2): cookie refresh_token; rotates it; needs the browser's headers. */
    private void refresh(HttpExchange ex) throws IOException {
        var h = ex.getRequestHeaders();
        if (h.getFirst("x-request-origin") == null || h.getFirst("X-Request-Id") == null || h.getFirst("Timezone") == null) {
            json(ex, 400, "{\"success\": false, \"data\": {\"code\": \"Bad_Request\", \"details\": \"Missing origin\"}}");
            return;
        }
        String cookie = String.valueOf(h.getFirst("Cookie"));
        if (!cookie.contains("refresh_token=" + refreshToken)) {
            refreshRefused.incrementAndGet();
            json(ex, 403, "{\"success\": false, \"data\": {\"code\": \"Unauthorized\", \"details\": \"令牌已撤销，请重新登录\"}}");
            return;
        }
        refreshes.incrementAndGet();
        String access = issue("refresh-user");
        refreshToken = "rt-" + UUID.randomUUID();
        ex.getResponseHeaders().add("Set-Cookie", "refresh_token=" + refreshToken + "; Path=/; Domain=.qwen.ai; HttpOnly; Secure");
        json(ex, 200, "{\"success\": true, \"data\": {\"access_token\": \"" + access + "\"}}");
    }

    private void signIn(HttpExchange ex, byte[] in, boolean v2) throws IOException {
        Map<String, Object> b = parse(in);
        if (!EMAIL.equals(b.get("email")) || !QwenProxy.sha256(PASSWORD).equals(b.get("password"))) {
            json(ex, 400, "{\"detail\": \"The email or password provided is incorrect. Please check for typos and try logging in again.\"}");
            return;
        }
        signins.incrementAndGet();
        String access = issue("password-user");
        json(ex, 200, v2 ? "{\"success\": true, \"data\": {\"id\": \"u1\", \"email\": \"" + EMAIL + "\", \"token\": \"" + access + "\"}}"
                : "{\"id\": \"u1\", \"email\": \"" + EMAIL + "\", \"role\": \"user\", \"token\": \"" + access + "\", \"token_type\": \"Bearer\"}");
    }

    static final String OSS_KEY_ID = "STS.fakeKeyId", OSS_SECRET = "fake-oss-secret", OSS_TOKEN = "CAISfakeSecurityToken";

    /** §10.1 v2: a wrapped STS credential for one object in the (fake) OSS bucket. */
    private void sts(HttpExchange ex, byte[] in) throws IOException {
        stsCalls.incrementAndGet();
        if (!authorized(ex)) { json(ex, 200, unauthorized()); return; }
        if (failUploads) { json(ex, 200, "{\"success\": false, \"data\": {\"code\": \"Internal_Server_Error\", \"details\": \"upload service down\"}}"); return; }
        Map<String, Object> b = parse(in);
        String id = UUID.randomUUID().toString(), key = "uploads/2026/12/02/" + id + "/" + b.get("filename");
        stsIssued.put(id, key);
        json(ex, 200, "{\"success\": true, \"request_id\": \"" + UUID.randomUUID() + "\", \"data\": {\"access_key_id\": \"" + OSS_KEY_ID
                + "\", \"access_key_secret\": \"" + OSS_SECRET + "\", \"security_token\": \"" + OSS_TOKEN + "\", \"file_url\": \"" + url()
                + "/oss/" + key + "?Expires=1790000000&OSSAccessKeyId=" + OSS_KEY_ID + "&Signature=x\", \"file_path\": \"" + key
                + "\", \"file_id\": \"" + id + "\", \"bucketname\": \"qwen-webui-prod\", \"region\": \"oss-ap-southeast-1\", "
                + "\"endpoint\": \"oss-ap-southeast-1.aliyuncs.com\", \"expiration\": \"2026-12-02T13:06:48Z\"}}");
    }

    /** §10.2: an OSS PUT, accepted only with a valid OSS4-HMAC-SHA256 signature of the issued credential. */
    private void ossPut(HttpExchange ex, String key, byte[] in) throws IOException {
        var h = ex.getRequestHeaders();
        String auth = String.valueOf(h.getFirst("Authorization")), date = String.valueOf(h.getFirst("x-oss-date"));
        String scope = date.substring(0, Math.min(8, date.length())) + "/ap-southeast-1/oss/aliyun_v4_request";
        String canonical = "PUT\n/qwen-webui-prod/" + key + "\n\ncontent-type:" + h.getFirst("Content-Type")
                + "\nx-oss-content-sha256:" + h.getFirst("x-oss-content-sha256") + "\nx-oss-date:" + date
                + "\nx-oss-security-token:" + h.getFirst("x-oss-security-token") + "\n\n\nUNSIGNED-PAYLOAD";
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            byte[] k = ("aliyun_v4" + OSS_SECRET).getBytes(StandardCharsets.UTF_8);
            for (String part : new String[] {date.substring(0, 8), "ap-southeast-1", "oss", "aliyun_v4_request"}) {
                mac.init(new javax.crypto.spec.SecretKeySpec(k, "HmacSHA256"));
                k = mac.doFinal(part.getBytes(StandardCharsets.UTF_8));
            }
            mac.init(new javax.crypto.spec.SecretKeySpec(k, "HmacSHA256"));
            String toSign = "OSS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8)));
            String expected = "OSS4-HMAC-SHA256 Credential=" + OSS_KEY_ID + "/" + scope + ",Signature="
                    + java.util.HexFormat.of().formatHex(mac.doFinal(toSign.getBytes(StandardCharsets.UTF_8)));
            String id = null;
            for (Map.Entry<String, String> e : stsIssued.entrySet()) if (e.getValue().equals(key)) id = e.getKey();
            if (!expected.equals(auth) || id == null) {
                respond(ex, 403, "application/xml", "<Error><Code>SignatureDoesNotMatch</Code><CanonicalRequest>" + canonical + "</CanonicalRequest></Error>");
                return;
            }
            stored.put(id, new String(in, StandardCharsets.UTF_8));
            storedBytes.put(id, in);
            respond(ex, 200, "text/plain", "");
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    /** The user a token belongs to: its JWT's "id" claim. */
    static String userOf(String jwt) {
        String payload = new String(java.util.Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8);
        return payload.replaceFirst(".*\"id\":\"([^\"]+)\".*", "$1");
    }

    /** A new access token that lives tokenTtlSeconds, remembered so that the fake accepts it until then. */
    private String issue(String user) {
        long now = System.currentTimeMillis(), exp = now + tokenTtlSeconds * 1000L;
        String access = jwt(exp / 1000, now / 1000, user);
        issued.put(access, exp);
        return access;
    }

    /** A 2026-style access token: kid legacy, type access_token, exp/iat in seconds (§2.1). */
    static String jwt(long exp, long iat) { return jwt(exp, iat, "fake-user"); }

    static String jwt(long exp, long iat, String user) {
        java.util.Base64.Encoder b = java.util.Base64.getUrlEncoder().withoutPadding();
        return b.encodeToString("{\"alg\":\"HS256\",\"kid\":\"legacy\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + b.encodeToString(("{\"id\":\"" + user + "\",\"type\":\"access_token\",\"exp\":" + exp + ",\"iat\":" + iat + ",\"n\":\""
                + UUID.randomUUID() + "\"}").getBytes(StandardCharsets.UTF_8)) + "." + b.encodeToString(UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A model that uses tools the simplest way: offered tools and no result yet, it calls the
     * first one (arguments from its schema's required properties); given a result, it answers
     * with it. Enough for a real client's agent loop to run end to end.
     */
    @SuppressWarnings("unchecked")
    static List<String> agent(String prompt) {
        int last = Math.max(prompt.lastIndexOf("\n\nUser: "), prompt.lastIndexOf("\n\nTool ("));
        if (last >= 0 && prompt.startsWith("\n\nTool (", last)) {
            String result = prompt.substring(prompt.lastIndexOf("<tool_response>\n") + 16, prompt.lastIndexOf("\n</tool_response>"));
            return List.of("The tool ", "said: " + result);
        }
        String line = prompt.substring(prompt.indexOf("<tools>\n") + 8);
        Map<String, Object> fn = (Map<String, Object>) ((Map<String, Object>) QwenProxy.Json.parse(line.substring(0, line.indexOf('\n')))).get("function");
        Map<String, Object> params = (Map<String, Object>) fn.get("parameters"), props = (Map<String, Object>) params.get("properties");
        Map<String, Object> args = new LinkedHashMap<>();
        for (Object r : (List<Object>) params.getOrDefault("required", List.of())) {
            String type = String.valueOf(((Map<String, Object>) props.get(r)).get("type"));
            args.put((String) r, type.equals("integer") || type.equals("number") ? 2 : type.equals("boolean") ? Boolean.TRUE : "Paris");
        }
        String call = "<tool_call>\n{\"name\": \"" + fn.get("name") + "\", \"arguments\": " + QwenProxy.Json.write(args) + "}\n</tool_call>";
        List<String> pieces = new ArrayList<>();
        for (int i = 0; i < call.length(); i += 5) pieces.add(call.substring(i, Math.min(call.length(), i + 5)));
        return pieces;
    }

    /** A model that follows a format instruction: an object with the schema's required properties. */
    @SuppressWarnings("unchecked")
    static String jsonFor(String prompt) {
        int at = prompt.indexOf("JSON schema:\n");
        if (at < 0) return "{\"answer\": \"yes\"}";
        String line = prompt.substring(at + 13);
        Map<String, Object> schema = (Map<String, Object>) QwenProxy.Json.parse(line.contains("\n") ? line.substring(0, line.indexOf('\n')) : line);
        Map<String, Object> props = (Map<String, Object>) schema.getOrDefault("properties", Map.of()), out = new LinkedHashMap<>();
        for (Object r : (List<Object>) schema.getOrDefault("required", List.of())) {
            String type = String.valueOf(((Map<String, Object>) props.get(r)).get("type"));
            out.put((String) r, type.equals("integer") || type.equals("number") ? 21 : type.equals("boolean") ? Boolean.TRUE : "Paris");
        }
        return QwenProxy.Json.write(out);
    }

    // ---- wire helpers: exact shapes of §6 (Python json.dumps separators)

    /** Writes an SSE response: String steps are event payloads, Long steps are pauses in ms. */
    void stream(HttpExchange ex, Object... steps) throws IOException, InterruptedException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        if (gzip) ex.getResponseHeaders().set("Content-Encoding", "gzip");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = gzip ? new GZIPOutputStream(ex.getResponseBody(), true) : ex.getResponseBody();
        for (Object step : steps) {
            if (step instanceof Long ms) { Thread.sleep(ms); continue; }
            String payload = (String) step;
            // the response.created line carries a trailing space (§6.1)
            String line = payload.startsWith("{\"response.created\"") ? "data: " + payload + " \n\n" : "data: " + payload + "\n\n";
            out.write(line.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
        out.write("\n".getBytes(StandardCharsets.UTF_8));   // the captures end with an extra newline
        out.close();
    }

    static String created(String chatId, String rid) {
        return "{\"response.created\":{\"chat_id\": \"" + chatId + "\", \"parent_id\": \"" + UUID.randomUUID()
                + "\", \"response_id\":\"" + rid + "\", \"response_index\": \"0\"}}";
    }

    static String usage(int out) {
        return "{\"input_tokens\": 1011, \"output_tokens\": " + out + ", \"characters\": 0, \"total_tokens\": " + (1011 + out)
                + ", \"input_tokens_details\": {\"text_tokens\": 1011}, \"output_tokens_details\": {\"text_tokens\": " + out
                + ", \"reasoning_tokens\": 4}, \"prompt_tokens_details\": {\"cached_tokens\": 512}}";
    }

    /** §6.2 (QNODE): the web_search tool call. */
    static String searchCall(String rid, String query) {
        return "{\"choices\": [{\"delta\": {\"role\": \"assistant\", \"content\": \"\", \"phase\": \"web_search\", \"status\": \"typing\", "
                + "\"function_call\": {\"name\": \"web_search\", \"arguments\": " + py("{\"queries\": [" + py(query) + "]}") + "}, "
                + "\"function_id\": \"round_0_1\", \"extra\": {\"display_position\": \"answer\"}}}], \"response_id\": \"" + rid + "\"}";
    }

    static final String[][] DOCS = {{"https://en.wikipedia.org/wiki/Paris", "Paris - Wikipedia"}, {"https://www.insee.fr/en/paris", "Paris | INSEE"}};

    /** §6.2 (QNODE): the web_search results, docs with url, title, snippet. */
    static String searchResults(String rid) {
        StringBuilder docs = new StringBuilder();
        for (String[] d : DOCS) docs.append(docs.length() > 0 ? ", " : "").append("{\"url\": \"").append(d[0]).append("\", \"title\": ")
                .append(py(d[1])).append(", \"snippet\": \"...\", \"date\": \"\"}");
        return "{\"choices\": [{\"delta\": {\"role\": \"function\", \"content\": \"\", \"phase\": \"web_search\", \"status\": \"finished\", "
                + "\"name\": \"web_search\", \"extra\": {\"function_id\": \"1\", \"tool_result\": {\"docs\": [" + docs + "]}}}}], \"response_id\": \"" + rid + "\"}";
    }

    static String delta(String rid, String content, String phase, String status, int outTokens) {
        return "{\"choices\": [{\"delta\": {\"role\": \"assistant\", \"content\": " + py(content) + ", \"phase\": \"" + phase
                + "\", \"status\": \"" + status + "\"}}], \"response_id\": \"" + rid + "\", \"usage\": " + usage(outTokens)
                + ", \"timestamp\": 1790356323}";
    }

    /** Without output_schema:"phase", deltas carry only role and content (§13). */
    static String plain(String rid, String content) {
        return "{\"choices\": [{\"delta\": {\"role\": \"assistant\", \"content\": " + py(content) + "}}], \"response_id\": \"" + rid + "\"}";
    }

    static String finished(String rid, String phase) {
        return "{\"choices\": [{\"delta\": {\"content\": \"\", \"role\": \"assistant\", \"status\": \"finished\", \"phase\": \""
                + phase + "\"}}], \"response_id\": \"" + rid + "\"}";
    }

    static String summary(String rid, List<String> titles, List<String> thoughts) {
        return "{\"choices\": [{\"delta\": {\"role\": \"assistant\", \"content\": \"\", \"phase\": \"thinking_summary\", \"extra\": "
                + "{\"summary_title\": {\"content\": " + pyList(titles) + "}, \"summary_thought\": {\"content\": " + pyList(thoughts)
                + "}}, \"status\": \"typing\"}}], \"response_id\": \"" + rid + "\", \"usage\": " + usage(3) + ", \"timestamp\": 1780468837}";
    }

    static String summaryFinished(String rid) {
        return "{\"choices\": [{\"delta\": {\"role\": \"assistant\", \"content\": \"\", \"phase\": \"thinking_summary\", \"status\": "
                + "\"finished\"}}], \"response_id\": \"" + rid + "\", \"timestamp\": 1780468849}";
    }

    static String keepAlive(String chatId, String rid) {
        return "{\"response.info\": {\"action\": \"keep_alive\", \"chat_id\": \"" + chatId + "\", \"response_id\": \"" + rid
                + "\", \"timestamp\": 1772616291}}";
    }

    static String streamError(String code, String details) {
        return "{\"error\": {\"code\": \"" + code + "\", \"details\": " + py(details) + "}, \"request_id\": \"" + UUID.randomUUID() + "\"}";
    }

    static String unauthorized() {
        return "{\"success\": false, \"request_id\": \"" + UUID.randomUUID()
                + "\", \"data\": {\"code\": \"unauthorized\", \"details\": \"Token has expired, please log in again.\"}}";
    }

    static String rateLimited(int hours) {
        return "{\"success\": false, \"request_id\": \"" + UUID.randomUUID() + "\", \"data\": {\"code\": \"RateLimited\", \"details\": "
                + "\"You've reached the upper limit for today's usage.\", \"template\": \"...{{num}} hours...\", \"num\": " + hours + "}}";
    }

    static String badRequest(String details) {
        return "{\"success\": false, \"request_id\": \"" + UUID.randomUUID() + "\", \"data\": {\"code\": \"Bad_Request\", \"details\": " + py(details) + "}}";
    }

    static final String WAF_HTML = "<!doctypehtml><html><head><meta name=\"aliyun_waf_aa\" content=\"x\"><meta name=\"aliyun_waf_bb\" "
            + "content=\"y\"></head><body>Verifying...</body></html>";
    static final String BAXIA = "{\"ret\":[\"FAIL_SYS_USER_VALIDATE\",\"RGV587_ERROR::SM::哎哟喂,被挤爆啦,请稍后重试\"],"
            + "\"data\":{\"url\":\"https://chat.qwen.ai/_____tmd_____/punish?action=captcha\"}}";

    static void json(HttpExchange ex, int status, String body) throws IOException {
        respond(ex, status, "application/json", body);
    }

    static void respond(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    /** A JSON string as Python's json.dumps writes it (ensure_ascii=False). */
    static String py(String s) {
        return QwenProxy.Json.write(s);
    }

    static String pyList(List<String> items) {
        List<String> q = new ArrayList<>();
        for (String i : items) q.add(py(i));
        return "[" + String.join(", ", q) + "]";
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> parse(byte[] b) {
        if (b.length == 0) return Collections.emptyMap();
        return (Map<String, Object>) QwenProxy.Json.parse(new String(b, StandardCharsets.UTF_8));
    }
}
