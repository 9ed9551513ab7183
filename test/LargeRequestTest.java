import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * §5.6: agent-sized conversations against a fake whose edge refuses bodies over 128 KiB. The
 * whole conversation goes as an attached document (§10: STS, signed OSS PUT, parse), a budgeted
 * prompt stays inline; without uploads it is compacted; an oversized body is never an account block.
 */
class LargeRequestTest extends Fixture {

    @BeforeEach
    void reset() {
        fake.completionBodies.clear();
        fake.completionSizes.clear();
        fake.failUploads = false;
    }

    static final String TOOLS = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"read_file\",\"description\":\"Reads a file.\","
            + "\"parameters\":{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}},\"required\":[\"path\"]}}}]";

    /** An agent loop of ~300 KB: a long system prompt, the task, 40 file reads, and the latest result. */
    static String agentConversation(boolean stream) {
        StringBuilder m = new StringBuilder("[{\"role\":\"system\",\"content\":\"SYSTEM-RULES " + "Follow the rules. ".repeat(1200) + "\"},");
        m.append("{\"role\":\"user\",\"content\":\"TASK-START refactor the project\"}");
        for (int i = 0; i < 40; i++) {
            m.append(",{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_").append(i)
                    .append("\",\"type\":\"function\",\"function\":{\"name\":\"read_file\",\"arguments\":\"{\\\"path\\\":\\\"f").append(i).append(".java\\\"}\"}}]}");
            m.append(",{\"role\":\"tool\",\"tool_call_id\":\"call_").append(i).append("\",\"content\":\"RESULT-").append(i).append(' ')
                    .append("class F { int x = 1; }\\n".repeat(300)).append("\"}");
        }
        m.append(",{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_last\",\"type\":\"function\",\"function\":"
                + "{\"name\":\"read_file\",\"arguments\":\"{\\\"path\\\":\\\"answer.txt\\\"}\"}}]}");
        m.append(",{\"role\":\"tool\",\"tool_call_id\":\"call_last\",\"content\":\"final result: 42\"}]");
        return "{\"model\":\"qwen3.7-plus\",\"stream\":" + stream + "," + TOOLS + ",\"messages\":" + m + "}";
    }

    static String answerOf(HttpResponse<String> r, boolean stream) {
        if (!stream) return (String) at(json(r.body()), "choices", 0, "message", "content");
        StringBuilder b = new StringBuilder();
        for (String e : events(r.body())) {
            if (e.equals("[DONE]")) continue;
            Object c = at(json(e), "choices", 0, "delta", "content");
            if (c != null) b.append(c);
        }
        return b.toString();
    }

    @Test
    void aLargeAgentConversation_goesAsAnAttachedDocument_withABudgetedPromptInline() throws Exception {
        try (QwenProxy.Server p = withToken()) {
            for (boolean stream : List.of(false, true)) {
                fake.completionBodies.clear();
                fake.completionSizes.clear();
                String request = agentConversation(stream);
                assertTrue(request.length() > 300_000, "an agent-sized request: " + request.length());
                HttpResponse<String> r = post(p, request);
                assertEquals(200, r.statusCode(), r.body());
                assertEquals("The tool said: final result: 42", answerOf(r, stream), "answered from the current turn");
                int size = fake.completionSizes.get(0);
                assertTrue(size <= 90 * 1024, "the upstream body stays under the threshold: " + size);
                Map<?, ?> msg = (Map<?, ?>) at(fake.completionBodies.get(0), "messages", 0);
                List<?> files = (List<?>) msg.get("files");
                assertEquals(1, files.size());
                Map<?, ?> file = (Map<?, ?>) files.get(0);
                assertEquals("file", file.get("type"));
                assertEquals("document", file.get("file_class"));
                assertEquals("conversation.txt", file.get("name"));
                String doc = fake.stored.get((String) file.get("id"));
                assertNotNull(doc, "the referenced file was uploaded, signed, and parsed");
                for (String mark : List.of("SYSTEM-RULES", "TASK-START", "RESULT-0 ", "RESULT-20 ", "RESULT-39 ", "final result: 42"))
                    assertTrue(doc.contains(mark), "the whole conversation is in the document: " + mark);
                assertTrue(doc.length() > 250_000);
                String live = (String) msg.get("content");
                assertTrue(live.length() <= 48 * 1024, "the live prompt keeps to its budget: " + live.length());
                assertTrue(live.startsWith("[This conversation is long: all of it"), live.substring(0, 80));
                assertTrue(live.contains("<tools>"), "the tool protocol stays inline");
                assertTrue(live.contains("SYSTEM-RULES"));
                assertTrue(live.contains("User: TASK-START"), "the original task stays inline");
                assertTrue(live.contains("RESULT-39 ") && !live.contains("RESULT-0 "), "the latest steps stay, the oldest go");
                assertTrue(live.indexOf("TASK-START") < live.indexOf("RESULT-39 ") && live.indexOf("RESULT-39 ") < live.indexOf("final result: 42"),
                        "in conversation order");
            }
            int sts = fake.stsCalls.get();
            assertEquals(200, post(p, agentConversation(false)).statusCode());
            assertEquals(sts, fake.stsCalls.get(), "an identical context is not uploaded twice");
        }
    }

