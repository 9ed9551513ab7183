import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.*;

/** OpenAI request -> upstream: validation, flattening, thinking flags, the §5.1 body. */
class ChatRequestTest {
    static final QwenProxy.Config CFG = QwenProxy.Config.load(new String[0], Map.of());
    static final QwenProxy.Models MODELS = new QwenProxy.Models(CFG, new QwenProxy.Upstream(CFG, null), new QwenProxy.Accounts(CFG), Executors.newSingleThreadExecutor());

    @SuppressWarnings("unchecked")
    static Map<String, Object> body(String json) { return (Map<String, Object>) QwenProxy.Json.parse(json); }

    static QwenProxy.ChatRequest parse(String json) { return QwenProxy.ChatRequest.parse(body(json), MODELS, CFG); }

    static String flatten(String messagesJson) { return QwenProxy.Transcript.of((List<?>) QwenProxy.Json.parse(messagesJson)).render(""); }

    static QwenProxy.ApiException rejects(String json) {
        QwenProxy.ApiException e = assertThrows(QwenProxy.ApiException.class, () -> parse(json));
        assertEquals(400, e.status, json);
        return e;
    }

    @Test
    void flatten_aLoneUserMessageGoesAsItIs() {
        assertEquals("What is 2+2?", flatten("[{\"role\":\"user\",\"content\":\"What is 2+2?\"}]"));
    }

    @Test
    void flatten_aConversationBecomesOneLabelledTranscriptWithSystemFirst() {
        String messages = "[{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"
                + "{\"role\":\"system\",\"content\":\"You are terse.\"},"
                + "{\"role\":\"assistant\",\"content\":null,\"reasoning_content\":\"secret\",\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
                + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"18C, sunny\"},"
                + "{\"role\":\"assistant\",\"content\":\"<think>hmm</think>It is 18C and sunny.\"},"
                + "{\"role\":\"developer\",\"content\":[{\"type\":\"text\",\"text\":\"Use metric.\"}]},"
                + "{\"role\":\"user\",\"content\":\"Thanks!\"}]";
        assertEquals("System: You are terse.\n\nUse metric.\n\n"
                + "User: Weather in Paris?\n\n"
                + "Assistant: <tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}\n</tool_call>\n\n"
                + "Tool (call_1, get_weather):\n<tool_response>\n18C, sunny\n</tool_response>\n\n"
                + "Assistant: It is 18C and sunny.\n\n"
                + "User: Thanks!", flatten(messages));
    }

    @Test
    void flatten_systemAndUserGetLabels() {
        assertEquals("System: Be brief.\n\nUser: Hi", flatten("[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hi\"}]"));
    }

    @Test
    void flatten_textPartsAreJoinedAndAttributesDropped() {
        assertEquals("one\ntwo\nthree", flatten("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"one\",\"cache_control\":"
                + "{\"type\":\"ephemeral\"}},{\"type\":\"input_text\",\"text\":\"two\"},{\"text\":\"three\"}]}]"));
    }

    @Test
    void flatten_legacyFunctionMessagesAndBadArgumentsSurvive() {
        String out = flatten("[{\"role\":\"user\",\"content\":\"go\"},{\"role\":\"assistant\",\"function_call\":{\"name\":\"f\",\"arguments\":\"{broken\"}},"
                + "{\"role\":\"function\",\"name\":\"f\",\"content\":\"done\"}]");
        assertTrue(out.contains("<tool_call>\n{\"name\":\"f\",\"arguments\":\"{broken\"}\n</tool_call>"), out);
        assertTrue(out.contains("Tool (f):\n<tool_response>\ndone\n</tool_response>"), out);
    }

    @Test
    void parse_acceptsWhatRealClientsSend() {
        QwenProxy.ChatRequest r = parse("{\"model\":\"qwen3.7-plus\",\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"name\":\"bob\"}],"
                + "\"temperature\":0,\"top_p\":0.9,\"stream\":true,\"stream_options\":{\"include_usage\":true,\"include_obfuscation\":false},"
                + "\"max_completion_tokens\":100,\"n\":1,\"user\":{\"id\":7},\"metadata\":{\"a\":\"b\"},\"store\":false,\"seed\":1,"
                + "\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"],\"logit_bias\":{},\"prompt_cache_key\":\"k\",\"min_p\":0.1,\"frequency_penalty\":0}");
        assertTrue(r.stream());
        assertTrue(r.includeUsage());
        assertEquals(100, r.maxTokens());
        assertEquals("x", r.prompt());
        assertEquals(42, parse("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":42}").maxTokens());
    }

