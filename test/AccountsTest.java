import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Accounts that stay alive (issue 3): renewal, rotation, failover, states. */
class AccountsTest extends Fixture {
    @BeforeEach
    void reset() {
        fake.tokenTtlSeconds = 900;
        fake.rateLimitedTokens.clear();
        fake.blockedTokens.clear();
        fake.refreshes.set(0);
        fake.rejected.set(0);
    }

    static HttpResponse<String> ask(QwenProxy.Server p) throws Exception {
        return post(p, chat("qwen3.7-plus", false, ""));
    }

    /** The bearer tokens the fake saw on completions, in order. */
    static List<String> tokensUsed() {
        List<String> out = new ArrayList<>();
        for (Map<String, List<String>> h : fake.completionHeaders) out.add(h.get("Authorization").get(0).substring(7));
        return out;
    }

    @Test
    void refreshTokenAlone_servesRequestsAcrossShortTokenLifetimes() throws Exception {
        fake.tokenTtlSeconds = 2;
        try (QwenProxy.Server p = start("--refresh-token", "rt-0", "--refresh-ahead-ms", "1000")) {
            assertTrue(p.banner().contains("1 account (refresh: 1)"), p.banner());
            long end = System.currentTimeMillis() + 4500;
            int n = 0;
            while (System.currentTimeMillis() < end) {
                HttpResponse<String> r = ask(p);
                assertEquals(200, r.statusCode(), r.body());
                n++;
                Thread.sleep(150);
            }
            assertTrue(n > 10);
            assertTrue(fake.refreshes.get() >= 3, "renewed at start and before each expiry: " + fake.refreshes.get());
            assertEquals(0, fake.rejected.get(), "no request ever carried an expired token");
            assertTrue(new HashSet<>(tokensUsed()).size() >= 3);
            assertFalse(fake.refreshToken.equals("rt-0"), "the rotated refresh token was used for the next renewal");
        }
    }

    @Test
    void aRejectedTokenIsRenewedAndTheRequestRetriedOnTheSameAccount() throws Exception {
        QwenProxy.Server p = start("--cookie", "cna=abc; refresh_token=rt-0");
        try {
            assertEquals(1, fake.refreshes.get(), "the first access token is fetched at startup");
            fake.issued.clear();          // Qwen revokes every token it issued
            fake.rejected.set(0);
            HttpResponse<String> r = ask(p);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(2, fake.refreshes.get());
            assertEquals(1, fake.rejected.get(), "the revoked token was refused once, then the request went through");
            String cookie = fake.completionHeaders.get(0).get("Cookie").get(0);
            assertTrue(cookie.startsWith("cna=abc; token=eyJ"), cookie);
            assertFalse(cookie.contains("refresh_token"), "the refresh token only goes to the auth endpoint");
        } finally {
            p.stop();
        }
    }

    @Test
    void theModelListRenewsAnExpiredTokenToo() throws Exception {
        String stale = FakeQwen.jwt(System.currentTimeMillis() / 1000 + 3600, System.currentTimeMillis() / 1000);
        QwenProxy.Server p = start("--cookie", "token=" + stale + "; refresh_token=rt-0");
        try {
            assertEquals(1, fake.refreshes.get());
            assertTrue(p.models.fromUpstream(), "the list came from Qwen after the renewal");
        } finally {
            p.stop();
        }
    }

