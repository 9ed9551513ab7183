import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The OpenAI Responses front door: items in, a response object or its semantic events out, stored for previous_response_id. */
class ResponsesTest extends Fixture {

    @BeforeAll
    static void startProxy() throws Exception { proxy = withToken(); }

    @BeforeEach
    void reset() { fake.completionBodies.clear(); }

    static HttpResponse<String> call(String method, String path, String body) throws Exception { return call(proxy, method, path, body); }

    static final String TOOLS = "\"tools\":[{\"type\":\"function\",\"name\":\"get_weather\",\"description\":\"Weather in a city\","
            + "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}]";

    @Test
    void aResponse_itsOutputText_andItIsStored() throws Exception {
        HttpResponse<String> r = call("POST", "/v1/responses", "{\"model\":\"qwen3.7-plus\",\"instructions\":\"Be brief.\",\"input\":\"Hi\"}");
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> resp = json(r.body());
        String id = (String) resp.get("id");
        assertTrue(id.startsWith("resp_"));
        assertEquals("response", resp.get("object"));
        assertEquals("completed", resp.get("status"));
        assertEquals("Hello from Qwen.", resp.get("output_text"));
        Map<String, Object> msg = obj(((List<?>) resp.get("output")).get(0));
        assertEquals("message", msg.get("type"));
        assertEquals(Map.of("type", "output_text", "text", "Hello from Qwen.", "annotations", List.of(), "logprobs", List.of()), at(msg, "content", 0));
        assertEquals("1011", at(resp, "usage", "input_tokens").toString());
        assertTrue(((String) lastUpstreamMessage().get("content")).startsWith("System: Be brief."));
        assertEquals(resp, json(call("GET", "/v1/responses/" + id, null).body()));
        assertEquals(true, json(call("DELETE", "/v1/responses/" + id, null).body()).get("deleted"));
        assertEquals(404, call("GET", "/v1/responses/" + id, null).statusCode());
    }

    @Test
    void theStream_semanticEventsInOrder_withSequenceNumbers() throws Exception {
        String body = call("POST", "/v1/responses", "{\"model\":\"qwen3.7-plus-thinking\",\"stream\":true,\"input\":[{\"role\":\"user\",\"content\":"
                + "[{\"type\":\"input_text\",\"text\":\"Hi\"}]}]}").body();
        List<String> types = new ArrayList<>();
        StringBuilder text = new StringBuilder(), reasoning = new StringBuilder();
        int n = 0;
        for (String block : body.split("\n\n")) {
            if (block.isBlank() || block.startsWith(":")) continue;
            String[] lines = block.split("\n");
            Map<String, Object> d = json(lines[1].substring(6));
            assertEquals(lines[0].substring(7), d.get("type"));
            assertEquals(n++, Integer.parseInt(d.get("sequence_number").toString()), "sequence numbers count up from 0");
            types.add((String) d.get("type"));
            if ("response.output_text.delta".equals(d.get("type"))) text.append(d.get("delta"));
            if ("response.reasoning_summary_text.delta".equals(d.get("type"))) reasoning.append(d.get("delta"));
        }
        assertEquals(List.of("response.created", "response.in_progress", "response.output_item.added", "response.reasoning_summary_part.added"), types.subList(0, 4));
        assertEquals("response.completed", types.get(types.size() - 1));
        assertTrue(types.containsAll(List.of("response.reasoning_summary_text.done", "response.content_part.added", "response.output_text.done",
                "response.content_part.done", "response.output_item.done")));
        assertEquals("Hello from Qwen.", text.toString());
        assertTrue(reasoning.length() > 0);
    }

    @Test
    void aFunctionToolLoop_throughPreviousResponseId() throws Exception {
        for (boolean stream : new boolean[] {false, true}) {
            Map<String, Object> first;
            String ask = "{\"model\":\"qwen3.7-plus\",\"stream\":" + stream + "," + TOOLS + ",\"input\":\"Weather in Paris?\"}";
            if (!stream) first = json(call("POST", "/v1/responses", ask).body());
            else {
                first = null;
                for (String block : call("POST", "/v1/responses", ask).body().split("\n\n"))
                    if (block.startsWith("event: response.completed")) first = obj(json(block.split("\n")[1].substring(6)).get("response"));
            }
            Map<String, Object> fc = obj(((List<?>) first.get("output")).get(((List<?>) first.get("output")).size() - 1));
            assertEquals("function_call", fc.get("type"));
            assertEquals("get_weather", fc.get("name"));
            assertEquals(Map.of("city", "Paris"), json((String) fc.get("arguments")));
            String next = "{\"model\":\"qwen3.7-plus\",\"previous_response_id\":\"" + first.get("id") + "\"," + TOOLS + ",\"input\":[{\"type\":\"function_call_output\","
                    + "\"call_id\":\"" + fc.get("call_id") + "\",\"output\":\"18C and sunny in Paris\"}]}";
            Map<String, Object> done = json(call("POST", "/v1/responses", next).body());
            assertEquals("The tool said: 18C and sunny in Paris", done.get("output_text"), done.toString());
            assertEquals(first.get("id"), done.get("previous_response_id"));
            assertTrue(((String) lastUpstreamMessage().get("content")).contains("User: Weather in Paris?"), "the earlier exchange came back");
        }
    }

    @Test
    void textFormatJsonSchema_goesThroughStructuredOutput() throws Exception {
        Map<String, Object> r = json(call("POST", "/v1/responses", "{\"input\":\"Paris weather\",\"text\":{\"format\":{\"type\":\"json_schema\","
                + "\"name\":\"weather\",\"strict\":true,\"schema\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
                + "\"temp\":{\"type\":\"number\"}},\"required\":[\"city\",\"temp\"],\"additionalProperties\":false}}}}").body());
        assertEquals(Map.of("city", "Paris", "temp", new QwenProxy.Json.Num("21")), json((String) r.get("output_text")));
        assertEquals("json_schema", at(r, "text", "format", "type"));
    }

    @Test
    void incompleteAndErrors() throws Exception {
        Map<String, Object> r = json(call("POST", "/v1/responses", "{\"input\":\"Hi\",\"max_output_tokens\":2}").body());
        assertEquals("incomplete", r.get("status"));
        assertEquals("max_output_tokens", at(r, "incomplete_details", "reason"));
        HttpResponse<String> bad = call("POST", "/v1/responses", "{\"input\":\"Hi\",\"tools\":[{\"type\":\"web_search_preview\"}]}");
        assertEquals(400, bad.statusCode());
        assertEquals("tools[0]", errorOf(bad).get("param"));
        assertEquals(400, call("POST", "/v1/responses", "{\"input\":\"Hi\",\"previous_response_id\":\"resp_nope\"}").statusCode());
        assertEquals(404, call("GET", "/v1/responses/resp_nope", null).statusCode());
        script(EndToEndTest.answer("Once upon", 3), FakeQwen.streamError("data_inspection_failed", "x"));
        Map<String, Object> cut = json(call("POST", "/v1/responses", "{\"input\":\"Hi\"}").body());
        assertEquals("content_filter", at(cut, "incomplete_details", "reason"));
    }
}
