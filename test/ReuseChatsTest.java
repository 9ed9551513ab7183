import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** --reuse-chats: a /v1 conversation that extends one the proxy answered goes on upstream with only its new turns (§9). */
class ReuseChatsTest extends Fixture {

    @BeforeAll
    static void startProxy() throws Exception { proxy = withToken("--reuse-chats", "--chat-pool", "0"); }

    @BeforeEach
    void reset() {
        fake.completionBodies.clear();
        fake.completionSizes.clear();
    }

    static String msg(String role, String content) { return "{\"role\":\"" + role + "\",\"content\":" + QwenProxy.Json.write(content) + "}"; }

    static String ask(List<String> messages) { return "{\"model\":\"qwen3.7-plus\",\"messages\":[" + String.join(",", messages) + "]}"; }

    static Map<String, Object> last() { return fake.completionBodies.get(fake.completionBodies.size() - 1); }

    @Test
    void theNextTurnGoesOnInTheSameChat_andAnEditedHistoryIsFlattened() throws Exception {
        List<String> m = new ArrayList<>(List.of(msg("system", "Be brief."), msg("user", "My name is Ada.")));
        String answer = (String) at(json(post(proxy, ask(m)).body()), "choices", 0, "message", "content");
        String chat = (String) last().get("chat_id");
        m.add(msg("assistant", answer));
        m.add(msg("user", "What is my name?"));
        assertEquals(200, post(proxy, ask(m)).statusCode());
        assertEquals("What is my name?", at(last(), "messages", 0, "content"), "only the new turn");
        assertEquals(chat, last().get("chat_id"));
        assertNotEquals(QwenProxy.Json.NULL, last().get("parent_id"));
        assertFalse(fake.deleted.contains(chat), "kept for the next turn");

        List<String> edited = new ArrayList<>(m.subList(0, 2));
        edited.add(msg("assistant", "Something I never said."));
        edited.add(msg("user", "And now?"));
        assertEquals(200, post(proxy, ask(edited)).statusCode());
        String flat = (String) at(last(), "messages", 0, "content");
        assertTrue(flat.startsWith("System: Be brief.") && flat.endsWith("User: And now?"), flat);
        assertEquals(QwenProxy.Json.NULL, last().get("parent_id"));
    }

    @Test
    void keptChatsAreDeletedAtStop() throws Exception {
        String chat;
        try (QwenProxy.Server p = withToken("--reuse-chats", "--chat-pool", "0")) {
            assertEquals(200, post(p, ask(List.of(msg("user", "Hello")))).statusCode());
            chat = (String) last().get("chat_id");
            assertFalse(fake.deleted.contains(chat), "kept while the proxy runs");
        }
        assertTrue(fake.deleted.contains(chat), "deleted when it stops");
    }

    @Test
    void aStreamedAnswerAndAToolCallAreRecognisedToo() throws Exception {
        String tools = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\","
                + "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}]";
        String first = "{\"model\":\"qwen3.7-plus\",\"stream\":true," + tools + ",\"messages\":[" + msg("user", "Weather in Paris?") + "]}";
        String id = null, args = null;
        for (String e : events(post(proxy, first).body())) {
            if (e.equals("[DONE]")) continue;
            Object i = at(json(e), "choices", 0, "delta", "tool_calls", 0, "id"), a = at(json(e), "choices", 0, "delta", "tool_calls", 0, "function", "arguments");
            if (i != null) id = (String) i;
            if (a != null && !((String) a).isEmpty()) args = (String) a;
        }
        assertNotNull(id, "the fake's agent called the tool");
        String chat = (String) last().get("chat_id");
        String second = "{\"model\":\"qwen3.7-plus\"," + tools + ",\"messages\":[" + msg("user", "Weather in Paris?") + ",{\"role\":\"assistant\",\"content\":null,"
                + "\"tool_calls\":[{\"id\":\"" + id + "\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":" + QwenProxy.Json.write(args)
                + "}}]},{\"role\":\"tool\",\"tool_call_id\":\"" + id + "\",\"content\":\"18C\"}]}";
        assertEquals(200, post(proxy, second).statusCode());
        assertEquals(chat, last().get("chat_id"));
        assertTrue(((String) at(last(), "messages", 0, "content")).startsWith("Tool (" + id + ", get_weather):\n<tool_response>\n18C"),
                (String) at(last(), "messages", 0, "content"));
    }

    /** The measurement the README reports: upstream bytes per turn over a 30-turn conversation, with and without reuse. */
    @Test
    void thirtyTurns_sendAboutTheSameBytesPerTurn_insteadOfAGrowingHistory() throws Exception {
        long[] sizes = new long[2], lastTurn = new long[2];
        for (int mode = 0; mode < 2; mode++) {
            try (QwenProxy.Server p = mode == 0 ? withToken("--chat-pool", "0") : withToken("--chat-pool", "0", "--reuse-chats")) {
                fake.completionSizes.clear();
                List<String> m = new ArrayList<>(List.of(msg("system", "You are a helpful assistant. " + "Answer carefully. ".repeat(40))));
                for (int turn = 1; turn <= 30; turn++) {
                    m.add(msg("user", "Turn " + turn + ": tell me one more fact about Paris, please."));
                    String answer = (String) at(json(post(p, ask(m)).body()), "choices", 0, "message", "content");
                    m.add(msg("assistant", answer));
                }
                long total = 0;
                for (int s : fake.completionSizes) total += s;
                sizes[mode] = total;
                lastTurn[mode] = fake.completionSizes.get(29);
                System.out.printf("reuse-chats %s: 30 turns, %d upstream bytes (%d per turn, the last turn %d)%n", mode == 0 ? "off" : "on",
                        total, total / 30, fake.completionSizes.get(29));
            }
        }
        assertTrue(sizes[1] * 2 < sizes[0], "with reuse the conversation costs a fraction: " + sizes[1] + " vs " + sizes[0]);
        assertTrue(lastTurn[1] * 4 < lastTurn[0], "and a late turn no longer carries the history: " + lastTurn[1] + " vs " + lastTurn[0]);
    }
}
