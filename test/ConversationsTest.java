import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/** FreeQwenApi's native API: /api/chat keeps conversations server-side and continues them upstream with parent_id (§9). */
class ConversationsTest extends Fixture {
    static String dataDir;

    @BeforeAll
    static void startProxy() throws Exception {
        dataDir = tempDir();
        proxy = withToken("--data-dir", dataDir);
    }

    @BeforeEach
    void reset() { fake.completionBodies.clear(); }

    static Map<String, Object> body(int i) { return fake.completionBodies.get(i); }

    static String content(int i) { return (String) at(body(i), "messages", 0, "content"); }

    @Test
    void aConversation_continuesUpstreamWithOnlyTheNewTurn_streamingAndNot() throws Exception {
        HttpResponse<String> r = call(proxy, "POST", "/api/chat", "{\"message\":\"My name is Ada.\"}");
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> first = json(r.body());
        String id = (String) first.get("chatId");
        assertNotNull(id);
        assertEquals("Hello from Qwen.", at(first, "choices", 0, "message", "content"));
        assertEquals(QwenProxy.Json.NULL, body(0).get("parent_id"));
        String chat = (String) body(0).get("chat_id");

        List<String> ev = events(call(proxy, "POST", "/api/chat", "{\"chatId\":\"" + id + "\",\"stream\":true,\"message\":\"What is my name?\"}").body());
        assertEquals(id, json(ev.get(0)).get("chatId"), "the first event names the conversation");
        assertEquals("[DONE]", ev.get(ev.size() - 1));
        assertEquals("What is my name?", content(1), "only the new turn goes upstream");
        assertEquals(chat, body(1).get("chat_id"), "in the same upstream chat");
        assertNotNull(body(1).get("parent_id"), "continuing the last answer");
        assertFalse(fake.deleted.contains(chat), "a conversation's chat stays");

        Map<String, Object> h = json(call(proxy, "GET", "/api/chats/" + id, null).body());
        List<?> msgs = (List<?>) at(h, "history", "messages");
        assertEquals(List.of("user", "assistant", "user", "assistant"), msgs.stream().map(m -> at(m, "role")).toList());
        assertEquals("What is my name?", at(msgs.get(2), "content"));
        assertEquals("Hello from Qwen.", at(msgs.get(3), "content"));
    }

    @Test
    void whenTheUpstreamChatIsGone_theHistoryGoesFlattenedToANewChat() throws Exception {
        String id = (String) json(call(proxy, "POST", "/api/chat", "{\"message\":\"Remember 42.\"}").body()).get("chatId");
        fake.answers.clear();                                   // Qwen no longer knows the parent
        HttpResponse<String> r = call(proxy, "POST", "/api/chat", "{\"chatId\":\"" + id + "\",\"message\":\"Which number?\"}");
        assertEquals(200, r.statusCode(), r.body());
        String last = content(fake.completionBodies.size() - 1);
        assertTrue(last.contains("User: Remember 42.") && last.contains("Assistant: Hello from Qwen.") && last.endsWith("User: Which number?"), last);
        assertEquals(QwenProxy.Json.NULL, body(fake.completionBodies.size() - 1).get("parent_id"));
        // and it continues from the new chat afterwards
        call(proxy, "POST", "/api/chat", "{\"chatId\":\"" + id + "\",\"message\":\"Thanks\"}");
        assertEquals("Thanks", content(fake.completionBodies.size() - 1));
    }

    @Test
    void whenTheConversationsAccountCannotServe_anotherTakesItWithTheHistory() throws Exception {
        try (QwenProxy.Server p = start("--token", FakeQwen.TOKEN + "," + FakeQwen.TOKEN2, "--chat-pool", "0")) {
            String id = (String) json(call(p, "POST", "/api/chat", "{\"message\":\"I live in Lyon.\"}").body()).get("chatId");
            String first = fake.completionHeaders.get(fake.completionHeaders.size() - 1).get("Authorization").get(0).substring(7);
            fake.rateLimitedTokens.add(first);
            try {
                HttpResponse<String> r = call(p, "POST", "/api/chat", "{\"chatId\":\"" + id + "\",\"message\":\"Where do I live?\"}");
                assertEquals(200, r.statusCode(), r.body());
                String last = content(fake.completionBodies.size() - 1);
                assertTrue(last.contains("User: I live in Lyon.") && last.endsWith("User: Where do I live?"), last);
                assertNotEquals(first, fake.completionHeaders.get(fake.completionHeaders.size() - 1).get("Authorization").get(0).substring(7));
            } finally {
                fake.rateLimitedTokens.clear();
            }
        }
    }