    @Test
    void parse_rejectsMalformedRequestsNamingTheParameter() {
        assertEquals("messages", rejects("{}").param);
        assertEquals("messages", rejects("{\"messages\":[]}").param);
        assertEquals("messages", rejects("{\"messages\":{}}").param);
        assertEquals("messages[0]", rejects("{\"messages\":[\"hi\"]}").param);
        assertEquals("messages[0].role", rejects("{\"messages\":[{\"content\":\"x\"}]}").param);
        assertEquals("messages[0].content", rejects("{\"messages\":[{\"role\":\"user\",\"content\":5}]}").param);
        assertEquals("model", rejects("{\"model\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").param);
        assertEquals("stream", rejects("{\"stream\":1,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").param);
        assertEquals("n", rejects("{\"n\":3,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").param);
        assertEquals("max_tokens", rejects("{\"max_tokens\":\"many\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").param);
        assertEquals("reasoning_effort", rejects("{\"reasoning_effort\":\"extreme\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").param);
        assertEquals("messages", rejects("{\"messages\":[{\"role\":\"user\",\"content\":\"  \"}]}").param);
        // media parts are read now (MediaTest, FilesTest); one that carries nothing is named
        QwenProxy.ApiException e = rejects("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"look\"},"
                + "{\"type\":\"file\",\"file\":{\"filename\":\"a.pdf\"}}]}]}");
        assertEquals("invalid_value", e.code);
        assertEquals("messages[0].content[1]", e.param);
    }

    @Test
    void thinking_effortValuesMapToOnOrOff() {
        for (String off : List.of("none", "minimal", "low"))
            assertEquals(QwenProxy.Thinking.OFF, QwenProxy.ChatRequest.effort(off, "reasoning_effort"));
        for (String on : List.of("medium", "high", "xhigh", "max", "HIGH"))
            assertEquals(QwenProxy.Thinking.ON, QwenProxy.ChatRequest.effort(on, "reasoning_effort"));
        assertEquals(QwenProxy.Thinking.OFF, parse("{\"model\":\"qwen3.7-plus\",\"enable_thinking\":false,\"reasoning_effort\":\"high\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").thinking(), "enable_thinking wins over effort");
        assertEquals(QwenProxy.Thinking.AUTO, parse("{\"model\":\"qwen3.7-plus\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").thinking());
        assertEquals(QwenProxy.Thinking.ON, parse("{\"model\":\"qwen3.7-plus-thinking\",\"reasoning_effort\":\"low\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").thinking());
    }

    @Test
    @SuppressWarnings("unchecked")
    void upstreamBody_matchesTheWebClientShape() {
        QwenProxy.ChatRequest r = parse("{\"model\":\"qwen3.7-max-thinking\",\"thinking_budget\":4096,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        Map<String, Object> b = r.upstreamBody("chat-1", false);
        assertEquals(List.of("stream", "version", "incremental_output", "chatId", "parentId", "chat_id", "chat_mode", "model",
                "parent_id", "messages", "timestamp"), List.copyOf(b.keySet()));
        assertEquals("qwen3.7-max", b.get("model"));
        assertEquals(QwenProxy.Json.NULL, b.get("parent_id"));
        Map<String, Object> m = (Map<String, Object>) ((List<?>) b.get("messages")).get(0);
        assertEquals("user", m.get("role"));
        assertEquals("hi", m.get("content"));
        assertEquals(List.of("qwen3.7-max"), m.get("models"));
        Map<String, Object> fc = (Map<String, Object>) m.get("feature_config");
        assertEquals(true, fc.get("thinking_enabled"));
        assertEquals("Thinking", fc.get("thinking_mode"));
        assertEquals("summary", fc.get("thinking_format"));
        assertEquals(4096L, fc.get("thinking_budget"));
        assertEquals("phase", fc.get("output_schema"));
        String json = QwenProxy.Json.write(b);
        assertTrue(json.contains("\"extra\":{\"meta\":{\"subChatType\":\"t2t\"}}"), json);
        Map<String, Object> fast = (Map<String, Object>) ((Map<String, Object>) ((List<?>) parse("{\"model\":\"qwen3.7-max-fast\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").upstreamBody("c", false).get("messages")).get(0)).get("feature_config");
        assertEquals("Fast", fast.get("thinking_mode"));
        assertFalse(fast.containsKey("thinking_format"));
    }
}
