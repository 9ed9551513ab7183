import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The Anthropic Messages front door: the same core, Anthropic's request and reply shapes, events and errors. */
class AnthropicTest extends Fixture {

    @BeforeAll
    static void startProxy() throws Exception { proxy = withToken(); }

    @BeforeEach
    void reset() { fake.completionBodies.clear(); }

    static HttpResponse<String> messages(String body) throws Exception {
        return call(proxy, "POST", "/v1/messages", body, "anthropic-version", "2023-06-01");
    }

    /** Anthropic's stream: "event: NAME" and "data: {...}" per event; returns [name, data] pairs. */
    static List<String[]> anthropicEvents(String body) {
        List<String[]> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            if (block.isBlank()) continue;
            String[] lines = block.split("\n");
            assertEquals(2, lines.length, block);
            assertTrue(lines[0].startsWith("event: ") && lines[1].startsWith("data: "), block);
            out.add(new String[] {lines[0].substring(7), lines[1].substring(6)});
            assertEquals(lines[0].substring(7), json(lines[1].substring(6)).get("type"), "the event name is the data's type");
        }
        return out;
    }

    static final String TOOLS = "\"tools\":[{\"name\":\"get_weather\",\"description\":\"Weather in a city\",\"input_schema\":{\"type\":\"object\","
            + "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}]";

    @Test
    void aMessage_withThinkingTextUsage_andClaudeNamesMapToQwen() throws Exception {
        HttpResponse<String> r = messages("{\"model\":\"claude-sonnet-4-5-20250929\",\"max_tokens\":1024,\"system\":[{\"type\":\"text\",\"text\":\"Be brief.\"}],"
                + "\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":2000},\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> m = json(r.body());
        assertTrue(((String) m.get("id")).startsWith("msg_"));
        assertEquals("message", m.get("type"));
        assertEquals("assistant", m.get("role"));
        assertEquals("claude-sonnet-4-5-20250929", m.get("model"));
        List<?> content = (List<?>) m.get("content");
        assertEquals("thinking", at(content.get(0), "type"));
        assertTrue(((String) at(content.get(0), "thinking")).contains("greet back"));
        assertEquals("", at(content.get(0), "signature"));
        assertEquals(Map.of("type", "text", "text", "Hello from Qwen."), content.get(1));
        assertEquals("end_turn", m.get("stop_reason"));
        assertEquals(QwenProxy.Json.NULL, m.get("stop_sequence"));
        assertEquals("1011", at(m, "usage", "input_tokens").toString());
        assertEquals("qwen3.7-plus", fake.completionBodies.get(0).get("model"), "a sonnet name goes to the plus model");
        assertEquals(true, at(lastUpstreamMessage(), "feature_config", "thinking_enabled"));
        assertEquals(2000L, Long.parseLong(at(lastUpstreamMessage(), "feature_config", "thinking_budget").toString()));
        assertTrue(((String) lastUpstreamMessage().get("content")).startsWith("System: Be brief."));
    }

    @Test
    void theStream_isAnthropicsExactEventSequence() throws Exception {
        List<String[]> ev = anthropicEvents(messages("{\"model\":\"claude-3-5-haiku-latest\",\"max_tokens\":100,\"stream\":true,"
                + "\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":1024},\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}").body());
        List<String> names = new ArrayList<>();
        for (String[] e : ev) if (!e[0].equals("ping")) names.add(e[0]);
        assertEquals("message_start", names.get(0));
        assertEquals("content_block_start", names.get(1));
        assertEquals(List.of("message_delta", "message_stop"), names.subList(names.size() - 2, names.size()));
        StringBuilder text = new StringBuilder(), thinking = new StringBuilder();
        int starts = 0, stops = 0;
        boolean signed = false;
        for (String[] e : ev) {
            Map<String, Object> d = json(e[1]);
            if (e[0].equals("content_block_start")) assertEquals(starts++, Integer.parseInt(d.get("index").toString()), "blocks open in order");
            if (e[0].equals("content_block_stop")) assertEquals(stops++, Integer.parseInt(d.get("index").toString()), "and close in order");
            if (e[0].equals("content_block_delta")) {
                String type = (String) at(d, "delta", "type");
                if (type.equals("text_delta")) text.append(at(d, "delta", "text"));
                if (type.equals("thinking_delta")) thinking.append(at(d, "delta", "thinking"));
                if (type.equals("signature_delta")) signed = true;
            }
        }
        assertEquals(2, starts);
        assertEquals(2, stops);
        assertTrue(signed, "a thinking block ends with its signature_delta");
        assertEquals("Hello from Qwen.", text.toString());
        assertTrue(thinking.length() > 0);
        Map<String, Object> delta = json(ev.get(ev.size() - 2)[1]);
        assertEquals("end_turn", at(delta, "delta", "stop_reason"));
        assertTrue(Long.parseLong(at(delta, "usage", "output_tokens").toString()) > 0);
        Map<String, Object> start = json(ev.get(0)[1]);
        assertEquals(List.of(), at(start, "message", "content"));
        assertTrue(Long.parseLong(at(start, "message", "usage", "input_tokens").toString()) > 0);
    }

    @Test
    void aToolLoop_toolUseThenToolResult_streamingAndNot() throws Exception {
        for (boolean stream : new boolean[] {false, true}) {
            String ask = "{\"model\":\"claude-opus-4-1\",\"max_tokens\":500,\"stream\":" + stream + "," + TOOLS
                    + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]}";
            HttpResponse<String> r = messages(ask);
            String id, input;
            if (!stream) {
                Map<String, Object> m = json(r.body());
                assertEquals("tool_use", m.get("stop_reason"));
                Map<String, Object> use = obj(((List<?>) m.get("content")).get(((List<?>) m.get("content")).size() - 1));
                assertEquals("tool_use", use.get("type"));
                assertEquals("get_weather", use.get("name"));
                assertEquals(Map.of("city", "Paris"), use.get("input"));
                id = (String) use.get("id");
                input = QwenProxy.Json.write(use.get("input"));
            } else {
                id = null;
                StringBuilder partial = new StringBuilder();
                String reason = null;
                for (String[] e : anthropicEvents(r.body())) {
                    Map<String, Object> d = json(e[1]);
                    if (e[0].equals("content_block_start") && "tool_use".equals(at(d, "content_block", "type"))) {
                        id = (String) at(d, "content_block", "id");
                        assertEquals(Map.of(), at(d, "content_block", "input"));
                    }
                    if (e[0].equals("content_block_delta") && "input_json_delta".equals(at(d, "delta", "type"))) partial.append(at(d, "delta", "partial_json"));
                    if (e[0].equals("message_delta")) reason = (String) at(d, "delta", "stop_reason");
                }
                assertEquals("tool_use", reason);
                assertEquals(Map.of("city", "Paris"), json(partial.toString()));
                input = partial.toString();
            }
            assertTrue(id.startsWith("toolu_"));
            String second = "{\"model\":\"claude-opus-4-1\",\"max_tokens\":500," + TOOLS + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"
                    + "{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"x\",\"signature\":\"\"},{\"type\":\"tool_use\",\"id\":\"" + id
                    + "\",\"name\":\"get_weather\",\"input\":" + input + "}]},{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\""
                    + id + "\",\"content\":[{\"type\":\"text\",\"text\":\"18C and sunny in Paris\"}]}]}]}";
            Map<String, Object> done = json(messages(second).body());
            assertEquals("end_turn", done.get("stop_reason"));
            List<?> blocks = (List<?>) done.get("content");
            assertEquals("The tool said: 18C and sunny in Paris", at(blocks.get(blocks.size() - 1), "text"), "after the max model's thinking block");
            assertEquals("qwen3.8-max", fake.completionBodies.get(fake.completionBodies.size() - 1).get("model"), "an opus name goes to the max model");
        }
    }

    @Test
    void stopSequencesAndMaxTokens() throws Exception {
        Map<String, Object> m = json(messages("{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":100,\"stop_sequences\":[\" Qwen\"],"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}").body());
        assertEquals("stop_sequence", m.get("stop_reason"));
        assertEquals(" Qwen", m.get("stop_sequence"));
        assertEquals("Hello from", at(m, "content", 0, "text"));
        m = json(messages("{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}").body());
        assertEquals("max_tokens", m.get("stop_reason"));
    }

    @Test
    void errorsAreAnthropicErrorObjects() throws Exception {
        HttpResponse<String> r = messages("{\"model\":\"claude-sonnet-4-5\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        assertEquals(400, r.statusCode());
        Map<String, Object> e = json(r.body());
        assertEquals("error", e.get("type"));
        assertEquals("invalid_request_error", at(e, "error", "type"));
        assertTrue(((String) at(e, "error", "message")).contains("max_tokens"));
        r = messages("{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":10,\"tools\":[{\"type\":\"web_search_20250305\",\"name\":\"web_search\"}],"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        assertEquals(400, r.statusCode());
        try (QwenProxy.Server keyed = withToken("--api-key", "sk-test-key-123456")) {
            HttpResponse<String> denied = call(keyed, "POST", "/v1/messages", "{}");
            assertEquals(401, denied.statusCode());
            assertEquals("authentication_error", at(json(denied.body()), "error", "type"));
            HttpResponse<String> ok = call(keyed, "POST", "/v1/messages", "{\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}",
                    "x-api-key", "sk-test-key-123456");
            assertEquals(200, ok.statusCode(), ok.body());
        }
        script(FakeQwen.streamError("data_inspection_failed", "内容安全警告"));
        r = messages("{\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        assertEquals(400, r.statusCode(), "input refused by moderation: an error before the commit point");
        script(EndToEndTest.answer("Once upon", 3), FakeQwen.streamError("data_inspection_failed", "x"));
        assertEquals("refusal", json(messages("{\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}").body()).get("stop_reason"));
        // upstream failures in Anthropic's documented statuses: 503 -> 529 overloaded, 504 stays a timeout, the rest 500
        for (int[] pair : new int[][] {{503, 529}, {504, 504}, {502, 500}, {500, 500}}) {
            QwenProxy.ApiException x = new QwenProxy.ApiException(pair[0], "server_error", "upstream_error", null, "x");
            assertEquals(pair[1], QwenProxy.Anthropic.status(pair[0]));
            assertEquals(Map.of(529, "overloaded_error", 504, "timeout_error", 500, "api_error").get(pair[1]), at(QwenProxy.Anthropic.error(x), "error", "type"));
        }
    }

    @Test
    void countTokensAndModels() throws Exception {
        HttpResponse<String> r = call(proxy, "POST", "/v1/messages/count_tokens",
                "{\"model\":\"claude-sonnet-4-5\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "word ".repeat(400) + "\"}]}");
        assertEquals(200, r.statusCode(), r.body());
        long n = Long.parseLong(json(r.body()).get("input_tokens").toString());
        assertTrue(n >= 450 && n <= 550, "about 2,000 characters / 4: " + n);
        assertEquals(0, fake.completionBodies.size(), "counted locally");
        Map<String, Object> models = json(get(proxy, "/v1/models", "anthropic-version", "2023-06-01").body());
        assertEquals("model", at(models, "data", 0, "type"));
        assertEquals(false, models.get("has_more"));
    }
}