    @Test
    void messagesTakeTheLastUserMessage_andBadInputIsAnOpenAiError() throws Exception {
        HttpResponse<String> r = call(proxy, "POST", "/api/chat", "{\"messages\":[{\"role\":\"user\",\"content\":\"old\"},"
                + "{\"role\":\"assistant\",\"content\":\"x\"},{\"role\":\"user\",\"content\":\"newest\"}]}");
        assertEquals(200, r.statusCode());
        assertEquals("newest", content(0));
        assertEquals(404, call(proxy, "POST", "/api/chat", "{\"chatId\":\"nope\",\"message\":\"x\"}").statusCode());
        assertEquals("chat_not_found", errorOf(call(proxy, "GET", "/api/chats/nope", null)).get("code"));
        assertEquals("message", errorOf(call(proxy, "POST", "/api/chat", "{}")).get("param"));
    }

    @Test
    void management_createListRenameDeleteAndCleanup() throws Exception {
        String a = (String) json(call(proxy, "POST", "/api/chats", "{\"name\":\"Work\"}").body()).get("chatId");
        assertTrue(call(proxy, "GET", "/api/chats", null).body().contains(a));
        assertEquals(Map.of("success", true, "chatId", a, "name", "Trips"), json(call(proxy, "PUT", "/api/chats/" + a + "/rename", "{\"name\":\"Trips\"}").body()));
        String b = (String) json(call(proxy, "POST", "/api/chat", "{\"message\":\"hi\"}").body()).get("chatId");
        String chat = (String) body(0).get("chat_id");
        assertEquals(Map.of("success", true), json(call(proxy, "DELETE", "/api/chats/" + b, null).body()));
        waitFor("the upstream chat deleted", () -> fake.deleted.contains(chat));
        assertEquals(404, call(proxy, "GET", "/api/chats/" + b, null).statusCode());
        String c = (String) json(call(proxy, "POST", "/api/chat", "{\"message\":\"keep me\"}").body()).get("chatId");
        Map<String, Object> cleaned = json(call(proxy, "POST", "/api/chats/cleanup", "{\"userMessageCountLessThan\":1}").body());
        assertTrue(((List<?>) cleaned.get("deleted")).contains(a), "the empty conversation goes");
        assertFalse(((List<?>) cleaned.get("deleted")).contains(c));
        assertEquals(200, call(proxy, "GET", "/api/chats/" + c, null).statusCode());
        call(proxy, "POST", "/api/chats", "{\"name\":\"x\"}");
        Map<String, Object> max = json(call(proxy, "POST", "/api/chats/cleanup", "{\"maxChats\":1}").body());
        assertEquals(1, Integer.parseInt(max.get("remaining").toString()));
    }

    @Test
    void conversationsSurviveARestart() throws Exception {
        String d = tempDir();
        String id;
        try (QwenProxy.Server p = withToken("--data-dir", d)) {
            id = (String) json(call(p, "POST", "/api/chat", "{\"message\":\"Remember me.\"}").body()).get("chatId");
        }
        try (QwenProxy.Server p = withToken("--data-dir", d)) {
            assertEquals(200, call(p, "POST", "/api/chat", "{\"chatId\":\"" + id + "\",\"message\":\"Still there?\"}").statusCode());
            assertEquals("Still there?", content(fake.completionBodies.size() - 1), "continued upstream after the restart");
            assertEquals(4, ((List<?>) at(json(call(p, "GET", "/api/chats/" + id, null).body()), "history", "messages")).size());
        }
    }

    @Test
    void concurrentTurnsOfOneConversation_runOneAtATime() throws Exception {
        String id = (String) json(call(proxy, "POST", "/api/chats", "{}").body()).get("chatId");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<HttpResponse<String>>> fs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int n = i;
            fs.add(pool.submit(() -> call(proxy, "POST", "/api/chat", "{\"chatId\":\"" + id + "\",\"message\":\"turn " + n + "\"}")));
        }
        for (Future<HttpResponse<String>> f : fs) assertEquals(200, f.get().statusCode(), f.get().body());
        pool.shutdown();
        List<?> msgs = (List<?>) at(json(call(proxy, "GET", "/api/chats/" + id, null).body()), "history", "messages");
        assertEquals(8, msgs.size());
        for (int i = 0; i < 8; i++) assertEquals(i % 2 == 0 ? "user" : "assistant", at(msgs.get(i), "role"), "never interleaved");
    }

    @Test
    void freeQwenCompatibilityRoutes() throws Exception {
        assertEquals("Hello from Qwen.", at(json(call(proxy, "POST", "/api/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}").body()), "choices", 0, "message", "content"));
        Map<String, Object> models = json(call(proxy, "GET", "/api/models", null).body());
        assertTrue(((List<?>) models.get("models")).size() > 0);
        assertEquals(true, json(call(proxy, "GET", "/api/status", null).body()).get("authenticated"));
    }
}
