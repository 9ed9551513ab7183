import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/** The proxy on port 0 against the in-process fake upstream, driven over real HTTP. */
class EndToEndTest extends Fixture {
    static QwenProxy.Server proxy;

    @BeforeAll
    static void startProxy() throws Exception {
        proxy = withToken();
    }

    @AfterAll
    static void stopProxy() {
        proxy.stop();
    }

    @BeforeEach
    void reset() {
        fake.scripts.clear();
        fake.completionBodies.clear();
        fake.completionHeaders.clear();
        fake.gzip = false;
    }

    static String answer(String text, int tokens) { return FakeQwen.delta("$RID", text, "answer", "typing", tokens); }

    static final String FINISHED = FakeQwen.finished("$RID", "answer");

    // ---- happy paths

    @Test
    void nonStreaming_assemblesContentUsageAndFinishReason() throws Exception {
        HttpResponse<String> r = post(proxy, chat("qwen3.7-plus", false, ""));
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> c = json(r.body());
        assertTrue(((String) c.get("id")).startsWith("chatcmpl-"));
        assertEquals("chat.completion", c.get("object"));
        assertEquals("qwen3.7-plus", c.get("model"));
        assertEquals("Hello from Qwen.", at(c, "choices", 0, "message", "content"));
        assertEquals("assistant", at(c, "choices", 0, "message", "role"));
        assertEquals("stop", at(c, "choices", 0, "finish_reason"));
        assertEquals("1011", at(c, "usage", "prompt_tokens").toString());
        assertEquals("13", at(c, "usage", "completion_tokens").toString());
        assertEquals("1024", at(c, "usage", "total_tokens").toString());
        assertEquals("512", at(c, "usage", "prompt_tokens_details", "cached_tokens").toString());
        assertEquals("4", at(c, "usage", "completion_tokens_details", "reasoning_tokens").toString());
    }

    @Test
    void streaming_followsTheOpenAiFramingExactly() throws Exception {
        HttpResponse<String> r = post(proxy, chat("qwen3.7-plus-fast", true, ""));
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        assertEquals("no-cache", r.headers().firstValue("Cache-Control").orElse(""));
        assertEquals("no", r.headers().firstValue("X-Accel-Buffering").orElse(""));
        List<String> ev = events(r.body());
        assertEquals("[DONE]", ev.get(ev.size() - 1));
        List<Map<String, Object>> chunks = new ArrayList<>();
        for (String e : ev.subList(0, ev.size() - 1)) chunks.add(json(e));
        Map<String, Object> first = chunks.get(0);
        assertEquals(Map.of("role", "assistant", "content", ""), at(first, "choices", 0, "delta"));
        StringBuilder text = new StringBuilder();
        for (Map<String, Object> c : chunks) {
            assertEquals(first.get("id"), c.get("id"));
            assertEquals(first.get("created"), c.get("created"));
            assertEquals("qwen3.7-plus-fast", c.get("model"));
            assertEquals("chat.completion.chunk", c.get("object"));
            assertFalse(c.containsKey("usage"), "no usage unless include_usage");
            Object content = at(c, "choices", 0, "delta", "content");
            if (content != null) text.append(content);
        }
        assertEquals("Hello from Qwen.", text.toString());
        Map<String, Object> last = chunks.get(chunks.size() - 1);
        assertEquals(Map.of(), at(last, "choices", 0, "delta"));
        assertEquals("stop", at(last, "choices", 0, "finish_reason"));
        for (Map<String, Object> c : chunks.subList(0, chunks.size() - 1))
            assertEquals(QwenProxy.Json.NULL, at(c, "choices", 0, "finish_reason"));
    }

    @Test
    void streaming_includeUsage_addsOneUsageChunkAfterTheFinishChunk() throws Exception {
        HttpResponse<String> r = post(proxy, chat("qwen3.7-plus", true, "\"stream_options\":{\"include_usage\":true}"));
        List<String> ev = events(r.body());
        assertEquals("[DONE]", ev.get(ev.size() - 1));
        Map<String, Object> usage = json(ev.get(ev.size() - 2)), finish = json(ev.get(ev.size() - 3));
        assertEquals(List.of(), usage.get("choices"));
        assertEquals("1024", at(usage, "usage", "total_tokens").toString());
        assertEquals("stop", at(finish, "choices", 0, "finish_reason"));
        assertFalse(finish.containsKey("usage"), "usage is never merged into the finish chunk");
    }

    @Test
    void stopSequences_cutTheAnswerStreamingOrNot_andBadOnesAre400() throws Exception {
        for (String stop : List.of("\"stop\":\" Qwen\"", "\"stop\":[\"xyz\",\"lo f\",\"Qwen\"]")) {
            Map<String, Object> whole = json(post(proxy, chat("qwen3.7-plus", false, stop)).body());
            String expected = stop.contains("lo f") ? "Hel" : "Hello from";
            assertEquals(expected, at(whole, "choices", 0, "message", "content"), stop);
            assertEquals("stop", at(whole, "choices", 0, "finish_reason"));
            StringBuilder content = new StringBuilder();
            List<String> ev = events(post(proxy, chat("qwen3.7-plus", true, stop)).body());
            for (String e : ev.subList(0, ev.size() - 1)) {
                Object c = at(json(e), "choices", 0, "delta", "content");
                if (c != null) content.append(c);
            }
            assertEquals(expected, content.toString(), stop);
            assertEquals("stop", at(json(ev.get(ev.size() - 2)), "choices", 0, "finish_reason"));
        }
        HttpResponse<String> bad = post(proxy, chat("qwen3.7-plus", false, "\"stop\":[\"ok\",7]"));
        assertEquals(400, bad.statusCode());
        assertEquals("stop", errorOf(bad).get("param"));
        assertEquals(200, post(proxy, chat("qwen3.7-plus", false, "\"stop\":null")).statusCode());
    }

