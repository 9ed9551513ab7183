import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/** Admin API, hot-reloaded files, readiness and password accounts (issue 3). */
class AdminTest extends Fixture {
    @BeforeEach
    void reset() {
        fake.signinV2 = true;
    }

    /** A request with the given key as its bearer token (null: none). */
    static HttpResponse<String> as(String key, QwenProxy.Server p, String method, String path, String body) throws Exception {
        return key == null ? call(p, method, path, body) : call(p, method, path, body, "Authorization", "Bearer " + key);
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> accounts(QwenProxy.Server p, String key) throws Exception {
        return (List<Map<String, Object>>) json(as(key, p, "GET", "/admin/accounts", null).body()).get("data");
    }

    @Test
    void adminApi_isGuardedByTheAdminKey() throws Exception {
        try (QwenProxy.Server p = start("--token", FakeQwen.TOKEN, "--api-key", "client-1,client-2", "--admin-key", "boss")) {
            assertEquals(401, as(null, p, "GET", "/admin/accounts", null).statusCode());
            HttpResponse<String> client = as("client-1", p, "GET", "/admin/accounts", null);
            assertEquals(403, client.statusCode());
            assertEquals("admin_forbidden", errorOf(client).get("code"));
            assertEquals(200, as("boss", p, "GET", "/admin/accounts", null).statusCode());
            assertEquals(200, as("boss", p, "GET", "/api/accountsHealth", null).statusCode(), "Qwen2API alias");
            assertEquals(200, as(null, p, "GET", "/healthz", null).statusCode());
            assertEquals("{\"valid\":true}", as(null, p, "POST", "/verify", "{\"apiKey\":\"client-2\"}").body());
            assertEquals("{\"valid\":false}", as(null, p, "POST", "/verify", "{\"apiKey\":\"nope\"}").body());
        }
        try (QwenProxy.Server q = start("--token", FakeQwen.TOKEN, "--api-key", "first,second")) {
            assertEquals(200, as("first", q, "GET", "/admin/status", null).statusCode(), "the first client key is the admin key");
            assertEquals(403, as("second", q, "GET", "/admin/status", null).statusCode());
        }
    }

    @Test
    void adminApi_listsAddsRefreshesAndDeletesAccounts() throws Exception {
        try (QwenProxy.Server p = start("--token", FakeQwen.TOKEN)) {
            List<Map<String, Object>> list = accounts(p, null);    // no keys on loopback: open to local requests
            assertEquals(1, list.size());
            Map<String, Object> first = list.get(0);
            assertEquals("token", first.get("kind"));
            assertEquals("OK", first.get("state"));
            assertEquals(FakeQwen.TOKEN.substring(0, 6) + "…", first.get("token"));
            assertFalse(as(null, p, "GET", "/admin/accounts", null).body().contains(FakeQwen.TOKEN), "never a whole secret");

            HttpResponse<String> bad = as(null, p, "POST", "/admin/accounts", "{\"token\":\"eyJnot.valid.token\"}");
            assertEquals(400, bad.statusCode());
            assertEquals("invalid_account", errorOf(bad).get("code"));
            fake.guestModels = true;     // a model list that answers anyone proves nothing about a token
            try {
                for (String body : List.of("{\"token\":\"" + FakeQwen.jwt(System.currentTimeMillis() / 1000 + 900, 0) + "\"}",
                        "{\"refresh_token\":\"rt-revoked\"}", "{\"email\":\"" + FakeQwen.EMAIL + "\",\"password\":\"wrong\"}",
                        "{\"cookie\":\"token=" + FakeQwen.jwt(System.currentTimeMillis() / 1000 + 900, 0) + "; cna=x\"}")) {
                    HttpResponse<String> refused = as(null, p, "POST", "/api/addAccount", body);
                    assertEquals(400, refused.statusCode(), body + " -> " + refused.body());
                    assertEquals("invalid_account", errorOf(refused).get("code"));
                    assertTrue(((String) errorOf(refused).get("message")).startsWith("Qwen did not accept this account: "));
                    assertEquals(1, accounts(p, null).size(), "nothing stored");
                }
            } finally {
                fake.guestModels = false;
            }
            HttpResponse<String> asCookie = as(null, p, "POST", "/admin/accounts", "{\"cookie\":\"token=" + FakeQwen.TOKEN2 + "; cna=x\"}");
            assertEquals(201, asCookie.statusCode(), asCookie.body());
            HttpResponse<String> again = as(null, p, "POST", "/admin/accounts", "{\"token\":\"" + FakeQwen.TOKEN2 + "\"}");
            assertEquals(409, again.statusCode(), "the same Qwen user as a token after a cookie: " + again.body());
            assertEquals("account_exists", errorOf(again).get("code"));
            assertEquals(200, as(null, p, "DELETE", "/admin/accounts/" + json(asCookie.body()).get("id"), null).statusCode());
            HttpResponse<String> viaPassword = as(null, p, "POST", "/admin/accounts", "{\"email\":\"" + FakeQwen.EMAIL + "\",\"password\":\"" + FakeQwen.PASSWORD + "\"}");
            assertEquals(201, viaPassword.statusCode(), viaPassword.body());
            assertEquals("OK", json(viaPassword.body()).get("state"));
            assertEquals(200, as(null, p, "DELETE", "/admin/accounts/" + json(viaPassword.body()).get("id"), null).statusCode());

            HttpResponse<String> added = as(null, p, "POST", "/admin/accounts", "{\"refresh_token\":\"rt-0\"}");
            assertEquals(201, added.statusCode(), added.body());
            String id = (String) json(added.body()).get("id");
            assertEquals(2, accounts(p, null).size());
            assertEquals(409, as(null, p, "POST", "/api/addAccount", "{\"token\":\"" + FakeQwen.TOKEN + "\"}").statusCode());

            int before = fake.refreshes.get(), secrets = QwenProxy.Log.secretCount();
            HttpResponse<String> renewed = as(null, p, "POST", "/admin/accounts/" + id + "/refresh", null);
            assertEquals(200, renewed.statusCode(), renewed.body());
            assertEquals(before + 1, fake.refreshes.get());
            for (int i = 0; i < 5; i++) assertEquals(200, as(null, p, "POST", "/admin/accounts/" + id + "/refresh", null).statusCode());
            assertEquals(secrets, QwenProxy.Log.secretCount(), "rotated-away tokens leave the redaction list: it does not grow with renewals");
            assertEquals(400, as(null, p, "POST", "/admin/accounts/" + first.get("id") + "/refresh", null).statusCode(), "a bare token cannot renew");

            assertEquals(200, as(null, p, "DELETE", "/admin/accounts/" + id, null).statusCode());
            assertEquals(404, as(null, p, "DELETE", "/api/deleteAccount/" + id, null).statusCode());
            assertEquals(1, accounts(p, null).size());

            Map<String, Object> status = json(as(null, p, "GET", "/admin/status", null).body());
            assertEquals("QwenProxy", status.get("name"));
            assertEquals("1", at(status, "accounts", "OK").toString());
            assertFalse(status.toString().contains(FakeQwen.TOKEN));
        }
    }

    @Test
    void readyz_followsTheUsableAccounts() throws Exception {
        QwenProxy.Server p = start("--token", FakeQwen.TOKEN);
        try {
            assertEquals(200, as(null, p, "GET", "/readyz", null).statusCode());
            fake.rateLimitedTokens.add(FakeQwen.TOKEN);
            assertEquals(429, post(p, chat("qwen3.7-plus", false, "")).statusCode());
            HttpResponse<String> r = as(null, p, "GET", "/readyz", null);
            assertEquals(503, r.statusCode());
            assertEquals("no_available_accounts", errorOf(r).get("code"));
        } finally {
            fake.rateLimitedTokens.clear();
            p.stop();
        }
        try (QwenProxy.Server none = start()) {
            assertEquals(503, as(null, none, "GET", "/readyz", null).statusCode());
            assertEquals(200, as(null, none, "GET", "/healthz", null).statusCode());
        }
    }

    @Test
    void passwordAccounts_signInWithTheSha256AndFallBackToV1() throws Exception {
        fake.signinV2 = false;                       // v2 answers 404: the v1 endpoint must be used
        try (QwenProxy.Server p = start("--account", FakeQwen.EMAIL + ":" + FakeQwen.PASSWORD)) {
            assertEquals(200, post(p, chat("qwen3.7-plus", false, "")).statusCode());
            assertEquals("password", accounts(p, null).get(0).get("kind"));
            assertFalse(logs.toString(StandardCharsets.UTF_8).contains(FakeQwen.PASSWORD));
        }
        try (QwenProxy.Server wrong = start("--account", FakeQwen.EMAIL + ":wrong")) {
            HttpResponse<String> r = post(wrong, chat("qwen3.7-plus", false, ""));
            assertEquals(503, r.statusCode());
            assertTrue(((String) errorOf(r).get("message")).contains("sign-in refused"));
        }
    }

    @Test
    void files_areReloadedUnderTrafficWithoutFailingRequests() throws Exception {
        Path dir = scratchDir();
        Path accountsFile = dir.resolve("accounts.txt"), keysFile = dir.resolve("keys.txt");
        Files.writeString(accountsFile, "# my accounts\n" + FakeQwen.TOKEN + "\n");
        Files.writeString(keysFile, "key-a\n");
        QwenProxy.Server p = start("--accounts-file", accountsFile.toString(), "--api-keys-file", keysFile.toString(), "--admin-key", "boss");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        AtomicBoolean stop = new AtomicBoolean();
        try {
            assertEquals(1, accounts(p, "boss").size());
            List<Future<Integer>> failures = new ArrayList<>();
            for (int i = 0; i < 4; i++) failures.add(pool.submit(() -> {
                int bad = 0;
                while (!stop.get()) {
                    String key = p.apiKeys.contains("key-b") ? "key-b" : "key-a";
                    int code = post(p, chat("qwen3.7-plus", true, ""), "Authorization", "Bearer " + key).statusCode();
                    if (code != 200 && code != 401) bad++;
                }
                return bad;
            }));
            Files.writeString(accountsFile, FakeQwen.TOKEN + "\nrefresh=rt-0\n" + FakeQwen.EMAIL + ":" + FakeQwen.PASSWORD + "\n");
            Files.writeString(keysFile, "key-a\nkey-b\n");
            waitFor("the reload", () -> accounts(p, "boss").size() == 3 && p.apiKeys.contains("key-b"));
            Files.writeString(accountsFile, FakeQwen.TOKEN2 + "\n");
            Files.writeString(keysFile, "key-b\n");
            waitFor("the reload", () -> accounts(p, "boss").size() == 1 && !p.apiKeys.contains("key-a"));
            Thread.sleep(300);
            stop.set(true);
            for (Future<Integer> f : failures) assertEquals(0, f.get(), "no request failed while the files changed");
            assertEquals(401, post(p, chat("qwen3.7-plus", false, ""), "Authorization", "Bearer key-a").statusCode());
            assertEquals(200, post(p, chat("qwen3.7-plus", false, ""), "Authorization", "Bearer key-b").statusCode());
            Map<String, Object> status = json(as("boss", p, "POST", "/admin/reload", null).body());
            assertEquals(accountsFile.toString(), at(status, "files", "accounts_file", "path"));
        } finally {
            stop.set(true);
            pool.shutdownNow();
            p.stop();
        }
    }

    @Test
    void login_signsInAndStoresTheAccountForTheNextStart() throws Exception {
        String dir = tempDir();
        QwenProxy.Config cfg = QwenProxy.Config.load(new String[]{"--base-url", fake.url(), "--data-dir", dir}, Map.of());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = QwenProxy.Login.run(cfg, new java.io.BufferedReader(new java.io.StringReader(FakeQwen.EMAIL + "\n" + FakeQwen.PASSWORD + "\n")),
                null, new PrintStream(out, true, StandardCharsets.UTF_8));
        assertEquals(0, rc, out.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("Signed in as " + FakeQwen.EMAIL));
        String saved = Files.readString(Path.of(dir, "accounts.json"));
        assertFalse(saved.contains(FakeQwen.PASSWORD), "only the sha256 the sign-in takes is kept");
        try (QwenProxy.Server p = start("--data-dir", dir)) {
            assertEquals(200, post(p, chat("qwen3.7-plus", false, "")).statusCode());
            assertEquals("login", accounts(p, null).get(0).get("source"));
        }
        ByteArrayOutputStream bad = new ByteArrayOutputStream();
        assertEquals(2, QwenProxy.Login.run(cfg, new java.io.BufferedReader(new java.io.StringReader(FakeQwen.EMAIL + "\nwrong\n")),
                null, new PrintStream(bad, true, StandardCharsets.UTF_8)));
        assertTrue(bad.toString(StandardCharsets.UTF_8).contains("login failed: Qwen refused the sign-in"));
    }

    @Test
    void accountConcurrency_capsRequestsPerAccount() throws Exception {
        try (QwenProxy.Server p = start("--token", FakeQwen.TOKEN, "--account-concurrency", "1")) {
            Object[] slow = {FakeQwen.delta("$RID", "slow", "answer", "typing", 1), 1500L, FakeQwen.finished("$RID", "answer")};
            scriptOn(fake, slow);
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                int before = fake.completionBodies.size();
                Future<HttpResponse<String>> first = pool.submit(() -> post(p, chat("qwen3.7-plus", false, "")));
                waitFor("the first request upstream", () -> fake.completionBodies.size() > before);   // the first holds the account's one slot
                HttpResponse<String> second = post(p, chat("qwen3.7-plus", false, ""));
                assertEquals(429, second.statusCode());
                assertEquals("1", second.headers().firstValue("Retry-After").orElse(""));
                assertTrue(second.headers().firstValue("x-should-retry").isEmpty(), "a short wait: the SDKs may retry");
                assertEquals(200, first.get().statusCode());
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