    @Test
    void aLargeConversationWithoutTools_isAttachedToo() throws Exception {
        try (QwenProxy.Server p = withToken()) {
            StringBuilder m = new StringBuilder("[{\"role\":\"user\",\"content\":\"FIRST question\"}");
            for (int i = 0; i < 30; i++)
                m.append(",{\"role\":\"assistant\",\"content\":\"ANSWER-").append(i).append(' ').append("words ".repeat(800))
                        .append("\"},{\"role\":\"user\",\"content\":\"more ").append(i).append("\"}");
            HttpResponse<String> r = post(p, "{\"model\":\"qwen3.7-plus\",\"stream\":true,\"messages\":" + m + "]}");
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("Hello from Qwen.", answerOf(r, true));
            Map<?, ?> msg = (Map<?, ?>) at(fake.completionBodies.get(0), "messages", 0);
            assertTrue(fake.stored.get((String) ((Map<?, ?>) ((List<?>) msg.get("files")).get(0)).get("id")).contains("ANSWER-0 "));
            assertTrue(((String) msg.get("content")).endsWith("User: more 29"));
        }
    }

    @Test
    void whenTheUploadFails_aCompactedPromptUnderTheLimitIsSentAndAnswered() throws Exception {
        fake.failUploads = true;
        try (QwenProxy.Server p = withToken()) {
            for (boolean stream : List.of(false, true)) {
                fake.completionBodies.clear();
                fake.completionSizes.clear();
                HttpResponse<String> r = post(p, agentConversation(stream));
                assertEquals(200, r.statusCode(), r.body());
                assertEquals("The tool said: final result: 42", answerOf(r, stream));
                assertTrue(fake.completionSizes.get(0) <= 90 * 1024, "" + fake.completionSizes.get(0));
                Map<?, ?> msg = (Map<?, ?>) at(fake.completionBodies.get(0), "messages", 0);
                assertEquals(List.of(), msg.get("files"));
                String prompt = (String) msg.get("content");
                assertTrue(prompt.contains("earlier messages are left out here") && prompt.contains("User: TASK-START")
                        && prompt.contains("<tools>") && prompt.contains("final result: 42") && !prompt.contains("RESULT-0 "), prompt.substring(0, 200));
            }
            String log = logs.toString(StandardCharsets.UTF_8);
            assertTrue(log.contains("WARN") && log.contains("sending it compacted"), log);
        }
    }

    @Test
    void aFirewallPageForALargeBody_isSentAgainSmaller_andOnlyASecondPageCountsAgainstTheAccount() throws Exception {
        try (QwenProxy.Server p = withToken("--context-file-threshold", "10000000")) {   // the first body goes whole
            HttpResponse<String> r = post(p, agentConversation(false));
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("The tool said: final result: 42", answerOf(r, false));
            assertEquals(2, fake.completionSizes.size());
            assertTrue(fake.completionSizes.get(0) > FakeQwen.BODY_LIMIT && fake.completionSizes.get(1) <= 90 * 1024, fake.completionSizes.toString());
            assertEquals(1, ((List<?>) at(fake.completionBodies.get(0), "messages", 0, "files")).size(), "the smaller one attaches the whole context");
            assertTrue(logs.toString(StandardCharsets.UTF_8).contains("a firewall page for a "), "said in the log");
            assertEquals(200, get(p, "/readyz").statusCode(), "the account is not blocked");
        }
        fake.blockedTokens.add(FakeQwen.TOKEN);          // now the firewall means the account: the smaller body is refused too
        try (QwenProxy.Server p = withToken("--context-file-threshold", "10000000")) {
            fake.completionSizes.clear();
            HttpResponse<String> r = post(p, agentConversation(false));
            assertEquals(503, r.statusCode(), r.body());
            assertEquals("upstream_blocked", errorOf(r).get("code"));
            assertEquals(2, fake.completionSizes.size(), "sent once more, smaller, then counted against the account");
            assertEquals(503, get(p, "/readyz").statusCode(), "the account is blocked");
        } finally {
            fake.blockedTokens.clear();
        }
    }