    @Test
    void thinking_suffixTurnsThinkingOnAndStreamsOnlyNewSummaryText() throws Exception {
        HttpResponse<String> r = post(proxy, chat("qwen3.7-plus-thinking", true, ""));
        Map<String, Object> fc = obj(lastUpstreamMessage().get("feature_config"));
        assertEquals(true, fc.get("thinking_enabled"));
        assertEquals("Thinking", fc.get("thinking_mode"));
        assertEquals("qwen3.7-plus", fake.completionBodies.get(0).get("model"));
        StringBuilder reasoning = new StringBuilder(), content = new StringBuilder();
        for (String e : events(r.body())) {
            if (e.equals("[DONE]")) continue;
            Object rc = at(json(e), "choices", 0, "delta", "reasoning_content"), c = at(json(e), "choices", 0, "delta", "content");
            if (rc != null) reasoning.append(rc);
            if (c != null) content.append(c);
        }
        assertEquals("The user greets me. I should greet back.\n\nKeep it short.", reasoning.toString());
        assertEquals("Hello from Qwen.", content.toString());
    }

    @Test
    void thinking_nonStreamingPutsReasoningInItsOwnField() throws Exception {
        HttpResponse<String> r = post(proxy, chat("qwen3.7-max", false, "\"reasoning_effort\":\"high\""));
        Map<String, Object> m = obj(at(json(r.body()), "choices", 0, "message"));
        assertEquals("The user greets me. I should greet back.\n\nKeep it short.", m.get("reasoning_content"));
        assertEquals("Hello from Qwen.", m.get("content"));
    }

    @Test
    void thinking_thinkModeWrapsReasoningInContent() throws Exception {
        try (QwenProxy.Server p = withToken("--reasoning", "think")) {
            HttpResponse<String> r = post(p, chat("qwen3.7-plus", false, "\"enable_thinking\":true"));
            assertEquals("<think>\nThe user greets me. I should greet back.\n\nKeep it short.\n</think>\n\nHello from Qwen.",
                    at(json(r.body()), "choices", 0, "message", "content"));
            assertNull(at(json(r.body()), "choices", 0, "message", "reasoning_content"));
        }
    }

    @Test
    void thinking_bothModeAlsoNamesReasoningAsReasoning() throws Exception {
        fresh(p -> {
            String expected = "The user greets me. I should greet back.\n\nKeep it short.";
            Map<String, Object> m = obj(at(json(post(p, chat("qwen3.7-plus-thinking", false, "")).body()), "choices", 0, "message"));
            assertEquals(expected, m.get("reasoning_content"));
            assertEquals(expected, m.get("reasoning"));
            StringBuilder viaField = new StringBuilder(), viaAlias = new StringBuilder();
            for (String e : events(post(p, chat("qwen3.7-plus-thinking", true, "")).body())) {
                if (e.equals("[DONE]")) continue;
                Object rc = at(json(e), "choices", 0, "delta", "reasoning_content"), r = at(json(e), "choices", 0, "delta", "reasoning");
                assertEquals(rc, r, "the same text in the same chunk");
                if (rc != null) { viaField.append(rc); viaAlias.append(r); }
            }
            assertEquals(expected, viaField.toString());
            assertEquals(expected, viaAlias.toString());
            assertNull(at(json(post(p, chat("qwen3.7-plus-fast", false, "")).body()), "choices", 0, "message", "reasoning"),
                    "no reasoning, no field");
        }, "--reasoning", "both");
        assertNull(at(json(post(proxy, chat("qwen3.7-plus-thinking", false, "")).body()), "choices", 0, "message", "reasoning"),
                "the default mode sends reasoning_content only");
    }

    @Test
    void thinking_requestFieldsAndSuffixesSetFeatureConfig() throws Exception {
        post(proxy, chat("qwen3.7-plus", false, "\"reasoning_effort\":\"low\""));
        assertEquals("Fast", obj(lastUpstreamMessage().get("feature_config")).get("thinking_mode"));
        post(proxy, chat("qwen3.7-plus", false, "\"reasoning\":{\"effort\":\"medium\"},\"thinking_budget\":2048"));
        Map<String, Object> fc = obj(lastUpstreamMessage().get("feature_config"));
        assertEquals("Thinking", fc.get("thinking_mode"));
        assertEquals("2048", fc.get("thinking_budget").toString());
        post(proxy, chat("qwen3.7-plus", false, ""));
        fc = obj(lastUpstreamMessage().get("feature_config"));
        assertEquals("Auto", fc.get("thinking_mode"));
        assertEquals(true, fc.get("auto_thinking"));
        post(proxy, chat("qwen3.7-plus-fast", false, "\"enable_thinking\":true"));
        assertEquals("Fast", obj(lastUpstreamMessage().get("feature_config")).get("thinking_mode"), "the suffix wins");
        post(proxy, chat("qwen3-coder-plus", false, "\"enable_thinking\":true"));
        assertEquals(false, obj(lastUpstreamMessage().get("feature_config")).get("thinking_enabled"), "model cannot think");
    }

