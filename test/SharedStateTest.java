import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 16: two proxies, one account pool, through a real redis-server (the Debian package; .ci/run
 * installs it). Skipped, saying so, only where redis-server cannot be found.
 */
class SharedStateTest extends Fixture {
    Process redis;
    int port;

    void startRedis() throws Exception {
        redis = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        QwenProxy.Redis r = new QwenProxy.Redis(url());
        waitFor("redis-server", () -> {
            try {
                return "PONG".equals(r.call("PING"));
            } catch (java.io.IOException e) {
                return false;
            }
        });
        r.close();
    }

    void stopRedis() throws Exception {
        redis.destroy();
        assertTrue(redis.waitFor(5, TimeUnit.SECONDS));
    }

    String url() { return "redis://127.0.0.1:" + port; }

    @BeforeEach
    void redisUp() throws Exception {
        boolean installed = false;
        for (String d : System.getenv("PATH").split(":")) installed |= java.nio.file.Files.isExecutable(java.nio.file.Path.of(d, "redis-server"));
        Assumptions.assumeTrue(installed, "SKIPPED: redis-server is not installed (apt-get install redis-server); .ci/run installs it");
        try (ServerSocket s = new ServerSocket(0)) { port = s.getLocalPort(); }
        startRedis();
        fake.tokenTtlSeconds = 900;
        fake.refreshRefused.set(0);
    }

    @AfterEach
    void redisDown() throws Exception {
        fake.tokenTtlSeconds = 900;
        if (redis != null) stopRedis();
    }

    /** Requests on both proxies from four clients for `ms`; every answer that is not a 200 is kept. */
    static List<String> load(long ms, QwenProxy.Server a, QwenProxy.Server b, Runnable midway) throws Exception {
        ConcurrentLinkedQueue<String> failed = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        for (int t = 0; t < 4; t++) {
            int n = t;
            pool.execute(() -> {
                for (int i = 0; !stop.get(); i++) {
                    try {
                        HttpResponse<String> r = post((i + n) % 2 == 0 ? a : b, chat("qwen3.7-plus", i % 3 == 0, ""));
                        if (r.statusCode() != 200) failed.add(r.statusCode() + " " + r.body());
                    } catch (Exception e) {
                        failed.add(e.toString());
                    }
                }
            });
        }
        Thread.sleep(ms / 2);
        if (midway != null) midway.run();
        Thread.sleep(ms / 2);
        stop.set(true);
        pool.shutdown();
        assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        return List.copyOf(failed);
    }