    @Test
    void instructionsThatCannotFitAtAll_areA413NamingTheLimit() throws Exception {
        try (QwenProxy.Server p = withToken()) {
            String huge = "x".repeat(200_000);
            HttpResponse<String> r = post(p, "{\"model\":\"qwen3.7-plus\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
                    + "\"description\":\"" + huge + "\",\"parameters\":{\"type\":\"object\"}}}],\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            assertEquals(413, r.statusCode(), r.body());
            assertEquals("request_too_large", errorOf(r).get("code"));
            assertTrue(((String) errorOf(r).get("message")).contains("KiB"));
            assertEquals(0, fake.completionSizes.size(), "nothing was sent");
        }
    }

    @Test
    void compact_keepsPrioritiesOrderAndBudget() {
        List<Object> messages = new ArrayList<>();
        messages.add(Map.of("role", "system", "content", "S".repeat(30_000)));
        messages.add(Map.of("role", "user", "content", "FIRST " + "t".repeat(20_000)));
        for (int i = 0; i < 10; i++) {
            messages.add(Map.of("role", "assistant", "content", "step " + i + " " + "a".repeat(2000)));
            messages.add(Map.of("role", "user", "content", "ok " + i));
        }
        QwenProxy.Transcript t = QwenProxy.Transcript.of(messages);
        String out = t.compact("NOTICE", "<tools>protocol</tools>", 20_000);
        assertTrue(QwenProxy.utf8Length(out) <= 20_000, "" + QwenProxy.utf8Length(out));
        assertTrue(out.startsWith("NOTICE\n\nSystem: SSS"));
        assertTrue(out.contains("<tools>protocol</tools>"));
        assertTrue(out.contains("bytes left out here"), "the long system text and task are clipped in the middle");
        assertTrue(out.contains("User: FIRST"));
        assertTrue(out.endsWith("User: ok 9"), "the current turn comes last, whole");
        assertTrue(out.contains("step 9") && !out.contains("step 0 "), "newest steps kept, oldest dropped");
        assertTrue(out.contains("earlier messages are left out here."));
        assertNull(t.compact("NOTICE", "x".repeat(30_000), 20_000), "instructions alone over the budget");
        assertEquals("short", QwenProxy.Transcript.clip("short", 10));
        String clipped = QwenProxy.Transcript.clip("é".repeat(5000), 1000);
        assertTrue(QwenProxy.utf8Length(clipped) <= 1000 && clipped.startsWith("éé") && clipped.endsWith("éé"), clipped);
    }

    @Test
    void compact_edgeCases_oneHugeMessage_noAssistant_onlySystem() {
        // one message far over the budget: it is the current turn, cut in the middle
        QwenProxy.Transcript one = QwenProxy.Transcript.of(List.of(Map.of("role", "user", "content", "HEAD " + "x".repeat(100_000) + " TAIL")));
        String out = one.compact("N", "", 10_000);
        assertTrue(QwenProxy.utf8Length(out) <= 10_000 && out.contains("User: HEAD") && out.endsWith(" TAIL") && out.contains("bytes left out here"), out.substring(0, 60));
        // several user turns and no assistant: the first is the task, the last the current turn, the middle may go
        List<Object> users = new ArrayList<>();
        for (int i = 0; i < 30; i++) users.add(Map.of("role", "user", "content", "turn " + i + " " + "y".repeat(1000)));
        String u = QwenProxy.Transcript.of(users).compact("N", "", 8_000);
        assertTrue(u.contains("User: turn 0 ") && u.contains("User: turn 29 ") && !u.contains("turn 5 ") && u.contains("left out here."), u.substring(0, 60));
        assertTrue(QwenProxy.utf8Length(u) <= 8_000);
        // an assistant message last (a prefill): it is the current turn
        String pre = QwenProxy.Transcript.of(List.of(Map.of("role", "user", "content", "q"), Map.of("role", "assistant", "content", "Sure, "))).compact("N", "", 5_000);
        assertTrue(pre.endsWith("Assistant: Sure,"), pre);
    }

    @Test
    void chatRefusals_areTheirOwnKind_otherBadRequestsAreNot() {
        assertEquals(QwenProxy.ApiException.Kind.CHAT, QwenProxy.ApiException.classify("Bad_Request", "Invalid chat_id", null).kind);
        assertEquals(QwenProxy.ApiException.Kind.CHAT, QwenProxy.ApiException.classify("Bad_Request", "Invalid input chat parent_id 1 is not exist.", null).kind);
        assertEquals(QwenProxy.ApiException.Kind.OTHER, QwenProxy.ApiException.classify("Bad_Request", "Internal error", null).kind);
        assertEquals(QwenProxy.ApiException.Kind.RATE_LIMIT, QwenProxy.ApiException.classify("RateLimited", "x", new QwenProxy.Json.Num("6")).kind);
        assertEquals(6 * 3600, QwenProxy.ApiException.classify("RateLimited", "x", new QwenProxy.Json.Num("6")).retryAfterS);
    }
}