    @Test
    void upstreamRequests_carryTheSpecBodyAndBrowserHeaders() throws Exception {
        post(proxy, "{\"model\":\"qwen3.7-plus\",\"messages\":[{\"role\":\"developer\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Part one\",\"cache_control\":{\"type\":\"ephemeral\"}},"
                + "{\"type\":\"text\",\"text\":\"part two\"}]}],\"temperature\":0.2,\"top_p\":1,\"user\":{\"id\":\"u\"},\"metadata\":{}}");
        Map<String, Object> body = fake.completionBodies.get(0), msg = lastUpstreamMessage();
        assertEquals(true, body.get("stream"));
        assertEquals("2.1", body.get("version"));
        assertEquals(true, body.get("incremental_output"));
        assertEquals(body.get("chat_id"), body.get("chatId"));
        assertEquals(1, ((List<?>) body.get("messages")).size());
        assertEquals("System: Be brief.\n\nUser: Part one\npart two", msg.get("content"));
        assertEquals("phase", at(msg, "feature_config", "output_schema"));
        assertEquals("t2t", msg.get("chat_type"));
        assertTrue(((Number) Long.valueOf(body.get("timestamp").toString())).longValue() < 10_000_000_000L, "seconds");
        Map<String, Object> newChat = fake.newChatBodies.get(fake.newChatBodies.size() - 1);
        assertTrue(Long.parseLong(newChat.get("timestamp").toString()) > 10_000_000_000L, "chats/new takes milliseconds");
        assertEquals(List.of("qwen3.7-plus"), newChat.get("models"));
        Map<String, List<String>> h = fake.completionHeaders.get(0);
        assertEquals(List.of("Bearer " + FakeQwen.TOKEN), h.get("Authorization"));
        assertEquals(List.of("web"), h.get("Source"));
        assertEquals(List.of("0.3.12"), h.get("Version"));
        assertTrue(h.get("X-request-id").get(0).matches("[0-9a-f-]{36}"));
        assertTrue(h.get("Timezone").get(0).matches("\\w{3} \\w{3} \\d{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT[+-]\\d{4}"));
        assertTrue(h.get("Referer").get(0).startsWith(fake.url() + "/c/"));
        assertFalse(h.keySet().stream().anyMatch(k -> k.toLowerCase().startsWith("bx-")));
    }

    @Test
    void timezoneHeader_isJavaScriptsDateString() {
        java.time.format.DateTimeFormatter js = java.time.format.DateTimeFormatter.ofPattern("EEE MMM dd yyyy HH:mm:ss 'GMT'Z", java.util.Locale.US);
        for (String zone : List.of("Asia/Shanghai", "America/Los_Angeles", "UTC", "Asia/Kolkata", "America/St_Johns"))
            for (long t : new long[] {0, 1_790_356_319_000L, 1_765_185_535_000L, 951_782_400_000L}) {
                java.time.ZonedDateTime z = java.time.Instant.ofEpochMilli(t).atZone(java.time.ZoneId.of(zone));
                assertEquals(z.format(js), QwenProxy.Upstream.jsDate(z), zone + " " + t);
            }
    }

    @Test
    void upstreamHeaderFlag_overridesTheTable() throws Exception {
        try (QwenProxy.Server p = withToken("--upstream-header", "Version: 9.9.9", "--upstream-header", "X-Extra: yes", "--upstream-header", "sec-ch-ua:")) {
            post(p, chat("qwen3.7-plus", false, ""));
            Map<String, List<String>> h = fake.completionHeaders.get(0);
            assertEquals(List.of("9.9.9"), h.get("Version"));
            assertEquals(List.of("yes"), h.get("X-extra"));
            assertNull(h.get("Sec-ch-ua"));
        }
    }

    @Test
    void gzipUpstream_isDecompressed() throws Exception {
        fake.gzip = true;
        HttpResponse<String> r = post(proxy, chat("qwen3.7-plus", true, ""));
        assertTrue(r.body().contains("\"content\":\"lo from\""), r.body());
    }

    @Test
    void parallelCandidates_onlyTheMainAnswerReachesTheClient_streamingAndNot() throws Exception {
        fake.parallel = true;
        try {
            for (String model : List.of("qwen3.7-plus", "qwen3.7-plus-thinking")) {
                Map<String, Object> done = json(post(proxy, chat(model, false, "")).body());
                assertEquals("Hello from Qwen.", at(done, "choices", 0, "message", "content"), model);
                assertEquals("stop", at(done, "choices", 0, "finish_reason"));
                assertEquals("13", at(done, "usage", "completion_tokens").toString(), "usage of the main candidate (the other says 91)");
                StringBuilder text = new StringBuilder(), thought = new StringBuilder();
                for (String e : events(post(proxy, chat(model, true, "")).body())) {
                    if (e.equals("[DONE]")) continue;
                    Object c = at(json(e), "choices", 0, "delta", "content"), r = at(json(e), "choices", 0, "delta", "reasoning_content");
                    if (c != null) text.append(c);
                    if (r != null) thought.append(r);
                }
                assertEquals("Hello from Qwen.", text.toString(), model);
                assertFalse(thought.toString().contains("different"), "the other candidate's reasoning is not shown: " + thought);
            }
        } finally {
            fake.parallel = false;
        }
    }

    @Test
    void thinkOnlyModel_getsThinkingOnWhateverTheClientAsked_reasoningPerReasoningSetting() throws Exception {
        for (String extra : List.of("\"enable_thinking\":false", "\"reasoning_effort\":\"low\"", "")) {
            fake.completionBodies.clear();
            HttpResponse<String> r = post(proxy, chat("qwen3.8-max", false, extra));
            assertEquals(200, r.statusCode(), extra + ": " + r.body());
            assertEquals(true, at(fake.completionBodies.get(0), "messages", 0, "feature_config", "thinking_enabled"));
            assertEquals("Hello from Qwen.", at(json(r.body()), "choices", 0, "message", "content"));
            assertNotNull(at(json(r.body()), "choices", 0, "message", "reasoning_content"), "--reasoning field shows it");
        }
        fresh(p -> {
            HttpResponse<String> r = post(p, chat("qwen3.8-max", true, "\"enable_thinking\":false"));
            assertEquals(200, r.statusCode());
            assertFalse(r.body().contains("reasoning_content"), "--reasoning hide hides it");
            assertTrue(r.body().contains("\"content\":\"lo from\""), r.body());
        }, "--reasoning", "hide");
        // the option marks a model the list does not (and -id unmarks one it does)
        fresh(p -> {
            fake.completionBodies.clear();
            post(p, chat("qwen3.7-plus-fast", false, ""));
            assertEquals(true, at(fake.completionBodies.get(0), "messages", 0, "feature_config", "thinking_enabled"));
            assertFalse(get(p, "/v1/models").body().contains("qwen3.7-plus-fast"));
            assertTrue(get(p, "/v1/models").body().contains("qwen3.8-max-fast"));
        }, "--thinking-only-models", "qwen3.7-plus,-qwen3.8-max");
    }

