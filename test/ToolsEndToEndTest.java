import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Tool calling and structured output through the proxy, against the fake replaying model answers (issue 4). */
class ToolsEndToEndTest extends Fixture {
    static QwenProxy.Server proxy;

    static final String TOOLS = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Current weather\","
            + "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}},"
            + "{\"type\":\"function\",\"function\":{\"name\":\"read_file\",\"parameters\":{\"type\":\"object\",\"properties\":"
            + "{\"path\":{\"type\":\"string\"}},\"required\":[\"path\"]}}}]";
    static final String CALL = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";

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
    }

    /** The model's answer, in pieces of n characters, as the upstream streams it. */
    static void answer(String text, int n) {
        List<Object> steps = new ArrayList<>();
        for (int i = 0; i < text.length(); i += n)
            steps.add(FakeQwen.delta("$RID", text.substring(i, Math.min(text.length(), i + n)), "answer", "typing", i / n + 1));
        steps.add(FakeQwen.finished("$RID", "answer"));
        scriptOn(fake, steps.toArray());
    }

    static HttpResponse<String> ask(String extra, boolean stream) throws Exception {
        return post(proxy, "{\"model\":\"qwen3.7-plus\",\"stream\":" + stream + "," + extra
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]}");
    }

    static String prompt(int i) { return (String) at(fake.completionBodies.get(i), "messages", 0, "content"); }

    static List<Map<String, Object>> chunks(HttpResponse<String> r) {
        List<Map<String, Object>> out = new ArrayList<>();
        List<String> ev = events(r.body());
        assertEquals("[DONE]", ev.get(ev.size() - 1));
        for (String e : ev.subList(0, ev.size() - 1)) out.add(json(e));
        return out;
    }

    @Test
    void nonStreaming_aCallComesBackAsToolCallsWithNullContent() throws Exception {
        answer(CALL, 1000);
        HttpResponse<String> r = ask(TOOLS, false);
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> m = obj(at(json(r.body()), "choices", 0, "message"));
        assertEquals(QwenProxy.Json.NULL, m.get("content"));
        Map<String, Object> call = obj(((List<?>) m.get("tool_calls")).get(0));
        assertTrue(((String) call.get("id")).startsWith("call_"));
        assertEquals("function", call.get("type"));
        assertEquals(Map.of("name", "get_weather", "arguments", "{\"city\":\"Paris\"}"), call.get("function"));
        assertEquals("tool_calls", at(json(r.body()), "choices", 0, "finish_reason"));
        String p = prompt(0);
        assertTrue(p.contains("<tools>\n{\"type\":\"function\",\"function\":{\"name\":\"get_weather\""), p);
        assertTrue(p.contains("User: Weather in Paris?"));
    }

    @Test
    void streaming_clineStyle_textThenACallInExactDeltas() throws Exception {
        answer("I'll check the weather.\n" + CALL, 3);   // every marker split across deltas
        HttpResponse<String> r = ask(TOOLS + ",\"stream_options\":{\"include_usage\":true}", true);
        List<Map<String, Object>> cs = chunks(r);
        StringBuilder content = new StringBuilder();
        List<Map<String, Object>> toolDeltas = new ArrayList<>();
        for (Map<String, Object> c : cs) {
            Object d = at(c, "choices");
            if (((List<?>) d).isEmpty()) continue;
            Map<String, Object> delta = obj(at(c, "choices", 0, "delta"));
            if (delta.get("content") != null) content.append(delta.get("content"));
            if (delta.get("tool_calls") != null) for (Object t : (List<?>) delta.get("tool_calls")) toolDeltas.add(obj(t));
        }
        assertEquals("I'll check the weather.\n", content.toString(), "no markup in content");
        assertEquals(2, toolDeltas.size());
        Map<String, Object> first = toolDeltas.get(0), second = toolDeltas.get(1);
        assertEquals(List.of("index", "id", "type", "function"), new ArrayList<>(first.keySet()));
        assertEquals("0", first.get("index").toString());
        assertEquals(Map.of("name", "get_weather", "arguments", ""), first.get("function"));
        assertEquals("0", second.get("index").toString(), "index on every delta");
        assertEquals(Map.of("arguments", "{\"city\":\"Paris\"}"), second.get("function"));
        assertEquals("tool_calls", at(cs.get(cs.size() - 2), "choices", 0, "finish_reason"));
        assertEquals(List.of(), cs.get(cs.size() - 1).get("choices"), "then the usage chunk");
    }

    @Test
    void parallelCallsGetIndexZeroAndOne_unlessParallelIsOff() throws Exception {
        String two = CALL + "\n<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a.txt\"}}\n</tool_call>";
        answer(two, 7);
        List<Object> indexes = new ArrayList<>();
        for (Map<String, Object> c : chunks(ask(TOOLS, true))) {
            Object tc = at(c, "choices", 0, "delta", "tool_calls");
            if (tc != null) indexes.add(obj(((List<?>) tc).get(0)).get("index").toString());
        }
        assertEquals(List.of("0", "0", "1", "1"), indexes);
        answer(two, 7);
        Map<String, Object> m = obj(at(json(ask(TOOLS + ",\"parallel_tool_calls\":false", false).body()),
                "choices", 0, "message"));
        assertEquals(1, ((List<?>) m.get("tool_calls")).size());
        assertTrue(prompt(1).contains("at most one function"));
    }

    @Test
    void agentLoop_historyWithCallsAndResultsReachesTheModel() throws Exception {
        answer("It is 18°C and sunny in Paris.", 5);
        HttpResponse<String> r = post(proxy, "{\"model\":\"qwen3.7-plus\"," + TOOLS + ",\"messages\":["
                + "{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"
                + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":"
                + "{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"18C, sunny\"}]}");
        assertEquals("It is 18°C and sunny in Paris.", at(json(r.body()), "choices", 0, "message", "content"));
        assertEquals("stop", at(json(r.body()), "choices", 0, "finish_reason"));
        String p = prompt(0);
        assertTrue(p.contains("Assistant: <tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}\n</tool_call>"), p);
        assertTrue(p.contains("Tool (call_1, get_weather):\n<tool_response>\n18C, sunny\n</tool_response>"), p);
    }

    @Test
    void qwenCoderFormatAnswersWorkToo() throws Exception {
        answer("<tool_call>\n<function=read_file>\n<parameter=path>\nsrc/Main.java\n</parameter>\n</function>\n</tool_call>", 4);
        Map<String, Object> m = obj(at(json(ask(TOOLS, false).body()), "choices", 0, "message"));
        assertEquals("{\"path\":\"src/Main.java\"}", at(m, "tool_calls", 0, "function", "arguments"));
    }

    @Test
    void requiredToolChoice_retriesOnceFirmlyAndTheClientSeesOnlyTheCall() throws Exception {
        answer("Paris is usually mild.", 4);
        answer(CALL, 4);
        List<Map<String, Object>> cs = chunks(ask(TOOLS + ",\"tool_choice\":\"required\"", true));
        for (Map<String, Object> c : cs) {
            Object content = at(c, "choices", 0, "delta", "content");
            assertTrue(content == null || content.equals(""), "the first answer stays unseen: " + content);
        }
        assertEquals("tool_calls", at(cs.get(cs.size() - 1), "choices", 0, "finish_reason"));
        assertEquals(2, fake.completionBodies.size());
        assertTrue(prompt(1).contains("previous reply had no valid <tool_call>"));
        assertTrue(prompt(0).contains("must call at least one function"));

        answer("No.", 4);
        answer("Still no.", 4);
        HttpResponse<String> r = ask(TOOLS + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}", false);
        assertEquals(502, r.statusCode());
        assertEquals("tool_call_missing", errorOf(r).get("code"));
    }

    @Test
    void toolChoiceNone_offersNoTools_andUnknownToolsAreAnHonestError() throws Exception {
        answer("Plain answer.", 100);
        assertEquals("Plain answer.", at(json(ask(TOOLS + ",\"tool_choice\":\"none\"", false).body()),
                "choices", 0, "message", "content"));
        assertFalse(prompt(0).contains("<tools>"));
        String bogus = "<tool_call>{\"name\":\"delete_everything\",\"arguments\":{}}</tool_call>";
        answer(bogus, 100);
        answer(bogus, 100);
        HttpResponse<String> r = ask(TOOLS, false);
        assertEquals(502, r.statusCode());
        assertEquals("invalid_tool_call", errorOf(r).get("code"));
        assertTrue(((String) errorOf(r).get("message")).contains("delete_everything"));
    }

    @Test
    void responseFormat_jsonSchemaIsExtractedValidatedAndRetried() throws Exception {
        String rf = "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"person\",\"strict\":true,\"schema\":"
                + "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\"}},"
                + "\"required\":[\"name\",\"age\"],\"additionalProperties\":false}}}";
        answer("Here you go:\n```json\n{\"name\": \"Ann\", \"age\": 31}\n```", 6);
        HttpResponse<String> r = ask(rf, true);
        StringBuilder content = new StringBuilder();
        for (Map<String, Object> c : chunks(r)) {
            Object t = at(c, "choices", 0, "delta", "content");
            if (t != null) content.append(t);
        }
        assertEquals("{\"name\":\"Ann\",\"age\":31}", content.toString());
        assertTrue(prompt(0).contains("# Output format"));

        answer("{\"name\": \"Ann\"}", 100);
        answer("{\"name\": \"Ann\", \"age\": 4}", 100);
        assertEquals("{\"name\":\"Ann\",\"age\":4}", at(json(ask(rf, false).body()), "choices", 0, "message", "content"));
        assertTrue(prompt(2).contains("previous answer was not valid JSON"));

        answer("nope", 100);
        answer("still nope", 100);
        HttpResponse<String> bad = ask(rf, false);
        assertEquals(502, bad.statusCode());
        assertEquals("invalid_structured_output", errorOf(bad).get("code"));

        answer("{\"ok\": true}", 100);
        assertEquals("{\"ok\":true}", at(json(ask("\"response_format\":{\"type\":\"json_object\"}", false).body()),
                "choices", 0, "message", "content"));
    }

    @Test
    void aToolCallSatisfiesAResponseFormatTurn_andMaxTokensInsideACallEndsWithLength() throws Exception {
        answer(CALL, 9);
        Map<String, Object> m = obj(at(json(
                ask(TOOLS + ",\"response_format\":{\"type\":\"json_object\"}", false).body()), "choices", 0));
        assertEquals("tool_calls", m.get("finish_reason"));
        assertEquals(1, fake.completionBodies.size(), "no retry: calling a tool is a fine answer");

        List<Object> steps = new ArrayList<>();
        steps.add(FakeQwen.delta("$RID", "<tool_call>\n{\"name\": \"get_weather\", \"argu", "answer", "typing", 50));
        steps.add(FakeQwen.finished("$RID", "answer"));
        scriptOn(fake, steps.toArray());
        HttpResponse<String> r = ask(TOOLS + ",\"max_tokens\":50", false);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("length", at(json(r.body()), "choices", 0, "finish_reason"));
    }
}
