import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the account tests share (AccountsTest, AdminTest): one fake upstream per test class that
 * also serves the refresh and sign-in endpoints, the proxy's log, and proxies started on them.
 */
abstract class AccountsFixture {
    static FakeQwen fake;
    static final ByteArrayOutputStream logs = new ByteArrayOutputStream();

    @BeforeAll
    static void up() throws Exception {
        QwenProxy.Log.out = new PrintStream(logs, true, StandardCharsets.UTF_8);
        fake = new FakeQwen();
    }

    @AfterAll
    static void down() {
        fake.close();
        QwenProxy.Log.out = System.err;
    }

    @BeforeEach
    void resetFake() {
        fake.refreshToken = "rt-0";
        fake.completionHeaders.clear();
    }

    /** The same with the fake's plain token as its account. */
    static QwenProxy.Server withToken(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--token", FakeQwen.TOKEN));
        all.addAll(List.of(args));
        return start(all.toArray(new String[0]));
    }

    /** A proxy on the fake for both chat and auth; a fresh data dir unless the test names one. */
    static QwenProxy.Server start(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--port", "0", "--base-url", fake.url(), "--auth-base-url", fake.url()));
        if (!List.of(args).contains("--data-dir")) all.addAll(List.of("--data-dir", EndToEndTest.tempDir()));
        all.addAll(List.of(args));
        return QwenProxy.start(QwenProxy.Config.load(all.toArray(new String[0]), Map.of()));
    }
}