    @Test
    void withoutPhaseField_deltasAreTheAnswer() throws Exception {
        script(FakeQwen.plain("$RID", "plain "), FakeQwen.plain("$RID", "text"));
        HttpResponse<String> r = post(proxy, chat("qwen3.7-plus", false, ""));
        assertEquals("plain text", at(json(r.body()), "choices", 0, "message", "content"));
    }

    // ---- models

    @Test
    void models_listUpstreamIdsWithVariantsForThinkingModels() throws Exception {
        HttpResponse<String> r = get(proxy, "/v1/models");
        assertEquals(200, r.statusCode());
        Map<String, Object> list = json(r.body());
        assertEquals("list", list.get("object"));
        List<String> ids = new ArrayList<>();
        for (Object m : (List<?>) list.get("data")) {
            ids.add((String) obj(m).get("id"));
            assertEquals("model", obj(m).get("object"));
            assertEquals("qwen", obj(m).get("owned_by"));
            assertEquals("1780000000", obj(m).get("created").toString());
        }
        assertEquals(UPSTREAM_IDS, ids, "no -fast variant for a model that cannot switch thinking off; -search where chat_type lists search");
        assertEquals(json(r.body()), json(get(proxy, "/models").body()), "also without /v1");
        assertEquals("qwen3.7-max-fast", json(get(proxy, "/v1/models/qwen3.7-max-fast").body()).get("id"));
        HttpResponse<String> missing = get(proxy, "/v1/models/nope-9");
        assertEquals(404, missing.statusCode());
        assertEquals("model_not_found", errorOf(missing).get("code"));
    }

    /** The fake's list as clients see it (§11): qwen3.7-max's entry names no chat types, so it gets no -search. */
    static final List<String> UPSTREAM_IDS = List.of("qwen3.7-plus", "qwen3.7-plus-thinking", "qwen3.7-plus-fast", "qwen3.7-plus-search",
            "qwen3.7-plus-thinking-search", "qwen3.7-plus-fast-search", "qwen3.7-plus-image", "qwen3.7-plus-video", "qwen3.7-plus-image-edit", "qwen3.7-plus-deep-research",
            "qwen3.7-max", "qwen3.7-max-thinking", "qwen3.7-max-fast", "qwen3-coder-plus", "qwen3.8-max", "qwen3.8-max-thinking",
            "qwen3.8-max-search", "qwen3.8-max-thinking-search", "qwen3.8-max-image", "qwen3.8-max-video", "qwen3.8-max-image-edit",
            "qwen3.8-max-deep-research");

    @Test
    void models_comeFromTheV2RouteWhenTheFirstIsGone() throws Exception {
        fresh(p -> {
            List<String> ids = new ArrayList<>();
            for (Object m : (List<?>) json(get(p, "/v1/models").body()).get("data")) ids.add((String) obj(m).get("id"));
            assertEquals(UPSTREAM_IDS, ids, "the upstream list, not the built-in one");
            assertTrue(p.banner().contains("from upstream"), p.banner());
        }, "--upstream-path", "models=/api/retired");
    }