    QwenProxy.Server proxy(String... extra) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("--redis", url(), "--chat-pool", "0", "--refresh-ahead-ms", "1500"));
        args.addAll(List.of(extra));
        return start(args.toArray(new String[0]));
    }

    @Test
    void twoInstancesShareARefreshTokenAccountOverSeveralTokenLifetimes() throws Exception {
        fake.tokenTtlSeconds = 3;                  // renewed 1.5 s before its end: a renewal every ~1.5 s
        try (QwenProxy.Server a = proxy("--refresh-token", "rt-0"); QwenProxy.Server b = proxy("--refresh-token", "rt-0")) {
            int before = fake.refreshes.get();
            List<String> failed = load(10_000, a, b, null);
            assertTrue(failed.isEmpty(), failed.size() + " requests failed, the first: " + (failed.isEmpty() ? "" : failed.get(0)));
            assertEquals(0, fake.refreshRefused.get(), "no instance ever used a refresh token the other had rotated");
            assertTrue(fake.refreshes.get() - before >= 4, "several token lifetimes: " + (fake.refreshes.get() - before) + " renewals");
        }
    }

    @Test
    void redisStoppedAndStartedMidRunLosesNothing() throws Exception {
        fake.tokenTtlSeconds = 10;        // renewed 4 s ahead: an outage of a few seconds lets no token expire
        try (QwenProxy.Server a = proxy("--refresh-token", "rt-0", "--refresh-ahead-ms", "4000");
             QwenProxy.Server b = proxy("--refresh-token", "rt-0", "--refresh-ahead-ms", "4000")) {
            List<String> failed = load(14_000, a, b, () -> {
                try {
                    stopRedis();
                    Thread.sleep(1000);
                    startRedis();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            assertTrue(failed.isEmpty(), failed.size() + " requests failed, the first: " + (failed.isEmpty() ? "" : failed.get(0)));
            assertEquals(0, fake.refreshRefused.get());
            assertTrue(logs.toString().contains("cannot be reached") && logs.toString().contains("is back"), "the outage was noticed and the recovery too");
            String id = a.accounts.all.get(0).id;
            waitFor("the state back in Redis", () -> new QwenProxy.Redis(url()).call("GET", "qwenproxy:account:" + id) instanceof String);
        }
    }

    @Test
    void aClientKeyOfOneInstanceWorksOnAllWhileItIsConfigured() throws Exception {
        java.nio.file.Path keys = scratchDir().resolve("keys.txt");
        java.nio.file.Files.writeString(keys, "sk-team-a\n");
        try (QwenProxy.Server a = proxy("--token", FakeQwen.TOKEN, "--api-keys-file", keys.toString());
             QwenProxy.Server b = proxy("--token", FakeQwen.TOKEN, "--api-key", "sk-team-b")) {
            waitFor("a's key on b", () -> post(b, chat("qwen3.7-plus", false, ""), "Authorization", "Bearer sk-team-a").statusCode() == 200);
            waitFor("b's key on a", () -> post(a, chat("qwen3.7-plus", false, ""), "Authorization", "Bearer sk-team-b").statusCode() == 200);
            assertEquals(401, post(b, chat("qwen3.7-plus", false, ""), "Authorization", "Bearer sk-nobody").statusCode());
            java.nio.file.Files.writeString(keys, "sk-team-c\n");          // a's key revoked
            a.reload();
            long t0 = System.currentTimeMillis();        // it expires within API_KEY_TTL_MS (10 s)
            while (post(b, chat("qwen3.7-plus", false, ""), "Authorization", "Bearer sk-team-a").statusCode() != 401) {
                assertTrue(System.currentTimeMillis() - t0 < 13_000, "the revoked key still works on b");
                Thread.sleep(200);
            }
        }
    }

    @Test
    void anAccountCooledByOneIsCoolingForTheOther() throws Exception {
        try (QwenProxy.Server a = proxy("--token", FakeQwen.TOKEN); QwenProxy.Server b = proxy("--token", FakeQwen.TOKEN)) {
            fake.next((ex, chat, rid) -> FakeQwen.json(ex, 200, FakeQwen.rateLimited(2)));
            assertEquals(429, post(a, chat("qwen3.7-plus", false, "")).statusCode());
            waitFor("the other instance to see it", () -> b.accounts.all.get(0).state == QwenProxy.State.COOLING);
            HttpResponse<String> r = post(b, chat("qwen3.7-plus", false, ""));
            assertEquals(429, r.statusCode(), "the other instance does not spend the account's limit again");
            long retry = Long.parseLong(r.headers().firstValue("Retry-After").orElse("0"));
            assertTrue(retry > 7000 && retry <= 7200, "the same cooldown: " + retry);
        }
    }

    @Test
    void accountsAddedAndConversationsAreEveryInstances() throws Exception {
        try (QwenProxy.Server a = proxy(); QwenProxy.Server b = proxy()) {
            HttpResponse<String> added = call(a, "POST", "/admin/accounts", "{\"refresh_token\":\"rt-0\"}");
            assertEquals(201, added.statusCode(), added.body());
            String id = String.valueOf(json(added.body()).get("id"));
            waitFor("the account on the other instance", () -> b.accounts.find(id) != null);
            assertEquals(200, post(b, chat("qwen3.7-plus", false, "")).statusCode(), "the other instance serves it, with the rotated token");
            assertEquals(0, fake.refreshRefused.get());
            HttpResponse<String> first = call(a, "POST", "/api/chat", "{\"message\":\"Hi\",\"model\":\"qwen3.7-plus\"}");
            assertEquals(200, first.statusCode(), first.body());
            String chat = String.valueOf(json(first.body()).get("chatId"));
            HttpResponse<String> next = call(b, "POST", "/api/chat", "{\"message\":\"And again\",\"chatId\":\"" + chat + "\"}");
            assertEquals(200, next.statusCode(), "a conversation goes on on another instance: " + next.body());
            HttpResponse<String> seen = get(a, "/api/chats/" + chat);
            assertEquals(4, ((List<?>) at(json(seen.body()), "history", "messages")).size(), seen.body());
            assertEquals(200, call(b, "DELETE", "/admin/accounts/" + id, null).statusCode());
            waitFor("the removal on the first instance", () -> a.accounts.find(id) == null);
        }
    }

    @Test
    void storedResponsesAndVideoJobsAreEveryInstances() throws Exception {
        try (QwenProxy.Server a = proxy("--token", FakeQwen.TOKEN); QwenProxy.Server b = proxy("--token", FakeQwen.TOKEN)) {
            HttpResponse<String> first = call(a, "POST", "/v1/responses", "{\"model\":\"qwen3.7-plus\",\"input\":\"Remember the word kiwi\"}");
            assertEquals(200, first.statusCode(), first.body());
            String id = String.valueOf(json(first.body()).get("id"));
            assertEquals(id, json(get(b, "/v1/responses/" + id).body()).get("id"), "stored where every instance finds it");
            HttpResponse<String> next = call(b, "POST", "/v1/responses", "{\"model\":\"qwen3.7-plus\",\"input\":\"Which word?\",\"previous_response_id\":\"" + id + "\"}");
            assertEquals(200, next.statusCode(), next.body());
            String sent = QwenProxy.Json.write(fake.completionBodies.get(fake.completionBodies.size() - 1));
            assertTrue(sent.contains("kiwi") && sent.contains("Which word?"), "the other instance continued the stored exchange: " + sent);
            assertEquals(200, call(a, "DELETE", "/v1/responses/" + id, null).statusCode());
            assertEquals(404, get(b, "/v1/responses/" + id).statusCode(), "deleted at one instance, gone at all");

            String video = String.valueOf(json(call(a, "POST", "/v1/videos", "{\"prompt\":\"A cat surfing\",\"size\":\"720x1280\"}").body()).get("id"));
            waitFor("the job done, seen from the other instance", () -> "completed".equals(json(get(b, "/v1/videos/" + video).body()).get("status")));
            assertEquals(302, get(b, "/v1/videos/" + video + "/content").statusCode(), "its content, from the other instance");
            assertTrue(get(b, "/v1/videos").body().contains(video), "listed by the other instance");
            assertEquals(200, call(b, "DELETE", "/v1/videos/" + video, null).statusCode());
            assertEquals(404, get(a, "/v1/videos/" + video).statusCode(), "deleted at one instance, gone at the one that ran it");
            assertFalse(get(a, "/v1/videos").body().contains(video));

            stopRedis();            // a job made while Redis is away stays the instance's own, also once Redis is back
            String offline = String.valueOf(json(call(a, "POST", "/v1/videos", "{\"prompt\":\"A dog\",\"size\":\"720x1280\"}").body()).get("id"));
            startRedis();
            waitFor("the first instance sees Redis again", () -> !a.shared.down());
            waitFor("the job done", () -> "completed".equals(json(get(a, "/v1/videos/" + offline).body()).get("status")));
            assertTrue(get(a, "/v1/videos").body().contains(offline));
        }
    }
}
