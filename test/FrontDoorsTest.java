import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Both new dialects on the same scripted replies: two tool calls in one answer, an error after the
 * commit point, and request bodies shaped like Claude Code's and Codex's (long system prompt, many
 * tools, tool results in the history, streaming).
 */
class FrontDoorsTest extends Fixture {

    @BeforeAll
    static void startProxy() throws Exception { proxy = withToken(); }

    @BeforeEach
    void reset() {
        fake.completionBodies.clear();
        fake.scripts.clear();
    }

    static HttpResponse<String> post(String path, String body) throws Exception { return call(proxy, "POST", path, body); }

    /** [event name, data] of an event stream with "event:" lines. */
    static List<Object[]> named(String body) {
        List<Object[]> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            if (block.isBlank() || block.startsWith(":")) continue;
            String[] l = block.split("\n");
            out.add(new Object[] {l[0].substring(7), json(l[1].substring(6))});
        }
        return out;
    }

    static final String TWO_CALLS = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n"
            + "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}\n</tool_call>";

    static String manyTools(boolean anthropic) {
        List<String> tools = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String name = i == 0 ? "get_weather" : "tool_" + i, schema = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}";
            tools.add(anthropic ? "{\"name\":\"" + name + "\",\"description\":\"Tool " + i + "\",\"input_schema\":" + schema + "}"
                    : "{\"type\":\"function\",\"name\":\"" + name + "\",\"description\":\"Tool " + i + "\",\"parameters\":" + schema + "}");
        }
        return "\"tools\":[" + String.join(",", tools) + "]";
    }

    @Test
    void everyEndpointTheRootListsIsRoutedAndAnUnknownOneSaysWhereToLook() throws Exception {
        List<?> endpoints = (List<?>) json(call(proxy, "GET", "/", null).body()).get("endpoints");
        assertTrue(endpoints.contains("POST /v1/messages") && endpoints.contains("DELETE /v1/responses/{id}"), endpoints.toString());
        for (Object e : endpoints) {
            String[] mp = ((String) e).split(" ");
            boolean bodyless = mp[0].equals("GET") || mp[0].equals("DELETE");
            HttpResponse<String> r = call(proxy, mp[0], mp[1].replace("{id}", "no-such-id"), bodyless ? null : "{}");
            assertFalse(r.statusCode() == 404 && r.body().contains("Unknown endpoint"), e + ": " + r.body());
            assertNotEquals(405, r.statusCode(), e + ": " + r.body());
        }
        HttpResponse<String> unknown = call(proxy, "POST", "/v1/completions", "{}");
        assertEquals(404, unknown.statusCode());
        assertEquals("not_found", at(errorOf(unknown), "code"));
        assertTrue(at(errorOf(unknown), "message").toString().contains("GET / lists the endpoints"), unknown.body());
    }

    @Test
    void twoToolCallsInOneAnswer_inBothDialects() throws Exception {
        script(EndToEndTest.answer(TWO_CALLS, 20), EndToEndTest.FINISHED);
        Map<String, Object> m = json(post("/v1/messages", "{\"max_tokens\":500," + manyTools(true) + ",\"stream\":false,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris and Rome?\"}]}").body());
        List<Object> inputs = new ArrayList<>();
        for (Object b : (List<?>) m.get("content")) if ("tool_use".equals(at(b, "type"))) inputs.add(at(b, "input"));
        assertEquals(List.of(Map.of("city", "Paris"), Map.of("city", "Rome")), inputs);
        assertEquals("tool_use", m.get("stop_reason"));

        script(EndToEndTest.answer(TWO_CALLS, 20), EndToEndTest.FINISHED);
        List<Object> args = new ArrayList<>();
        int done = 0;
        for (Object[] e : named(post("/v1/responses", "{\"stream\":true," + manyTools(false) + ",\"input\":\"Weather in Paris and Rome?\"}").body())) {
            if (e[0].equals("response.function_call_arguments.done")) args.add(json((String) obj(e[1]).get("arguments")));
            if (e[0].equals("response.output_item.done")) done++;
        }
        assertEquals(List.of(Map.of("city", "Paris"), Map.of("city", "Rome")), args);
        assertEquals(2, done);
    }

    @Test
    void anErrorAfterTheCommit_isEachDialectsErrorEvent() throws Exception {
        script(EndToEndTest.answer("Partial", 2), FakeQwen.streamError("Internal_Server_Error", "backend crashed"));
        List<Object[]> a = named(post("/v1/messages", "{\"max_tokens\":50,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}").body());
        Object[] last = a.get(a.size() - 1);
        assertEquals("error", last[0]);
        assertEquals("api_error", at(last[1], "error", "type"));
        assertTrue(a.stream().noneMatch(e -> e[0].equals("message_stop")));

        script(EndToEndTest.answer("Partial", 2), FakeQwen.streamError("Internal_Server_Error", "backend crashed"));
        List<Object[]> r = named(post("/v1/responses", "{\"stream\":true,\"input\":\"Hi\"}").body());
        Object[] end = r.get(r.size() - 1);
        assertEquals("error", end[0]);
        assertEquals("upstream_error", obj(end[1]).get("code"));
        assertEquals(r.size() - 1, Integer.parseInt(obj(end[1]).get("sequence_number").toString()), "the error continues the sequence");
        assertTrue(r.stream().noneMatch(e -> e[0].equals("response.completed")));
    }

    @Test
    void claudeCodeAndCodexShapedBodies_streaming() throws Exception {
        String system = "You are Claude Code, Anthropic's official CLI. " + "Follow the instructions carefully. ".repeat(300);
        String claude = "{\"model\":\"claude-sonnet-4-5-20250929\",\"max_tokens\":32000,\"stream\":true,\"system\":[{\"type\":\"text\",\"text\":"
                + QwenProxy.Json.write(system) + ",\"cache_control\":{\"type\":\"ephemeral\"}}]," + manyTools(true) + ",\"metadata\":{\"user_id\":\"u1\"},"
                + "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Weather in Paris?\",\"cache_control\":{\"type\":\"ephemeral\"}}]},"
                + "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"Let me check.\"},{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\","
                + "\"input\":{\"city\":\"Paris\"}}]},{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":\"18C and sunny in Paris\"}]}]}";
        StringBuilder text = new StringBuilder();
        for (Object[] e : named(post("/v1/messages", claude).body()))
            if (e[0].equals("content_block_delta") && "text_delta".equals(at(e[1], "delta", "type"))) text.append(at(e[1], "delta", "text"));
        assertEquals("The tool said: 18C and sunny in Paris", text.toString());
        String prompt = (String) lastUpstreamMessage().get("content");
        assertTrue(prompt.contains("Tool (toolu_1, get_weather):\n<tool_response>\n18C and sunny in Paris"), "the tool result in the transcript");

        String codex = "{\"model\":\"qwen3.7-plus\",\"stream\":true,\"instructions\":" + QwenProxy.Json.write(system) + "," + manyTools(false)
                + ",\"parallel_tool_calls\":false,\"reasoning\":{\"effort\":\"medium\",\"summary\":\"auto\"},\"store\":false,\"input\":["
                + "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"Weather in Paris?\"}]},"
                + "{\"type\":\"function_call\",\"call_id\":\"call_1\",\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"},"
                + "{\"type\":\"function_call_output\",\"call_id\":\"call_1\",\"output\":\"18C and sunny in Paris\"}]}";
        String out = null;
        for (Object[] e : named(post("/v1/responses", codex).body()))
            if (e[0].equals("response.completed")) out = (String) at(e[1], "response", "output_text");
        assertEquals("The tool said: 18C and sunny in Paris", out);
        assertEquals(true, at(lastUpstreamMessage(), "feature_config", "thinking_enabled"), "reasoning.effort medium: thinking");
    }
}
