import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Warm chats: chats created ahead, so a request goes straight to the completion (one round trip). */
class WarmChatsTest extends Fixture {
    @AfterEach
    void restore() { QwenProxy.ChatPool.maxAgeMs = 600_000; }

    static String lastChatId() { return (String) fake.completionBodies.get(fake.completionBodies.size() - 1).get("chat_id"); }

    /** The number of warm chats the proxy has recorded in its data directory. */
    static int recorded(String dataDir) throws Exception {
        Path f = Path.of(dataDir, "warm-chats.json");
        return Files.exists(f) ? ((List<?>) json(Files.readString(f)).get("chats")).size() : 0;
    }

    /** After a first request, the id of the one warm chat a --chat-pool 1 proxy made for the next. */
    static String oneWarmChat(QwenProxy.Server p, String data) throws Exception {
        assertEquals(200, post(p, chat("qwen3.7-plus", false, "")).statusCode());
        waitFor("a warm chat", () -> recorded(data) == 1);
        return (String) obj(((List<?>) json(Files.readString(Path.of(data, "warm-chats.json"))).get("chats")).get(0)).get("chat_id");
    }

    @Test
    void theSecondRequestUsesAChatMadeBeforeIt_andStopDeletesTheRest() throws Exception {
        String data = tempDir();
        QwenProxy.Server p = withToken("--data-dir", data, "--chat-pool", "2");
        List<String> pooled;
        try {
            assertEquals(200, post(p, chat("qwen3.7-plus", false, "")).statusCode());
            waitFor("two warm chats", () -> recorded(data) == 2);
            long sent = System.nanoTime();
            for (boolean stream : List.of(false, true)) {
                assertEquals(200, post(p, chat("qwen3.7-plus", stream, "")).statusCode());
                assertTrue(fake.chatCreatedAt.get(lastChatId()) < sent, "the completion went to a chat created before the request");
            }
            waitFor("the pool refilled", () -> recorded(data) == 2);
            pooled = new java.util.ArrayList<>();
            for (Object o : (List<?>) json(Files.readString(Path.of(data, "warm-chats.json"))).get("chats")) pooled.add((String) obj(o).get("chat_id"));
        } finally {
            p.stop();
        }
        assertTrue(fake.deleted.containsAll(pooled), "stop deletes the chats that were never used");
        assertEquals(0, recorded(data));
    }

    @Test
    void withoutThePool_eachRequestCreatesItsChat() throws Exception {
        try (QwenProxy.Server p = withToken("--chat-pool", "0")) {
            for (int i = 0; i < 2; i++) {
                long sent = System.nanoTime();
                assertEquals(200, post(p, chat("qwen3.7-plus", false, "")).statusCode());
                assertTrue(fake.chatCreatedAt.get(lastChatId()) > sent);
            }
        }
    }

    @Test
    void aChatOlderThanTheLimitIsDeletedNotUsed() throws Exception {
        String data = tempDir();
        try (QwenProxy.Server p = withToken("--data-dir", data, "--chat-pool", "1")) {
            String old = oneWarmChat(p, data);
            QwenProxy.ChatPool.maxAgeMs = 0;
            long sent = System.nanoTime();
            assertEquals(200, post(p, chat("qwen3.7-plus", false, "")).statusCode());
            assertTrue(fake.chatCreatedAt.get(lastChatId()) > sent, "a fresh chat instead of the stale one");
            waitFor("the stale chat deleted", () -> fake.deleted.contains(old));
        }
    }

    @Test
    void aStartAfterACrashDeletesTheChatsTheLastRunLeft() throws Exception {
        String data = tempDir();
        String account = new QwenProxy.Account("token", FakeQwen.TOKEN, null, null).id;
        Files.createDirectories(Path.of(data));
        Files.writeString(Path.of(data, "warm-chats.json"), QwenProxy.Json.write(Map.of("chats", List.of(
                Map.of("account", account, "upstream", fake.url(), "chat_id", "left-behind-1"),
                Map.of("account", "tok-00000000", "upstream", fake.url(), "chat_id", "not-ours")))));
        try (QwenProxy.Server p = withToken("--data-dir", data)) {
            waitFor("the left-behind chat deleted", () -> fake.deleted.contains("left-behind-1"));
            assertEquals(0, recorded(data), "the record is cleared");
        }
        assertFalse(fake.deleted.contains("not-ours"), "a chat of an account that is not here is not touched");
    }

    @Test
    void aWarmChatTheUpstreamNoLongerKnows_isReplacedByANewOne() throws Exception {
        String data = tempDir();
        try (QwenProxy.Server p = withToken("--data-dir", data, "--chat-pool", "1")) {
            String warm = oneWarmChat(p, data);
            fake.chats.remove(warm);          // deleted in the web client meanwhile
            long sent = System.nanoTime();
            HttpResponse<String> r = post(p, chat("qwen3.7-plus", true, ""));
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("\"content\":\"lo from\""), r.body());
            assertTrue(fake.chatCreatedAt.get(lastChatId()) > sent, "answered in a chat made for it");
            waitFor("both chats deleted after the reply", () -> fake.deleted.contains(warm) && fake.deleted.contains(lastChatId()));
        }
    }
}