    @Test
    void models_aliasesAndDisplayNamesResolveCaseInsensitively() throws Exception {
        post(proxy, chat("gpt-4o", false, ""));
        assertEquals("qwen3.8-max", fake.completionBodies.get(0).get("model"));
        post(proxy, chat("QWEN3.7-Plus", false, ""));
        assertEquals("qwen3.7-plus", fake.completionBodies.get(1).get("model"));
        post(proxy, chat("qwen3-coder", false, ""));
        assertEquals("qwen3-coder-plus", fake.completionBodies.get(2).get("model"));
        HttpResponse<String> r = post(proxy, chat("gpt-4o", false, ""));
        assertEquals("gpt-4o", json(r.body()).get("model"), "the name the client asked for");
        post(proxy, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals("qwen3.7-plus", fake.completionBodies.get(4).get("model"), "first upstream model by default");
    }

    @Test
    void models_modelMapAddsAliases() throws Exception {
        try (QwenProxy.Server p = withToken("--model-map", "fast-one=qwen3.7-max,other=qwen3-coder-plus", "--default-model", "other")) {
            post(p, chat("Fast-One", false, ""));
            assertEquals("qwen3.7-max", fake.completionBodies.get(0).get("model"));
            post(p, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
            assertEquals("qwen3-coder-plus", fake.completionBodies.get(1).get("model"));
        }
    }

    @Test
    void models_staleListIsServedFastWhenTheUpstreamFails() throws Exception {
        QwenProxy.Server p = withToken("--models-ttl-ms", "1");
        try {
            fake.modelsStatus = 500;
            fake.modelsDelayMs = 2000;
            long t0 = System.nanoTime();
            for (int i = 0; i < 5; i++) assertEquals(200, get(p, "/v1/models").statusCode());
            assertTrue((System.nanoTime() - t0) / 1_000_000 < 1500, "never waits for the upstream");
            assertTrue(get(p, "/v1/models").body().contains("qwen3-coder-plus"), "the last good list");
        } finally {
            fake.modelsStatus = 200;
            fake.modelsDelayMs = 0;
            p.stop();
        }
    }

    @Test
    void models_aSlowListDoesNotHoldTheBannerAndArrivesWhenReady() throws Exception {
        QwenProxy.startupModelsWaitMs = 300;
        fake.modelsDelayMs = 2000;   // a wide margin over the wait, for a slow machine
        try {
            fresh(p -> {
                assertTrue(p.banner().contains(" built-in: ") && p.banner().contains("still loading"), p.banner());
                assertTrue(get(p, "/v1/models").body().contains("qwen3.6-plus"), "the built-in list meanwhile");
                long end = System.currentTimeMillis() + 5000;
                while (get(p, "/v1/models").body().contains("qwen3.6-plus") && System.currentTimeMillis() < end) Thread.sleep(50);
                assertFalse(get(p, "/v1/models").body().contains("qwen3.6-plus"), "the upstream list once it came");
            });
        } finally {
            QwenProxy.startupModelsWaitMs = 5000;
            fake.modelsDelayMs = 0;
        }
    }

    @Test
    void models_withoutTokenServeTheBuiltInList() throws Exception {
        try (QwenProxy.Server p = QwenProxy.start(QwenProxy.Config.load(new String[]{"--port", "0", "--base-url", fake.url(), "--data-dir", tempDir()}, Map.of()))) {
            assertTrue(get(p, "/v1/models").body().contains("\"qwen3.7-plus\""));
            HttpResponse<String> r = post(p, chat("qwen3.7-plus", true, ""));
            assertEquals(401, r.statusCode());
            Map<String, Object> e = errorOf(r);
            assertEquals("upstream_token_missing", e.get("code"));
            assertTrue(((String) e.get("message")).contains("QWEN_AUTH_TOKEN"));
        }
    }

    // ---- the error table

    @Test
    void errors_clientKeyIsEnforcedAsBearerOrXApiKey() throws Exception {
        try (QwenProxy.Server p = withToken("--api-key", "k-one,k-two")) {
            HttpResponse<String> none = post(p, chat("qwen3.7-plus", false, ""));
            assertEquals(401, none.statusCode());
            assertEquals("invalid_api_key", errorOf(none).get("code"));
            assertEquals(401, post(p, chat("qwen3.7-plus", false, ""), "Authorization", "Bearer nope").statusCode());
            assertEquals(200, post(p, chat("qwen3.7-plus", false, ""), "Authorization", "Bearer k-two").statusCode());
            assertEquals(200, post(p, chat("qwen3.7-plus", false, ""), "x-api-key", "k-one").statusCode());
            assertEquals(401, get(p, "/v1/models").statusCode());
            assertEquals(200, get(p, "/healthz").statusCode());
            assertEquals("{\"status\":\"ok\"}", get(p, "/healthz").body());
        }
    }

    @Test
    void errors_anExposedBindWithoutKeysGetsAGeneratedKey() throws Exception {
        try (QwenProxy.Server p = withToken("--host", "0.0.0.0")) {
            assertNotNull(p.generatedKey);
            assertTrue(p.generatedKey.length() >= 32);
            assertTrue(p.banner().contains(p.generatedKey), "printed once at startup");
            assertEquals(401, post(p, chat("qwen3.7-plus", false, "")).statusCode());
            assertEquals(200, post(p, chat("qwen3.7-plus", false, ""), "Authorization", "Bearer " + p.generatedKey).statusCode());
            assertFalse(logs.toString(StandardCharsets.UTF_8).contains(p.generatedKey), "never logged");
        }
        try (QwenProxy.Server loop = withToken()) {
            assertNull(loop.generatedKey);
            assertEquals(200, post(loop, chat("qwen3.7-plus", false, "")).statusCode());
        }
    }

    @Test
    void errors_badRequestsGet400WithParam() throws Exception {
        HttpResponse<String> r = post(proxy, "{\"model\": \"qwen3.7-plus\", \"messages\": [");
        assertEquals(400, r.statusCode());
        assertEquals("invalid_request_error", errorOf(r).get("type"));
        r = post(proxy, "{\"model\":\"qwen3.7-plus\"}");
        assertEquals(400, r.statusCode());
        assertEquals("messages", errorOf(r).get("param"));
        r = post(proxy, "{\"messages\":\"hi\"}");
        assertEquals("messages", errorOf(r).get("param"));
        r = post(proxy, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":\"yes\"}");
        assertEquals("stream", errorOf(r).get("param"));
        r = post(proxy, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":2}");
        assertEquals("n", errorOf(r).get("param"));
        r = post(proxy, "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}");
        assertEquals("messages[0].role", errorOf(r).get("param"));
        r = post(proxy, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,A*A\"}}]}]}");
        assertEquals(400, r.statusCode());
        assertEquals("invalid_value", errorOf(r).get("code"));
        assertEquals("messages[0].content[0]", errorOf(r).get("param"));
        r = post(proxy, "[1,2]");
        assertEquals(400, r.statusCode());
        r = post(proxy, "{\"messages\":" + "[".repeat(5000) + "]".repeat(5000) + "}");
        assertEquals(400, r.statusCode());
        assertTrue(((String) errorOf(r).get("message")).contains("Nesting"));
        assertTrue(fake.completionBodies.isEmpty(), "nothing reached the upstream");
    }

    @Test
    void errors_bodyOverTheLimitIs413() throws Exception {
        try (QwenProxy.Server p = withToken("--max-body-bytes", "1000")) {
            HttpResponse<String> r = post(p, "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(5000) + "\"}]}");
            assertEquals(413, r.statusCode());
            assertEquals("request_too_large", errorOf(r).get("code"));
        }
    }

    @Test
    void errors_unknownModelIs404NamingValidIds() throws Exception {
        HttpResponse<String> r = post(proxy, chat("llama-99", true, ""));
        assertEquals(404, r.statusCode());
        Map<String, Object> e = errorOf(r);
        assertEquals("model_not_found", e.get("code"));
        assertTrue(((String) e.get("message")).contains("qwen3.7-plus"));
    }

    @Test
    void errors_upstreamUnauthorizedIs401() throws Exception {
        fresh(p -> {
            fake.next((ex, chat, rid) -> FakeQwen.json(ex, 200, FakeQwen.unauthorized()));
            HttpResponse<String> r = post(p, chat("qwen3.7-plus", true, ""));
            assertEquals(401, r.statusCode());
            Map<String, Object> e = errorOf(r);
            assertEquals("upstream_token_expired", e.get("code"));
            assertTrue(((String) e.get("message")).contains("expired"));
        });
    }

    @Test
    void errors_rateLimitedEnvelopeIs429WithRetryAfterFromNum() throws Exception {
        fresh(p -> {
            fake.next((ex, chat, rid) -> FakeQwen.json(ex, 200, FakeQwen.rateLimited(6)));
            HttpResponse<String> r = post(p, chat("qwen3.7-plus", false, ""));
            assertEquals(429, r.statusCode());
            assertEquals("rate_limit_exceeded", errorOf(r).get("code"));
            assertEquals("21600", r.headers().firstValue("Retry-After").orElse(""));
            assertEquals("Qwen rate limit (RateLimited): You've reached the upper limit for today's usage. Retry after 21600 s.",
                    errorOf(r).get("message"), "Qwen's own sentence, then when to retry");
            assertEquals("false", r.headers().firstValue("x-should-retry").orElse(""), "SDKs: no retry storm against a 6-hour quota");
        });
    }

    @Test
    void errors_rateLimitedInsideTheStreamIs429Too() throws Exception {
        fresh(p -> {
            fake.next((ex, chat, rid) -> fake.stream(ex, FakeQwen.rateLimited(2)));
            HttpResponse<String> r = post(p, chat("qwen3.7-plus", true, ""));
            assertEquals(429, r.statusCode());
            assertEquals("7200", r.headers().firstValue("Retry-After").orElse(""));
        });
        fresh(p -> {
            script(FakeQwen.streamError("internal_error", "Allocated quota exceeded, please increase your quota limit."));
            HttpResponse<String> r = post(p, chat("qwen3.7-plus", true, ""));
            assertEquals(429, r.statusCode());
            assertEquals("3600", r.headers().firstValue("Retry-After").orElse(""));
        });
    }

    @Test
    void errors_wafPagesAre503UpstreamBlocked() throws Exception {
        List<FakeQwen.Script> blocks = List.of(
                (ex, chat, rid) -> FakeQwen.respond(ex, 200, "text/html", FakeQwen.WAF_HTML),
                (ex, chat, rid) -> FakeQwen.respond(ex, 403, "text/html", FakeQwen.WAF_HTML),
                (ex, chat, rid) -> FakeQwen.json(ex, 200, FakeQwen.BAXIA),
                (ex, chat, rid) -> fake.stream(ex, FakeQwen.BAXIA));
        for (FakeQwen.Script block : blocks) {
            fresh(p -> {
                fake.next(block);
                HttpResponse<String> r = post(p, chat("qwen3.7-plus", true, ""));
                assertEquals(503, r.statusCode());
                assertEquals("upstream_blocked", errorOf(r).get("code"));
                assertEquals("false", r.headers().firstValue("x-should-retry").orElse(""));
            });
        }
    }

    @Test
    void errors_upstreamFailuresAre502WithDetails() throws Exception {
        fake.next((ex, chat, rid) -> FakeQwen.json(ex, 200, FakeQwen.badRequest("Internal error")));
        HttpResponse<String> r = post(proxy, chat("qwen3.7-plus", false, ""));
        assertEquals(502, r.statusCode());
        Map<String, Object> e = errorOf(r);
        assertEquals("upstream_error", e.get("code"));
        assertTrue(((String) e.get("message")).contains("Bad_Request"));
        fake.next((ex, chat, rid) -> FakeQwen.json(ex, 500, "{\"detail\": \"oops\"}"));
        assertEquals(502, post(proxy, chat("qwen3.7-plus", true, "")).statusCode());
        fake.next((ex, chat, rid) -> FakeQwen.respond(ex, 504, "text/html", "<html>Gateway Timeout</html>"));
        assertEquals(504, post(proxy, chat("qwen3.7-plus", true, "")).statusCode());
    }

    @Test
    void errors_unreachableUpstreamIs502() throws Exception {
        try (QwenProxy.Server p = QwenProxy.start(QwenProxy.Config.load(new String[]{"--port", "0", "--base-url", "http://127.0.0.1:1", "--data-dir", tempDir(),
                "--token", FakeQwen.TOKEN}, Map.of()))) {
            HttpResponse<String> r = post(p, chat("qwen3.7-plus", true, ""));
            assertEquals(502, r.statusCode());
            assertEquals("upstream_unreachable", errorOf(r).get("code"));
        }
    }

    @Test
    void errors_moderationBeforeOutputIs400ContentFilter() throws Exception {
        script(FakeQwen.streamError("data_inspection_failed", "内容安全警告：输入数据可能包含不适当的内容！"));
        HttpResponse<String> r = post(proxy, chat("qwen3.7-plus", true, ""));
        assertEquals(400, r.statusCode());
        assertEquals("content_filter", errorOf(r).get("code"));
        script(FakeQwen.streamError("data_inspection_failed", "内容安全警告：输入数据可能包含不适当的内容！"));
        assertEquals(400, post(proxy, chat("qwen3.7-plus", false, "")).statusCode());
    }

    @Test
    void errors_moderationMidAnswerEndsWithFinishReasonContentFilter() throws Exception {
        script(answer("Once upon", 3), FakeQwen.streamError("data_inspection_failed", "内容安全警告：输出内容可能包含不适当的内容！"));
        List<String> ev = events(post(proxy, chat("qwen3.7-plus", true, "")).body());
        assertEquals("[DONE]", ev.get(ev.size() - 1));
        assertEquals("content_filter", at(json(ev.get(ev.size() - 2)), "choices", 0, "finish_reason"));
        script(answer("Once upon", 3), FakeQwen.streamError("data_inspection_failed", "x"));
        assertEquals("content_filter", at(json(post(proxy, chat("qwen3.7-plus", false, "")).body()), "choices", 0, "finish_reason"));
    }

    @Test
    void streaming_nonAsciiTextArrivesIntactInEveryEncodingWidth() throws Exception {
        // 1-, 2-, 3- and 4-byte UTF-8 (a surrogate pair), reasoning too: the proxy encodes its events by hand
        String[] pieces = {"plain ", "héllo ", "你好 ", "😀 end"};
        script(FakeQwen.delta("$RID", "思考 é😀", "think", "typing", 1), FakeQwen.finished("$RID", "think"),
                answer(pieces[0], 1), answer(pieces[1], 2), answer(pieces[2], 3), answer(pieces[3], 4), FINISHED);
        HttpResponse<String> r = post(proxy, chat("qwen3.7-plus-thinking", true, ""));
        StringBuilder text = new StringBuilder(), reasoning = new StringBuilder();
        for (String e : events(r.body())) {
            if (e.equals("[DONE]")) continue;
            Object c = at(json(e), "choices", 0, "delta", "content"), rc = at(json(e), "choices", 0, "delta", "reasoning_content");
            if (c != null) text.append(c);
            if (rc != null) reasoning.append(rc);
        }
        assertEquals(String.join("", pieces), text.toString());
        assertEquals("思考 é😀", reasoning.toString());
    }

    @Test
    void errors_emptyAnswerIs502NeverAnEmpty200() throws Exception {
        script(answer("", 0), answer("", 0), FINISHED);
        HttpResponse<String> r = post(proxy, chat("qwen3.7-plus", false, ""));
        assertEquals(502, r.statusCode());
        assertEquals("empty_response", errorOf(r).get("code"));
        script(FINISHED);
        assertEquals(502, post(proxy, chat("qwen3.7-plus", true, "")).statusCode());
    }

    @Test
    void errors_failureAfterTheStreamStartedIsOneErrorEventThenClose() throws Exception {
        script(answer("Partial", 2), FakeQwen.streamError("Internal_Server_Error", "backend crashed"));
        HttpResponse<String> r = post(proxy, chat("qwen3.7-plus", true, ""));
        assertEquals(200, r.statusCode());
        List<String> ev = events(r.body());
        Map<String, Object> last = json(ev.get(ev.size() - 1));
        assertEquals("upstream_error", at(last, "error", "code"));
        assertTrue(((String) at(last, "error", "message")).contains("backend crashed"));
        assertFalse(r.body().contains("[DONE]"));
        for (String e : ev) assertFalse(String.valueOf(at(json(e), "choices", 0, "delta", "content")).contains("crashed"),
                "never error text in content");
    }

    @Test
    void errors_silentUpstreamTimesOutWith504() throws Exception {
        try (QwenProxy.Server p = withToken("--request-timeout-ms", "400")) {
            script(3000L, FINISHED);
            HttpResponse<String> r = post(p, chat("qwen3.7-plus", false, ""));
            assertEquals(504, r.statusCode());
            assertEquals("upstream_timeout", errorOf(r).get("code"));
            script(answer("Start", 1), 3000L, FINISHED);
            HttpResponse<String> s = post(p, chat("qwen3.7-plus", true, ""));
            List<String> ev = events(s.body());
            assertEquals("upstream_timeout", at(json(ev.get(ev.size() - 1)), "error", "code"));
        }
    }

    // ---- streaming behaviour

    @Test
    void streaming_roleChunkAndKeepAlivesFlowWhileTheUpstreamThinks() throws Exception {
        try (QwenProxy.Server p = withToken("--keepalive-ms", "100")) {
            script(FakeQwen.keepAlive("c", "$RID"), 1200L, answer("Late", 1), FINISHED);
            HttpRequest req = HttpRequest.newBuilder(URI.create(p.url() + "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(chat("qwen3.7-plus", true, ""))).build();
            long t0 = System.nanoTime();
            HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
            byte[] first = r.body().readNBytes(20);
            long firstMs = (System.nanoTime() - t0) / 1_000_000;
            String rest = new String(first, StandardCharsets.UTF_8) + new String(r.body().readAllBytes(), StandardCharsets.UTF_8);
            long totalMs = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(firstMs < totalMs - 500, "the role chunk arrives long before the answer (" + firstMs + " vs " + totalMs + " ms)");
            assertTrue(rest.startsWith("data: {\"id\":\"chatcmpl-"), rest);
            assertTrue(rest.contains("\n\n: keep-alive\n\n"), rest);
            assertTrue(rest.contains("\"content\":\"Late\""));
            assertTrue(rest.endsWith("data: [DONE]\n\n"));
        }
    }

    @Test
    void streaming_clientDisconnectClosesTheUpstreamStream() throws Exception {
        Object[] steps = new Object[401];
        for (int i = 0; i < 400; i += 2) { steps[i] = answer("tick ", i); steps[i + 1] = 25L; }
        steps[400] = FINISHED;
        script(steps);
        HttpRequest req = HttpRequest.newBuilder(URI.create(proxy.url() + "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(chat("qwen3.7-plus", true, ""))).build();
        int before = fake.brokenWrites.size();
        HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        r.body().readNBytes(400);
        r.body().close();       // the client hangs up after a few chunks
        long deadline = System.currentTimeMillis() + 4000;   // the upstream would otherwise run for 5 s
        while (fake.brokenWrites.size() == before && System.currentTimeMillis() < deadline) Thread.sleep(20);
        assertEquals(before + 1, fake.brokenWrites.size(), "the proxy closed the upstream stream");
    }

    @Test
    void streaming_hundredParallelStreamsAllComplete() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(100);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 100; i++)
                results.add(pool.submit((Callable<String>) () -> post(proxy, chat("qwen3.7-plus", true, "")).body()));
            for (Future<String> f : results) {
                String body = f.get();
                assertTrue(body.endsWith("data: [DONE]\n\n"), body);
                assertTrue(body.contains("\"finish_reason\":\"stop\""));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void chats_areDeletedAfterTheReplyUnlessKept() throws Exception {
        int before = fake.deleted.size();
        post(proxy, chat("qwen3.7-plus", false, ""));
        String chatId = (String) fake.completionBodies.get(0).get("chat_id");
        long deadline = System.currentTimeMillis() + 3000;
        while (!fake.deleted.contains(chatId) && System.currentTimeMillis() < deadline) Thread.sleep(10);
        assertTrue(fake.deleted.contains(chatId));
        try (QwenProxy.Server p = withToken("--keep-chats")) {
            post(p, chat("qwen3.7-plus", false, ""));
            Object kept = fake.completionBodies.get(1).get("chat_id");
            // a later chat of the deleting proxy is gone first: a delete of the kept one would have come before it
            post(proxy, chat("qwen3.7-plus", false, ""));
            Object later = fake.completionBodies.get(2).get("chat_id");
            for (long end = System.currentTimeMillis() + 3000; !fake.deleted.contains(later) && System.currentTimeMillis() < end; ) Thread.sleep(10);
            assertTrue(fake.deleted.contains(later));
            assertFalse(fake.deleted.contains(kept));
        }
        assertTrue(fake.deleted.size() >= before + 1);
    }

    // ---- plumbing

    @Test
    void plumbing_corsPreflightRootAndUnknownPaths() throws Exception {
        HttpResponse<String> pre = http.send(HttpRequest.newBuilder(URI.create(proxy.url() + "/v1/chat/completions"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "http://example.test")
                .header("Access-Control-Request-Headers", "authorization,content-type").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(204, pre.statusCode());
        assertEquals("*", pre.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
        assertEquals("authorization,content-type", pre.headers().firstValue("Access-Control-Allow-Headers").orElse(""));
        assertTrue(pre.headers().firstValue("Access-Control-Allow-Methods").orElse("").contains("DELETE"), "the admin API deletes");
        assertTrue(get(proxy, "/v1/models").headers().firstValue("Access-Control-Expose-Headers").orElse("").contains("Retry-After"),
                "browser clients may read Retry-After");
        HttpResponse<String> root = get(proxy, "/");
        assertEquals("QwenProxy", json(root.body()).get("name"));
        HttpResponse<String> missing = get(proxy, "/v1/embeddings");
        assertEquals(404, missing.statusCode());
        errorOf(missing);
        HttpResponse<String> wrong = get(proxy, "/v1/chat/completions");
        assertEquals(405, wrong.statusCode());
        errorOf(wrong);
    }

    @Test
    void plumbing_healthProbesAreNotLoggedAtInfo() throws Exception {
        int before = count(logs.toString(StandardCharsets.UTF_8), "GET /healthz 200");
        for (int i = 0; i < 3; i++) assertEquals(200, get(proxy, "/healthz").statusCode());
        assertEquals(404, get(proxy, "/v1/nothing-here").statusCode());
        // a handler logs after its reply went out: wait for the last one's line
        String log = logs.toString(StandardCharsets.UTF_8);
        for (long end = System.currentTimeMillis() + 3000; !log.contains("GET /v1/nothing-here 404") && System.currentTimeMillis() < end; ) {
            Thread.sleep(5);
            log = logs.toString(StandardCharsets.UTF_8);
        }
        assertEquals(before, count(log, "GET /healthz 200"), "probes every few seconds would drown the log");
        assertTrue(log.contains("GET /v1/nothing-here 404"), "every other request is logged");
    }

    static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) n++;
        return n;
    }

    @Test
    void secrets_theTokenNeverAppearsInLogsOrResponses() throws Exception {
        QwenProxy.Server p = withToken("--log-level", "debug");
        try {
            int before = logs.size();
            post(p, chat("qwen3.7-plus", true, ""));
            fake.next((ex, chat, rid) -> FakeQwen.json(ex, 200, FakeQwen.badRequest("bad token " + FakeQwen.TOKEN)));
            HttpResponse<String> r = post(p, chat("qwen3.7-plus", false, ""));
            assertFalse(r.body().contains(FakeQwen.TOKEN));
            String rid = r.headers().firstValue("X-Request-Id").orElseThrow();
            for (long end = System.currentTimeMillis() + 5000; !logs.toString(StandardCharsets.UTF_8).contains(rid + "] POST")
                    && System.currentTimeMillis() < end; ) Thread.sleep(10);
            String mine = new String(logs.toByteArray(), before, logs.size() - before, StandardCharsets.UTF_8);
            assertTrue(mine.contains("upstream event: ") && mine.contains("bad token"), "debug logged the upstream's answer: " + mine);
            assertFalse(logs.toString(StandardCharsets.UTF_8).contains(FakeQwen.TOKEN));
        } finally {
            QwenProxy.Log.level = QwenProxy.Log.INFO;
            p.stop();
        }
    }

    @Test
    void threads_virtualFrom21_withMoreCarriersWhereTheyPin() throws Exception {
        fresh(p -> {
            boolean virtual = Runtime.version().feature() >= 21;
            assertTrue(p.banner().contains(virtual ? "virtual threads" : "platform threads"), p.banner());
            assertEquals(virtual, p.virtualThreads);
        });
        assertNull(QwenProxy.carrierParallelism(17, 2, null), "no virtual threads at all");
        assertEquals("16", QwenProxy.carrierParallelism(21, 2, null));
        assertEquals("48", QwenProxy.carrierParallelism(23, 48, null), "never fewer than the cores");
        assertNull(QwenProxy.carrierParallelism(21, 2, "4"), "the user's -D setting wins");
        assertNull(QwenProxy.carrierParallelism(24, 2, null), "JDK 24+ no longer pins in synchronized");
    }

    @Test
    void idleTrim_onceAfterWorkWhenQuiet_neverWhileBusy() throws Exception {
        fresh(p -> {
            assertEquals(0, p.lastDone, "no request yet");
            assertEquals(200, post(p, chat("qwen3.7-plus", false, "")).statusCode());
            // the client may read the whole reply a moment before the handler's finally block runs
            for (long end = System.currentTimeMillis() + 3000; p.busy.get() != 0 && System.currentTimeMillis() < end; ) Thread.sleep(5);
            assertEquals(0, p.busy.get(), "the request is counted out when it ends");
            long done = p.lastDone;
            assertTrue(done > 0);
            long quiet = done + QwenProxy.IDLE_TRIM_MS;
            assertFalse(QwenProxy.Server.shouldTrim(0, done, 0, quiet - 1), "not quiet long enough");
            assertTrue(QwenProxy.Server.shouldTrim(0, done, 0, quiet));
            assertFalse(QwenProxy.Server.shouldTrim(1, done, 0, quiet), "a request in flight");
            assertFalse(QwenProxy.Server.shouldTrim(0, done, quiet, quiet + 60_000), "already trimmed, no work since");
            assertFalse(QwenProxy.Server.shouldTrim(0, 0, 0, quiet), "never did any work");
        });
    }
}
