import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ConfigTest {
    static QwenProxy.Config load(Map<String, String> env, String... args) { return QwenProxy.Config.load(args, env); }

    static String usage(Map<String, String> env, String... args) {
        return assertThrows(QwenProxy.UsageException.class, () -> load(env, args)).getMessage();
    }

    @Test
    void defaults() {
        QwenProxy.Config c = load(Map.of());
        assertEquals("127.0.0.1", c.host());
        assertEquals(8787, c.port());
        assertEquals(List.of(), c.tokens());
        assertEquals("https://chat.qwen.ai", c.baseUrl());
        assertTrue(c.deleteChats());
        assertEquals(QwenProxy.Thinking.AUTO, c.thinking());
        assertEquals(QwenProxy.Reasoning.FIELD, c.reasoning());
        assertEquals(300_000, c.requestTimeoutMs());
        assertEquals(32L << 20, c.maxBodyBytes());
        assertEquals(List.of(), c.apiKeys());
        assertEquals("/api/v2/chat/completions", c.upstreamPaths().get("completions"));
    }

    @Test
    void environmentThenFlagsWin() {
        Map<String, String> env = Map.of("PORT", "9000", "QWEN_AUTH_TOKEN", "env-token-123", "QWEN_THINKING", "off",
                "QWEN_PROXY_API_KEY", "a, b", "QWEN_BASE_URL", "http://localhost:1234/", "LOG_LEVEL", "warn");
        QwenProxy.Config c = load(env);
        assertEquals(9000, c.port());
        assertEquals(List.of("env-token-123"), c.tokens());
        assertEquals(QwenProxy.Thinking.OFF, c.thinking());
        assertEquals(List.of("a", "b"), c.apiKeys());
        assertEquals("http://localhost:1234", c.baseUrl());
        QwenProxy.Config f = load(env, "--port", "0", "--token=flag-token-456", "--thinking", "on", "--log-level", "debug");
        assertEquals(0, f.port());
        assertEquals(List.of("flag-token-456"), f.tokens());
        assertEquals(QwenProxy.Thinking.ON, f.thinking());
        assertEquals(QwenProxy.Log.DEBUG, f.logLevel());
    }

    @Test
    void chatDeletion_flagsEnvAndTheIsDeleteAlias() {
        assertFalse(load(Map.of("IS_DELETE", "0")).deleteChats());
        assertTrue(load(Map.of("IS_DELETE", "0", "QWEN_DELETE_CHATS", "true")).deleteChats());
        assertFalse(load(Map.of(), "--keep-chats").deleteChats());
        assertTrue(load(Map.of("QWEN_DELETE_CHATS", "false"), "--delete-chats").deleteChats());
    }

    @Test
    void listsAndMaps() {
        QwenProxy.Config c = load(Map.of("QWEN_UPSTREAM_HEADERS", "Version: 1.2.3; X-A: b"),
                "--upstream-header", "bx-v: 2.5.37", "--model-map", "Mine=qwen3.7-max, other=qwen3-coder-plus",
                "--upstream-path", "models=/api/v2/models/", "--reasoning", "THINK");
        assertEquals(Map.of("Version", "1.2.3", "X-A", "b", "bx-v", "2.5.37"), c.upstreamHeaders());
        assertEquals(Map.of("mine", "qwen3.7-max", "other", "qwen3-coder-plus"), c.modelMap());
        assertEquals("/api/v2/models/", c.upstreamPaths().get("models"));
        assertEquals(QwenProxy.Reasoning.THINK, c.reasoning());
    }

    @Test
    void badValuesAreOneLineReasons() {
        assertTrue(usage(Map.of(), "--port", "http").contains("--port"));
        assertTrue(usage(Map.of("PORT", "70000")).contains("--port"));
        assertTrue(usage(Map.of(), "--bogus").contains("unknown option --bogus"));
        assertTrue(usage(Map.of(), "--token").contains("needs a value"));
        assertTrue(usage(Map.of(), "--thinking", "maybe").contains("auto, on, off"));
        assertTrue(usage(Map.of(), "--reasoning", "loud").contains("field, both, think, hide"));
        assertTrue(usage(Map.of(), "--base-url", "ftp://x").contains("--base-url"));
        assertTrue(usage(Map.of(), "--upstream-header", "no colon").contains("Name: value"));
        assertTrue(usage(Map.of(), "--upstream-header", "Host: x").contains("Host"));
        assertTrue(usage(Map.of(), "--model-map", "broken").contains("name=value"));
        assertTrue(usage(Map.of(), "--upstream-path", "nope=/x").contains("nope"));
        assertTrue(usage(Map.of(), "--request-timeout-ms", "0").contains("--request-timeout-ms"));
        assertTrue(usage(Map.of(), "--log-level", "loud").contains("--log-level"));
        assertTrue(usage(Map.of("QWEN_DELETE_CHATS", "maybe")).contains("--delete-chats"));
        for (String m : List.of(usage(Map.of(), "--port", "x"), usage(Map.of(), "--zzz"))) assertFalse(m.contains("\n"));
    }

    @Test
    void helpListsEveryOptionWithItsEnvironmentVariable() {
        assertTrue(load(Map.of(), "--help").help());
        String help = QwenProxy.Config.helpText();
        for (QwenProxy.Config.Option o : QwenProxy.Config.OPTIONS) {
            assertTrue(help.contains(o.flag()), o.flag());
            assertTrue(help.contains(o.env()), o.env());
        }
        assertTrue(help.contains("IS_DELETE"));
    }

    @Test
    void toStringMasksSecrets() {
        QwenProxy.Config c = load(Map.of(), "--token", "eyJsecretsecretsecret", "--api-key", "sk-very-secret-key");
        assertFalse(c.toString().contains("secretsecret"));
        assertFalse(c.toString().contains("sk-very-secret-key"));
    }

    @Test
    void configIsBuiltFromNamedValues_everyOneExactlyOnce() {
        Map<String, Object> named = new java.util.LinkedHashMap<>();
        for (java.lang.reflect.RecordComponent rc : QwenProxy.Config.class.getRecordComponents())
            named.put(rc.getName(), null);
        assertThrows(RuntimeException.class, () -> QwenProxy.Config.of(Map.of("host", "x")), "a missing name is a bug, not a default");
        named.put("nonsense", 1);
        assertThrows(IllegalStateException.class, () -> QwenProxy.Config.of(named), "an unknown name too");
    }
}