    @Test
    void theFirstRequestAfterStartWaitsForTheFirstRenewal() throws Exception {
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) { port = free.getLocalPort(); }
        fake.refreshDelayMs = 1500;
        java.util.concurrent.ExecutorService bg = java.util.concurrent.Executors.newSingleThreadExecutor();
        java.util.concurrent.Future<QwenProxy.Server> starting = bg.submit(() -> start("--refresh-token", "rt-0", "--port", "" + port));
        QwenProxy.Server p = null;
        try {
            String base = "http://127.0.0.1:" + port;
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            HttpResponse<String> ready = null;
            for (long end = System.currentTimeMillis() + 5000; ready == null && System.currentTimeMillis() < end; ) {
                try {
                    ready = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/readyz")).build(),
                            HttpResponse.BodyHandlers.ofString());
                } catch (java.io.IOException notYet) {
                    Thread.sleep(20);
                }
            }
            assertNotNull(ready);
            assertEquals(503, ready.statusCode(), "not ready while no account holds a token");
            assertFalse(starting.isDone(), "the first renewal is still on its way");
            HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v1/chat/completions"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(chat("qwen3.7-plus", false, ""))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            p = starting.get();
            assertEquals(200, get(p, "/readyz").statusCode());
        } finally {
            fake.refreshDelayMs = 0;
            if (p == null) p = starting.get();
            p.stop();
            bg.shutdown();
        }
    }

    @Test
    void anAccountWithoutATokenIsNeverDescribedAsOk() throws Exception {
        fake.refreshDelayMs = 0;
        QwenProxy.Server p = start("--refresh-token", "rt-0", "--auth-base-url", "http://127.0.0.1:9");   // nothing listens there
        try {
            HttpResponse<String> r = ask(p);
            assertEquals(503, r.statusCode());
            String msg = (String) errorOf(r).get("message");
            assertTrue(msg.contains("has no token yet (renewal failed: Cannot reach Qwen"), msg);
            assertFalse(msg.contains(" OK"), msg);
        } finally {
            p.stop();
        }
    }

    @Test
    void aRefusedRefreshTokenMakesTheAccountInvalidWithAClearMessage() throws Exception {
        try (QwenProxy.Server p = start("--refresh-token", "rt-wrong")) {
            HttpResponse<String> r = ask(p);
            assertEquals(503, r.statusCode());
            Map<String, Object> e = errorOf(r);
            assertEquals("no_available_accounts", e.get("code"));
            assertTrue(((String) e.get("message")).contains("INVALID (refresh token rejected"), (String) e.get("message"));
            assertFalse(logs.toString(StandardCharsets.UTF_8).contains("rt-wrong"), "refresh tokens are secrets too");
            Map<String, Object> view = AdminTest.accounts(p, null).get(0);
            assertEquals("INVALID", view.get("state"));
            assertTrue(((String) view.get("reason")).startsWith("refresh token rejected"), (String) view.get("reason"));
        }
    }

    @Test
    void roundRobinSpreadsRequestsAndFillFirstDoesNot() throws Exception {
        try (QwenProxy.Server p = start("--token", FakeQwen.TOKEN + "," + FakeQwen.TOKEN2)) {
            for (int i = 0; i < 4; i++) assertEquals(200, ask(p).statusCode());
            assertEquals(Set.of(FakeQwen.TOKEN, FakeQwen.TOKEN2), new HashSet<>(tokensUsed()));
            assertEquals(2, tokensUsed().stream().filter(FakeQwen.TOKEN::equals).count());
        }
        fake.completionHeaders.clear();
        try (QwenProxy.Server f = start("--token", FakeQwen.TOKEN + "," + FakeQwen.TOKEN2, "--strategy", "fill-first")) {
            for (int i = 0; i < 3; i++) assertEquals(200, ask(f).statusCode());
            assertEquals(List.of(FakeQwen.TOKEN, FakeQwen.TOKEN, FakeQwen.TOKEN), tokensUsed());
        }
    }

    @Test
    void aRateLimitedAccountFailsOverWithoutAClientVisibleError() throws Exception {
        fake.rateLimitedTokens.add(FakeQwen.TOKEN);
        try (QwenProxy.Server p = start("--token", FakeQwen.TOKEN + "," + FakeQwen.TOKEN2, "--strategy", "fill-first")) {
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = post(p, chat("qwen3.7-plus", true, ""));
                assertEquals(200, r.statusCode());
                assertTrue(r.body().endsWith("data: [DONE]\n\n"));
            }
            assertEquals(List.of(FakeQwen.TOKEN, FakeQwen.TOKEN2, FakeQwen.TOKEN2, FakeQwen.TOKEN2), tokensUsed(),
                    "tried once, then cooling");
        }
    }

    @Test
    void allAccountsCoolingGives429WithTheSoonestRecovery() throws Exception {
        fake.rateLimitedTokens.addAll(List.of(FakeQwen.TOKEN, FakeQwen.TOKEN2));
        try (QwenProxy.Server p = start("--token", FakeQwen.TOKEN + "," + FakeQwen.TOKEN2)) {
            HttpResponse<String> first = ask(p);
            assertEquals(429, first.statusCode());
            assertEquals("3600", first.headers().firstValue("Retry-After").orElse(""));
            int calls = fake.completionHeaders.size();
            HttpResponse<String> second = ask(p);
            assertEquals(429, second.statusCode());
            long after = Long.parseLong(second.headers().firstValue("Retry-After").orElse("0"));
            assertTrue(after > 3500 && after <= 3600, "soonest recovery: " + after);
            assertEquals(calls, fake.completionHeaders.size(), "no upstream call while every account cools");
            assertTrue(((String) errorOf(second).get("message")).contains("COOLING"));
        }
    }

    @Test
    void aBlockedAccountBacksOffAndComesBack() throws Exception {
        fake.blockedTokens.add(FakeQwen.TOKEN);
        try (QwenProxy.Server p = start("--token", FakeQwen.TOKEN, "--blocked-cooldown-ms", "1000")) {
            assertEquals(503, ask(p).statusCode());
            HttpResponse<String> waiting = ask(p);
            assertEquals(429, waiting.statusCode());
            assertEquals("1", waiting.headers().firstValue("Retry-After").orElse(""));
            fake.blockedTokens.clear();
            Thread.sleep(1100);
            assertEquals(200, ask(p).statusCode(), "recovered on its own");
        }
    }

    @Test
    void aStaticTokenThatQwenRejectsIsInvalid() throws Exception {
        try (QwenProxy.Server p = start("--token", FakeQwen.jwt(System.currentTimeMillis() / 1000 + 60, 0))) {
            HttpResponse<String> r = ask(p);
            assertEquals(401, r.statusCode());
            assertEquals("upstream_token_expired", errorOf(r).get("code"));
            HttpResponse<String> again = ask(p);
            assertEquals(503, again.statusCode());
            assertTrue(((String) errorOf(again).get("message")).contains("INVALID"));
        }
    }

    @Test
    void jwtExpiryIsReadFromTheClaims() {
        assertEquals(1790357125000L, QwenProxy.jwtExpiry(FakeQwen.jwt(1790357125L, 1790356225L)));
        assertEquals(0, QwenProxy.jwtExpiry("not-a-jwt"));
        assertEquals(0, QwenProxy.jwtExpiry(FakeQwen.TOKEN), "no exp claim");
    }

    // ---- persistence

    @Test
    void aRestartKeepsTheRotatedRefreshTokenAndTheFileIsPrivate() throws Exception {
        String dir = tempDir();
        QwenProxy.Server p = start("--refresh-token", "rt-0", "--data-dir", dir);
        p.stop();
        String rotated = fake.refreshToken;
        assertNotEquals("rt-0", rotated, "rt-0 is dead now");
        java.nio.file.Path file = java.nio.file.Path.of(dir, "accounts.json");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(file.getParent())));
        assertTrue(java.nio.file.Files.readString(file).contains(rotated));
        fake.issued.clear();                       // even the saved access token is gone: only the rotation helps
        try (QwenProxy.Server again = start("--refresh-token", "rt-0", "--data-dir", dir)) {
            assertEquals(200, ask(again).statusCode());
            assertEquals(2, fake.refreshes.get());
        }
    }

    @Test
    void coolingAndCountersSurviveARestart() throws Exception {
        String dir = tempDir();
        fake.rateLimitedTokens.add(FakeQwen.TOKEN);
        QwenProxy.Server p = start("--token", FakeQwen.TOKEN + "," + FakeQwen.TOKEN2, "--strategy", "fill-first", "--data-dir", dir);
        for (int i = 0; i < 3; i++) assertEquals(200, ask(p).statusCode());
        p.stop();
        fake.completionHeaders.clear();
        try (QwenProxy.Server again = start("--token", FakeQwen.TOKEN + "," + FakeQwen.TOKEN2, "--strategy", "fill-first", "--data-dir", dir)) {
            assertEquals(200, ask(again).statusCode());
            assertEquals(List.of(FakeQwen.TOKEN2), tokensUsed(), "the cooling account stayed cooling");
            QwenProxy.Account second = again.accounts.all.get(1);
            assertEquals(4, second.requests, "today's requests, counted across the restart");
        }
    }

    @Test
    void aCorruptDataFileIsKeptAsideAndReported() throws Exception {
        String dir = tempDir();
        java.nio.file.Files.createDirectories(java.nio.file.Path.of(dir));
        java.nio.file.Files.writeString(java.nio.file.Path.of(dir, "accounts.json"), "{\"accounts\": [ broken");
        try (QwenProxy.Server p = start("--token", FakeQwen.TOKEN, "--data-dir", dir)) {
            assertEquals(200, ask(p).statusCode());
            List<String> names = new ArrayList<>();
            try (var files = java.nio.file.Files.list(java.nio.file.Path.of(dir))) { files.forEach(f -> names.add(f.getFileName().toString())); }
            String aside = names.stream().filter(n -> n.startsWith("accounts.json.corrupt-")).findFirst().orElseThrow();
            assertEquals("{\"accounts\": [ broken", java.nio.file.Files.readString(java.nio.file.Path.of(dir, aside)), "kept as it was");
            assertTrue(logs.toString(StandardCharsets.UTF_8).contains("accounts.json could not be read"));
        }
    }

    @Test
    void aRestartRetriesAnInvalidCommandLineAccountAndFallsBackToTheGivenRefreshToken() throws Exception {
        String dir = tempDir();
        String bad = FakeQwen.jwt(System.currentTimeMillis() / 1000 + 600, 0);
        QwenProxy.Server p = start("--token", bad, "--data-dir", dir);
        assertEquals(401, ask(p).statusCode());
        assertEquals(503, ask(p).statusCode(), "INVALID while running");
        p.stop();
        try (QwenProxy.Server again = start("--token", bad, "--data-dir", dir)) {
            assertEquals(401, ask(again).statusCode(), "a restart asks Qwen again instead of trusting the saved INVALID");
        }

        String dir2 = tempDir();
        QwenProxy.Server first = start("--refresh-token", "rt-0", "--data-dir", dir2);
        first.stop();
        fake.refreshToken = "rt-0";              // the saved rotation is stale; the token we were given is good
        fake.issued.clear();
        try (QwenProxy.Server second = start("--refresh-token", "rt-0", "--data-dir", dir2)) {
            assertEquals(200, ask(second).statusCode());
        }
    }

    @Test
    void stateIsKeptPerUpstream() throws Exception {
        String dir = tempDir();
        fake.rateLimitedTokens.add(FakeQwen.TOKEN);
        QwenProxy.Server p = start("--token", FakeQwen.TOKEN, "--data-dir", dir);
        assertEquals(429, ask(p).statusCode());
        p.stop();
        fake.rateLimitedTokens.clear();
        // a second upstream (not "localhost" for the same one: a machine may not resolve that name)
        FakeQwen other = new FakeQwen();
        QwenProxy.Server elsewhere = QwenProxy.start(QwenProxy.Config.load(new String[]{"--port", "0", "--base-url", other.url(),
                "--token", FakeQwen.TOKEN, "--data-dir", dir}, Map.of()));
        try {
            assertEquals(200, ask(elsewhere).statusCode(), "cooling on one upstream says nothing about another");
        } finally {
            elsewhere.stop();
            other.close();
        }
        try (QwenProxy.Server back = start("--token", FakeQwen.TOKEN, "--data-dir", dir)) {
            assertEquals(429, ask(back).statusCode(), "and the first upstream's cooldown was kept");
        }
    }
}
