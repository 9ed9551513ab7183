/*
 * QwenProxy — an exact OpenAI-compatible gateway to chat.qwen.ai, in one Java file.
 *
 *   Run:   QWEN_AUTH_TOKEN=<token> java QwenProxy.java [options]      (JDK 17+, nothing else)
 *   Fast:  make build && make run                                    (precompiled, starts in ~0.4 s)
 *   Help:  java QwenProxy.java --help
 *
 * It turns the token of a chat.qwen.ai web session into /v1/chat/completions and /v1/models, so
 * that OpenAI clients (SDKs, Cline, Roo Code, Continue, Open WebUI, LangChain) talk to Qwen's web
 * models unmodified. Plain JDK only: com.sun.net.httpserver downstream, java.net.http upstream,
 * a handwritten JSON reader/writer and SSE reader. Virtual threads on JDK 21+ (at least 16 carriers
 * on 21-23, where they pin), platform threads on 17.
 *
 * TABLE OF CONTENTS  (grep -n '// ====' QwenProxy.java, or make toc)
 *    1. Constants            every default, header, version string and upstream path, in one place
 *    2. Main & lifecycle     main(), start(Config) -> Server (tests start it on port 0), banner,
 *                            heap handed back after startup and when idle after work
 *    3. Config               Config.load(args, env): pure, default < env < flag, --help text
 *    4. Log                  stderr lines with time, level, request id; secrets redacted; one line each
 *    5. HTTP plumbing        ApiException (status + OpenAI error + Kind; what Qwen's errors mean, §7),
 *                            the one catch ladder (handle, fail), routing, client keys, multipart bodies
 *    6. Client stream        SseStream (one state: OPEN -> COMMITTED -> ENDED, or ABANDONED),
 *       and dialects         Dialect: a reply as neutral events; OpenAiChunks, OpenAiCompletion, OpenAiImages;
 *                            Anthropic (the Messages front door: its request read as a chat request, its
 *                            message and event stream written from the same events); Responses (the same
 *                            for OpenAI's Responses API, with stored responses for previous_response_id)
 *    7. Chat requests        ChatCall (a front door = a request parser + a dialect). Its retries, by
 *                            name: failover() (accounts), converse() (the firmer prompt), renewing()
 *                            (an expired token), attempt() (one exchange; fit() keeps it under §5.6;
 *                            send() retries a smaller body or a new chat).
 *                            The commit decision: relay()'s watchdog and the dialect's first event.
 *                            Output: the neutral layer (tool calls, hold-back for retries, search
 *                            citations); video() and Videos: t2v tasks polled to their end
 *    8. Admin API,           Admin (/admin, Qwen2API names, /readyz, /verify); Metrics (/metrics); Conversations (/api/chat,
 *       conversations,       /api/chats: server-side history continued upstream with parent_id, §9);
 *       login                ReuseIndex (--reuse-chats: /v1 conversations continued the same way); Login
 *    9. Models               upstream list cache (TTL, stale-on-error), ids, aliases, resolution
 *   10. Accounts             tokens that renew themselves, rotation, OK/COOLING/BLOCKED/INVALID, egress per account;
 *                            Redis and Shared (--redis: one pool for several instances, one renewal at a time)
 *   11. OpenAI -> upstream   ChatRequest, Transcript (flattening; compacted when too long, §5.6), Media
 *                            (image, audio, video, document parts), FileStore (uploaded files, by id)
 *   12. Tools and formats    Tools, Format, ToolParser (streaming), ToolLayer (prompts, schema checks)
 *   13. Upstream -> OpenAI   StreamTranslator (main candidate, phases -> events, max_tokens, stop, search results)
 *   14. Upstream client      one HttpClient, header table, chat deletion, file upload (STS, hand-signed
 *                            OSS PUT, parse), who-am-I, media URLs fetched (guarded), t2v tasks; ChatPool
 *                            (warm chats); Reply, the stream subscriber
 *   15. qwen-code backend    QwenCode (the CLI's OAuth credentials as a second pool; requests passed through,
 *                            replies relayed as they arrive, §Q); CredFile (oauth_creds.json: re-read on
 *                            change, refreshed under the CLI's lock, written back atomically); qwen-code-login
 *   16. SSE and gzip         "data:" lines -> payloads; streaming gunzip
 *   17. JSON                 parse (depth cap, offsets, numbers kept as text) and write
 *   18. Utilities
 *
 * WIRE CRIB SHEET
 *   Served:    POST /v1/chat/completions    GET /v1/models    GET /v1/models/{id}
 *              POST /v1/messages, /v1/messages/count_tokens (Anthropic; also /anthropic/v1/...)
 *              POST /v1/responses, GET/DELETE /v1/responses/{id} (OpenAI Responses)
 *              POST /v1/files (multipart), GET /v1/files[/{id}[/content]], DELETE /v1/files/{id},
 *              POST /api/files/upload (FreeQwenApi's shape), POST /v1/images/generations and /edits,
 *              POST /v1/videos, GET /v1/videos[/{id}[/content]] (t2v jobs); FreeQwenApi's native API:
 *              POST /api/chat, /api/chats[/{id}[/rename]], /api/chats/cleanup, /api/chat/completions,
 *              GET /api/models, GET /api/status
 *              With --qwen-code: coder-model, vision-model and /cli/v1/*, /code/v1/* (any path) on the
 *              qwen-code API, passed through (§Q5)
 *              (each also without /v1)      GET /healthz (no auth)    GET / (name, version, endpoints)
 *              OPTIONS * -> CORS preflight; anything else -> 404 OpenAI error object.
 *              GET /readyz (200 while an account is usable)   POST /verify {"apiKey"}
 *              /admin/accounts (GET, POST), /admin/accounts/{id} (DELETE), /admin/accounts/{id}/refresh,
 *              /admin/reload, /admin/status, GET /metrics (Prometheus); Qwen2API names: /api/addAccount, /api/accountsHealth,
 *              /api/reloadConfig, /api/configStatus, /api/deleteAccount/{id}.
 *   Client auth: "Authorization: Bearer <key>" or "x-api-key: <key>" when keys are configured;
 *              /admin takes the admin key (--admin-key, else the first client key, else loopback only).
 *   Consumed (paths in UPSTREAM_PATHS; §N and C.N cite test/PROTOCOL.md, the protocol in our words):
 *              GET  /api/models (404/405: /api/v2/models/)   §3   model list
 *              POST /api/v2/chats/new                        §4   one new chat per request (made ahead: ChatPool)
 *              POST /api/v2/chat/completions?chat_id=<id>    §5   SSE, one user message
 *              DELETE /api/v2/chats/<id>                     §8   after the reply, in the background
 *              GET  <auth>/api/v2/auths/refresh              §2.2 cookie refresh_token -> access token
 *              POST /api/v2/auths/signin (v1 fallback)       §2.2 email + sha256(password) -> token
 *              GET  /api/v1/auths/                           §13  who a token belongs to (admin adds)
 *              POST /api/v2/files/getstsToken (v1 fallback)  §10.1 upload credential; then a signed PUT to
 *                   OSS (§10.2), POST /api/v2/files/parse and .../parse/status (§10.3), files[] (§10.4)
 *   qwen-code:  POST <oauth>/api/v1/oauth2/token (refresh §Q3, device grant §Q4), .../device/code (§Q4);
 *              any method <https://resource_url/v1>/<path> with the CLI's headers (§Q5)
 *   Upstream SSE (§6): "data: {json}\n\n", no [DONE]; response.created first; deltas carry
 *              phase (answer | think | thinking_summary | ...) and status (typing | finished);
 *              answer+finished ends the reply; usage is cumulative. A second candidate answer
 *              (response_index "1") may interleave its events: only the main one counts (§6.3b).
 *   Size (§5.6): the edge refuses bodies over ~128 KiB. Above --context-file-threshold the whole
 *              conversation goes as an attached document with a budgeted prompt inline
 *              (Transcript.compact); a firewall page for a large body is sent again smaller before it
 *              counts against the account.
 *   Downstream SSE: "data: {chunk}\n\n", one flush per event; first chunk delta.role=assistant;
 *              reasoning in delta.reasoning_content (also as "reasoning", or <think> in content, or hidden);
 *              last chunk delta {} + finish_reason; usage chunk with choices:[] only when
 *              stream_options.include_usage; then "data: [DONE]". Errors after the commit point:
 *              one "data: {"error":{...}}" event, then close.
 *   Commit point: the 200 + role chunk goes out at the first reply event, or COMMIT_HOLD_MS
 *              after the upstream accepted the request, whichever is first. Until then every
 *              failure (quota, moderation of the input, empty answer) is a real HTTP status.
 *
 * CONVERSATION FLATTENING (the upstream accepts exactly one user message per completion, §5.2)
 *   A lone user message is sent as it is. Anything longer becomes one transcript, in order:
 *       System: <all system and developer text, first>
 *
 *       User: <text>
 *
 *       Assistant: <text, with <think> blocks and reasoning_content removed>
 *       <tool_call>
 *       {"name": "get_weather", "arguments": {"city": "Paris"}}
 *       </tool_call>
 *
 *       Tool (call_1, get_weather):
 *       <tool_response>
 *       ...
 *       </tool_response>
 *   Text parts of a content array are joined with newlines; cache_control and other part
 *   attributes are dropped. Image, audio, video and document parts (Media) are uploaded (§10) and
 *   attached as files[] (§10.4), leaving "[image 1]" in the text where they stood.
 *   Models whose thinking cannot be switched off (§3.3 think_skip) are always asked to think.
 *
 * ERRORS  (every one {"error":{"message","type","param","code"}})
 *   401 invalid_api_key | 400 invalid_request_error (+param) | 413 request_too_large (body, §5.6)
 *   404 model_not_found | 401 upstream_token_missing / upstream_token_expired
 *   429 rate_limit_exceeded + Retry-After | 503 upstream_blocked (WAF, captcha)
 *   502 upstream_error / empty_response | 400 content_filter | 504 upstream_timeout
 *   429 / 503 no_available_accounts (pool) | 502 tool_call_missing / invalid_tool_call /
 *   invalid_structured_output (after the one firmer retry) | qwen-code: 401 qwen_code_login_required,
 *   429 insufficient_quota, 503 credentials_locked | 503 shutting_down (draining on SIGTERM)
 *
 * SEVERAL INSTANCES (section 10, --redis): account states, tokens (newest wins), one renewal at a
 *   time per account (a lock), counters, client keys and conversations shared through Redis; an
 *   outage falls back to local state. Each account may leave through its own proxy (egress).
 *
 * ACCOUNTS (section 10): tokens, refresh tokens, cookies, email:password, an accounts file and
 *   `login` feed one pool. Access tokens are renewed --refresh-ahead-ms before their JWT exp, and
 *   once more after a 401. Each attempt takes an OK account (round-robin or fill-first); a failure
 *   about the account moves the request to the next one while nothing has reached the client:
 *   rate limit -> COOLING (Qwen's num hours / Retry-After, else 1 h); WAF -> BLOCKED (5 min,
 *   doubling to 1 h); rejected token that cannot be renewed -> INVALID. accounts.json in
 *   --data-dir keeps rotated refresh tokens, states and counters across restarts.
 *
 * TOOLS AND FORMATS (section 12): the web models have no native function calling, so tools are
 *   offered in the prompt in Qwen's own format (toolPrompt: <tools> signatures, <tool_call> blocks,
 *   results in <tool_response>) and the answer is parsed back (ToolParser: Hermes JSON, Qwen3-Coder
 *   <function=...> XML, fenced JSON; split-safe; arguments repaired and checked against the
 *   schema). Calls leave as OpenAI tool_calls deltas with finish_reason "tool_calls".
 *   tool_choice required/named and response_format hold the answer back; one that breaks the
 *   rule is asked for once more, firmly, then is an error (never a made-up call or invalid JSON).
 *
 * CONFIGURATION: section 3 and --help; precedence default < environment < flag.
 *
 */

import com.sun.net.httpserver.*;

import java.io.*;
import java.net.*;
import java.net.http.*;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.time.*;
import java.time.format.DateTimeFormatter;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.function.*;
import java.util.regex.Pattern;

public final class QwenProxy {
    private QwenProxy() { throw new AssertionError(); }

    // ==== 1. Constants ====

    static final String NAME = "QwenProxy", VERSION = "0.4.0";
    static final long MAIN_AT = System.currentTimeMillis();      // main() runs right after this class is initialised
    static final String GENERATED_KEY_FILE = "generated-api-key";   // in --data-dir, for a public bind without keys
    static final long CHUNKED = 0, NO_BODY = -1;   // sendResponseHeaders lengths (RSPBODY_* arrive in JDK 26)

    static final String DEFAULT_HOST = "127.0.0.1";
    static final int DEFAULT_PORT = 8787;
    static final String DEFAULT_BASE_URL = "https://chat.qwen.ai";
    static final String DEFAULT_AUTH_BASE_URL = "https://auth.qwen.ai";   // §1: refresh lives here since 2026-09
    static final long DEFAULT_REFRESH_AHEAD_MS = 120_000, DEFAULT_BLOCKED_COOLDOWN_MS = 300_000, MAX_COOLDOWN_MS = 3_600_000;
    static final long WATCH_MS = 1_000;              // how often the accounts and keys files are checked
    static final long IDLE_TRIM_MS = 20_000;         // quiet this long after a burst: give the heap back
    static final long DEFAULT_REQUEST_TIMEOUT_MS = 300_000, DEFAULT_MAX_BODY_BYTES = 32L << 20, DEFAULT_MODELS_TTL_MS = 600_000;
    /** §5.6: the edge refuses completion bodies over ~128 KiB; above this the context goes as a file. */
    static final long UPSTREAM_BODY_LIMIT = 128 << 10;
    static final long DEFAULT_CONTEXT_FILE_THRESHOLD = 90 << 10, DEFAULT_CONTEXT_LIVE_BYTES = 48 << 10;
    static final long SIZE_SUSPECT = 32 << 10;        // a firewall page for a body this large may be about its size
    static final String CONTEXT_FILE_NAME = "conversation.txt";
    static final int DEFAULT_CHAT_POOL = 2;
    static final long DEFAULT_MEDIA_MAX_BYTES = 20 << 20, DEFAULT_UPLOAD_MAX_BYTES = 10 << 20;
    static final long VIDEO_WAIT_MS = 900_000;                   // a video task that is not done by then is a 504
    static volatile long videoPollMs = 2000;                     // §10.5: how often a video task is asked, at first (tests: less)
    static final long UPLOAD_CACHE_MS = 1_800_000;     // an uploaded context is referenced again for this long
    static final long PARSE_POLL_MS = 2000;            // §10.3: how often parse status is asked, at most
    static final long DEFAULT_KEEPALIVE_MS = 15_000;
    static final long DEFAULT_TOKEN_REFRESH_BUFFER_MS = 30_000;   // §Q2: qwen-code's own margin
    static final long DEFAULT_SHUTDOWN_GRACE_MS = 25_000;         // within Kubernetes' 30 s before SIGKILL
    static final String REDIS_PREFIX = "qwenproxy:";              // every key this proxy keeps in Redis (--redis)
    static final long RESPONSE_TTL_S = 30 * 86_400;              // a stored /v1/responses response in Redis: as long as OpenAI keeps one
    static final long REDIS_TIMEOUT_MS = 2_000, REDIS_LOCK_MS = 15_000, API_KEY_TTL_MS = 10_000;
    /** How long the 200 may wait for the first reply event once the upstream accepted (see header). */
    static final long COMMIT_HOLD_MS = 250;
    static volatile long startupModelsWaitMs = 5000;   // the banner waits this long for the upstream model list (tests: less)
    static final int MAX_UPSTREAM_ERROR_BODY = 1 << 20;
    static final long DEFAULT_RETRY_AFTER_S = 3600;  // RateLimited without "num": the quota is daily

    /**
     * Every header sent upstream, in the browser's order (§2.4, CAP-SEP26; tags are defined in test/PROTOCOL.md), without
     * the bx-* anti-bot values: stale ones trigger risk control (§2.5, C2A 2026-09). Placeholders
     * are filled per call; a header whose value ends up empty is not sent. --upstream-header
     * overrides or removes any entry ("Name:" with no value removes it).
     */
    static final Map<String, String> UPSTREAM_HEADERS = orderedMap(
            "X-Request-Id", "{request_id}",
            "Authorization", "Bearer {token}",
            "Cookie", "{cookie}",
            "X-Accel-Buffering", "no",
            "Timezone", "{timezone}",
            "sec-ch-ua", "\"Chromium\";v=\"146\", \"Not-A.Brand\";v=\"24\", \"Google Chrome\";v=\"146\"",
            "sec-ch-ua-mobile", "?0",
            "sec-ch-ua-platform", "\"Linux\"",
            "Accept", "application/json",
            "Accept-Encoding", "gzip",           // we can inflate gzip; br is never asked for
            "Content-Type", "application/json",
            "Origin", "{base}",
            "Referer", "{base}/c/{chat}",
            "Accept-Language", "en-US,en;q=0.9",
            "source", "web",
            "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " + "Chrome/146.0.0.0 Safari/537.36",
            "Version", "0.3.12");                // frontend build; without it every completion fails (§2.5, OMNI)

    /** Upstream paths (§3, §4, §5, §8, §10); --upstream-path name=/path overrides one. */
    static final Map<String, String> UPSTREAM_PATHS = orderedMap(
            "models", "/api/models",
            "models_v2", "/api/v2/models/",          // asked when the first answers 404/405 (§3.2)
            "new_chat", "/api/v2/chats/new",
            "completions", "/api/v2/chat/completions",
            "chat", "/api/v2/chats/",
            "refresh", "/api/v2/auths/refresh",    // on --auth-base-url (§2.2)
            "signin", "/api/v2/auths/signin",      // then v1 when v2 answers 404/405 (§2.2)
            "signin_v1", "/api/v1/auths/signin",
            "whoami", "/api/v1/auths/",
            "sts", "/api/v2/files/getstsToken",       // then v1 when v2 answers 404/405 (§10.1)
            "sts_v1", "/api/v1/files/getstsToken",
            "parse", "/api/v2/files/parse",           // documents only (§10.3)
            "parse_status", "/api/v2/files/parse/status",
            "task_status", "/api/v2/task/status/",    // t2v tasks (§10.5), then v1 when v2 answers 404/405
            "task_status_v1", "/api/v1/tasks/status/");

    /**
     * The qwen-code backend (test/PROTOCOL.md §Q): the CLI's headers (§Q5; {accept} is filled per
     * request, --qwen-code-header overrides or removes any), its OAuth client and paths (§Q3, §Q4).
     */
    static final String QWEN_CODE_VERSION = "0.14.3", QWEN_CODE_AGENT = "QwenCode/" + QWEN_CODE_VERSION + " (linux; x64)";
    static final Map<String, String> QWEN_CODE_HEADERS = orderedMap(
            "User-Agent", QWEN_CODE_AGENT,
            "X-DashScope-CacheControl", "enable",
            "X-DashScope-UserAgent", QWEN_CODE_AGENT,
            "X-DashScope-AuthType", "qwen-oauth",
            "X-Stainless-Lang", "js",
            "X-Stainless-Package-Version", "5.11.0",
            "X-Stainless-OS", "Linux",
            "X-Stainless-Arch", "x64",
            "X-Stainless-Runtime", "node",
            "X-Stainless-Runtime-Version", "v22.17.0",
            "X-Stainless-Retry-Count", "0",
            "Accept", "{accept}",
            "Content-Type", "application/json");
    static final Map<String, String> QWEN_CODE_PATHS = orderedMap("token", "/api/v1/oauth2/token", "device_code", "/api/v1/oauth2/device/code");
    static final String QWEN_CODE_CLIENT_ID = "f0304373b74a44d2b584a3fb70ca9e56", QWEN_CODE_SCOPE = "openid profile email model.completion";
    static final String QWEN_CODE_DEFAULT_BASE_URL = "https://portal.qwen.ai/v1";   // §Q5: a file without resource_url
    static final int LOCK_TRIES = 20;                 // §Q2: 100 ms x1.5 per try, at most 2 s: ~20 s in all
    static final long LOCK_STALE_MS = 10_000;

    /** Served before the first successful fetch, and always when no token is set (§3.3, 2026-09). */
    static final List<Model> BUILTIN_MODELS = List.of(
            new Model("qwen3.7-plus", "Qwen3.7-Plus", 1780000000L, true),
            new Model("qwen3.7-max", "Qwen3.7-Max", 1780000000L, true),
            new Model("qwen3.8-max", "Qwen3.8-Max", 1785000000L, true, true),
            new Model("qwen3.6-plus", "Qwen3.6-Plus", 1770000000L, true),
            new Model("qwen3-coder-plus", "Qwen3-Coder", 1750000000L, false));

    /** Familiar names -> preferred upstream ids, first present wins, else the default model (§11). */
    static final Map<String, List<String>> ALIASES = aliasTable(
            List.of("qwen3.8-max", "qwen3.7-max", "qwen3-max"),
            List.of("qwen", "qwen3", "qwen-max", "qwen3-max", "qwen-max-latest", "qwen3.7", "qwen3.8",
                    "gpt-4", "gpt-4o", "gpt-4-turbo", "gpt-4.1", "gpt-5", "o1", "o3"),
            List.of("qwen3.7-plus", "qwen3.6-plus", "qwen3.5-plus"),
            List.of("qwen-plus", "qwen3-plus", "qwen-plus-latest", "qwen3.6", "qwen3.5",
                    "gpt-4o-mini", "gpt-4.1-mini", "gpt-5-mini", "o4-mini"),
            List.of("qwen3.6-plus", "qwen3.5-flash", "qwen3.6-35b-a3b", "qwen3.7-plus"),
            List.of("qwen-turbo", "qwen-flash", "qwen3-flash", "gpt-3.5-turbo", "gpt-4.1-nano", "gpt-5-nano"),
            List.of("qwen3-coder-plus", "qwen3.7-plus"),
            List.of("qwen3-coder", "qwen-coder", "qwen-coder-plus", "qwen3-coder-flash", "coder-model"));

    // ==== 2. Main & lifecycle ====

    /** Exit codes, as the JDK's own simple server has them. */
    enum Startup { OK, CMDERR, SYSERR }

    public static void main(String[] args) {
        if (List.of(args).contains("--version") || List.of(args).contains("-V")) {
            System.out.println(NAME + " " + VERSION);
            return;
        }
        warmUp();
        boolean login = args.length > 0 && args[0].equals("login"), codeLogin = args.length > 0 && args[0].equals("qwen-code-login");
        if (login || codeLogin) args = Arrays.copyOfRange(args, 1, args.length);
        Config cfg;
        try {
            cfg = Config.load(args, System.getenv());
        } catch (UsageException e) {
            System.err.println("qwenproxy: " + e.getMessage() + " (see --help)");
            System.exit(Startup.CMDERR.ordinal());
            return;
        }
        if (cfg.help()) {
            System.out.print(Config.helpText());
            return;
        }
        if (codeLogin) System.exit(QwenCode.login(cfg, System.getenv(), System.out));
        if (login) {
            Console console = System.console();
            System.exit(Login.run(cfg, new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)),
                    console == null ? null : console::readPassword, System.out));
        }
        try {
            Server server = start(cfg);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {      // Ctrl-C, SIGTERM (docker stop, systemd)
                onSignal(() -> {
                    Log.warn(null, "second signal: exiting now");
                    Runtime.getRuntime().halt(Startup.SYSERR.ordinal());
                }, "TERM", "INT");
                Log.info(null, "shutting down: requests in flight get up to " + cfg.shutdownGraceMs() + " ms (a second signal exits at once)");
                server.stop(cfg.shutdownGraceMs());
                Log.info(null, "stopped");
                Runtime.getRuntime().halt(0);      // a stop that lost nothing is a success, not the 143 of a signal
            }, "qwenproxy-shutdown"));
            System.out.print(server.banner());
            System.out.flush();
            // "java QwenProxy.java" compiled this file in memory; hand that garbage back now that
            // we are up (measured: ~400 MB resident before, ~110 MB after). Once, never per request.
            System.gc();
        } catch (IOException | RuntimeException e) {
            System.err.println("qwenproxy: cannot start: " + e.getMessage());
            System.exit(Startup.SYSERR.ordinal());
        }
    }

    /**
     * On the other core while main() parses the flags and binds: the JDK server formats a Date header
     * (java.time's zone and locale data, ~50 ms cold) for its first response, and account ids are
     * SHA-256 (the security providers, ~30 ms). Loaded here, neither delays the first /healthz.
     */
    static void warmUp() {
        Thread t = new Thread(() -> {
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss zzz", Locale.US).withZone(ZoneId.of("GMT")).format(Instant.now());
            sha256("");
        }, "qwenproxy-warm-up");
        t.setDaemon(true);
        t.start();
    }

    /** Starts a proxy; tests use port 0 and read port(). */
    static Server start(Config cfg) throws IOException {
        // SSE is many small writes; without TCP_NODELAY, Nagle holds each one back until the last
        // is acknowledged. Read once by the JDK server's static config, so set it before any server.
        defaultProperty("sun.net.httpserver.nodelay", "true");
        // The JDK server closes a finished keep-alive connection once 200 are idle; clients that reuse
        // it then fail ("received no bytes"). Hundreds of concurrent streams are normal here.
        defaultProperty("sun.net.httpserver.maxIdleConnections", "4096");
        // A pooled upstream connection the server closed while idle fails a POST with "received no
        // bytes"; the JDK retries that once only for GET unless told. Such a request was not processed.
        defaultProperty("jdk.httpclient.enableAllMethodRetry", "true");
        // an egress proxy with a password (per account): the JDK refuses Basic for HTTPS tunnels unless told
        defaultProperty("jdk.http.auth.tunneling.disabledSchemes", "");
        Log.level = cfg.logLevel();
        Log.secrets(cfg.cookie(), cfg.adminKey());
        for (String t : cfg.tokens()) Log.secrets(t);
        for (String t : cfg.refreshTokens()) Log.secrets(t);
        for (String pw : cfg.passwords()) Log.secrets(pw, pw.substring(pw.indexOf(':') + 1));
        Server s = new Server(cfg);
        s.start();
        return s;
    }

    /** One running proxy: its HTTP server, executors, upstream client and model cache. */
    static final class Server implements AutoCloseable {
        final Config cfg;
        final HttpServer http;
        final ExecutorService workers, background;
        final ScheduledExecutorService timer;
        final boolean virtualThreads;
        final Upstream upstream;
        final ChatPool chats;
        final Accounts accounts;
        final QwenCode code;       // the qwen-code backend (§Q), or null when --qwen-code is not given
        final Metrics metrics = new Metrics();
        final Shared shared;       // --redis, or null
        final Models models;
        final FileStore files;
        final Videos videos;
        final Conversations conversations;
        final ReuseIndex reuse;
        final Responses responses;
        volatile List<String> apiKeys;   // --api-key, the keys file, or the generated key
        final String generatedKey;   // printed once in the banner, never logged
        final Watched accountsFile, keysFile;
        final long startedAt = System.currentTimeMillis();
        long listeningAt;         // when /healthz began to answer
        final AtomicInteger busy = new AtomicInteger();   // requests being handled
        volatile long lastDone;   // when the last request ended
        long trimmedAt;           // timer thread only
        volatile long lastReload;
        private final AtomicBoolean stopped = new AtomicBoolean();   // stopping: requests in flight finish, new ones get 503
        private final CountDownLatch ready = new CountDownLatch(1);

        Server(Config cfg) throws IOException {
            this.cfg = cfg;
            http = bind(cfg.host(), cfg.port());   // first: a busy port fails before anything is made on disk
            try {
                ExecutorService v = virtualThreadExecutor();
                virtualThreads = v != null;
                workers = v != null ? v : Executors.newCachedThreadPool(daemonThreads("qwenproxy-worker"));
                background = Executors.newCachedThreadPool(daemonThreads("qwenproxy-background"));
                timer = Executors.newSingleThreadScheduledExecutor(daemonThreads("qwenproxy-timer"));
                http.createContext("/", ex -> handle(this, ex));
                http.setExecutor(workers);  // without it one stream would block every other request
                http.start();               // /healthz answers from here on; other requests wait for `ready`
                listeningAt = System.currentTimeMillis();
                // The upstream client's callbacks write SSE events to clients, and the JDK server's socket
                // writes are synchronized: on JDK 21-23 a virtual thread blocked there pins its carrier
                // (JEP 491 lifted that in 24). So the client shares virtual threads from 24 on (measured:
                // ~20 % less CPU per request on 25) and keeps its own platform pool before.
                upstream = new Upstream(cfg, virtualThreads && Runtime.version().feature() >= 24 ? workers : null);
                upstream.metrics = metrics;
                accounts = new Accounts(cfg);
                accounts.metrics = metrics;
                shared = cfg.redis() == null ? null : new Shared(cfg.redis());
                accounts.shared = shared;
                accounts.connect(upstream);
                accounts.open(new Store(cfg.dataDir()));
                code = cfg.qwenCode().isEmpty() ? null : new QwenCode(cfg, timer);
                if (code != null) code.pool.metrics = metrics;
                chats = new ChatPool(cfg.chatPool(), upstream, background, cfg.dataDir());
                models = new Models(cfg, upstream, accounts, background);
                files = new FileStore(this);
                videos = new Videos(this);
                conversations = new Conversations(this);
                reuse = new ReuseIndex(this);
                responses = new Responses(this);
                accountsFile = cfg.accountsFile() == null ? null : new Watched(cfg.accountsFile());
                keysFile = cfg.apiKeysFile() == null ? null : new Watched(cfg.apiKeysFile());
                reload();
                boolean open = apiKeys.isEmpty() && !isLoopback(cfg.host());
                generatedKey = open ? sharedKey(keptKey(Path.of(cfg.dataDir(), GENERATED_KEY_FILE))) : null;
                if (open) apiKeys = List.of(generatedKey);
                Log.secrets(generatedKey);
            } catch (IOException | RuntimeException e) {
                http.stop(0);
                throw e;
            } finally {
                ready.countDown();
            }
        }

        /** Every request but /healthz waits here until the constructor is done (at most a few ms after the bind). */
        void awaitReady() {
            try {
                ready.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (lastReload == 0) throw ApiException.shuttingDown();     // the start failed
        }

        /** The listening socket, with a message that says what to do when it cannot be had. */
        static HttpServer bind(String host, int port) throws IOException {
            try {
                return HttpServer.create(new InetSocketAddress(host, port), 256);
            } catch (BindException e) {
                throw new IOException(String.valueOf(e.getMessage()).contains("in use")
                        ? "port " + port + " on " + host + " is already in use (another QwenProxy?); choose another with --port or PORT"
                        : "cannot listen on " + host + ":" + port + " (" + e.getMessage() + "); check --host");
            }
        }

        /**
         * The client key made for a proxy that listens beyond loopback with no key configured: made
         * once and kept in the data directory (owner-only), so configured clients survive restarts.
         */
        static String keptKey(Path file) throws IOException {
            if (Files.exists(file)) {
                String k = Files.readString(file).strip();
                if (k.startsWith("sk-") && k.length() >= 20) return k;
            }
            String k = "sk-qwenproxy-" + secretToken(24);
            Store.writePrivate(file, (k + "\n").getBytes(StandardCharsets.UTF_8));
            return k;
        }

        /** --redis: the key the first instance made is every instance's (a client behind a load balancer needs one). */
        String sharedKey(String mine) {
            if (shared == null) return mine;
            shared.call("SET", REDIS_PREFIX + "generated-api-key", mine, "NX");
            return shared.call("GET", REDIS_PREFIX + "generated-api-key") instanceof String k ? k : mine;
        }

        /** Listening already (health checks answer at once): first tokens, timers, one bounded model fetch for the banner. */
        void start() {
            if (shared != null) {
                Runnable sync = () -> {
                    try {
                        shared.advertise(apiKeys);
                        shared.sync(accounts);
                    } catch (RuntimeException e) {
                        Log.warn(null, "redis sync: " + e);
                    }
                };
                sync.run();          // the newest refresh tokens before the first renewal
                timer.scheduleWithFixedDelay(sync, WATCH_MS, WATCH_MS, TimeUnit.MILLISECONDS);
            }
            accounts.renewMissing();
            chats.sweep(accounts);
            long tick = Math.max(50, Math.min(10_000, cfg.refreshAheadMs() / 4));
            timer.scheduleWithFixedDelay(() -> accounts.renewDue(background), tick, tick, TimeUnit.MILLISECONDS);
            timer.scheduleWithFixedDelay(accounts::saveIfDirty, 30, 30, TimeUnit.SECONDS);
            if (code != null) {
                long codeTick = Math.max(50, Math.min(10_000, cfg.tokenRefreshBufferMs() / 4));
                timer.scheduleWithFixedDelay(() -> code.pool.renewDue(background), codeTick, codeTick, TimeUnit.MILLISECONDS);
                timer.scheduleWithFixedDelay(code.pool::saveIfDirty, 30, 30, TimeUnit.SECONDS);
            }
            timer.scheduleWithFixedDelay(chats::flush, 1, 1, TimeUnit.SECONDS);
            if (cfg.reuseChats()) timer.scheduleWithFixedDelay(() -> reuse.sweep(false), 60, 60, TimeUnit.SECONDS);
            if (accountsFile != null || keysFile != null) timer.scheduleWithFixedDelay(() -> {
                try {
                    boolean a = accountsFile != null && accountsFile.changed(), k = keysFile != null && keysFile.changed();
                    if (a || k) reload();
                } catch (RuntimeException e) {
                    Log.warn(null, "file watch: " + e);
                }
            }, WATCH_MS, WATCH_MS, TimeUnit.MILLISECONDS);
            timer.scheduleWithFixedDelay(this::trimIfIdle, IDLE_TRIM_MS / 4, IDLE_TRIM_MS / 4, TimeUnit.MILLISECONDS);
            models.init();
        }

        int port() { return http.getAddress().getPort(); }

        /**
         * Under load the heap grows to a few hundred MB and the JVM keeps it. A local proxy idles most
         * of the day, so once it has been quiet for IDLE_TRIM_MS after some work, one full GC hands the
         * memory back (measured: 650 MB resident after a burst of streams, 155 MB after).
         */
        void trimIfIdle() {
            long now = System.currentTimeMillis();
            if (!shouldTrim(busy.get(), lastDone, trimmedAt, now)) return;
            trimmedAt = now;
            System.gc();
            Log.debug(null, "idle: heap handed back to the system");
        }

        static boolean shouldTrim(int busy, long lastDone, long trimmedAt, long now) {
            return busy == 0 && lastDone > trimmedAt && now - lastDone >= IDLE_TRIM_MS;
        }

        /** Reads the accounts and keys files again; requests in flight keep the account they hold. */
        synchronized void reload() {
            if (keysFile != null) {
                List<String> lines = keysFile.lines();
                if (lines != null) {
                    List<String> keys = new ArrayList<>(cfg.apiKeys());
                    for (String k : lines) if (!keys.contains(k)) keys.add(k);
                    for (String k : keys) Log.secrets(k);
                    if (generatedKey != null && keys.isEmpty()) keys.add(generatedKey);
                    apiKeys = List.copyOf(keys);
                }
            } else if (apiKeys == null) {
                apiKeys = cfg.apiKeys();
            }
            if (accountsFile != null) {
                List<String> lines = accountsFile.lines();
                if (lines != null) accounts.sync(lines, background);
            }
            lastReload = System.currentTimeMillis();
        }

        /** Where clients on this machine reach the proxy (a wildcard bind through 127.0.0.1). */
        String url() { return url(true); }

        String url(boolean local) {
            String h = cfg.host().contains(":") ? "[" + cfg.host() + "]" : cfg.host();
            if (local && (h.equals("0.0.0.0") || h.equals("[::]"))) h = "127.0.0.1";
            return "http://" + h + ":" + port();
        }

        /** Milliseconds from the JVM's start to main() (the compile in source mode), and from main() to listening. */
        long[] startup() {
            long jvm = java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
            return new long[] {Math.max(0, MAIN_AT - jvm), Math.max(0, listeningAt - MAIN_AT)};
        }

        @Override public void close() { stop(0); }

        void stop() { stop(0); }

        boolean draining() { return stopped.get(); }

        /**
         * Stops: the listening socket closes at once, requests in flight get up to graceMs to finish
         * (new requests on open connections get 503 shutting_down), then warm chats are deleted and
         * the state is saved. The JDK server's own stop(delay) sleeps the whole delay on 17 (fixed in
         * 21), so it only closes the socket here, in the background, and the drain is counted by busy.
         */
        void stop(long graceMs) {
            if (!stopped.compareAndSet(false, true)) return;
            if (graceMs > 0) {
                Thread closer = new Thread(() -> http.stop((int) Math.min(Integer.MAX_VALUE, (graceMs + 999) / 1000)), "qwenproxy-stop");
                closer.setDaemon(true);
                closer.start();
                long end = System.currentTimeMillis() + graceMs;
                while (busy.get() > 0 && System.currentTimeMillis() < end) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        break;
                    }
                }
                if (busy.get() > 0) Log.warn(null, busy.get() + " request(s) still in flight after " + graceMs + " ms: cut off");
            }
            http.stop(0);
            chats.drain(5_000);
            reuse.sweep(true);
            accounts.saveIfDirty();
            if (shared != null) {
                shared.sync(accounts);     // today's counts
                shared.redis.close();
            }
            if (code != null) code.pool.saveIfDirty();
            workers.shutdownNow();
            background.shutdownNow();
            timer.shutdownNow();
        }

        String banner() {
            StringBuilder b = new StringBuilder();
            String url = url();
            String bound = url(false);
            b.append(NAME).append(' ').append(VERSION).append(" listening on ").append(bound)
                    .append(isLoopback(cfg.host()) ? "" : url.equals(bound) ? "  (reachable from the network)"
                            : "  (every interface: reachable from the network; locally " + url + ")").append('\n');
            b.append("  upstream  ").append(cfg.baseUrl()).append('\n');
            if (code != null) {
                b.append("  qwen-code ").append(code.pool.all.size()).append(" credential file(s), models ").append(String.join(", ", QwenCode.MODELS))
                        .append(" (and anything under /cli/v1)");
                for (Account a : code.pool.all) b.append("\n            ").append(a.creds.path).append(": ").append(a.describe());
                b.append('\n');
            }
            if (accounts.isEmpty() && code != null) b.append("  accounts  none for chat.qwen.ai: its models need QWEN_REFRESH_TOKEN or QWEN_AUTH_TOKEN\n");
            else if (accounts.isEmpty()) b.append("  accounts  none: chat requests get 401 until you give one. Set QWEN_REFRESH_TOKEN=<the refresh_token\n"
                    + "            cookie> (lasts ~300 days), run `java QwenProxy.java login`, or set QWEN_AUTH_TOKEN=<token> (15 minutes)\n");
            else b.append("  accounts  ").append(accounts.summary()).append('\n');
            long expires = accounts.lastExpiry();
            if (expires > 0) b.append("  note      every account is a plain access token, and they expire: the last at ")
                    .append(Instant.ofEpochMilli(expires).truncatedTo(java.time.temporal.ChronoUnit.SECONDS)).append(" (in ")
                    .append(Math.max(0, (expires - System.currentTimeMillis()) / 60_000)).append(" min). To keep going, set\n")
                    .append("            QWEN_REFRESH_TOKEN=<the refresh_token cookie> or run `java QwenProxy.java login` (see README)\n");
            b.append("  auth      ").append(generatedKey != null
                    ? "required; key (generated once, kept in " + Path.of(cfg.dataDir(), GENERATED_KEY_FILE) + "): " + generatedKey
                    : apiKeys.isEmpty() ? "none (loopback only)" : apiKeys.size() + " client key(s)").append('\n');
            long[] st = startup();
            b.append("  runtime   JDK ").append(Runtime.version().feature()).append(", ")
                    .append(virtualThreads ? "virtual threads" : "platform threads").append("; listening ").append(st[1])
                    .append(" ms after main (").append(st[0]).append(" ms before it: JVM start").append(st[0] > 1500
                            ? " and compiling this file; `make build && make run` skips that)\n" : ")\n");
            List<String> ids = models.ids();
            b.append("  models    ").append(ids.size()).append(models.fromUpstream() ? " from upstream: " : " built-in: ")
                    .append(String.join(", ", ids.subList(0, Math.min(ids.size(), 8))))
                    .append(ids.size() > 8 ? ", ..." : "").append(models.loading() ? " (the upstream list is still loading)" : "").append('\n');
            String key = apiKeys.isEmpty() ? "" : " -H 'Authorization: Bearer " + (generatedKey != null ? generatedKey : "<your key>") + "'";
            b.append("  try       curl -N ").append(url).append("/v1/chat/completions").append(key)
                    .append(" -H 'Content-Type: application/json' -d '{\"model\":\"").append(accounts.isEmpty() && code != null ? QwenCode.MODELS.get(0) : models.defaultId())
                    .append("\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'\n");
            return b.toString();
        }
    }

    /**
     * Runs `then` on the named signals from now on. sun.misc.Signal is the JDK's only way, and javac
     * warns about any direct use (-Werror), so it is reached by reflection; without it, nothing changes.
     */
    static void onSignal(Runnable then, String... names) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal"), handler = Class.forName("sun.misc.SignalHandler");
            Object h = java.lang.reflect.Proxy.newProxyInstance(handler.getClassLoader(), new Class<?>[] {handler}, (proxy, m, a) -> {
                if (m.getName().equals("handle")) then.run();
                return null;
            });
            for (String n : names) signal.getMethod("handle", signal, handler).invoke(null, signal.getConstructor(String.class).newInstance(n), h);
        } catch (ReflectiveOperationException | RuntimeException e) {
            Log.debug(null, "no signal handling: " + e);
        }
    }

    /** A JVM property the user did not set (a -D flag wins). */
    static void defaultProperty(String name, String value) { if (System.getProperty(name) == null) System.setProperty(name, value); }

    /** Virtual-thread-per-task on JDK 21+ (found by reflection so the file compiles for 17), else null. */
    static ExecutorService virtualThreadExecutor() {
        String carriers = carrierParallelism(Runtime.version().feature(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("jdk.virtualThreadScheduler.parallelism"));
        if (carriers != null) System.setProperty("jdk.virtualThreadScheduler.parallelism", carriers);
        try {
            java.lang.reflect.Method m = Executors.class.getMethod("newVirtualThreadPerTaskExecutor");
            return (ExecutorService) m.invoke(null);
        } catch (ReflectiveOperationException e) {  // 17: no such method; 19/20: preview disabled
            return null;
        }
    }

    /**
     * JDK 21-23 pin a virtual thread's carrier while it blocks inside {@code synchronized} (JEP 491 lifted
     * that in 24), and the JDK server's socket writes are synchronized and blocking: one carrier per core
     * would let as many clients that stop reading freeze every request. More carriers bound that damage;
     * they are created only when needed. Null: leave the JDK (or the user's -D setting) alone.
     */
    static String carrierParallelism(int jdkFeature, int cores, String userSetting) {
        return jdkFeature >= 21 && jdkFeature <= 23 && userSetting == null ? Integer.toString(Math.max(16, cores)) : null;
    }

    // ==== 3. Config ====

    enum Thinking { AUTO, ON, OFF }
    enum Reasoning { FIELD, BOTH, THINK, HIDE }
    enum SearchInfo { TABLE, LIST, NONE }

    /** Everything the proxy is told, validated once; secrets never appear in toString(). */
    record Config(String host, int port, List<String> tokens, String cookie, String baseUrl, List<String> apiKeys,
                  boolean deleteChats, Thinking thinking, Reasoning reasoning, Map<String, String> modelMap,
                  String defaultModel, Map<String, String> upstreamHeaders, Map<String, String> upstreamPaths,
                  long requestTimeoutMs, int logLevel, long maxBodyBytes, long modelsTtlMs, long keepaliveMs,
                  List<String> refreshTokens, String authBaseUrl, long refreshAheadMs, boolean fillFirst,
                  int accountConcurrency, int maxAttempts, long blockedCooldownMs, String dataDir, List<String> passwords,
                  String accountsFile, String apiKeysFile, String adminKey, Map<String, Boolean> thinkingOnly,
                  long contextFileThreshold, long contextLiveBytes, int chatPool, long mediaMaxBytes, boolean allowPrivateUrls,
                  long uploadMaxBytes, SearchInfo searchInfo, boolean reuseChats, long chatTtlMs, List<String> qwenCode,
                  String qwenCodeBaseUrl, String oauthBaseUrl, long tokenRefreshBufferMs, Map<String, String> qwenCodeHeaders,
                  long shutdownGraceMs, String upstreamProxy, String redis, boolean help) {

        @Override public String toString() {
            return "Config[host=" + host + ", port=" + port + ", tokens=" + tokens.size() + ", refreshTokens="
                    + refreshTokens.size() + ", baseUrl=" + baseUrl
                    + ", apiKeys=" + apiKeys.size() + ", deleteChats=" + deleteChats + ", thinking=" + thinking + ", reasoning=" + reasoning + "]";
        }

        /** One option: its flag, environment variable, default and meaning (the --help table). */
        record Option(String flag, String env, String def, String help) {}

        static final List<Option> OPTIONS = List.of(
                new Option("--host", "HOST", DEFAULT_HOST, "bind address"),
                new Option("--port", "PORT", "" + DEFAULT_PORT, "listen port (0 = any free port)"),
                new Option("--token", "QWEN_AUTH_TOKEN", "", "chat.qwen.ai access token(s) (JWT from localStorage 'token'), comma-separated"),
                new Option("--refresh-token", "QWEN_REFRESH_TOKEN", "", "refresh_token cookie value(s), comma-separated: tokens renew themselves"),
                new Option("--cookie", "QWEN_COOKIE", "", "optional full browser cookie string; its token and refresh_token are used"),
                new Option("--account", "QWEN_ACCOUNTS", "", "email:password to sign in with (repeatable; env ';'-separated)"),
                new Option("--accounts-file", "QWEN_ACCOUNTS_FILE", "", "file of accounts, one per line (token, refresh=, cookie=, email:password); watched"),
                new Option("--base-url", "QWEN_BASE_URL", DEFAULT_BASE_URL, "upstream origin"),
                new Option("--auth-base-url", "QWEN_AUTH_BASE_URL", DEFAULT_AUTH_BASE_URL, "origin of the token refresh endpoint"),
                new Option("--refresh-ahead-ms", "QWEN_REFRESH_AHEAD_MS", "" + DEFAULT_REFRESH_AHEAD_MS, "renew an access token this long before it expires"),
                new Option("--strategy", "QWEN_STRATEGY", "round-robin", "account choice: round-robin, fill-first"),
                new Option("--account-concurrency", "QWEN_ACCOUNT_CONCURRENCY", "0", "requests at once per account (0 = unlimited)"),
                new Option("--max-attempts", "QWEN_MAX_ATTEMPTS", "3", "accounts tried for one request when one fails for an account reason"),
                new Option("--data-dir", "QWEN_PROXY_DATA_DIR", "~/.qwenproxy", "where accounts.json keeps tokens, rotated refresh tokens and states"),
                new Option("--blocked-cooldown-ms", "QWEN_BLOCKED_COOLDOWN_MS", "" + DEFAULT_BLOCKED_COOLDOWN_MS, "first pause after a WAF block (doubles, up to 1 h)"),
                new Option("--api-key", "QWEN_PROXY_API_KEY", "", "client key(s), comma-separated"),
                new Option("--api-keys-file", "QWEN_PROXY_API_KEYS_FILE", "", "file of client keys, one per line; watched"),
                new Option("--admin-key", "QWEN_PROXY_ADMIN_KEY", "", "key for /admin (default: the first client key; none: loopback only)"),
                new Option("--delete-chats", "QWEN_DELETE_CHATS", "true", "delete each upstream chat after its reply (IS_DELETE=0/1 too)"),
                new Option("--keep-chats", "", "", "keep the upstream chats (same as QWEN_DELETE_CHATS=false)"),
                new Option("--thinking", "QWEN_THINKING", "auto", "default thinking mode: auto, on, off"),
                new Option("--reasoning", "QWEN_REASONING", "field", "reasoning to clients: field, both (also as 'reasoning'), think, hide"),
                new Option("--search-info", "QWEN_SEARCH_INFO", "table", "web search sources after the answer: table, list, none (always also as url_citation annotations)"),
                new Option("--thinking-only-models", "QWEN_THINKING_ONLY_MODELS", "", "models whose thinking cannot be switched off, besides those the model list marks; -id unmarks one"),
                new Option("--model-map", "QWEN_MODEL_MAP", "", "extra aliases alias=upstream,alias2=upstream2"),
                new Option("--default-model", "QWEN_DEFAULT_MODEL", "", "model for requests that name none (first upstream model)"),
                new Option("--upstream-header", "QWEN_UPSTREAM_HEADERS", "", "add/override an upstream header 'Name: value' (repeatable; env ';'-separated)"),
                new Option("--upstream-path", "QWEN_UPSTREAM_PATHS", "", "override an upstream path name=/path (" + String.join(", ", UPSTREAM_PATHS.keySet()) + ")"),
                new Option("--context-file-threshold", "QWEN_CONTEXT_FILE_THRESHOLD", "" + DEFAULT_CONTEXT_FILE_THRESHOLD,
                        "upstream bodies over this many bytes send the whole conversation as an attached file (Qwen refuses ~128 KiB)"),
                new Option("--context-live-bytes", "QWEN_CONTEXT_LIVE_BYTES", "" + DEFAULT_CONTEXT_LIVE_BYTES,
                        "prompt kept inline beside that file: instructions, original task, latest steps, current turn"),
                new Option("--chat-pool", "QWEN_CHAT_POOL", "" + DEFAULT_CHAT_POOL, "upstream chats kept ready per account and model, so a request skips creating one (0: off)"),
                new Option("--media-max-bytes", "QWEN_MEDIA_MAX_BYTES", "" + DEFAULT_MEDIA_MAX_BYTES, "largest image, audio, video or document a message may carry or link"),
                new Option("--upload-max-bytes", "QWEN_UPLOAD_MAX_BYTES", "" + DEFAULT_UPLOAD_MAX_BYTES, "largest file POST /v1/files and /api/files/upload accept"),
                new Option("--allow-private-urls", "QWEN_ALLOW_PRIVATE_URLS", "false", "fetch media URLs on loopback and private addresses too"),
                new Option("--reuse-chats", "QWEN_REUSE_CHATS", "false", "continue a /v1 conversation in the upstream chat that answered its history, sending only the new turns"),
                new Option("--chat-ttl-ms", "QWEN_CHAT_TTL_MS", "3600000", "with --reuse-chats: how long an answered upstream chat is kept for a follow-up"),
                new Option("--qwen-code", "QWEN_CODE_OAUTH_CREDENTIALS_PATH", "", "the qwen-code backend: --qwen-code (the CLI's file), --qwen-code=FILE (repeatable; env comma-separated)"),
                new Option("--qwen-code-base-url", "QWEN_CODE_BASE_URL", "", "qwen-code API base (default: https://<resource_url>/v1 from the file)"),
                new Option("--oauth-base-url", "QWEN_OAUTH_BASE_URL", "", "origin of qwen-code's OAuth endpoints (default: --base-url)"),
                new Option("--token-refresh-buffer-ms", "QWEN_CODE_TOKEN_REFRESH_BUFFER_MS", "" + DEFAULT_TOKEN_REFRESH_BUFFER_MS, "refresh a qwen-code token this long before it expires"),
                new Option("--qwen-code-header", "QWEN_CODE_HEADERS", "", "add/override a header sent to the qwen-code API 'Name: value' (repeatable; env ';'-separated)"),
                new Option("--upstream-proxy", "QWEN_UPSTREAM_PROXY", "", "outbound proxy for accounts that name none: http://[user:pass@]host:port, or direct"),
                new Option("--redis", "QWEN_PROXY_REDIS_URL", "", "share accounts, tokens, states, counters, conversations, stored responses and video jobs with other instances: redis://[user:pass@]host:port/db"),
                new Option("--request-timeout-ms", "QWEN_REQUEST_TIMEOUT_MS", "" + DEFAULT_REQUEST_TIMEOUT_MS, "upstream inactivity limit per request"),
                new Option("--max-body-bytes", "QWEN_MAX_BODY_BYTES", "" + DEFAULT_MAX_BODY_BYTES, "largest accepted request body"),
                new Option("--models-ttl-ms", "QWEN_MODELS_TTL_MS", "" + DEFAULT_MODELS_TTL_MS, "how long the upstream model list is fresh"),
                new Option("--keepalive-ms", "QWEN_KEEPALIVE_MS", "" + DEFAULT_KEEPALIVE_MS, "SSE comment interval while the upstream is silent"),
                new Option("--shutdown-grace-ms", "QWEN_SHUTDOWN_GRACE_MS", "" + DEFAULT_SHUTDOWN_GRACE_MS, "on SIGTERM, how long requests in flight may take to finish"),
                new Option("--log-level", "LOG_LEVEL", "info", "debug, info, warn, error (debug logs upstream events, secrets masked)"),
                new Option("--help", "", "", "print this help"),
                new Option("--version", "", "", "print the version"));

        /** qwen-code-api's names (flags and environment), accepted for the options they mean (test/PROTOCOL.md §Q). */
        static final Map<String, String> ALIASES = orderedMap("--credentials-file", "--qwen-code", "--upstream-base-url", "--qwen-code-base-url",
                "QWEN_CODE_API_UPSTREAM_BASE_URL", "--qwen-code-base-url", "QWEN_CODE_API_HOST", "--host", "QWEN_CODE_API_PORT", "--port",
                "QWEN_CODE_API_KEY", "--api-key");

        static String helpText() {
            StringBuilder b = new StringBuilder(NAME + " " + VERSION
                    + " - OpenAI-compatible gateway to chat.qwen.ai\n\nUsage: java QwenProxy.java [options]\n"
                    + "       java QwenProxy.java login [--data-dir DIR]   (sign in once; the account is kept in DIR)\n"
                    + "       java QwenProxy.java qwen-code-login [--qwen-code=FILE]   (qwen-code's device login; writes the CLI's file)\n"
                    + "Precedence: default < environment < flag. Flags take '--flag value' or '--flag=value'.\n\n");
            for (Option o : OPTIONS) {
                b.append(String.format("  %-22s %-26s %s%s%n", o.flag(), o.env(), o.help(),
                        o.def().isEmpty() ? "" : " [default: " + o.def() + "]"));
            }
            b.append("\nAlso accepted (qwen-code-api's names):");
            ALIASES.forEach((alias, flag) -> b.append(' ').append(alias).append(" = ").append(flag).append(';'));
            return b.append('\n').toString();
        }

        /** Pure: the same args and env always give the same Config or the same UsageException. */
        static Config load(String[] args, Map<String, String> env) {
            Map<String, String> v = new LinkedHashMap<>();
            for (Option o : OPTIONS) {
                String e = o.env().isEmpty() ? null : env.get(o.env());
                if (e != null && !e.isEmpty()) v.put(o.flag(), e);
            }
            if (!v.containsKey("--delete-chats") && env.get("IS_DELETE") != null) v.put("--delete-chats", env.get("IS_DELETE"));
            ALIASES.forEach((alias, flag) -> { if (!alias.startsWith("--") && !v.containsKey(flag) && env.get(alias) != null && !env.get(alias).isEmpty()) v.put(flag, env.get(alias)); });
            List<String> headers = split(v.remove("--upstream-header"), ";"), paths = split(v.remove("--upstream-path"), ";");
            List<String> codeHeaders = split(v.remove("--qwen-code-header"), ";"), codeFiles = new ArrayList<>();
            for (String f : split(v.remove("--qwen-code"), ",")) codeFile(codeFiles, f, env);
            List<String> passwords = split(v.remove("--account"), "[;\\n]");
            boolean help = false;
            for (int i = 0; i < args.length; i++) {
                String a = args[i], value = null;
                int eq = a.indexOf('=');
                if (a.startsWith("--") && eq > 0) { value = a.substring(eq + 1); a = a.substring(0, eq); }
                a = ALIASES.getOrDefault(a, a);
                if (a.equals("--qwen-code") && value == null && !args[i].equals("--qwen-code")) {     // --credentials-file FILE
                    if (i + 1 >= args.length || args[i + 1].startsWith("--")) throw new UsageException(args[i] + " needs a value");
                    value = args[++i];
                }
                switch (a) {
                    case "--qwen-code" -> codeFile(codeFiles, value == null ? "true" : value, env);
                    case "-h", "--help" -> help = true;
                    case "-V", "--version" -> { }       // main() answers it before anything else
                    case "--keep-chats" -> v.put("--delete-chats", "false");
                    case "--delete-chats", "--allow-private-urls", "--reuse-chats" -> v.put(a, value == null ? "true" : value);
                    default -> {
                        boolean known = false;
                        for (Option o : OPTIONS) known |= o.flag().equals(a);
                        if (!known) throw new UsageException("unknown option " + a);
                        if (value == null) {
                            // "--host --port 8790": the next flag is not this one's value
                            if (i + 1 >= args.length || args[i + 1].startsWith("--")) throw new UsageException(a + " needs a value");
                            value = args[++i];
                        }
                        if (a.equals("--upstream-header")) headers.add(value);
                        else if (a.equals("--upstream-path")) paths.add(value);
                        else if (a.equals("--account")) passwords.add(value);
                        else if (a.equals("--qwen-code-header")) codeHeaders.add(value);
                        else v.put(a, value);
                    }
                }
            }
            String host = v.getOrDefault("--host", DEFAULT_HOST);
            int port = (int) number(v, "--port", DEFAULT_PORT, 0, 65535);
            String base = url(v.getOrDefault("--base-url", DEFAULT_BASE_URL), "--base-url");
            String authBase = url(v.getOrDefault("--auth-base-url", DEFAULT_AUTH_BASE_URL), "--auth-base-url");
            for (String pw : passwords)
                if (pw.indexOf(':') <= 0 || pw.indexOf(':') == pw.length() - 1) throw new UsageException("--account takes email:password");
            String strategy = v.getOrDefault("--strategy", "round-robin").trim().toLowerCase(Locale.ROOT);
            if (!strategy.equals("round-robin") && !strategy.equals("fill-first"))
                throw new UsageException("--strategy must be round-robin or fill-first, got '" + strategy + "'");
            Map<String, String> upstreamHeaders = headers(headers, "--upstream-header"), qwenCodeHeaders = headers(codeHeaders, "--qwen-code-header");
            Map<String, String> upstreamPaths = new LinkedHashMap<>(UPSTREAM_PATHS);
            for (Map.Entry<String, String> p : pairs(paths, "--upstream-path").entrySet()) {
                if (!UPSTREAM_PATHS.containsKey(p.getKey()))
                    throw new UsageException("--upstream-path names one of " + UPSTREAM_PATHS.keySet() + ", got '" + p.getKey() + "'");
                if (!p.getValue().startsWith("/")) throw new UsageException("--upstream-path values start with '/'");
                upstreamPaths.put(p.getKey(), p.getValue());
            }
            Map<String, Boolean> thinkingOnly = new LinkedHashMap<>();
            for (String m : split(v.get("--thinking-only-models"), ",")) thinkingOnly.put(m.replaceFirst("^[-+]", "").toLowerCase(Locale.ROOT), !m.startsWith("-"));
            Map<String, String> modelMap = new LinkedHashMap<>();
            pairs(split(v.get("--model-map"), ","), "--model-map").forEach((k, t) -> modelMap.put(k.toLowerCase(Locale.ROOT), t));
            Map<String, Object> c = new LinkedHashMap<>();      // named, in the record's order
            c.put("host", host);
            c.put("port", port);
            c.put("tokens", List.copyOf(split(v.get("--token"), ",")));
            c.put("cookie", blankToNull(v.get("--cookie")));
            c.put("baseUrl", base);
            c.put("apiKeys", List.copyOf(split(v.get("--api-key"), ",")));
            c.put("deleteChats", bool(v.getOrDefault("--delete-chats", "true"), "--delete-chats"));
            c.put("thinking", choice(Thinking.class, v.getOrDefault("--thinking", "auto"), "--thinking"));
            c.put("reasoning", choice(Reasoning.class, v.getOrDefault("--reasoning", "field"), "--reasoning"));
            c.put("modelMap", Map.copyOf(modelMap));
            c.put("defaultModel", blankToNull(v.get("--default-model")));
            c.put("upstreamHeaders", upstreamHeaders);
            c.put("upstreamPaths", upstreamPaths);
            c.put("requestTimeoutMs", number(v, "--request-timeout-ms", DEFAULT_REQUEST_TIMEOUT_MS, 1, Long.MAX_VALUE));
            c.put("logLevel", Log.parseLevel(v.getOrDefault("--log-level", "info")));
            c.put("maxBodyBytes", number(v, "--max-body-bytes", DEFAULT_MAX_BODY_BYTES, 1, Integer.MAX_VALUE - 8));
            c.put("modelsTtlMs", number(v, "--models-ttl-ms", DEFAULT_MODELS_TTL_MS, 1, Long.MAX_VALUE));
            c.put("keepaliveMs", number(v, "--keepalive-ms", DEFAULT_KEEPALIVE_MS, 1, Long.MAX_VALUE));
            c.put("refreshTokens", List.copyOf(split(v.get("--refresh-token"), ",")));
            c.put("authBaseUrl", authBase);
            c.put("refreshAheadMs", number(v, "--refresh-ahead-ms", DEFAULT_REFRESH_AHEAD_MS, 0, Long.MAX_VALUE));
            c.put("fillFirst", strategy.equals("fill-first"));
            c.put("accountConcurrency", (int) number(v, "--account-concurrency", 0, 0, 1_000_000));
            c.put("maxAttempts", (int) number(v, "--max-attempts", 3, 1, 100));
            c.put("blockedCooldownMs", number(v, "--blocked-cooldown-ms", DEFAULT_BLOCKED_COOLDOWN_MS, 1, Long.MAX_VALUE));
            c.put("dataDir", home(v.getOrDefault("--data-dir", "~/.qwenproxy")));
            c.put("passwords", List.copyOf(passwords));
            c.put("accountsFile", v.containsKey("--accounts-file") ? home(v.get("--accounts-file")) : null);
            c.put("apiKeysFile", v.containsKey("--api-keys-file") ? home(v.get("--api-keys-file")) : null);
            c.put("adminKey", blankToNull(v.get("--admin-key")));
            c.put("thinkingOnly", Map.copyOf(thinkingOnly));
            c.put("contextFileThreshold", number(v, "--context-file-threshold", DEFAULT_CONTEXT_FILE_THRESHOLD, 1024, Integer.MAX_VALUE));
            c.put("contextLiveBytes", number(v, "--context-live-bytes", DEFAULT_CONTEXT_LIVE_BYTES, 1024, Integer.MAX_VALUE));
            c.put("chatPool", (int) number(v, "--chat-pool", DEFAULT_CHAT_POOL, 0, 16));
            c.put("mediaMaxBytes", number(v, "--media-max-bytes", DEFAULT_MEDIA_MAX_BYTES, 1, Integer.MAX_VALUE - 8));
            c.put("allowPrivateUrls", bool(v.getOrDefault("--allow-private-urls", "false"), "--allow-private-urls"));
            c.put("uploadMaxBytes", number(v, "--upload-max-bytes", DEFAULT_UPLOAD_MAX_BYTES, 1, Integer.MAX_VALUE - (1 << 20)));
            c.put("searchInfo", choice(SearchInfo.class, v.getOrDefault("--search-info", "table"), "--search-info"));
            c.put("reuseChats", bool(v.getOrDefault("--reuse-chats", "false"), "--reuse-chats"));
            c.put("chatTtlMs", number(v, "--chat-ttl-ms", 3_600_000, 1000, Long.MAX_VALUE));
            c.put("qwenCode", List.copyOf(new LinkedHashSet<>(codeFiles)));
            c.put("qwenCodeBaseUrl", v.containsKey("--qwen-code-base-url") ? url(v.get("--qwen-code-base-url"), "--qwen-code-base-url") : null);
            c.put("oauthBaseUrl", v.containsKey("--oauth-base-url") ? url(v.get("--oauth-base-url"), "--oauth-base-url") : base);
            c.put("tokenRefreshBufferMs", number(v, "--token-refresh-buffer-ms", DEFAULT_TOKEN_REFRESH_BUFFER_MS, 0, Long.MAX_VALUE));
            c.put("qwenCodeHeaders", qwenCodeHeaders);
            c.put("shutdownGraceMs", number(v, "--shutdown-grace-ms", DEFAULT_SHUTDOWN_GRACE_MS, 0, 3_600_000));
            try {
                if (v.get("--redis") != null) new Redis(v.get("--redis").trim());
                c.put("redis", blankToNull(v.get("--redis")));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--redis: " + e.getMessage());
            }
            try {
                c.put("upstreamProxy", Upstream.egressUrl(v.get("--upstream-proxy")));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--upstream-proxy: " + e.getMessage() + ", got '" + Upstream.maskedEgress(v.get("--upstream-proxy")) + "'");
            }
            c.put("help", help);
            return of(c);
        }

        /** The record from named values: every component by its name, exactly once (a missing one is a bug). */
        static Config of(Map<String, Object> named) {
            java.lang.reflect.RecordComponent[] rc = Config.class.getRecordComponents();
            Object[] args = new Object[rc.length];
            Class<?>[] types = new Class<?>[rc.length];
            for (int i = 0; i < rc.length; i++) {
                if (!named.containsKey(rc[i].getName())) throw new IllegalStateException("Config without " + rc[i].getName());
                args[i] = named.get(rc[i].getName());
                types[i] = rc[i].getType();
            }
            if (named.size() != rc.length) throw new IllegalStateException("Config given unknown names: " + named.keySet());
            try {
                return Config.class.getDeclaredConstructor(types).newInstance(args);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }

        /** A --qwen-code value: a path, true (the CLI's own file, §Q1) or false (none). */
        private static void codeFile(List<String> files, String value, Map<String, String> env) {
            String l = value.trim().toLowerCase(Locale.ROOT);
            if (Set.of("1", "true", "yes", "on").contains(l)) files.add(QwenCode.defaultFile(env));
            else if (!Set.of("0", "false", "no", "off", "").contains(l)) files.add(home(value));
        }

        /** 'Name: value' lines: a header to add or override ("Name:" alone removes it). */
        private static Map<String, String> headers(List<String> lines, String flag) {
            Map<String, String> out = new LinkedHashMap<>();
            for (String h : lines) {
                int c = h.indexOf(':');
                String name = c < 0 ? "" : h.substring(0, c).trim();
                if (name.isEmpty() || !name.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+"))
                    throw new UsageException(flag + " must be 'Name: value', got '" + h + "'");
                if (Set.of("connection", "content-length", "expect", "host", "upgrade").contains(name.toLowerCase(Locale.ROOT)))
                    throw new UsageException(flag + " cannot set " + name + " (the HTTP client owns it)");
                out.put(name, h.substring(c + 1).trim());
            }
            return out;
        }

        private static String url(String raw, String flag) {
            String u = raw.trim().replaceAll("/+$", "");
            try {
                URI parsed = URI.create(u);
                if (("http".equals(parsed.getScheme()) || "https".equals(parsed.getScheme())) && parsed.getHost() != null) return u;
            } catch (IllegalArgumentException e) {
                // reported below
            }
            throw new UsageException(flag + " must be an http(s) URL, got '" + raw + "'");
        }

        private static List<String> split(String s, String sep) {
            List<String> out = new ArrayList<>();
            if (s != null) for (String part : s.split(sep)) if (!part.isBlank()) out.add(part.trim());
            return out;
        }

        private static Map<String, String> pairs(List<String> items, String flag) {
            Map<String, String> m = new LinkedHashMap<>();
            for (String it : items) {
                int eq = it.indexOf('=');
                if (eq <= 0 || eq == it.length() - 1) throw new UsageException(flag + " takes name=value, got '" + it + "'");
                m.put(it.substring(0, eq).trim(), it.substring(eq + 1).trim());
            }
            return m;
        }

        private static long number(Map<String, String> v, String flag, long def, long min, long max) {
            String s = v.get(flag);
            if (s == null) return def;
            try {
                long n = Long.parseLong(s.trim());
                if (n < min || n > max) throw new NumberFormatException();
                return n;
            } catch (NumberFormatException e) {
                throw new UsageException(flag + " must be a whole number from " + min + " to " + max + ", got '" + s + "'");
            }
        }

        private static boolean bool(String s, String flag) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "1", "true", "yes", "on" -> true;
                case "0", "false", "no", "off" -> false;
                default -> throw new UsageException(flag + " must be true or false, got '" + s + "'");
            };
        }

        private static <E extends Enum<E>> E choice(Class<E> type, String s, String flag) {
            for (E e : type.getEnumConstants()) if (e.name().equalsIgnoreCase(s.trim())) return e;
            List<String> names = new ArrayList<>();
            for (E e : type.getEnumConstants()) names.add(e.name().toLowerCase(Locale.ROOT));
            throw new UsageException(flag + " must be one of " + String.join(", ", names) + ", got '" + s + "'");
        }
    }

    /** A bad command line or environment: main prints the message and exits with CMDERR. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) { super(message); }
    }

    // ==== 4. Log ====

    /** Lines on stderr: time, level, request id, message. Known secrets are masked in every line. */
    static final class Log {
        static final int DEBUG = 0, INFO = 1, WARN = 2, ERROR = 3;
        static final String[] NAMES = {"DEBUG", "INFO", "WARN", "ERROR"};
        static volatile int level = INFO;
        static volatile PrintStream out = System.err;
        private static final Set<String> SECRETS = ConcurrentHashMap.newKeySet();

        static int parseLevel(String s) {
            for (int i = 0; i < NAMES.length; i++) if (NAMES[i].equalsIgnoreCase(s.trim())) return i;
            throw new UsageException("--log-level must be one of debug, info, warn, error, got '" + s + "'");
        }

        static void secrets(String... values) {
            for (String s : values) if (s != null && s.length() >= 6) SECRETS.add(s);
        }

        static int secretCount() { return SECRETS.size(); }

        /** A rotated-away token is dead: the list keeps only live secrets (else it grows with every renewal). */
        static void forget(String... values) {
            for (String s : values) if (s != null) SECRETS.remove(s);
        }

        /** Masks every known secret, and anything shaped like a JWT, in text bound for a log or a client. */
        static String redact(String s) {
            if (s == null) return null;
            for (String secret : SECRETS) if (s.contains(secret)) s = s.replace(secret, mask(secret));
            return s.contains("eyJ") ? JWT.matcher(s).replaceAll("eyJ…(jwt)") : s;
        }

        private static final Pattern JWT = Pattern.compile("eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");

        static void debug(String rid, String msg) { log(DEBUG, rid, msg); }
        static void info(String rid, String msg) { log(INFO, rid, msg); }
        static void warn(String rid, String msg) { log(WARN, rid, msg); }
        static void error(String rid, String msg) { log(ERROR, rid, msg); }

        static void log(int lvl, String rid, String msg) {
            if (lvl < level) return;
            String line = Instant.now() + " " + NAMES[lvl] + (rid == null ? "" : " [" + rid + "]") + " " + clean(redact(msg));
            out.println(line);
        }

        /**
         * One line, no terminal controls: client text (a model name, a path) cannot forge a log line
         * or recolour a terminal (CWE-117). Newlines and other control characters become \n, \\u001b...
         */
        static String clean(String s) {
            if (s == null) return null;
            int i = 0;
            while (i < s.length() && !control(s.charAt(i))) i++;
            if (i == s.length()) return s;
            StringBuilder b = new StringBuilder(s.length() + 16).append(s, 0, i);
            for (; i < s.length(); i++) {
                char ch = s.charAt(i);
                if (!control(ch)) b.append(ch);
                else if (ch == '\n') b.append("\\n");
                else if (ch == '\r') b.append("\\r");
                else if (ch == '\t') b.append("\\t");
                else b.append(String.format("\\u%04x", (int) ch));
            }
            return b.toString();
        }

        private static boolean control(char ch) {
            return ch < 0x20 || (ch >= 0x7f && ch < 0xa0) || ch == '\u2028' || ch == '\u2029';
        }
    }

    // ==== 5. HTTP plumbing ====

    /**
     * The one error type: an HTTP status plus the OpenAI error object. Thrown anywhere, turned
     * into a response (or, after the commit point, a final SSE error event) only in handle().
     */
    static final class ApiException extends RuntimeException {
        /** What a failure is about, for the code that reacts to it (the accounts, the retries). */
        enum Kind { OTHER, TOKEN, RATE_LIMIT, BLOCKED, CHAT, SHUTDOWN }      // CHAT: the chat (id or parent) is refused

        final int status;
        final String type, code, param;
        final Map<String, String> headers = new LinkedHashMap<>();
        Kind kind = Kind.OTHER;
        long retryAfterS;        // RATE_LIMIT: seconds until it may work again

        ApiException(int status, String type, String code, String param, String message) {
            super(Log.clean(Log.redact(message)));     // messages echo client input: one clean line
            this.status = status;
            this.type = type;
            this.code = code;
            this.param = param;
        }

        ApiException header(String name, String value) { headers.put(name, value); return this; }

        ApiException kind(Kind k) { kind = k; return this; }

        ApiException retryAfter(long seconds) { retryAfterS = seconds; return header("Retry-After", Long.toString(seconds)); }

        /** The account could do better another time or another account could: a token, a limit, the firewall. */
        boolean aboutAccount() { return kind == Kind.TOKEN || kind == Kind.RATE_LIMIT || kind == Kind.BLOCKED; }

        Map<String, Object> body() {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("message", getMessage());
            e.put("type", type);
            e.put("param", param);
            e.put("code", code);
            return Map.of("error", e);
        }

        static ApiException invalid(String param, String code, String message) {
            return new ApiException(400, "invalid_request_error", code, param, message);
        }

        // ---- what Qwen's failures mean (§7): built here, from data, and asked by kind, never by code string

        static ApiException timeout(String what, long ms) {
            return new ApiException(504, "server_error", "upstream_timeout", null,
                    "Qwen did not answer (" + what + ") within " + ms + " ms (--request-timeout-ms).");
        }

        /** {"success":false,"data":{"code","details","num"}} and its variants (§7.1, §7.4). */
        static ApiException envelopeError(Map<String, Object> env) {
            if (env.get("ret") instanceof List<?> ret && ret.toString().matches("(?s).*(FAIL_SYS_USER_VALIDATE|RGV587).*")) return blocked();
            Map<String, Object> data = Json.obj(env, "data");
            String code = Json.str(data, "code") != null ? Json.str(data, "code") : Json.str(env, "code");
            String details = firstString(Json.str(data, "details"), Json.str(data, "message"), Json.str(env, "detail"),
                    Json.str(env, "details"), Json.str(env, "message"));
            Object num = data != null && data.containsKey("num") ? data.get("num") : env.get("num");
            return classify(code, details, num);
        }

        /** Upstream error code -> OpenAI status, type and code (issue table; §7.1, §7.3). */
        static ApiException classify(String code, String details, Object num) {
            String c = code == null ? "" : code, d = details == null ? "" : details;
            String lc = c.toLowerCase(Locale.ROOT), ld = d.toLowerCase(Locale.ROOT);
            if (lc.equals("unauthorized") || lc.equals("invalid token") || ld.contains("token has expired") || ld.contains("log in again"))
                return tokenExpired();
            boolean daily = lc.equals("ratelimited") || lc.equals("quotalimited") || ld.contains("quota") || ld.contains("upper limit");
            if (daily || Set.of("parallellimited", "too_many_requests", "server_busy").contains(lc)) {
                long hours = Json.longValue(num, 0);
                // a quota without "num" waits the default hour; a burst limit (parallel, busy) a minute
                long after = hours > 0 ? hours * 3600 : daily ? DEFAULT_RETRY_AFTER_S : 60;
                return rateLimited("Qwen rate limit" + (c.isEmpty() ? "" : " (" + c + ")") + (d.isEmpty() ? "" : ": " + d), after);
            }
            if (lc.equals("data_inspection_failed"))
                return new ApiException(400, "invalid_request_error", "content_filter", null, "Qwen's content moderation refused this request: " + d);
            if (lc.equals("contextlengthexceeded"))
                return new ApiException(400, "invalid_request_error", "context_length_exceeded", "messages", "The conversation is too long for Qwen: " + d);
            if (lc.contains("fail_sys_user_validate") || lc.contains("rgv587")) return blocked();
            return new ApiException(502, "server_error", "upstream_error", null, "Qwen error" + (c.isEmpty() ? "" : " " + c)
                    + (d.isEmpty() ? "" : ": " + d)).kind(lc.equals("bad_request") && ld.contains("chat") ? Kind.CHAT : Kind.OTHER);
        }

        static ApiException rateLimited(String message, long retryAfterSeconds) {
            ApiException e = new ApiException(429, "rate_limit_error", "rate_limit_exceeded", null,
                    sentence(message) + ". Retry after " + retryAfterSeconds + " s.").kind(Kind.RATE_LIMIT).retryAfter(retryAfterSeconds);
            // the OpenAI SDKs ignore a Retry-After over a minute and retry within seconds; for a quota
            // that lasts hours that only delays the error, so tell them not to (C.6)
            return retryAfterSeconds > 60 ? e.header("x-should-retry", "false") : e;
        }

        static ApiException tokenExpired() {
            return new ApiException(401, "authentication_error", "upstream_token_expired", null,
                    "Qwen rejected the token: it has expired or was revoked (access tokens live about 15 minutes). Give the proxy "
                            + "an account that renews itself: QWEN_REFRESH_TOKEN=<the refresh_token cookie of chat.qwen.ai>, or run "
                            + "'java QwenProxy.java login' once (README, 'Getting the token').").kind(Kind.TOKEN);
        }

        static ApiException blocked() {
            return new ApiException(503, "server_error", "upstream_blocked", null,
                    "Qwen's anti-bot firewall (Alibaba WAF / captcha) blocked the request. Open https://chat.qwen.ai in a "
                            + "browser with the same account, solve any captcha, pass your browser cookies with --cookie, "
                            + "and retry later.").header("x-should-retry", "false").kind(Kind.BLOCKED);
        }

        static final String[] WAF_MARKERS = {"aliyun_waf", "fail_sys_user_validate", "rgv587", "_____tmd_____", "/punish",
                "baxia", "x5sec", "captcha", "人机验证", "安全验证", "滑块验证"};

        /** §7.4: WAF HTML pages and baxia JSON. Only ever applied to non-answer bodies. */
        static boolean looksBlocked(String body) {
            String b = body.length() > 65536 ? body.substring(0, 65536) : body;
            String l = b.toLowerCase(Locale.ROOT);
            for (String m : WAF_MARKERS) if (l.contains(m)) return true;
            return false;
        }

        static ApiException shuttingDown() {
            return new ApiException(503, "server_error", "shutting_down", null, "The proxy is shutting down.").kind(Kind.SHUTDOWN);
        }
    }

    /** The client hung up (a write failed): stop all work for this request, answer nothing. */
    static final class ClientGone extends RuntimeException {
        ClientGone(Throwable cause) { super(cause.getMessage(), cause, false, false); }
    }

    /** Per-request state the catch ladder needs: whether anything was sent, and what to log. */
    static final class Call {
        final HttpExchange ex;
        final String rid = "req_" + randomToken(9);
        final long started = System.nanoTime();
        SseStream stream;       // set once a streaming reply is being prepared
        boolean responded;      // a complete non-streaming response went out
        int status = 200;
        String note = "";
        ApiException error;     // what went wrong, for the request's log line
        boolean anthropic;      // errors in Anthropic's shape and statuses (the Messages front door)
        Function<ApiException, String> streamError;   // a front door's own error event after the commit point (null: OpenAI's)
        final Metrics metrics;
        String route = "other", model = "", backend = "web";     // metric labels
        long firstByte;         // System.nanoTime() of a stream's first byte to the client (0: not a stream, or not yet)

        Call(HttpExchange ex, Metrics metrics) {
            this.ex = ex;
            this.metrics = metrics;
        }

        /** A streamed reply's status line goes out now: for the time-to-first-byte and active-streams metrics. */
        void streaming() {
            firstByte = System.nanoTime();
            metrics.streams.incrementAndGet();
        }
    }

    /** Every request enters here. THE catch ladder: nothing escapes (an escaping exception drops the connection). */
    static void handle(Server s, HttpExchange ex) {
        Call c = new Call(ex, s.metrics);
        s.busy.incrementAndGet();
        try {
            route(s, c);
        } catch (ApiException e) {
            fail(c, e);
        } catch (ClientGone e) {
            c.status = 499;
            Log.debug(c.rid, "client went away: " + e.getMessage());
        } catch (RuntimeException | IOException e) {
            StackTraceElement[] st = e.getStackTrace();
            Log.error(c.rid, "internal error: " + e + (st.length > 0 ? " at " + st[0] : ""));
            fail(c, new ApiException(500, "server_error", "internal_error", null,
                    "Internal proxy error (" + e.getClass().getSimpleName() + "); see the proxy log for " + c.rid));
        } finally {
            s.lastDone = System.currentTimeMillis();
            s.busy.decrementAndGet();
            ex.close();
            long ms = (System.nanoTime() - c.started) / 1_000_000;
            String path = ex.getRequestURI().getRawPath();
            // health probes come every few seconds from Docker, Kubernetes and uptime checkers: not news
            boolean probe = c.status == 200 && (path.equals("/healthz") || path.equals("/readyz"));
            // one line per request, the error (if any) in it: a 5xx or a broken stream is a warning
            int level = probe ? Log.DEBUG : c.error != null && (c.error.status >= 500 || c.status == 200) ? Log.WARN : Log.INFO;
            s.metrics.done(c, ms);
            if (level >= Log.level) Log.log(level, c.rid, ex.getRequestMethod() + " " + path + " " + c.status + " " + ms + "ms" + c.note
                    + (c.error == null ? "" : " error=" + c.error.code + ": " + c.error.getMessage()));
        }
    }

    /** Before the commit point: a real status and error body. After it: one SSE error event. */
    static void fail(Call c, ApiException e) {
        c.error = e;         // logged with the request's line
        try {
            if (c.stream != null && !c.stream.abandon()) {
                if (c.streamError != null) c.stream.end(c.streamError.apply(e));
                else c.stream.error(e);
                c.note += " (in the stream)";
            } else if (!c.responded) {
                e.headers.forEach((k, v) -> c.ex.getResponseHeaders().set(k, v));
                if (c.anthropic) sendJson(c, Anthropic.status(e.status), Anthropic.error(e));
                else sendJson(c, e.status, e.body());
            }
        } catch (ClientGone gone) {
            c.status = 499;   // nobody left to tell
        }
    }

    static void route(Server s, Call c) throws IOException {
        HttpExchange ex = c.ex;
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getRawPath();
        cors(ex);
        if (method.equals("OPTIONS")) {            // CORS preflight: no auth, no body
            ex.sendResponseHeaders(204, NO_BODY);
            c.status = 204;
            c.responded = true;
            return;
        }
        String backend = path.startsWith("/cli/") ? "/cli" : path.startsWith("/code/") ? "/code" : null;   // Qwen2API's qwen-code routes
        if (backend != null) path = path.substring(backend.length());
        boolean v1 = path.startsWith("/v1/");
        if (path.equals("/v1") || v1) path = path.substring(3);   // clients drop /v1 or not
        if (path.length() > 1 && path.endsWith("/")) path = path.substring(0, path.length() - 1);
        if (path.isEmpty()) path = "/";
        if (!path.equals("/healthz")) s.awaitReady();
        if (s.draining()) {          // load balancers see /healthz fail; clients close and retry elsewhere
            ex.getResponseHeaders().set("Connection", "close");
            throw ApiException.shuttingDown();
        }
        c.route = backend == null ? routeLabel(path) : backend + routeLabel(path);
        if (backend != null) {
            authorize(s, c);
            QwenCode.route(s, c, method, path);
            return;
        }
        String admin = Admin.adminPath(method, path);
        if (admin != null) {
            Admin.authorizeAdmin(s, c);
            Admin.handleAdmin(s, c, method, admin);
            return;
        }
        switch (path) {
            case "/healthz" -> { allow(method, "GET"); sendJson(c, 200, Map.of("status", "ok")); }
            case "/metrics" -> {
                allow(method, "GET");
                Admin.authorizeAdmin(s, c);
                send(c, 200, "text/plain; version=0.0.4; charset=utf-8", s.metrics.render(s).getBytes(StandardCharsets.UTF_8));
            }
            case "/readyz" -> { allow(method, "GET"); Admin.handleReady(s, c); }
            case "/verify" -> { allow(method, "POST"); Admin.handleVerify(s, c); }
            case "/" -> { allow(method, "GET"); sendJson(c, 200, rootInfo(s)); }
            case "/chat/completions", "/api/chat/completions" -> { allow(method, "POST"); authorize(s, c); completions(s, c); }   // the second: FreeQwenApi's
            case "/models" -> {
                allow(method, "GET");
                authorize(s, c);
                boolean anthropic = ex.getRequestHeaders().containsKey("anthropic-version");    // Claude Code and the Anthropic SDK send it
                Map<String, Object> list = s.models.openAiList();
                if (s.code != null) {
                    List<Object> all = new ArrayList<>((List<?>) list.get("data"));
                    all.addAll(s.code.models());
                    list.put("data", all);
                }
                sendJson(c, 200, anthropic ? Anthropic.models(list) : list);
            }
            case "/api/files/upload" -> { allow(method, "POST"); authorize(s, c); s.files.upload(c, true); }
            case "/api/chat" -> { allow(method, "POST"); authorize(s, c); s.conversations.chat(c); }
            case "/api/models" -> { allow(method, "GET"); authorize(s, c); sendJson(c, 200, freeQwenModels(s)); }
            case "/api/status" -> { allow(method, "GET"); authorize(s, c); Admin.handleStatusFq(s, c); }
            case "/messages", "/anthropic/v1/messages" -> { c.anthropic = true; allow(method, "POST"); authorize(s, c); Anthropic.call(s, c).failover(); }
            case "/messages/count_tokens", "/anthropic/v1/messages/count_tokens" -> {
                c.anthropic = true;
                allow(method, "POST");
                authorize(s, c);
                sendJson(c, 200, Map.of("input_tokens", Anthropic.countTokens(s, c)));
            }
            case "/responses" -> { allow(method, "POST"); authorize(s, c); s.responses.call(c).failover(); }
            case "/images/generations" -> { allow(method, "POST"); authorize(s, c); ChatCall.images(s, c, false).failover(); }
            case "/images/edits" -> { allow(method, "POST"); authorize(s, c); ChatCall.images(s, c, true).failover(); }
            default -> {
                if (path.equals("/files") || path.startsWith("/files/")) {
                    authorize(s, c);
                    s.files.handle(c, method, path);
                    return;
                }
                if (path.startsWith("/responses/")) {
                    authorize(s, c);
                    s.responses.handle(c, method, path);
                    return;
                }
                if (path.equals("/api/chats") || path.startsWith("/api/chats/")) {
                    authorize(s, c);
                    s.conversations.handle(c, method, path);
                    return;
                }
                if (path.equals("/videos") || path.startsWith("/videos/")) {
                    authorize(s, c);
                    s.videos.handle(c, method, path);
                    return;
                }
                if (s.code != null && v1 && !path.startsWith("/models/")) {   // the rest of /v1 exists on the qwen-code API (embeddings, ...)
                    authorize(s, c);
                    s.code.forward(c, method, path, null);
                    return;
                }
                if (!path.startsWith("/models/")) {
                    c.route = "other";
                    throw new ApiException(404, "invalid_request_error", "not_found", null,
                            "Unknown endpoint " + method + " " + ex.getRequestURI().getRawPath() + ". GET / lists the endpoints this proxy serves.");
                }
                allow(method, "GET");
                authorize(s, c);
                String id = URLDecoder.decode(path.substring(8), StandardCharsets.UTF_8);
                sendJson(c, 200, s.code != null && s.code.owns(id) ? QwenCode.model(id) : s.models.openAiModel(id));
            }
        }
    }

    /** A request's route as a metric label: the path, with the id of a resource as {id}. */
    static String routeLabel(String path) {
        for (String p : List.of("/models/", "/files/", "/responses/", "/videos/", "/api/chats/", "/admin/accounts/", "/api/deleteAccount/"))
            if (path.startsWith(p)) return p + "{id}";
        return path.length() > 64 ? "other" : path;
    }

    /** POST /v1/chat/completions: a qwen-code model goes to that backend (§Q5), any other to chat.qwen.ai. */
    static void completions(Server s, Call c) {
        Map<String, Object> body = readJsonObject(c, s.cfg.maxBodyBytes());
        if (s.code != null && s.code.owns(body.get("model") instanceof String m ? m : null)) s.code.forward(c, "POST", "/chat/completions", body);
        else ChatCall.openAi(s, c, body).failover();
    }

    /** GET /api/models (FreeQwenApi): the OpenAI list, and the same ids under "models". */
    static Map<String, Object> freeQwenModels(Server s) {
        Map<String, Object> list = s.models.openAiList();
        List<Object> models = new ArrayList<>();
        for (Object m : (List<?>) list.get("data")) models.add(orderedObject("id", Json.asObject(m).get("id"), "name", Json.asObject(m).get("id")));
        list.put("models", models);
        return list;
    }

    /** GET /: every endpoint (a test asks each of them: none may be the unknown-endpoint 404). */
    static Map<String, Object> rootInfo(Server s) {
        List<String> e = new ArrayList<>(List.of("POST /v1/chat/completions", "GET /v1/models", "GET /v1/models/{id}",
                "POST /v1/messages", "POST /v1/messages/count_tokens", "POST /v1/responses", "GET /v1/responses/{id}", "DELETE /v1/responses/{id}",
                "POST /v1/files", "GET /v1/files", "GET /v1/files/{id}", "GET /v1/files/{id}/content", "DELETE /v1/files/{id}",
                "POST /v1/images/generations", "POST /v1/images/edits", "POST /v1/videos", "GET /v1/videos", "GET /v1/videos/{id}",
                "GET /v1/videos/{id}/content", "DELETE /v1/videos/{id}", "POST /api/chat", "GET /api/chats", "POST /api/chats",
                "GET /api/chats/{id}", "DELETE /api/chats/{id}", "PUT /api/chats/{id}/rename", "POST /api/chats/cleanup",
                "POST /api/chat/completions", "GET /api/models", "GET /api/status", "POST /api/files/upload", "GET /healthz", "GET /readyz",
                "POST /verify", "GET /admin/accounts", "POST /admin/accounts", "DELETE /admin/accounts/{id}", "POST /admin/accounts/{id}/refresh",
                "POST /admin/reload", "GET /admin/status", "GET /metrics"));
        if (s.code != null) e.addAll(List.of("POST /cli/v1/chat/completions", "GET /cli/v1/models", "POST /code/v1/chat/completions", "GET /code/v1/models"));
        return orderedObject("name", NAME, "version", VERSION, "endpoints", e);
    }

    static void allow(String method, String allowed) {
        if (!method.equals(allowed) && !(method.equals("HEAD") && allowed.equals("GET")))
            throw new ApiException(405, "invalid_request_error", "method_not_allowed", null,
                    "Method " + method + " is not allowed here; use " + allowed + ".").header("Allow", allowed);
    }

    static void cors(HttpExchange ex) {
        Headers h = ex.getResponseHeaders();
        h.set("Access-Control-Allow-Origin", "*");
        h.set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
        // a browser hides every other response header from scripts; SDKs read these to back off and report
        h.set("Access-Control-Expose-Headers", "Retry-After, X-Request-Id, X-Should-Retry");
        String asked = ex.getRequestHeaders().getFirst("Access-Control-Request-Headers");
        h.set("Access-Control-Allow-Headers", asked != null ? asked : "Authorization, Content-Type, x-api-key");
        h.set("Access-Control-Max-Age", "86400");
    }

    /** Bearer or x-api-key, compared in constant time. No keys configured: open (loopback only, see Server). */
    static void authorize(Server s, Call c) {
        List<String> keys = s.apiKeys;
        if (keys.isEmpty()) return;
        String key = presentedKey(c);
        if (key != null && keyIn(key, keys)) return;
        if (key != null && s.shared != null && s.shared.accepts(key)) return;      // another instance's key (--redis)
        throw new ApiException(401, "invalid_request_error", "invalid_api_key", null, key == null
                ? "Missing API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'." : "Incorrect API key provided.");
    }

    static String presentedKey(Call c) {
        Headers h = c.ex.getRequestHeaders();
        String auth = h.getFirst("Authorization"), key = null;
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) key = auth.substring(7).trim();
        if (key == null || key.isEmpty()) key = h.getFirst("x-api-key");
        if (key == null || key.isEmpty()) key = h.getFirst("api-key");
        return key == null || key.isBlank() ? null : key.trim();
    }

    /** Constant-time membership: a wrong key takes as long as a right one. */
    static boolean keyIn(String key, List<String> keys) {
        boolean found = false;
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        for (String good : keys) found |= java.security.MessageDigest.isEqual(k, good.getBytes(StandardCharsets.UTF_8));
        return found;
    }

    /** Reads a JSON object body, enforcing the size cap while reading (Content-Length may lie or be absent). */
    static Map<String, Object> readJsonObject(Call c, long max) {
        byte[] body = readBody(c, max, "--max-body-bytes");
        Object v;
        try {
            v = Json.parse(new String(body, StandardCharsets.UTF_8));
        } catch (Json.ParseError e) {
            throw ApiException.invalid(null, "invalid_json", "The request body is not valid JSON: " + e.getMessage() + ".");
        }
        if (!(v instanceof Map)) throw ApiException.invalid(null, "invalid_json", "The request body must be a JSON object.");
        @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) v;
        return m;
    }

    /** The request body, at most max bytes (413 beyond; Content-Length may lie or be absent). */
    static byte[] readBody(Call c, long max, String flag) {
        String declared = c.ex.getRequestHeaders().getFirst("Content-Length");
        long length = -1;
        if (declared != null) {
            try {
                length = Long.parseLong(declared.trim());
                if (length > max) throw tooLarge(max, flag);
            } catch (NumberFormatException ignored) { /* the server already rejects a bad length */ }
        }
        try (InputStream in = c.ex.getRequestBody()) {
            // the usual case: an array of the declared size (the server stops the stream there), no buffer, no copies
            if (length >= 0) return in.readNBytes((int) length);
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            byte[] b = new byte[16384];
            for (int n; (n = in.read(b)) > 0; ) {
                if (buf.size() + (long) n > max) throw tooLarge(max, flag);
                buf.write(b, 0, n);
            }
            return buf.toByteArray();
        } catch (IOException e) {
            throw new ClientGone(e);
        }
    }

    static ApiException tooLarge(long max, String flag) {
        return new ApiException(413, "invalid_request_error", "request_too_large", null,
                "The request body is larger than " + max + " bytes (raise it with " + flag + ").");
    }

    static void sendJson(Call c, int status, Object body) {
        send(c, status, "application/json", Json.write(body).getBytes(StandardCharsets.UTF_8));
    }

    /** A whole response (no body for HEAD); a failed write means the client left. */
    static void send(Call c, int status, String type, byte[] b) {
        c.ex.getResponseHeaders().set("Content-Type", type);
        c.ex.getResponseHeaders().set("X-Request-Id", c.rid);
        try {
            boolean head = c.ex.getRequestMethod().equals("HEAD");
            c.ex.sendResponseHeaders(status, head ? NO_BODY : b.length);
            c.responded = true;
            c.status = status;
            if (!head) c.ex.getResponseBody().write(b);
        } catch (IOException e) {
            throw new ClientGone(e);
        }
    }

    /** One part of a multipart/form-data body. */
    record Part(String name, String filename, String type, byte[] data) {}

    /** multipart/form-data (RFC 7578), read by hand: parts split at the boundary, headers up to the blank line. */
    static List<Part> multipart(String contentType, byte[] body) {
        String ct = contentType == null ? "" : contentType, boundary = null;
        for (String p : ct.split(";")) if (p.strip().toLowerCase(Locale.ROOT).startsWith("boundary=")) boundary = p.strip().substring(9).replace("\"", "");
        if (!ct.toLowerCase(Locale.ROOT).startsWith("multipart/form-data") || boundary == null || boundary.isEmpty())
            throw ApiException.invalid(null, "invalid_request", "Send the file as multipart/form-data (a 'file' field).");
        byte[] delim = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        List<Part> parts = new ArrayList<>();
        int at = indexOf(body, delim, 0);
        while (at >= 0) {
            int start = at + delim.length;
            if (start + 1 < body.length && body[start] == '-' && body[start + 1] == '-') break;          // the closing delimiter
            int headEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), start), next = indexOf(body, delim, start);
            if (headEnd < 0 || next < 0 || headEnd > next) throw ApiException.invalid(null, "invalid_request", "The multipart body is malformed.");
            String name = null, filename = null, type = null;
            for (String h : new String(body, start, headEnd - start, StandardCharsets.UTF_8).split("\r\n")) {
                String l = h.toLowerCase(Locale.ROOT);
                if (l.startsWith("content-type:")) type = h.substring(13).strip();
                if (!l.startsWith("content-disposition:")) continue;
                for (String a : h.substring(20).split(";")) {
                    String[] kv = a.strip().split("=", 2);
                    if (kv.length == 2 && kv[0].equalsIgnoreCase("name")) name = kv[1].replaceAll("^\"|\"$", "");
                    if (kv.length == 2 && kv[0].equalsIgnoreCase("filename")) filename = kv[1].replaceAll("^\"|\"$", "");
                }
            }
            int end = next - 2;                                    // the CRLF before the next delimiter belongs to it
            parts.add(new Part(name, filename, type, Arrays.copyOfRange(body, headEnd + 4, Math.max(headEnd + 4, end))));
            at = next;
        }
        return parts;
    }

    static int indexOf(byte[] b, byte[] what, int from) {
        outer:
        for (int i = from; i <= b.length - what.length; i++) {
            for (int k = 0; k < what.length; k++) if (b[i + k] != what[k]) continue outer;
            return i;
        }
        return -1;
    }

    // ==== 6. Client stream and dialects ====

    /**
     * A streamed reply's transport: one state, OPEN -> COMMITTED -> ENDED, or OPEN -> ABANDONED
     * when the catch ladder takes the request back for a real status (the one question it asks,
     * like JLHTTP's headersSent()). commit() sends the 200 and the dialect's opening event. Every
     * event is one write and one flush (the JDK's chunked stream buffers 4 KiB otherwise).
     * Synchronized: the watchdog writes keep-alives from another thread.
     */
    static final class SseStream {
        enum State { OPEN, COMMITTED, ENDED, ABANDONED }

        private final HttpExchange ex;
        private final Call call;
        private OutputStream out;
        private State state = State.OPEN;
        volatile long lastWrite = System.currentTimeMillis();

        SseStream(Call c) {
            call = c;
            ex = c.ex;
        }

        synchronized State state() { return state; }

        /** Sends the headers and `first` once; false if the catch ladder already took the request back. */
        synchronized boolean commit(CharSequence first) {
            if (state != State.OPEN) return state != State.ABANDONED;
            Headers h = ex.getResponseHeaders();
            h.set("Content-Type", "text/event-stream; charset=utf-8");
            h.set("Cache-Control", "no-cache");
            h.set("Connection", "keep-alive");
            h.set("X-Accel-Buffering", "no");     // nginx and friends: do not buffer this response
            try {
                ex.sendResponseHeaders(200, CHUNKED);
                out = ex.getResponseBody();
            } catch (IOException e) {
                throw new ClientGone(e);
            }
            state = State.COMMITTED;
            call.streaming();
            write(first);
            return true;
        }

        /** Before the commit: give the request back for a real status (true). After it: false. */
        synchronized boolean abandon() {
            if (state == State.OPEN) state = State.ABANDONED;
            return state == State.ABANDONED;
        }

        synchronized void event(CharSequence s) { if (state == State.COMMITTED) write(s); }

        /** The last event: nothing may follow it (a late upstream piece, a keep-alive). */
        synchronized void end(String last) {
            event(last);
            if (state == State.COMMITTED) state = State.ENDED;
        }

        /** After the commit a failure is one error event (C.5 rule 6), then the end. */
        synchronized void error(ApiException e) { end("data: " + Json.write(e.body()) + "\n\n"); }

        /** An SSE comment keeps idle connections (proxies, CDNs, client timeouts) alive while Qwen thinks. */
        synchronized void comment() { event(": keep-alive\n\n"); }

        private byte[] bytes = new byte[1024];   // reused under the lock: no garbage per event

        /** UTF-8 by hand into the reused buffer (events never hold lone surrogates: Json.quote escapes them). */
        private void write(CharSequence s) {
            int n = s.length(), len = 0;
            if (bytes.length < 3 * n) bytes = new byte[Math.max(3 * n, 2 * bytes.length)];
            byte[] b = bytes;
            for (int i = 0; i < n; i++) {
                char c = s.charAt(i);
                if (c < 0x80) b[len++] = (byte) c;
                else if (c < 0x800) { b[len++] = (byte) (0xc0 | c >> 6); b[len++] = (byte) (0x80 | c & 0x3f); }
                else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    int cp = Character.toCodePoint(c, s.charAt(++i));
                    b[len++] = (byte) (0xf0 | cp >> 18); b[len++] = (byte) (0x80 | cp >> 12 & 0x3f);
                    b[len++] = (byte) (0x80 | cp >> 6 & 0x3f); b[len++] = (byte) (0x80 | cp & 0x3f);
                } else { b[len++] = (byte) (0xe0 | c >> 12); b[len++] = (byte) (0x80 | c >> 6 & 0x3f); b[len++] = (byte) (0x80 | c & 0x3f); }
            }
            if (bytes.length > 1 << 20) bytes = new byte[1024];     // one huge event does not keep its buffer
            try {
                out.write(b, 0, len);
                out.flush();
                lastWrite = System.currentTimeMillis();
            } catch (IOException e) {
                throw new ClientGone(e);
            }
        }
    }

    /** Cumulative token counts of a reply (§6.5), whatever the wire. */
    record Usage(long input, long output, long total, long cached, long reasoning) {}

    /** A web search result; a citation is one that the answer's text links to, at [start, end) of the content. */
    record Source(String url, String title) {}
    record Citation(Source source, int start, int end) {}

    /**
     * A reply as neutral events, which a dialect turns into its wire format: OpenAI chat chunks or
     * one chat.completion today; another front door is another dialect, not another path. Tool
     * calls arrive whole (they are parsed from the answer text), so a call is one event.
     */
    interface Dialect {
        /** The reply begins (a stream commits: headers and its opening event). */
        void open();
        void reasoning(String text);
        void text(String text);
        void toolCall(int index, String name, String arguments);
        /** The web sources the text linked to, once, before the end. */
        void citations(List<Citation> cited);
        /** The stop sequence that ended the answer (before finish "stop"). */
        default void stopSequence(String stop) { }
        /** Generated image n (1, 2, ...): chat dialects show it in the text as Markdown. */
        default void image(int n, String url) { text((n > 1 ? "\n\n" : "") + "![image " + n + "](" + url + ")"); }
        /** The reply is complete. */
        void finish(String reason, Usage usage);
        /** The upstream is quiet; keep the client's connection alive. */
        void keepAlive();
        /** Something beyond the opening reached the client: the reply can no longer be retried. */
        boolean delivered();
        /** Before the one firmer retry: forget what was collected. */
        void reset();
    }

    /** OpenAI's url_citation annotations (web search in Chat Completions). */
    static List<Object> openAiAnnotations(List<Citation> cited) {
        List<Object> out = new ArrayList<>();
        for (Citation c : cited) out.add(orderedObject("type", "url_citation", "url_citation", orderedObject("end_index", c.end(),
                "start_index", c.start(), "title", c.source().title(), "url", c.source().url())));
        return out;
    }

    /** OpenAI's usage object (C.4). */
    static Map<String, Object> openAiUsage(Usage u) {
        return orderedObject("prompt_tokens", u.input(), "completion_tokens", u.output(), "total_tokens", u.total(),
                "prompt_tokens_details", Map.of("cached_tokens", u.cached()), "completion_tokens_details", Map.of("reasoning_tokens", u.reasoning()));
    }

    /** OpenAI Chat Completions, streamed: chat.completion.chunk events (C.5). */
    static final class OpenAiChunks implements Dialect {
        private final SseStream stream;
        private final String prefix;     // {"id":…,"object":"chat.completion.chunk","created":…,"model":…,
        private final boolean includeUsage, alsoAsReasoning;
        private final StringBuilder sb = new StringBuilder(256);    // reused under the stream's lock: no garbage per delta
        private boolean delivered;

        OpenAiChunks(SseStream stream, String model, boolean includeUsage, boolean alsoAsReasoning) { this(stream, model, includeUsage, alsoAsReasoning, null); }

        /** chatId: the conversation (/api/chat), in every chunk. */
        OpenAiChunks(SseStream stream, String model, boolean includeUsage, boolean alsoAsReasoning, String chatId) {
            this.stream = stream;
            this.prefix = "{\"id\":" + Json.write("chatcmpl-" + randomToken(18)) + ",\"object\":\"chat.completion.chunk\",\"created\":"
                    + System.currentTimeMillis() / 1000 + ",\"model\":" + Json.write(model) + "," + (chatId == null ? "" : "\"chatId\":" + Json.write(chatId) + ",");
            this.includeUsage = includeUsage;
            this.alsoAsReasoning = alsoAsReasoning;
        }

        /** The start of a chunk in the reused builder, up to its delta (it runs for every delta: no maps, no concatenation). */
        private StringBuilder head() {
            sb.setLength(0);
            return sb.append("data: ").append(prefix).append("\"choices\":[{\"index\":0,\"delta\":");
        }

        private StringBuilder tail(StringBuilder b, String finishReason) {
            b.append(",\"logprobs\":null,\"finish_reason\":");
            if (finishReason == null) b.append("null"); else Json.quote(finishReason, b);
            return b.append("}]}\n\n");
        }

        private void send(String delta) {
            synchronized (stream) {
                open();
                stream.event(tail(head().append(delta), null));
                delivered = true;
            }
        }

        /** {"<key>": text}, and the same text as "reasoning" too when asked. */
        private void send(String key, String text, boolean alsoAsReasoning) {
            synchronized (stream) {
                open();
                StringBuilder b = head().append("{\"").append(key).append("\":");
                Json.quote(text, b);
                if (alsoAsReasoning) Json.quote(text, b.append(",\"reasoning\":"));
                stream.event(tail(b.append('}'), null));
                delivered = true;
            }
        }

        // the first chunk carries the role and content "" (C.5 rule 1)
        @Override public void open() {
            synchronized (stream) {
                if (stream.state() == SseStream.State.OPEN) stream.commit(tail(head().append("{\"role\":\"assistant\",\"content\":\"\"}"), null));
            }
        }

        // --reasoning both: the same text as "reasoning" too (C.5 rule 2)
        @Override public void reasoning(String t) { send("reasoning_content", t, alsoAsReasoning); }

        @Override public void text(String t) { send("content", t, false); }

        // the first delta of a call has index, id, type and name with empty arguments; then the arguments (C.5 rule 3)
        @Override public void toolCall(int index, String name, String arguments) {
            send(Json.write(Map.of("tool_calls", List.of(orderedObject("index", index, "id", "call_" + randomToken(18), "type", "function",
                    "function", orderedObject("name", name, "arguments", ""))))));
            send(Json.write(Map.of("tool_calls", List.of(orderedObject("index", index, "function", Map.of("arguments", arguments))))));
        }

        @Override public void citations(List<Citation> cited) { send(Json.write(Map.of("annotations", openAiAnnotations(cited)))); }

        // a final chunk with an empty delta, the usage chunk (choices []) only when asked, then [DONE] (C.5 rules 4, 5)
        @Override public void finish(String reason, Usage usage) {
            synchronized (stream) {
                open();
                stream.event(tail(head().append("{}"), reason));
                if (includeUsage) stream.event("data: " + prefix + "\"choices\":[],\"usage\":" + Json.write(openAiUsage(usage)) + "}\n\n");
                stream.end("data: [DONE]\n\n");
            }
        }

        @Override public void keepAlive() { stream.comment(); }

        @Override public boolean delivered() { return delivered; }

        @Override public void reset() { }    // only ever called while nothing was delivered
    }

    /** OpenAI Chat Completions, assembled: one chat.completion when the reply is complete (C.4). */
    static final class OpenAiCompletion implements Dialect {
        private final Call c;
        private final String model;
        private final boolean alsoAsReasoning;
        private final StringBuilder content = new StringBuilder(), reasoning = new StringBuilder();
        private final List<Object> calls = new ArrayList<>();
        private List<Citation> cited = List.of();

        private final String chatId;          // /api/chat: the conversation

        OpenAiCompletion(Call c, String model, boolean alsoAsReasoning) { this(c, model, alsoAsReasoning, null); }

        OpenAiCompletion(Call c, String model, boolean alsoAsReasoning, String chatId) {
            this.c = c;
            this.model = model;
            this.alsoAsReasoning = alsoAsReasoning;
            this.chatId = chatId;
        }

        @Override public void open() { }
        @Override public void reasoning(String t) { reasoning.append(t); }
        @Override public void text(String t) { content.append(t); }

        @Override public void toolCall(int index, String name, String arguments) {
            calls.add(orderedObject("id", "call_" + randomToken(18), "type", "function", "function", orderedObject("name", name, "arguments", arguments)));
        }

        // content null when the reply is only tool calls; refusal is required by OpenAI's schema (C.4)
        @Override public void finish(String reason, Usage usage) {
            Map<String, Object> message = orderedObject("role", "assistant",
                    "content", !calls.isEmpty() && content.toString().isBlank() ? Json.NULL : content.toString(), "refusal", Json.NULL);
            if (reasoning.length() > 0) message.put("reasoning_content", reasoning.toString());
            if (reasoning.length() > 0 && alsoAsReasoning) message.put("reasoning", reasoning.toString());
            if (!calls.isEmpty()) message.put("tool_calls", calls);
            if (!cited.isEmpty()) message.put("annotations", openAiAnnotations(cited));
            Map<String, Object> choice = orderedObject("index", 0, "message", message, "logprobs", Json.NULL, "finish_reason", reason);
            Map<String, Object> reply = orderedObject("id", "chatcmpl-" + randomToken(18), "object", "chat.completion", "created",
                    System.currentTimeMillis() / 1000, "model", model, "choices", List.of(choice), "usage", openAiUsage(usage));
            if (chatId != null) reply.put("chatId", chatId);
            sendJson(c, 200, reply);
        }

        @Override public void citations(List<Citation> c) { cited = c; }
        @Override public void keepAlive() { }
        @Override public boolean delivered() { return false; }

        @Override public void reset() {
            content.setLength(0);
            reasoning.setLength(0);
            calls.clear();
            cited = List.of();
        }
    }

    /** OpenAI Images (POST /v1/images/generations): the reply's images, as URLs or their bytes in base64; no text. */
    static final class OpenAiImages implements Dialect {
        private final Server s;
        private final Call c;
        private final String format;
        private final int n;
        private final List<String> urls = new ArrayList<>();

        OpenAiImages(Server s, Call c, String format, int n) {
            this.s = s;
            this.c = c;
            this.format = format;
            this.n = n;
        }

        @Override public void image(int i, String url) { if (urls.size() < n) urls.add(url); }

        @Override public void finish(String reason, Usage usage) {
            List<Object> data = new ArrayList<>();
            for (String u : urls) data.add(format.equals("url") ? Map.of("url", u)
                    : Map.of("b64_json", Base64.getEncoder().encodeToString((byte[]) s.upstream.get(u, "upstream_error", false, c.rid)[0])));
            sendJson(c, 200, orderedObject("created", System.currentTimeMillis() / 1000, "data", data));
        }

        @Override public void open() { }
        @Override public void reasoning(String t) { }
        @Override public void text(String t) { }
        @Override public void toolCall(int index, String name, String arguments) { }
        @Override public void citations(List<Citation> cited) { }
        @Override public void keepAlive() { }
        @Override public boolean delivered() { return false; }
        @Override public void reset() { urls.clear(); }
    }

    /**
     * The Anthropic Messages front door (POST /v1/messages): the body is read as the same chat
     * request an OpenAI client would send (so tools, thinking, stop sequences, media and large
     * requests work alike), and the reply is written as Anthropic's message, or its event stream.
     */
    static final class Anthropic {
        private Anthropic() { }

        static ChatCall call(Server s, Call c) {
            ChatRequest req = ChatRequest.parse(toOpenAi(readJsonObject(c, s.cfg.maxBodyBytes())), s.models, s.cfg);
            return new ChatCall(s, c, req, stream -> new Messages(c, stream, req.model(), estimate(req.prompt())));
        }

        /** POST /v1/messages/count_tokens: a local estimate (nothing is sent upstream), see estimate(). */
        static long countTokens(Server s, Call c) {
            Map<String, Object> b = readJsonObject(c, s.cfg.maxBodyBytes());
            b.putIfAbsent("max_tokens", new Json.Num("1"));
            return estimate(ChatRequest.parse(toOpenAi(b), s.models, s.cfg).prompt());
        }

        /**
         * Tokens of the prompt as it would go upstream (the flattened transcript with the tool
         * protocol): ~4 characters per token for Latin script, one per CJK or other wide character.
         */
        static long estimate(String prompt) {
            long narrow = 0, wide = 0;
            for (int i = 0; i < prompt.length(); i++) if (prompt.charAt(i) < 0x2e80) narrow++; else wide++;
            return Math.max(1, (narrow + 3) / 4 + wide);
        }

        /** Anthropic's request as the equivalent OpenAI chat request (C.2): system, blocks, tools, tool choice, thinking. */
        static Map<String, Object> toOpenAi(Map<String, Object> b) {
            if (optLong(b, "max_tokens", -1) < 1) throw ApiException.invalid("max_tokens", "missing_required_parameter", "max_tokens is required (a positive integer).");
            Map<String, Object> o = orderedObject("model", b.getOrDefault("model", Json.NULL), "stream", b.getOrDefault("stream", false),
                    "max_tokens", b.get("max_tokens"));
            if (b.get("stop_sequences") != null) o.put("stop", b.get("stop_sequences"));
            List<Object> messages = new ArrayList<>();
            Object system = b.get("system");
            if (system instanceof String str) messages.add(Map.of("role", "system", "content", str));
            else if (system instanceof List<?> l) messages.add(Map.of("role", "system", "content", text(l, "system")));
            if (!(b.get("messages") instanceof List<?> msgs)) throw ApiException.invalid("messages", "invalid_type", "'messages' must be an array.");
            for (int i = 0; i < msgs.size(); i++) {
                Map<String, Object> m = Json.asObject(msgs.get(i));
                String at = "messages[" + i + "]", role = m == null ? null : Json.str(m, "role");
                if (m == null || !("user".equals(role) || "assistant".equals(role)))
                    throw ApiException.invalid(at + ".role", "invalid_value", at + " must have role user or assistant.");
                Object content = m.get("content");
                if (content instanceof String) { messages.add(Map.of("role", role, "content", content)); continue; }
                if (!(content instanceof List<?> blocks)) throw ApiException.invalid(at + ".content", "invalid_type", at + ".content must be a string or blocks.");
                List<Object> parts = new ArrayList<>(), calls = new ArrayList<>();
                for (int j = 0; j < blocks.size(); j++) {
                    Map<String, Object> k = Json.asObject(blocks.get(j));
                    String type = k == null ? null : Json.str(k, "type"), bat = at + ".content[" + j + "]";
                    if (type == null) throw ApiException.invalid(bat, "invalid_type", bat + " must be a content block.");
                    switch (type) {
                        case "text" -> parts.add(Map.of("type", "text", "text", String.valueOf(k.get("text"))));
                        case "image", "document" -> {
                            Map<String, Object> src = Json.obj(k, "source");
                            String url = src == null ? null : "url".equals(Json.str(src, "type")) ? Json.str(src, "url")
                                    : "data:" + Json.str(src, "media_type") + ";base64," + Json.str(src, "data");
                            if (url == null) throw ApiException.invalid(bat + ".source", "invalid_value", bat + " needs a base64 or url source.");
                            parts.add(type.equals("image") ? Map.of("type", "image_url", "image_url", Map.of("url", url))
                                    : Map.of("type", "file", "file", orderedObject("file_data", url, "filename", firstString(Json.str(k, "title"), "document.pdf"))));
                        }
                        case "tool_use" -> calls.add(orderedObject("id", Json.str(k, "id"), "type", "function", "function",
                                orderedObject("name", Json.str(k, "name"), "arguments", Json.write(k.getOrDefault("input", Map.of())))));
                        case "tool_result" -> {
                            Object r = k.get("content");
                            String out = r instanceof List<?> l ? text(l, bat + ".content") : r == null || r == Json.NULL ? "" : String.valueOf(r);
                            messages.add(orderedObject("role", "tool", "tool_call_id", Json.str(k, "tool_use_id"),
                                    "content", Boolean.TRUE.equals(k.get("is_error")) ? "[error] " + out : out));
                        }
                        case "thinking", "redacted_thinking" -> { }          // earlier reasoning: left out of the transcript, as OpenAI's is
                        default -> throw ApiException.invalid(bat + ".type", "invalid_value", "Unknown content block type '" + type + "'.");
                    }
                }
                if (!parts.isEmpty() || !calls.isEmpty()) {
                    Map<String, Object> msg = orderedObject("role", role, "content", parts.isEmpty() ? Json.NULL : parts);
                    if (!calls.isEmpty()) msg.put("tool_calls", calls);
                    messages.add(msg);
                }
            }
            o.put("messages", messages);
            if (b.get("tools") instanceof List<?> tools) {
                List<Object> fns = new ArrayList<>();
                for (int i = 0; i < tools.size(); i++) {
                    Map<String, Object> t = Json.asObject(tools.get(i));
                    String type = Json.str(t, "type");
                    if (t == null || (type != null && !type.equals("custom")))
                        throw ApiException.invalid("tools[" + i + "]", "unsupported_value", "Only custom tools (name, description, input_schema) are supported"
                                + (type == null ? "." : "; '" + type + "' is a server tool this proxy does not run."));
                    Map<String, Object> fn = orderedObject("name", t.get("name"), "parameters", t.getOrDefault("input_schema", Map.of("type", "object")));
                    if (t.get("description") != null) fn.put("description", t.get("description"));
                    fns.add(Map.of("type", "function", "function", fn));
                }
                o.put("tools", fns);
            }
            Map<String, Object> choice = optObject(b, "tool_choice");
            if (choice != null) {
                String type = String.valueOf(choice.get("type"));
                o.put("tool_choice", switch (type) {
                    case "auto", "none" -> type;
                    case "any" -> "required";
                    case "tool" -> Map.of("type", "function", "function", Map.of("name", String.valueOf(choice.get("name"))));
                    default -> throw ApiException.invalid("tool_choice.type", "invalid_value", "tool_choice.type must be auto, any, tool or none.");
                });
                if (Boolean.TRUE.equals(choice.get("disable_parallel_tool_use"))) o.put("parallel_tool_calls", false);
            }
            Map<String, Object> thinking = optObject(b, "thinking");
            if (thinking != null) {
                o.put("enable_thinking", "enabled".equals(thinking.get("type")));
                if (thinking.get("budget_tokens") != null) o.put("thinking_budget", thinking.get("budget_tokens"));
            }
            return o;
        }

        private static String text(List<?> blocks, String at) {
            StringBuilder t = new StringBuilder();
            for (Object o : blocks) {
                Map<String, Object> k = Json.asObject(o);
                if (k != null && "text".equals(k.get("type"))) t.append(t.length() > 0 ? "\n" : "").append(Json.str(k, "text"));
            }
            return t.toString();
        }

        /** Anthropic's status for ours: the upstream's failures are api_error (500), timeout_error (504) or, when it is unavailable, overloaded (529). */
        static int status(int ours) {
            return ours == 503 ? 529 : ours == 504 ? 504 : ours >= 500 ? 500 : ours == 405 || ours == 409 ? 400 : ours;
        }

        static Map<String, Object> error(ApiException e) {
            String type = switch (status(e.status)) {
                case 401 -> "authentication_error";
                case 403 -> "permission_error";
                case 404 -> "not_found_error";
                case 413 -> "request_too_large";
                case 429 -> "rate_limit_error";
                case 529 -> "overloaded_error";
                case 504 -> "timeout_error";
                case 500 -> "api_error";
                default -> "invalid_request_error";
            };
            return orderedObject("type", "error", "error", orderedObject("type", type, "message", e.getMessage()));
        }

        /** GET /v1/models for Anthropic clients (they send anthropic-version). */
        static Map<String, Object> models(Map<String, Object> openAi) {
            List<Object> data = new ArrayList<>();
            for (Object m : (List<?>) openAi.get("data")) {
                Map<String, Object> x = Json.asObject(m);
                data.add(orderedObject("type", "model", "id", x.get("id"), "display_name", x.get("id"),
                        "created_at", Instant.ofEpochSecond(Json.longValue(x.get("created"), 0)).toString()));
            }
            return orderedObject("data", data, "has_more", false, "first_id", data.isEmpty() ? Json.NULL : Json.asObject(data.get(0)).get("id"),
                    "last_id", data.isEmpty() ? Json.NULL : Json.asObject(data.get(data.size() - 1)).get("id"));
        }

        static String stopReason(String finish) {
            return switch (finish) {
                case "length" -> "max_tokens";
                case "tool_calls" -> "tool_use";
                case "content_filter" -> "refusal";
                default -> "end_turn";
            };
        }

        /**
         * The reply as Anthropic's content blocks: thinking, text and tool_use, each opened, filled and
         * closed in order; streamed as its named events (message_start ... message_stop, ping), or
         * assembled into one message.
         */
        static final class Messages implements Dialect {
            private final Call c;
            private final SseStream stream;      // null: one message at the end
            private final String id = "msg_" + randomToken(18), model;
            private final long inputEstimate;
            private final List<Map<String, Object>> blocks = new ArrayList<>();
            private String open;                 // the type of the block being written (thinking, text), or null
            private String stopSequence;
            private boolean delivered;

            Messages(Call c, SseStream stream, String model, long inputEstimate) {
                this.c = c;
                this.stream = stream;
                this.model = model;
                this.inputEstimate = inputEstimate;
                c.streamError = e -> "event: error\ndata: " + Json.write(error(e)) + "\n\n";
            }

            private void event(String name, Map<String, Object> data) {
                stream.event("event: " + name + "\ndata: " + Json.write(data) + "\n\n");
            }

            @Override public void open() {
                if (stream == null) return;
                synchronized (stream) {
                    if (stream.state() != SseStream.State.OPEN) return;
                    Map<String, Object> msg = orderedObject("id", id, "type", "message", "role", "assistant", "model", model, "content", List.of(),
                            "stop_reason", Json.NULL, "stop_sequence", Json.NULL, "usage", orderedObject("input_tokens", inputEstimate, "output_tokens", 1));
                    stream.commit("event: message_start\ndata: " + Json.write(orderedObject("type", "message_start", "message", msg)) + "\n\n");
                }
            }

            private String space = "";           // whitespace that would open a text block on its own (between tool calls)

            /** Text into the current block of `type`, closing another one first. */
            private void append(String type, String t) {
                if (type.equals("text") && !type.equals(open) && t.isBlank()) { space += t; return; }
                if (type.equals("text") && !space.isEmpty()) { t = space + t; space = ""; }
                if (stream == null) {
                    if (!type.equals(open)) { blocks.add(orderedObject("type", type, type, "")); open = type; }
                    Map<String, Object> b = blocks.get(blocks.size() - 1);
                    b.put(type, b.get(type) + t);
                    return;
                }
                synchronized (stream) {
                    open();
                    if (!type.equals(open)) {
                        close();
                        blocks.add(Map.of("type", type));
                        event("content_block_start", orderedObject("type", "content_block_start", "index", blocks.size() - 1, "content_block",
                                type.equals("thinking") ? orderedObject("type", "thinking", "thinking", "", "signature", "") : orderedObject("type", "text", "text", "")));
                        open = type;
                    }
                    event("content_block_delta", orderedObject("type", "content_block_delta", "index", blocks.size() - 1, "delta",
                            type.equals("thinking") ? orderedObject("type", "thinking_delta", "thinking", t) : orderedObject("type", "text_delta", "text", t)));
                    delivered = true;
                }
            }

            private void close() {
                if (open == null) return;
                if (stream != null) {
                    if (open.equals("thinking")) event("content_block_delta", orderedObject("type", "content_block_delta", "index", blocks.size() - 1,
                            "delta", orderedObject("type", "signature_delta", "signature", "")));
                    event("content_block_stop", orderedObject("type", "content_block_stop", "index", blocks.size() - 1));
                }
                open = null;
            }

            @Override public void reasoning(String t) { append("thinking", t); }
            @Override public void text(String t) { append("text", t); }

            @Override public void toolCall(int index, String name, String arguments) {
                String toolId = "toolu_" + randomToken(18);
                if (stream == null) {
                    open = null;
                    if (!blocks.isEmpty() && "thinking".equals(blocks.get(blocks.size() - 1).get("type"))) blocks.get(blocks.size() - 1).put("signature", "");
                    blocks.add(orderedObject("type", "tool_use", "id", toolId, "name", name, "input", Json.parse(arguments)));
                    return;
                }
                synchronized (stream) {
                    open();
                    close();
                    blocks.add(Map.of("type", "tool_use"));
                    int i = blocks.size() - 1;
                    event("content_block_start", orderedObject("type", "content_block_start", "index", i, "content_block",
                            orderedObject("type", "tool_use", "id", toolId, "name", name, "input", Map.of())));
                    event("content_block_delta", orderedObject("type", "content_block_delta", "index", i, "delta",
                            orderedObject("type", "input_json_delta", "partial_json", arguments)));
                    event("content_block_stop", orderedObject("type", "content_block_stop", "index", i));
                    delivered = true;
                }
            }

            @Override public void stopSequence(String stop) { stopSequence = stop; }

            @Override public void finish(String reason, Usage usage) {
                String stopReason = stopSequence != null ? "stop_sequence" : stopReason(reason);
                Map<String, Object> u = orderedObject("input_tokens", usage.input(), "output_tokens", usage.output());
                if (usage.cached() > 0) u.put("cache_read_input_tokens", usage.cached());
                if (stream == null) {
                    for (Map<String, Object> b : blocks) if ("thinking".equals(b.get("type"))) b.put("signature", "");
                    sendJson(c, 200, orderedObject("id", id, "type", "message", "role", "assistant", "model", model, "content", blocks,
                            "stop_reason", stopReason, "stop_sequence", nullable(stopSequence), "usage", u));
                    return;
                }
                synchronized (stream) {
                    open();
                    close();
                    event("message_delta", orderedObject("type", "message_delta", "delta", orderedObject("stop_reason", stopReason,
                            "stop_sequence", nullable(stopSequence)), "usage", u));
                    stream.end("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
                }
            }

            @Override public void citations(List<Citation> cited) { }
            @Override public void keepAlive() { if (stream != null) stream.event("event: ping\ndata: {\"type\":\"ping\"}\n\n"); }
            @Override public boolean delivered() { return delivered; }

            @Override public void reset() {
                blocks.clear();
                open = null;
                stopSequence = null;
                space = "";
            }
        }
    }

    /**
     * The OpenAI Responses front door (POST /v1/responses): input items read as the same chat
     * request (instructions, messages, function calls and their outputs; previous_response_id
     * brings back a stored response's whole exchange), and the reply written as a response object
     * or its semantic event stream. Responses are stored (store, default true) in
     * <data-dir>/responses, or in Redis (--redis, any instance's), for GET, DELETE and previous_response_id.
     */
    static final class Responses {
        private final Server s;
        private final Path dir;

        Responses(Server s) {
            this.s = s;
            this.dir = Path.of(s.cfg.dataDir(), "responses");
        }

        ChatCall call(Call c) {
            Map<String, Object> b = readJsonObject(c, s.cfg.maxBodyBytes());
            List<Object> history = new ArrayList<>();
            String previous = optString(b, "previous_response_id");
            if (previous != null) {
                Map<String, Object> prev = load(previous, "previous_response_id");
                if (prev.get("history") instanceof List<?> h) history.addAll(h);
            }
            Map<String, Object> chat = toChat(b, history);
            ChatRequest req = ChatRequest.parse(chat, s.models, s.cfg);
            boolean store = !Boolean.FALSE.equals(b.get("store"));
            return new ChatCall(s, c, req, stream -> new Writer(this, c, stream, req.model(), b, store ? chat : null, previous));
        }

        /** The Responses request as the equivalent chat request; `history`: earlier messages (previous_response_id). */
        static Map<String, Object> toChat(Map<String, Object> b, List<Object> history) {
            List<Object> messages = new ArrayList<>(history);
            if (optString(b, "instructions") != null) messages.add(0, Map.of("role", "system", "content", optString(b, "instructions")));
            Object input = b.get("input");
            if (input instanceof String str) messages.add(Map.of("role", "user", "content", str));
            else if (input instanceof List<?> items) {
                for (int i = 0; i < items.size(); i++) {
                    Map<String, Object> it = Json.asObject(items.get(i));
                    String at = "input[" + i + "]", type = it == null ? null : firstString(Json.str(it, "type"), "message");
                    if (it == null) throw ApiException.invalid(at, "invalid_type", at + " must be an object.");
                    switch (type) {
                        case "message" -> messages.add(orderedObject("role", it.get("role"), "content", it.getOrDefault("content", "")));
                        case "function_call" -> {
                            Map<String, Object> call = orderedObject("id", it.get("call_id"), "type", "function",
                                    "function", orderedObject("name", it.get("name"), "arguments", it.getOrDefault("arguments", "{}")));
                            Map<String, Object> last = messages.isEmpty() ? null : Json.asObject(messages.get(messages.size() - 1));
                            if (last != null && last.get("tool_calls") instanceof List<?> l) {
                                List<Object> calls = new ArrayList<>(l);
                                calls.add(call);
                                Map<String, Object> merged = new LinkedHashMap<>(last);
                                merged.put("tool_calls", calls);
                                messages.set(messages.size() - 1, merged);
                            } else messages.add(orderedObject("role", "assistant", "content", Json.NULL, "tool_calls", new ArrayList<>(List.of(call))));
                        }
                        case "function_call_output" -> {
                            Object out = it.get("output");
                            messages.add(orderedObject("role", "tool", "tool_call_id", it.get("call_id"), "content", out instanceof List<?> ? out : String.valueOf(out)));
                        }
                        case "reasoning", "item_reference" -> { }
                        default -> throw ApiException.invalid(at + ".type", "invalid_value", "Unknown input item type '" + type + "'.");
                    }
                }
            } else if (input != null && input != Json.NULL) throw ApiException.invalid("input", "invalid_type", "'input' must be a string or an array of items.");
            Map<String, Object> chat = orderedObject("model", b.getOrDefault("model", Json.NULL), "stream", b.getOrDefault("stream", false), "messages", messages);
            if (b.get("max_output_tokens") != null) chat.put("max_tokens", b.get("max_output_tokens"));
            if (b.get("reasoning") != null) chat.put("reasoning", b.get("reasoning"));
            if (b.get("parallel_tool_calls") != null) chat.put("parallel_tool_calls", b.get("parallel_tool_calls"));
            if (b.get("tools") instanceof List<?> tools && !tools.isEmpty()) {
                List<Object> fns = new ArrayList<>();
                for (int i = 0; i < tools.size(); i++) {
                    Map<String, Object> t = Json.asObject(tools.get(i));
                    if (t == null || !"function".equals(t.get("type"))) throw ApiException.invalid("tools[" + i + "]", "unsupported_value",
                            "Only function tools are supported; '" + (t == null ? null : t.get("type")) + "' is a built-in tool this proxy does not run.");
                    Map<String, Object> fn = orderedObject("name", t.get("name"), "parameters", t.getOrDefault("parameters", Map.of("type", "object")));
                    if (t.get("description") != null) fn.put("description", t.get("description"));
                    if (t.get("strict") != null) fn.put("strict", t.get("strict"));
                    fns.add(Map.of("type", "function", "function", fn));
                }
                chat.put("tools", fns);
            }
            Object choice = b.get("tool_choice");
            if (choice instanceof String) chat.put("tool_choice", choice);
            else if (Json.asObject(choice) != null && Json.str(Json.asObject(choice), "name") != null)
                chat.put("tool_choice", Map.of("type", "function", "function", Map.of("name", Json.str(Json.asObject(choice), "name"))));
            Map<String, Object> format = Json.obj(Json.obj(b, "text"), "format");
            if (format != null && "json_schema".equals(format.get("type")))
                chat.put("response_format", Map.of("type", "json_schema", "json_schema", orderedObject("name", format.getOrDefault("name", "output"),
                        "schema", format.getOrDefault("schema", Map.of()), "strict", format.getOrDefault("strict", false))));
            else if (format != null && "json_object".equals(format.get("type"))) chat.put("response_format", Map.of("type", "json_object"));
            return chat;
        }

        /** A stored response: in Redis (--redis; any instance's), else in the data directory. */
        Map<String, Object> load(String id, String param) {
            if (id.matches("resp_[A-Za-z0-9_-]{1,64}")) try {
                Object shared = s.shared == null ? null : s.shared.call("GET", REDIS_PREFIX + "response:" + id);
                return Json.asObject(Json.parse(shared instanceof String t ? t : Files.readString(dir.resolve(id + ".json"))));
            } catch (IOException | RuntimeException e) {
                // not stored
            }
            throw new ApiException(param.equals("id") ? 404 : 400, "invalid_request_error", param.equals("id") ? "response_not_found" : "invalid_value",
                    param, "No stored response '" + id + "'.");
        }

        void save(String id, Map<String, Object> response, List<Object> history) {
            try {
                String json = Json.write(orderedObject("response", response, "history", history));
                if (s.shared == null || s.shared.call("SET", REDIS_PREFIX + "response:" + id, json, "EX", String.valueOf(RESPONSE_TTL_S)) == null)
                    Store.writePrivate(dir.resolve(id + ".json"), json.getBytes(StandardCharsets.UTF_8));      // no Redis, or it is away
            } catch (IOException e) {
                Log.error(null, "could not store response " + id + ": " + e.getMessage());
            }
        }

        /** GET /v1/responses/{id}, DELETE /v1/responses/{id}, POST /v1/responses/{id}/cancel. */
        void handle(Call c, String method, String path) {
            String rest = path.substring(11), id = rest.endsWith("/cancel") ? rest.substring(0, rest.length() - 7) : rest;
            Map<String, Object> stored = load(id, "id");
            if (rest.endsWith("/cancel")) {
                allow(method, "POST");
                throw ApiException.invalid("id", "invalid_value", "Response " + id + " is not running in the background; it completed in the request that made it.");
            }
            if (method.equals("DELETE")) {
                try {
                    Files.deleteIfExists(dir.resolve(id + ".json"));
                    if (s.shared != null) s.shared.call("DEL", REDIS_PREFIX + "response:" + id);
                } catch (IOException e) {
                    throw new ApiException(500, "server_error", "storage_error", null, "Cannot delete " + id + ": " + e.getMessage());
                }
                sendJson(c, 200, orderedObject("id", id, "object", "response", "deleted", true));
                return;
            }
            allow(method, "GET");
            sendJson(c, 200, stored.get("response"));
        }

        /**
         * The reply as output items (reasoning, message, function_call), each added, filled and
         * done in order; streamed as the semantic events with sequence numbers, or assembled.
         */
        static final class Writer implements Dialect {
            private final Responses owner;
            private final Call c;
            private final SseStream stream;
            private final String id = "resp_" + randomToken(18), model, previous;
            private final Map<String, Object> request, chat;   // chat: the request as a chat request, to store (null: store false)
            private final List<Map<String, Object>> output = new ArrayList<>();
            private final long created = System.currentTimeMillis() / 1000;
            private int seq;
            private String open;
            private final StringBuilder text = new StringBuilder();
            private boolean delivered;

            Writer(Responses owner, Call c, SseStream stream, String model, Map<String, Object> request, Map<String, Object> chat, String previous) {
                this.owner = owner;
                this.c = c;
                this.stream = stream;
                this.model = model;
                this.request = request;
                this.chat = chat;
                this.previous = previous;
                if (stream != null) c.streamError = e -> line("error", orderedObject("type", "error", "code", e.code, "message", e.getMessage(), "param", nullable(e.param)));
            }

            private String line(String type, Map<String, Object> data) {
                data.put("sequence_number", seq++);
                return "event: " + type + "\ndata: " + Json.write(data) + "\n\n";
            }

            private void event(String type, Object... kv) {
                Map<String, Object> d = orderedObject("type", type);
                d.putAll(orderedObject(kv));
                stream.event(line(type, d));
            }

            private Map<String, Object> response(String status, Usage usage, String incomplete) {
                Map<String, Object> r = orderedObject("id", id, "object", "response", "created_at", created, "status", status,
                        "error", Json.NULL, "incomplete_details", incomplete == null ? Json.NULL : Map.of("reason", incomplete),
                        "instructions", nullable(request.get("instructions")), "max_output_tokens", nullable(request.get("max_output_tokens")),
                        "model", model, "output", new ArrayList<>(output), "parallel_tool_calls", !Boolean.FALSE.equals(request.get("parallel_tool_calls")),
                        "previous_response_id", nullable(previous), "store", chat != null, "temperature", nullable(request.get("temperature")),
                        "text", request.getOrDefault("text", Map.of("format", Map.of("type", "text"))), "tool_choice", request.getOrDefault("tool_choice", "auto"),
                        "tools", request.getOrDefault("tools", List.of()), "top_p", nullable(request.get("top_p")), "metadata", request.getOrDefault("metadata", Map.of()),
                        "usage", usage == null ? Json.NULL : orderedObject("input_tokens", usage.input(), "input_tokens_details", Map.of("cached_tokens", usage.cached()),
                                "output_tokens", usage.output(), "output_tokens_details", Map.of("reasoning_tokens", usage.reasoning()), "total_tokens", usage.total()));
                StringBuilder all = new StringBuilder();
                for (Map<String, Object> item : output) if ("message".equals(item.get("type"))) all.append(at(item));
                r.put("output_text", all.toString());
                return r;
            }

            private static String at(Map<String, Object> message) { return String.valueOf(Json.asObject(((List<?>) message.get("content")).get(0)).get("text")); }

            @Override public void open() {
                if (stream == null) return;
                synchronized (stream) {
                    if (stream.state() != SseStream.State.OPEN) return;
                    Map<String, Object> r = response("in_progress", null, null);
                    stream.commit(line("response.created", orderedObject("type", "response.created", "response", r)));
                    event("response.in_progress", "response", r);
                }
            }

            private String space = "";           // whitespace that would open a message on its own (between function calls)

            private void append(String type, String t) {
                if (type.equals("message") && !type.equals(open) && t.isBlank()) { space += t; return; }
                if (type.equals("message") && !space.isEmpty()) { t = space + t; space = ""; }
                if (stream == null) {
                    if (!type.equals(open)) start(type);
                    text.append(t);
                    return;
                }
                synchronized (stream) {
                    open();
                    if (!type.equals(open)) start(type);
                    text.append(t);
                    Map<String, Object> item = output.get(output.size() - 1);
                    if (type.equals("reasoning")) event("response.reasoning_summary_text.delta", "item_id", item.get("id"), "output_index", output.size() - 1,
                            "summary_index", 0, "delta", t);
                    else event("response.output_text.delta", "item_id", item.get("id"), "output_index", output.size() - 1, "content_index", 0, "delta", t, "logprobs", List.of());
                    delivered = true;
                }
            }

            private void start(String type) {
                close();
                open = type;
                text.setLength(0);
                Map<String, Object> item = type.equals("reasoning") ? orderedObject("type", "reasoning", "id", "rs_" + randomToken(18), "summary", new ArrayList<>())
                        : orderedObject("type", "message", "id", "msg_" + randomToken(18), "status", "in_progress", "role", "assistant", "content", new ArrayList<>());
                output.add(item);
                if (stream == null) return;
                int i = output.size() - 1;
                event("response.output_item.added", "output_index", i, "item", new LinkedHashMap<>(item));
                if (type.equals("reasoning")) event("response.reasoning_summary_part.added", "item_id", item.get("id"), "output_index", i, "summary_index", 0,
                        "part", orderedObject("type", "summary_text", "text", ""));
                else event("response.content_part.added", "item_id", item.get("id"), "output_index", i, "content_index", 0,
                        "part", orderedObject("type", "output_text", "text", "", "annotations", List.of()));
            }

            private void close() {
                if (open == null) return;
                Map<String, Object> item = output.get(output.size() - 1);
                int i = output.size() - 1;
                String t = text.toString();
                if (open.equals("reasoning")) {
                    item.put("summary", List.of(orderedObject("type", "summary_text", "text", t)));
                    if (stream != null) {
                        event("response.reasoning_summary_text.done", "item_id", item.get("id"), "output_index", i, "summary_index", 0, "text", t);
                        event("response.reasoning_summary_part.done", "item_id", item.get("id"), "output_index", i, "summary_index", 0,
                                "part", orderedObject("type", "summary_text", "text", t));
                    }
                } else {
                    Map<String, Object> part = orderedObject("type", "output_text", "text", t, "annotations", List.of(), "logprobs", List.of());
                    item.put("content", List.of(part));
                    item.put("status", "completed");
                    if (stream != null) {
                        event("response.output_text.done", "item_id", item.get("id"), "output_index", i, "content_index", 0, "text", t, "logprobs", List.of());
                        event("response.content_part.done", "item_id", item.get("id"), "output_index", i, "content_index", 0, "part", part);
                    }
                }
                if (stream != null) event("response.output_item.done", "output_index", i, "item", new LinkedHashMap<>(item));
                open = null;
            }

            @Override public void reasoning(String t) { append("reasoning", t); }
            @Override public void text(String t) { append("message", t); }

            @Override public void toolCall(int index, String name, String arguments) {
                if (stream != null) synchronized (stream) { open(); }
                close();
                Map<String, Object> item = orderedObject("type", "function_call", "id", "fc_" + randomToken(18), "call_id", "call_" + randomToken(18),
                        "name", name, "arguments", "", "status", "in_progress");
                output.add(item);
                int i = output.size() - 1;
                if (stream != null) synchronized (stream) {
                    event("response.output_item.added", "output_index", i, "item", new LinkedHashMap<>(item));
                    event("response.function_call_arguments.delta", "item_id", item.get("id"), "output_index", i, "delta", arguments);
                    event("response.function_call_arguments.done", "item_id", item.get("id"), "output_index", i, "arguments", arguments);
                }
                item.put("arguments", arguments);
                item.put("status", "completed");
                if (stream != null) synchronized (stream) { event("response.output_item.done", "output_index", i, "item", new LinkedHashMap<>(item)); delivered = true; }
            }

            @Override public void finish(String reason, Usage usage) {
                if (stream != null) synchronized (stream) { open(); close(); } else close();
                String incomplete = reason.equals("length") ? "max_output_tokens" : reason.equals("content_filter") ? "content_filter" : null;
                Map<String, Object> r = response(incomplete == null ? "completed" : "incomplete", usage, incomplete);
                if (chat != null) owner.save(id, r, history());
                if (stream == null) { sendJson(c, 200, r); return; }
                synchronized (stream) {
                    stream.end(line(incomplete == null ? "response.completed" : "response.incomplete",
                            orderedObject("type", incomplete == null ? "response.completed" : "response.incomplete", "response", r)));
                }
            }

            /** The exchange as chat messages (the request's, then this answer), for a later previous_response_id. */
            private List<Object> history() {
                List<Object> h = new ArrayList<>();
                for (Object m : (List<?>) chat.get("messages")) if (!"system".equals(Json.asObject(m).get("role"))) h.add(m);
                StringBuilder answer = new StringBuilder();
                List<Object> calls = new ArrayList<>();
                for (Map<String, Object> item : output) {
                    if ("message".equals(item.get("type"))) answer.append(at(item));
                    if ("function_call".equals(item.get("type"))) calls.add(orderedObject("id", item.get("call_id"), "type", "function",
                            "function", orderedObject("name", item.get("name"), "arguments", item.get("arguments"))));
                }
                Map<String, Object> a = orderedObject("role", "assistant", "content", answer.toString());
                if (!calls.isEmpty()) a.put("tool_calls", calls);
                h.add(a);
                return h;
            }

            @Override public void citations(List<Citation> cited) { }
            @Override public void keepAlive() { if (stream != null) stream.comment(); }
            @Override public boolean delivered() { return delivered; }

            @Override public void reset() {
                output.clear();
                open = null;
                text.setLength(0);
                space = "";
            }
        }
    }

    // ==== 7. Chat requests ====

    /**
     * One POST /v1/chat/completions: the exchange, the parsed request, the attempts and the client
     * stream. Its retries, outermost first, each named for what it retries:
     *   failover()       the next account, when a failure is about the account (an expired token
     *                    that cannot be renewed, a rate limit, the firewall) and nothing reached the client;
     *   converse()       the same account once more with firmer instructions, when a reply breaks the
     *                    request's rules (a required tool call missing, unusable calls, JSON off the schema);
     *   renewing()       the same exchange after renewing an expired token (§7.1, §12.2 step 6);
     *   attempt()        one upstream exchange: a (warm) chat, a body that fits (§5.6), the stream
     *                    relayed; send() inside it sends once more smaller after a firewall page for a
     *                    large body, or in a new chat when Qwen refuses a warm one.
     * The commit decision (when the 200 goes out) lives in relay()'s watchdog and in the dialect's
     * first event; the catch ladder asks the client stream's one state whether a status can still be sent.
     */
    static final class ChatCall {
        final Server s;
        final Call c;
        ChatRequest req;                              // a conversation's turn falls back to its whole history
        final Function<SseStream, Dialect> dialect;   // a client stream (null: none) -> the wire format
        /** Where a conversation lives upstream (§9): the account, Qwen's chat, the answer to continue. */
        record Continuation(String account, String chatId, String parent) {}

        /** What keeps a conversation going once a turn is answered (a /api/chat conversation, the --reuse-chats index). */
        interface Answered { void answered(Account a, String chat, String responseId, Output out); }

        Continuation cont;                            // this turn can go on upstream here, with req holding only the turn
        ChatRequest history;                          // the whole conversation, flattened, for a new chat when it cannot
        Answered after;                               // set: the chat answered in is kept, and handed to this
        private String parent, usedChat;              // §9: the upstream answer this turn follows; the chat it went to
        private Output out;

        /** A front door is a request parser and a dialect: the rest is shared. */
        ChatCall(Server s, Call c, ChatRequest req, Function<SseStream, Dialect> dialect) {
            this.s = s;
            this.c = c;
            this.req = req;
            this.dialect = dialect;
            c.note = " model=" + req.model() + " upstream=" + req.upstreamModel() + (req.stream() ? " stream" : "");
            c.model = req.model();
        }

        /** POST /v1/chat/completions. */
        static ChatCall openAi(Server s, Call c, Map<String, Object> body) {
            ChatRequest req = ChatRequest.parse(body, s.models, s.cfg);
            boolean both = s.cfg.reasoning() == Reasoning.BOTH;
            ChatCall call = new ChatCall(s, c, req, stream -> stream == null ? new OpenAiCompletion(c, req.model(), both)
                    : new OpenAiChunks(stream, req.model(), req.includeUsage(), both));
            if (s.cfg.reuseChats()) s.reuse.prepare(call);
            return call;
        }

        /**
         * POST /v1/images/generations (t2i) and /v1/images/edits (image_edit; multipart image(s) + prompt, or JSON with
         * image URLs): a chat (§10.5) whose images become OpenAI image objects (a URL, or the bytes).
         */
        static ChatCall images(Server s, Call c, boolean edit) {
            String type = String.valueOf(c.ex.getRequestHeaders().getFirst("Content-Type"));
            Map<String, Object> b = new LinkedHashMap<>();
            List<Object> parts = new ArrayList<>();
            if (type.startsWith("multipart/")) {       // fields as strings, images as data: URLs for the media path
                for (Part p : multipart(type, readBody(c, s.cfg.maxBodyBytes(), "--max-body-bytes"))) {
                    if (p.filename() == null) b.put(p.name(), new String(p.data(), StandardCharsets.UTF_8).strip());
                    else if (p.name() != null && p.name().startsWith("image")) parts.add(Map.of("type", "image_url", "image_url", Map.of("url",
                            "data:" + Media.sniff(p.data(), "image/png") + ";base64," + Base64.getEncoder().encodeToString(p.data()))));
                }
                if (b.get("n") != null) b.put("n", new Json.Num(String.valueOf(b.get("n"))));
            } else b = readJsonObject(c, s.cfg.maxBodyBytes());
            List<Object> refs = new ArrayList<>();
            if (b.get("image") instanceof String u) refs.add(u);
            if (b.get("images") instanceof List<?> l) for (Object o : l) refs.add(o instanceof String str ? str : Json.str(Json.asObject(o), "image_url"));
            for (Object u : refs) if (u != null) parts.add(Map.of("type", "image_url", "image_url", Map.of("url", u)));
            if (edit && parts.isEmpty()) throw ApiException.invalid("image", "missing_required_parameter", "Missing required parameter: 'image'.");
            String prompt = optString(b, "prompt"), format = Objects.requireNonNullElse(optString(b, "response_format"), "url");
            if (prompt == null || prompt.isBlank()) throw ApiException.invalid("prompt", "missing_required_parameter", "Missing required parameter: 'prompt'.");
            long n = optLong(b, "n", 1);
            if (n < 1 || n > 4) throw ApiException.invalid("n", "invalid_value", "n must be from 1 to 4, got " + n + ".");
            if (!format.equals("url") && !format.equals("b64_json"))
                throw ApiException.invalid("response_format", "invalid_value", "response_format must be url or b64_json, got '" + format + "'.");
            String model = optString(b, "model");            // OpenAI's image model names mean: the default model
            parts.add(0, Map.of("type", "text", "text", n > 1 ? prompt + "\n\n(" + n + " images)" : prompt));
            Map<String, Object> chat = orderedObject("model", model == null || model.matches("(?i)(dall-e|gpt-image).*") ? Json.NULL : model,
                    "messages", List.of(Map.of("role", "user", "content", parts)),
                    "chat_type", edit ? "image_edit" : "t2i", "size", b.get("size") == null ? Json.NULL : b.get("size"));
            ChatRequest req = ChatRequest.parse(chat, s.models, s.cfg);
            return new ChatCall(s, c, req, stream -> new OpenAiImages(s, c, format, (int) n));
        }

        void failover() {
            if (s.accounts.isEmpty()) {
                throw new ApiException(401, "authentication_error", "upstream_token_missing", null,
                        "No Qwen account is configured. Sign in at https://chat.qwen.ai and restart the proxy with "
                                + "QWEN_REFRESH_TOKEN=<the refresh_token cookie> (renews itself for ~300 days), or run "
                                + "'java QwenProxy.java login' once, or set QWEN_AUTH_TOKEN=<localStorage 'token'> (lasts ~15 minutes). See the README, 'Getting the token'.");
            }
            // another account while nothing reached the client (the next try opens its own stream)
            Account a = s.accounts.failover(req.chatType(), cont == null ? null : cont.account(), c.rid,
                    e -> c.stream == null || c.stream.abandon(), this::converse);
            c.note += " account=" + a.id;
        }

        /** The reply's neutral layer and its dialect, on a new client stream if the request streams. */
        Output output() {
            c.stream = req.stream() ? new SseStream(c) : null;
            out = new Output(req, dialect.apply(c.stream), c.rid, s.cfg.searchInfo());
            out.keep = after != null;          // only a conversation needs the answer's text again
            return out;
        }

        void converse(Account a) {
            Output out = output();
            for (int round = 0; ; round++) {
                renewing(a, out, round > 0);
                ApiException problem = out.settle();
                if (problem == null) {
                    // the conversation records the turn before the client has the answer: its next turn, a GET or a stop can come at once
                    if (after != null) after.answered(a, usedChat, out.responseId(), out);
                    out.send();
                    c.metrics.count(out.usage.input(), "qwenproxy_tokens_total", "direction", "in", "model", c.metrics.model(c.model));
                    c.metrics.count(out.usage.output(), "qwenproxy_tokens_total", "direction", "out", "model", c.metrics.model(c.model));
                    c.note += " finish=" + out.finish + (out.calls == 0 ? "" : " tool_calls=" + out.calls);
                    return;
                }
                if (round > 0 || out.to.delivered()) throw problem;
                Log.info(c.rid, problem.getMessage() + " Asking once more, more firmly.");
                out.reset();
            }
        }

        void renewing(Account a, Output out, boolean firmer) {
            for (boolean renewed = false; ; renewed = true) {
                String token = a.accessToken;
                try {
                    attempt(a, out, firmer);
                    return;
                } catch (ApiException e) {
                    if (renewed || e.kind != ApiException.Kind.TOKEN || (c.stream != null && c.stream.state() != SseStream.State.OPEN)
                            || !s.accounts.renew(a, token, c.rid)) throw e;
                    Log.info(c.rid, "account " + a.id + ": token renewed after a 401; retrying");
                }
            }
        }

        void attempt(Account a, Output out, boolean firmer) {
            if (cont != null && req != history) {           // §9: the conversation's own upstream chat, only the new turn
                if (a.id.equals(cont.account())) {
                    parent = cont.parent();
                    try {
                        relay(s.upstream.complete(a, usedChat = cont.chatId(), fit(a, cont.chatId(), firmer, s.cfg.contextFileThreshold()), c.rid), out);
                        c.note += " continued";
                        return;
                    } catch (ApiException e) {
                        if (e.kind != ApiException.Kind.CHAT || out.to.delivered() || (c.stream != null && c.stream.state() != SseStream.State.OPEN)) throw e;
                        Log.info(c.rid, "the conversation cannot go on in its upstream chat (" + e.getMessage() + "); a new chat with its history");
                    } finally {
                        parent = null;
                    }
                }
                req = history;                              // another account, or the chat is gone: all of it, flattened
            }
            ChatPool.Chat chat = s.chats.take(a, req.upstreamModel(), req.chatType(), c.rid);
            List<String> chats = new ArrayList<>(List.of(chat.id()));
            boolean answered = false;
            try {
                if (req.chatType().equals("t2v")) video(a, out, chat.id(), firmer);
                else relay(send(a, chat, chats, firmer), out);
                answered = true;
            } finally {
                if (after != null && answered) usedChat = chats.remove(chats.size() - 1);     // the conversation keeps the chat it answered in
                if (s.cfg.deleteChats()) for (String id : chats) s.background.execute(() -> s.upstream.deleteChat(a, id, c.rid));
            }
        }

        /**
         * t2v (§10.5): the completion answers with a task, which is asked until it is done. A stream
         * commits at once and stays alive meanwhile (a reasoning line, then keep-alive comments);
         * the answer is a link to the video.
         */
        void video(Account a, Output out, String chatId, boolean firmer) {
            String task = s.upstream.startVideo(a, chatId, fit(a, chatId, firmer, s.cfg.contextFileThreshold()), c.rid);
            c.note += " task=" + task;
            if (s.cfg.reasoning() == Reasoning.FIELD || s.cfg.reasoning() == Reasoning.BOTH) out.emit(true, "Qwen is generating the video (task " + task + ").");
            out.to.open();
            String url = awaitVideo(s, a, task, c.rid, () -> {
                if (c.stream != null && System.currentTimeMillis() - c.stream.lastWrite >= s.cfg.keepaliveMs()) out.to.keepAlive();
            });
            out.emit(false, "[video](" + url + ")");
        }

        /** Asks a video task every videoPollMs (every 10 s after the first minute) until it is done; `tick` runs every second meanwhile. */
        static String awaitVideo(Server s, Account a, String task, String rid, Runnable tick) {
            long start = System.currentTimeMillis();
            while (true) {
                String url = s.upstream.videoStatus(a, task, rid);
                if (url != null) return url;
                long now = System.currentTimeMillis(), wait = now - start < 60_000 ? videoPollMs : Math.max(videoPollMs, 10_000);
                if (now - start > VIDEO_WAIT_MS) throw ApiException.timeout("video task " + task, VIDEO_WAIT_MS);
                for (long end = now + wait; System.currentTimeMillis() < end; ) {
                    try {
                        Thread.sleep(Math.min(1000, Math.max(1, end - System.currentTimeMillis())));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw ApiException.shuttingDown();
                    }
                    tick.run();
                }
            }
        }

        /**
         * The completion request, sent once more when its refusal says how to do better: a firewall
         * page for a large body (§5.6) is sent again smaller (an answer proves it was the size; a
         * second page is about the account after all); a warm chat the upstream refuses (deleted
         * in the web client since, say) is replaced by a new one. `chats` collects the chats used.
         */
        Reply send(Account a, ChatPool.Chat chat, List<String> chats, boolean firmer) {
            String chatId = chat.id(), body = fit(a, chatId, firmer, s.cfg.contextFileThreshold());
            try {
                return s.upstream.complete(a, chatId, body, c.rid);
            } catch (ApiException e) {
                long size = utf8Length(body), smaller = Math.min(size / 2, DEFAULT_CONTEXT_FILE_THRESHOLD);
                if (chat.warm() && e.kind == ApiException.Kind.CHAT) {
                    Log.info(c.rid, "Qwen refused a warm chat (" + e.getMessage() + "); using a new one");
                    chats.add(chatId = s.upstream.createChat(a, req.upstreamModel(), req.chatType(), c.rid));
                    return s.upstream.complete(a, chatId, fit(a, chatId, firmer, s.cfg.contextFileThreshold()), c.rid);
                }
                if (e.kind != ApiException.Kind.BLOCKED || size < SIZE_SUSPECT) throw e;
                Log.warn(c.rid, "a firewall page for a " + size / 1024 + " KiB body: sending it again within " + smaller / 1024 + " KiB");
                String again;
                try {
                    again = fit(a, chatId, firmer, smaller);
                } catch (ApiException tooLarge) {
                    throw e;
                }
                return s.upstream.complete(a, chatId, again, c.rid);
            }
        }

        /**
         * The completion body, at most `limit` bytes (§5.6). A larger one sends the whole
         * conversation as an attached text document and keeps a --context-live-bytes prompt inline
         * (Transcript.compact); if the upload fails, a compacted prompt within the limit goes alone.
         * 413 if not even that fits.
         */
        String fit(Account a, String chatId, boolean firmer, long limit) {
            List<Map<String, Object>> media = attachments(a);
            String body = json(req.upstreamBody(chatId, req.prompt(firmer), media));
            long size = utf8Length(body);
            if (size <= limit) return body;
            String instructions = ChatRequest.instructions(req.tools(), req.format(), firmer);
            Transcript t = req.transcript();
            try {
                String doc = t.render("");
                Upstream.FileRef f = s.upstream.upload(a, CONTEXT_FILE_NAME, "text/plain", doc.getBytes(StandardCharsets.UTF_8), true, c.rid);
                String notice = "[This conversation is long: all of it, every message in full, is in the attached file " + f.name()
                        + ". Below are the instructions, the original task, the latest steps and the current turn; read the file for anything else.]";
                List<Map<String, Object>> files = new ArrayList<>(media);
                files.add(f.entry());
                String fitted = fitted(t, chatId, notice, instructions, files, Math.min(s.cfg.contextLiveBytes(), limit), limit);
                if (fitted != null) {
                    c.note += " context=file:" + size / 1024 + "KiB";
                    return fitted;
                }
            } catch (ApiException e) {
                if (e.kind == ApiException.Kind.SHUTDOWN) throw e;
                Log.warn(c.rid, "could not attach the " + size / 1024 + " KiB conversation as a file (" + e.getMessage() + "); sending it compacted");
            }
            String fitted = fitted(t, chatId, "[This conversation is long: older messages in the middle are left out.]", instructions, media, limit, limit);
            if (fitted == null) throw new ApiException(413, "invalid_request_error", "request_too_large", "messages", "This request cannot be sent to "
                    + "Qwen: its tool definitions and output instructions alone exceed the " + limit / 1024 + " KiB a request may have (--context-file-threshold; "
                    + "Qwen's edge refuses bodies over about " + UPSTREAM_BODY_LIMIT / 1024 + " KiB). Offer fewer or smaller tools.");
            c.note += " context=compacted:" + size / 1024 + "KiB";
            return fitted;
        }

        /** The body as JSON, continuing `parent` when there is one (§9: the message's and the body's parent ids). */
        private String json(Map<String, Object> body) {
            if (parent != null) {
                body.put("parentId", parent);
                body.put("parent_id", parent);
                @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) ((List<?>) body.get("messages")).get(0);
                m.put("parentId", parent);
                m.put("parent_id", parent);
            }
            return Json.write(body);
        }

        private List<Media> media;      // the request's media with their bytes, fetched once for all attempts

        /**
         * The request's images, audio, video and documents as §10.4 files[] entries, uploaded with this
         * account (the upload cache makes a retry on it free). URLs are fetched on first use, once.
         */
        List<Map<String, Object>> attachments(Account a) {
            if (req.transcript().media().isEmpty()) return List.of();
            if (media == null) {
                List<Media> got = new ArrayList<>();
                for (Media m : req.transcript().media()) {
                    if (m.data() == null) m = m.url().startsWith("stored:") ? s.files.resolve(m) : s.upstream.fetch(m, c.rid);
                    if (m.data().length > s.cfg.mediaMaxBytes()) throw new ApiException(413, "invalid_request_error", "request_too_large", "messages",
                            "The " + m.kind().replace("file", "document") + " " + m.name() + " has " + m.data().length + " bytes; at most "
                                    + s.cfg.mediaMaxBytes() + " are accepted (--media-max-bytes).");
                    got.add(m);
                }
                media = got;
                c.note += " media=" + got.size();
            }
            List<Map<String, Object>> files = new ArrayList<>();
            for (Media m : media) files.add(s.upstream.upload(a, m.name(), m.mime(), m.data(), m.kind().equals("file"), c.rid).entry());
            return files;
        }

        /** A compacted body of at most `limit` bytes, the prompt budgeted to `budget`; shrinks until it fits, else null. */
        private String fitted(Transcript t, String chatId, String notice, String instructions, List<Map<String, Object>> files, long budget, long limit) {
            for (int tries = 0; tries < 6 && budget > 0; tries++) {
                String prompt = t.compact(notice, instructions, budget);
                if (prompt == null) return null;
                String body = json(req.upstreamBody(chatId, prompt, files));
                long over = utf8Length(body) - limit;
                if (over <= 0) return body;
                budget -= over + 1024;      // JSON escapes and the body's other fields: take it off the prompt
            }
            return null;
        }

        /**
         * Reads one upstream stream to its end through a StreamTranslator into out. A timer watches
         * it meanwhile: it opens the reply (the commit point) COMMIT_HOLD_MS after Qwen accepted the
         * request if no event came first, keeps the client's connection alive, and aborts the
         * upstream when it is silent for longer than --request-timeout-ms.
         */
        void relay(Reply reply, Output out) {
            StreamTranslator t = out.translator(s.cfg.reasoning());
            SseStream stream = c.stream;
            long opened = System.currentTimeMillis(), timeout = s.cfg.requestTimeoutMs(), keepalive = s.cfg.keepaliveMs();
            long period = Math.max(10, Math.min(1000, Math.min(timeout, keepalive) / 4));
            ScheduledFuture<?> watch = s.timer.scheduleAtFixedRate(() -> {
                long now = System.currentTimeMillis();
                try {
                    if (now - reply.lastActivity > timeout) reply.abort(Reply.TIMED_OUT);
                    if (now - opened >= COMMIT_HOLD_MS) out.to.open();
                    if (stream != null && now - stream.lastWrite >= keepalive) out.to.keepAlive();
                } catch (ClientGone e) {
                    reply.abort(Reply.CLIENT_GONE);
                } catch (RuntimeException e) {
                    Log.warn(c.rid, "watchdog: " + e);   // never let the timer task die silently
                }
            }, period, period, TimeUnit.MILLISECONDS);
            try {
                reply.pump(t, timeout);
            } finally {
                watch.cancel(false);
                reply.close();
            }
        }
    }

    /**
     * The neutral layer between the translator and a dialect: answer text goes through the
     * ToolParser when tools are offered, and output is held back while a retry may still be
     * needed (a required tool call, a response_format), so that a retry stays invisible.
     * Stop sequences and max_tokens are applied before it, in the translator; every dialect gets all of it.
     */
    static final class Output implements StreamTranslator.Sink, ToolParser.Out {
        final ChatRequest req;
        final Dialect to;
        final String rid;
        final StringBuilder held = new StringBuilder(), heldReasoning = new StringBuilder();
        final List<String> rejected = new ArrayList<>();
        int calls;
        private boolean answered;           // some answer text went to the dialect
        private ToolParser parser;
        private StreamTranslator translator;
        String finish;
        Usage usage;
        private final SearchInfo searchInfo;
        private final List<Source> sources = new ArrayList<>();
        private final List<Citation> cited = new ArrayList<>();
        private final StringBuilder cite = new StringBuilder();   // answer text that may end in a marker not yet complete
        private int shown;                                     // chars of content the dialect has had: citation offsets
        static final Pattern MARKER = Pattern.compile("\\[\\[(\\d{1,3})]]"), MARKER_START = Pattern.compile("\\[(?:\\[\\d{0,3}]?)?$");

        Output(ChatRequest req, Dialect to, String rid, SearchInfo searchInfo) {
            this.req = req;
            this.to = to;
            this.rid = rid;
            this.searchInfo = searchInfo;
        }

        StreamTranslator translator(Reasoning mode) {
            parser = req.tools().active() ? new ToolParser(req.tools(), this) : null;
            return translator = new StreamTranslator(mode, req.maxTokens(), req.stop(), this);
        }

        private boolean holding() { return req.format() != null || (req.tools().mustCall() && calls == 0); }

        // ---- from the translator
        @Override public void emit(boolean isReasoning, String text) {
            if (isReasoning) { if (holding()) heldReasoning.append(text); else to.reasoning(text); }
            else if (parser != null) parser.feed(text);
            else text(text);
        }

        @Override public void think(String text) {      // <think> text in content mode: never a tool call
            if (holding()) held.append(text); else showText(text);
        }

        // ---- from the tool parser
        @Override public void text(String t) {
            if (holding()) held.append(t); else showText(t);
        }

        @Override public void call(String name, String arguments) {
            release();
            callTurns.add("<tool_call>\n" + Json.write(orderedObject("name", name, "arguments", Json.parse(arguments))) + "\n</tool_call>");
            to.toolCall(calls++, name, arguments);
        }

        private final List<String> callTurns = new ArrayList<>();

        /** This answer as the client's next request will show it in a transcript (Transcript.of's assistant turn). */
        String assistantTurn() {
            StringBuilder a = new StringBuilder(Transcript.THINK_BLOCK.matcher(said).replaceAll("").trim());
            for (String call : callTurns) a.append(a.length() > 0 ? "\n" : "").append(call);
            return "Assistant: " + a;
        }

        @Override public void rejected(String why) {
            rejected.add(why);
            Log.info(rid, "not passed on as a tool call: " + why);
        }

        private void release() {
            if (heldReasoning.length() > 0) { to.reasoning(heldReasoning.toString()); heldReasoning.setLength(0); }
            if (held.length() > 0) { showText(held.toString()); held.setLength(0); }
        }

        private void showText(String t) {
            answered |= !t.isBlank();
            if (sources.isEmpty() || req.format() != null) send(t);
            else link(t, false);
        }

        private void send(String t) {
            shown += t.length();
            if (keep) said.append(t);
            to.text(t);
        }

        final StringBuilder said = new StringBuilder();     // the answer as the client got it, when a conversation keeps it
        boolean keep;

        /** The main candidate's response_id: what a follow-up in the same upstream chat continues (§9). */
        String responseId() { return translator == null ? null : translator.responseId(); }

        @Override public void sources(List<Source> found) { sources.addAll(found); }

        private int images;

        @Override public void image(String url) {
            answered = true;
            if (keep) said.append(images > 0 ? "\n\n" : "").append("![image ").append(images + 1).append("](").append(url).append(')');
            to.image(++images, url);
        }

        /**
         * Search answers cite their sources as [[n]] (§10.5): each becomes a markdown link [n](url) and a
         * citation of that span. A marker split across deltas waits for its end.
         */
        private void link(String t, boolean end) {
            cite.append(t);
            java.util.regex.Matcher tail = MARKER_START.matcher(cite);
            String ready = cite.substring(0, end || !tail.find() ? cite.length() : tail.start());
            cite.delete(0, ready.length());
            java.util.regex.Matcher m = MARKER.matcher(ready);
            StringBuilder out = new StringBuilder();
            int last = 0;
            while (m.find()) {
                int n = Integer.parseInt(m.group(1));
                out.append(ready, last, m.start());
                last = m.end();
                if (n < 1 || n > sources.size()) { out.append('[').append(n).append(']'); continue; }
                int start = shown + out.length();
                out.append('[').append(n).append("](").append(sources.get(n - 1).url()).append(')');
                cited.add(new Citation(sources.get(n - 1), start, shown + out.length()));
            }
            out.append(ready, last, ready.length());
            if (out.length() > 0) send(out.toString());
        }

        /** After a search answer: the rest of it, the readable source list (--search-info), the citations. */
        private void sourcesEnd() {
            if (sources.isEmpty() || req.format() != null || calls > 0) return;
            link("", true);
            if (searchInfo != SearchInfo.NONE) {
                StringBuilder b = new StringBuilder(searchInfo == SearchInfo.TABLE ? "\n\n| # | Source |\n|---|---|" : "\n\n**Sources**");
                for (int i = 0; i < sources.size(); i++) {
                    Source src = sources.get(i);
                    b.append(searchInfo == SearchInfo.TABLE ? "\n| " + (i + 1) + " | " : "\n" + (i + 1) + ". ");
                    int start = shown + b.length();
                    b.append('[').append(src.title().replace("|", "\\|").replace("]", ")")).append("](").append(src.url()).append(')');
                    cited.add(new Citation(src, start, shown + b.length()));
                    if (searchInfo == SearchInfo.TABLE) b.append(" |");
                }
                send(b.toString());
            }
            if (!cited.isEmpty()) to.citations(List.copyOf(cited));
        }

        /** After the stream: apply the request's rules. Null if the reply stands, else why it does not. */
        ApiException settle() {
            if (parser != null) parser.end();
            finish = translator == null ? "stop" : translator.finishReason();     // a video task has no stream to translate
            usage = translator == null ? new Usage(0, 0, 0, 0, 0) : translator.usage();
            if (req.format() != null && calls == 0) {     // a reply that calls tools is not the final answer yet
                List<String> errors = new ArrayList<>();
                String json = ToolLayer.structured(held.toString(), req.format(), errors);
                if (json == null) return new ApiException(502, "server_error", "invalid_structured_output", null,
                        "Qwen's answer is not JSON of the requested format (" + String.join("; ", errors) + ").");
                held.setLength(0);
                held.append(json);
            }
            Tools tools = req.tools();
            if (tools.mustCall() && calls == 0)
                return new ApiException(502, "server_error", "tool_call_missing", null, "Qwen answered without calling "
                        + (tools.forced() != null ? "'" + tools.forced() + "'" : "a tool") + " although tool_choice required it"
                        + (rejected.isEmpty() ? "" : " (it tried " + String.join("; ", rejected) + ")") + ".");
            // a call cut off by max_tokens is no invalid call: the reply simply ends with "length"
            if (tools.active() && calls == 0 && !rejected.isEmpty() && !answered && held.toString().isBlank() && !"length".equals(finish))
                return new ApiException(502, "server_error", "invalid_tool_call", null,
                        "Qwen's only tool calls were unusable: " + String.join("; ", rejected) + ".");
            release();
            sourcesEnd();
            if (calls > 0 && "stop".equals(finish)) finish = "tool_calls";
            return null;
        }

        /** Before the one retry: forget the first reply (the client saw none of it). */
        void reset() {
            held.setLength(0);
            heldReasoning.setLength(0);
            calls = 0;
            answered = false;
            rejected.clear();
            sources.clear();
            cited.clear();
            images = 0;
            said.setLength(0);
            callTurns.clear();
            cite.setLength(0);
            shown = 0;
            to.reset();
        }

        void send() {
            if (translator != null && translator.stopped() != null) to.stopSequence(translator.stopped());
            to.finish(finish, usage);
        }
    }

    /**
     * POST /v1/videos (OpenAI's shape): a t2v job (§10.5) that runs in the background on an account of
     * the pool; GET /v1/videos/{id} shows it queued, in_progress, completed (with the video's "url")
     * or failed (with an OpenAI error); /content redirects to the video. Jobs live in memory.
     */
    static final class Videos {
        private final Server s;
        private final Map<String, Map<String, Object>> jobs = new ConcurrentHashMap<>();
        private final Set<String> published = ConcurrentHashMap.newKeySet();    // jobs in Redis: gone there means deleted

        Videos(Server s) { this.s = s; }

        void handle(Call c, String method, String path) {
            if (path.equals("/videos")) {
                if (!method.equals("POST")) {
                    allow(method, "GET");
                    Map<String, String> shared = s.shared == null ? null : s.shared.all("video");
                    List<Object> data = new ArrayList<>();
                    if (shared != null) for (String json : shared.values()) data.add(Json.parse(json));
                    for (Map<String, Object> j : jobs.values()) if (shared == null || !published.contains(j.get("id"))) data.add(copy(j));
                    data.sort(Comparator.comparingLong(o -> -Json.longValue(Json.asObject(o).get("created_at"), 0)));
                    sendJson(c, 200, orderedObject("object", "list", "data", data, "has_more", false));
                    return;
                }
                String type = String.valueOf(c.ex.getRequestHeaders().getFirst("Content-Type"));
                Map<String, Object> b = new LinkedHashMap<>();
                if (type.startsWith("multipart/")) {
                    for (Part p : multipart(type, readBody(c, s.cfg.maxBodyBytes(), "--max-body-bytes")))
                        if (p.filename() == null) b.put(p.name(), new String(p.data(), StandardCharsets.UTF_8));
                } else b = readJsonObject(c, s.cfg.maxBodyBytes());
                String prompt = optString(b, "prompt"), model = optString(b, "model");
                if (prompt == null || prompt.isBlank()) throw ApiException.invalid("prompt", "missing_required_parameter", "Missing required parameter: 'prompt'.");
                Map<String, Object> chat = orderedObject("model", model == null || model.matches("(?i)sora.*") ? Json.NULL : model,
                        "messages", List.of(Map.of("role", "user", "content", prompt)), "chat_type", "t2v", "size", b.getOrDefault("size", Json.NULL));
                ChatRequest req = ChatRequest.parse(chat, s.models, s.cfg);          // a bad model or size is a 400 now, not a failed job
                String id = "video_" + randomToken(18);
                Map<String, Object> job = orderedObject("id", id, "object", "video", "model", req.model(), "status", "queued", "progress", 0,
                        "created_at", System.currentTimeMillis() / 1000, "completed_at", Json.NULL, "size", b.getOrDefault("size", req.size()),
                        "seconds", String.valueOf(b.getOrDefault("seconds", "4")), "prompt", prompt, "url", Json.NULL, "error", Json.NULL);
                jobs.put(id, job);
                if (s.shared != null && s.shared.put("video", id, Json.write(job), "EX", "86400")) published.add(id);
                s.background.execute(() -> run(job, req));
                Log.info(c.rid, "video job " + id + " queued");
                sendJson(c, 200, copy(job));
                return;
            }
            String rest = path.substring(8), id = rest.endsWith("/content") ? rest.substring(0, rest.length() - 8) : rest;
            boolean shared = s.shared != null && !s.shared.down();
            Map<String, Object> job = shared && s.shared.call("GET", REDIS_PREFIX + "video:" + id) instanceof String v ? Json.asObject(Json.parse(v))
                    : shared && published.contains(id) ? null : jobs.get(id);        // one made while Redis was away is this instance's
            if (job == null) throw new ApiException(404, "invalid_request_error", "video_not_found", "id", "No such video job: '" + id + "'.");
            if (method.equals("DELETE") && !rest.endsWith("/content")) {
                jobs.remove(id);
                published.remove(id);
                if (s.shared != null) s.shared.drop("video", id);
                sendJson(c, 200, orderedObject("id", id, "object", "video", "deleted", true));
                return;
            }
            allow(method, "GET");
            if (!rest.endsWith("/content")) { sendJson(c, 200, copy(job)); return; }
            Object url = job.get("url");
            if (!(url instanceof String u)) throw new ApiException(409, "invalid_request_error", "video_not_ready", "id",
                    "Video " + id + " is " + job.get("status") + "; its content exists once it is completed.");
            c.ex.getResponseHeaders().set("Location", u);
            sendJson(c, 302, orderedObject("url", u));
        }

        private static Map<String, Object> copy(Map<String, Object> job) { synchronized (job) { return new LinkedHashMap<>(job); } }

        /**
         * A job's progress. With --redis a job lives there for a day (any instance answers a poll, a
         * delete is global; XX: a job deleted meanwhile stays deleted); one made while Redis was away
         * stays this instance's.
         */
        private void set(Map<String, Object> job, Object... kv) {
            synchronized (job) { for (int i = 0; i < kv.length; i += 2) job.put((String) kv[i], kv[i + 1]); }
            if (published.contains(job.get("id"))) s.shared.put("video", (String) job.get("id"), Json.write(copy(job)), "XX", "EX", "86400");
        }

        /** The job on the next usable account; a failure about the account moves it to another, as chat requests do. */
        private void run(Map<String, Object> job, ChatRequest req) {
            String rid = (String) job.get("id");
            ApiException e;
            try {
                if (s.accounts.isEmpty()) throw new ApiException(401, "authentication_error", "upstream_token_missing", null, "No Qwen account is configured.");
                Account done = s.accounts.failover("t2v", null, rid, x -> true, a -> {
                    String chat = null;
                    try {
                        set(job, "status", "in_progress");
                        chat = s.upstream.createChat(a, req.upstreamModel(), "t2v", rid);
                        String task = s.upstream.startVideo(a, chat, Json.write(req.upstreamBody(chat, false)), rid);
                        long start = System.currentTimeMillis();
                        String url = ChatCall.awaitVideo(s, a, task, rid, () -> set(job, "progress",
                                (int) Math.min(95, (System.currentTimeMillis() - start) * 100 / 180_000)));
                        set(job, "status", "completed", "progress", 100, "url", url, "completed_at", System.currentTimeMillis() / 1000);
                    } finally {
                        String id = chat;
                        if (id != null && s.cfg.deleteChats()) s.background.execute(() -> s.upstream.deleteChat(a, id, rid));
                    }
                });
                Log.info(rid, "video job done on account " + done.id);
                return;
            } catch (ApiException failed) {
                e = failed;
            } catch (RuntimeException bug) {
                e = new ApiException(500, "server_error", "internal_error", null, "Internal proxy error (" + bug.getClass().getSimpleName() + ")");
                Log.error(rid, "video job: " + bug);
            }
            set(job, "status", "failed", "error", orderedObject("code", e.code, "message", e.getMessage()));
            Log.warn(rid, "video job failed: " + e.code + ": " + e.getMessage());
        }
    }

    // ==== 8. Admin API, conversations and login ====

    /**
     * The admin API (/admin/..., and the names users bring from Qwen2API): accounts listed, added
     * (checked with Qwen first), renewed and removed; the files reloaded; the status. Also /readyz
     * and /verify, which read the same state.
     */
    static final class Admin {
        private Admin() { }

        /** Admin routes, with the Qwen2API names users bring along; null if the path is not one. */
        static String adminPath(String method, String path) {
            if (path.startsWith("/admin/")) return path;
            return switch (path) {
                case "/api/addAccount" -> "/admin/accounts";
                case "/api/accountsHealth" -> "/admin/accounts";
                case "/api/reloadConfig" -> "/admin/reload";
                case "/api/configStatus" -> "/admin/status";
                default -> path.startsWith("/api/deleteAccount/") ? "/admin/accounts/" + path.substring(19) : null;
            };
        }

        static void handleAdmin(Server s, Call c, String method, String path) {
            if (path.equals("/admin/accounts")) {
                if (method.equals("POST")) {
                    Account a = addAccount(s, readJsonObject(c, s.cfg.maxBodyBytes()), c.rid);
                    sendJson(c, 201, accountView(a));
                } else {
                    allow(method, "GET");
                    List<Object> data = new ArrayList<>();
                    for (Account a : s.accounts.all) {
                        Map<String, Object> v = accountView(a);
                        Long all = s.shared == null ? null : s.shared.today(a.id);
                        if (all != null) v.put("requests_today_all_instances", all);
                        data.add(v);
                    }
                    if (s.code != null) for (Account a : s.code.pool.all) data.add(accountView(a));
                    sendJson(c, 200, orderedObject("object", "list", "data", data));
                }
            } else if (path.equals("/admin/reload")) {
                allow(method, "POST");
                s.reload();
                sendJson(c, 200, status(s));
            } else if (path.equals("/admin/status")) {
                allow(method, "GET");
                sendJson(c, 200, status(s));
            } else if (path.startsWith("/admin/accounts/")) {
                String rest = URLDecoder.decode(path.substring(16), StandardCharsets.UTF_8);
                boolean refresh = rest.endsWith("/refresh");
                String id = refresh ? rest.substring(0, rest.length() - 8) : rest;
                Accounts pool = s.code != null && s.code.pool.find(id) != null ? s.code.pool : s.accounts;
                Account a = pool.find(id);
                if (a == null) throw new ApiException(404, "invalid_request_error", "account_not_found", "id", "No account '" + id + "'.");
                if (refresh) {
                    allow(method, "POST");
                    if (a.creds != null) a.creds.sync(a);
                    if (!a.renewable()) throw ApiException.invalid("id", "not_renewable", "Account " + id + " has no refresh token or password to renew with.");
                    if (!pool.renew(a, a.accessToken, c.rid))     // the current token: renew it even if fresh
                        throw new ApiException(502, "server_error", "renewal_failed", null, "Renewing " + id + " failed: " + a.describe());
                    sendJson(c, 200, accountView(a));
                } else {
                    allow(method, "DELETE");
                    if (a.creds != null) throw new ApiException(409, "invalid_request_error", "account_from_flags", "id", "Account " + id
                            + " is the qwen-code credential file " + a.creds.path + "; leave out its --qwen-code to drop it (the file is the CLI's).");
                    s.accounts.remove(id);
                    sendJson(c, 200, orderedObject("id", id, "deleted", true));
                }
            } else {
                throw new ApiException(404, "invalid_request_error", "not_found", null, "Unknown admin endpoint " + path + ".");
            }
        }

        /** POST /admin/accounts: {"token"} | {"refresh_token"} | {"cookie"} | {"email","password"}, checked with Qwen first. */
        static Account addAccount(Server s, Map<String, Object> b, String rid) {
            Account a;
            try {
                if (optString(b, "token") != null) a = new Account("token", optString(b, "token").trim(), null, null);
                else if (optString(b, "refresh_token") != null) a = new Account("refresh", null, optString(b, "refresh_token").trim(), null);
                else if (optString(b, "cookie") != null) a = Account.fromCookie(optString(b, "cookie"));
                else if (optString(b, "email") != null && optString(b, "password") != null)
                    a = Account.password(optString(b, "email").trim(), sha256(optString(b, "password")));
                else throw new IllegalArgumentException("send one of {\"token\"}, {\"refresh_token\"}, {\"cookie\"}, {\"email\",\"password\"}");
                a.proxy = Upstream.egressUrl(optString(b, "proxy"));
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid(null, "invalid_account", "Cannot add this account: " + e.getMessage() + ".");
            }
            Log.secrets(a.accessToken, a.refreshToken, optString(b, "password"));
            if (s.accounts.find(a.id) != null)
                throw new ApiException(409, "invalid_request_error", "account_exists", null, "Account " + a.id + " is already in the pool.");
            s.accounts.validate(a, rid);
            Account same = s.accounts.sameUser(a);
            if (same != null) throw new ApiException(409, "invalid_request_error", "account_exists", null,
                    "This is the Qwen user of account " + same.id + ", which is already in the pool.");
            a.source = "added";
            s.accounts.add(a);
            s.accounts.added(a);
            Log.info(rid, "account " + a.id + " added through the admin API");
            return a;
        }

        /** What the admin API shows of an account: never a whole secret. */
        static Map<String, Object> accountView(Account a) {
            long now = System.currentTimeMillis();
            a.usable(now, 0);    // let an expired cooldown show as recovered
            synchronized (a) {
                return orderedObject("id", a.id, "backend", a.creds == null ? "web" : "qwen-code", "file", a.creds == null ? Json.NULL : a.creds.path.toString(),
                        "kind", a.kind, "source", a.source,
                        "token", a.accessToken == null ? Json.NULL : a.accessToken.substring(0, Math.min(6, a.accessToken.length())) + "…",
                        "proxy", nullable(Upstream.maskedEgress(a.proxy)),
                        "email", nullable(a.email), "state", a.state.name(), "reason", a.reason,
                        "cooling_until", a.until > now ? Instant.ofEpochMilli(a.until).toString() : Json.NULL,
                        "token_expires_at", a.expiresAt > 0 ? Instant.ofEpochMilli(a.expiresAt).toString() : Json.NULL,
                        "renewable", a.renewable(), "last_used", a.lastUsed > 0 ? Instant.ofEpochMilli(a.lastUsed).toString() : Json.NULL,
                        "requests_today", a.requests, "failures", a.failures, "in_flight", a.inFlight, "quota_cooling", quotas(a, now));
            }
        }

        /** The chat types whose own quota is cooling (§10.5), and until when. */
        static Map<String, Object> quotas(Account a, long now) {
            Map<String, Object> m = new TreeMap<>();
            a.quotaUntil.forEach((type, until) -> { if (until > now) m.put(type, Instant.ofEpochMilli(until).toString()); });
            return m;
        }

        static Map<String, Object> status(Server s) {
            Map<String, Object> counts = orderedObject("total", s.accounts.all.size());
            for (State st : State.values()) counts.put(st.name(), 0);
            for (Account a : s.accounts.all) {
                a.usable(System.currentTimeMillis(), 0);
                synchronized (a) { counts.merge(a.state.name(), 1, (x, y) -> (Integer) x + (Integer) y); }
            }
            Config cfg = s.cfg;
            Map<String, Object> config = orderedObject("host", cfg.host(), "port", s.port(), "base_url", cfg.baseUrl(),
                    "auth_base_url", cfg.authBaseUrl(), "strategy", cfg.fillFirst() ? "fill-first" : "round-robin",
                    "max_attempts", cfg.maxAttempts(), "account_concurrency", cfg.accountConcurrency(),
                    "thinking", cfg.thinking().name().toLowerCase(Locale.ROOT), "reasoning", cfg.reasoning().name().toLowerCase(Locale.ROOT),
                    "delete_chats", cfg.deleteChats(), "data_dir", cfg.dataDir(), "api_keys", s.apiKeys.size(),
                    "admin_key", cfg.adminKey() != null ? "set" : s.apiKeys.isEmpty() ? "none (loopback only)" : "first client key");
            Map<String, Object> files = orderedObject("accounts_file", s.accountsFile == null ? Json.NULL : s.accountsFile.status(),
                    "api_keys_file", s.keysFile == null ? Json.NULL : s.keysFile.status());
            long[] st = s.startup();
            return orderedObject("name", NAME, "version", VERSION, "uptime_s", (System.currentTimeMillis() - s.startedAt) / 1000,
                    "startup", orderedObject("main_at_ms", MAIN_AT, "before_main_ms", st[0], "main_to_listening_ms", st[1]),
                    "config", config, "files", files, "last_reload", Instant.ofEpochMilli(s.lastReload).toString(), "accounts", counts,
                    "qwen_code", s.code == null ? Json.NULL : orderedObject("credentials", s.code.pool.all.size(), "usable", s.code.pool.usable(),
                            "base_url", nullable(s.cfg.qwenCodeBaseUrl()), "oauth_base_url", s.cfg.oauthBaseUrl()));
        }

        /** GET /api/status (FreeQwenApi): {"authenticated", "message"} from the accounts' state. */
        static void handleStatusFq(Server s, Call c) {
            int usable = s.accounts.usable();
            sendJson(c, 200, orderedObject("authenticated", usable > 0, "message", usable > 0 ? usable + " usable Qwen account(s)"
                    : s.accounts.isEmpty() ? "No Qwen account is configured" : "No Qwen account is usable right now: " + s.accounts.summary(),
                    "accounts", s.accounts.all.size(), "usable_accounts", usable));
        }

        /** GET /readyz: 200 only while at least one account can take a request. */
        static void handleReady(Server s, Call c) {
            int usable = s.accounts.usable() + (s.code == null ? 0 : s.code.pool.usable());
            if (usable == 0) throw new ApiException(503, "server_error", "no_available_accounts", null, "No Qwen account is usable right now.");
            sendJson(c, 200, orderedObject("status", "ready", "usable_accounts", usable));
        }

        /** POST /verify {"apiKey"} (Qwen2API): whether the key is a valid client key. */
        static void handleVerify(Server s, Call c) {
            String key = optString(readJsonObject(c, 65536), "apiKey");
            sendJson(c, 200, orderedObject("valid", s.apiKeys.isEmpty() || (key != null && keyIn(key, s.apiKeys))));
        }

        /**
         * The admin key is --admin-key, else the first client key. With no keys at all the admin API
         * answers only requests from this machine.
         */
        static void authorizeAdmin(Server s, Call c) {
            String admin = s.cfg.adminKey() != null ? s.cfg.adminKey() : s.apiKeys.isEmpty() ? null : s.apiKeys.get(0);
            String key = presentedKey(c);
            if (admin == null) {
                if (c.ex.getRemoteAddress().getAddress().isLoopbackAddress()) return;
                throw new ApiException(403, "invalid_request_error", "admin_forbidden", null,
                        "The admin API answers only local requests while no --admin-key or --api-key is set.");
            }
            if (key != null && keyIn(key, List.of(admin))) return;
            throw new ApiException(key != null && keyIn(key, s.apiKeys) ? 403 : 401, "invalid_request_error",
                    key != null && keyIn(key, s.apiKeys) ? "admin_forbidden" : "invalid_api_key",
                    null, key == null ? "The admin API needs the admin key (--admin-key, else the first client key)." : "This key is not the admin key.");
        }
    }

    /**
     * Server-side conversations: FreeQwenApi's native API (/api/chat, /api/chats...). A conversation
     * keeps its history (the last HISTORY_MAX messages) and where it lives upstream: the account,
     * the upstream chat and the last answer's response_id. The next turn goes into that chat with
     * parent_id (§9), only the new message; on another account, or when Qwen refuses the parent,
     * it goes to a new chat with the history flattened. One JSON file per conversation in
     * <data-dir>/conversations, written atomically; turns of one conversation run one at a time.
     */
    static final class Conversations {
        static final int HISTORY_MAX = 100;
        private final Server s;
        private final Path dir;
        private final Map<String, Conversation> all = new ConcurrentHashMap<>();
        private volatile boolean loaded;

        Conversations(Server s) {
            this.s = s;
            this.dir = Path.of(s.cfg.dataDir(), "conversations");
        }

        static final class Conversation {
            final String id;
            String name, model, account, chatId, parentId;
            long createdAt, updatedAt;
            final List<Map<String, Object>> messages = new ArrayList<>();
            final java.util.concurrent.locks.ReentrantLock turn = new java.util.concurrent.locks.ReentrantLock();

            Conversation(String id) { this.id = id; }

            /** Takes a stored copy (the file, or another instance's in Redis) if it is newer than this one. */
            synchronized void fill(Map<String, Object> m) {
                if (Json.longValue(m.get("updated_at"), 0) <= updatedAt && updatedAt > 0) return;
                name = Json.str(m, "name");
                model = Json.str(m, "model");
                account = Json.str(m, "account");
                chatId = Json.str(m, "chat_id");
                parentId = Json.str(m, "parent_id");
                createdAt = Json.longValue(m.get("created_at"), 0);
                updatedAt = Json.longValue(m.get("updated_at"), 0);
                messages.clear();
                if (m.get("messages") instanceof List<?> l) for (Object o : l) if (Json.asObject(o) != null) messages.add(Json.asObject(o));
            }

            synchronized Map<String, Object> toJson() {
                return orderedObject("id", id, "name", name, "created_at", createdAt, "updated_at", updatedAt, "model", nullable(model),
                        "account", nullable(account), "chat_id", nullable(chatId), "parent_id", nullable(parentId), "messages", new ArrayList<>(messages));
            }

            synchronized Map<String, Object> summary() {
                long users = messages.stream().filter(m -> "user".equals(m.get("role"))).count();
                return orderedObject("id", id, "chatId", id, "name", name, "created", createdAt, "updated", updatedAt, "model", nullable(model),
                        "messageCount", messages.size(), "userMessageCount", users);
            }

            /** After an answer: the turn joins the history and the conversation goes on where it was answered. */
            void answered(Server s, Account a, String chat, String responseId, String text) {
                String old;
                synchronized (this) {
                    old = chatId != null && !chatId.equals(chat) && account != null ? chatId : null;
                    Account was = old == null ? null : s.accounts.find(account);
                    if (old != null && was != null && s.cfg.deleteChats()) s.background.execute(() -> s.upstream.deleteChat(was, old, null));
                    account = a.id;
                    chatId = chat;
                    parentId = responseId;
                    // each answer keeps its upstream response id: what a later previous_response_id (Responses API) will look up
                    messages.add(orderedObject("role", "assistant", "content", text, "timestamp", System.currentTimeMillis() / 1000,
                            "response_id", nullable(responseId)));
                    while (messages.size() > HISTORY_MAX) messages.remove(0);
                    updatedAt = System.currentTimeMillis();
                }
                s.conversations.save(this);
            }
        }

        private void load() {
            if (loaded) {
                fromRedis();
                return;
            }
            synchronized (this) {
                if (loaded) return;
                try (DirectoryStream<Path> ds = Files.isDirectory(dir) ? Files.newDirectoryStream(dir, "*.json") : null) {
                    if (ds != null) for (Path p : ds) {
                        try {
                            Map<String, Object> m = Json.asObject(Json.parse(Files.readString(p)));
                            if (Json.str(m, "id") != null) all.computeIfAbsent(Json.str(m, "id"), Conversation::new).fill(m);
                        } catch (IOException | RuntimeException e) {
                            Log.warn(null, "conversations: skipping " + p.getFileName() + ": " + e.getMessage());
                        }
                    }
                } catch (IOException e) {
                    Log.warn(null, "cannot read " + dir + ": " + e.getMessage());
                }
                loaded = true;
            }
            fromRedis();
        }

        /** --redis: every instance's conversations; the newer copy of each wins, one removed elsewhere goes here too. */
        private void fromRedis() {
            Map<String, String> shared = s.shared == null ? null : s.shared.all("conversation");
            if (shared == null) return;
            all.keySet().removeIf(id -> !shared.containsKey(id) && all.get(id).updatedAt < System.currentTimeMillis() - 5_000);
            shared.forEach((id, json) -> all.computeIfAbsent(id, Conversation::new).fill(Json.asObject(Json.parse(json))));
        }

        void save(Conversation v) {
            String json = Json.write(v.toJson());
            try {
                Store.writePrivate(dir.resolve(v.id + ".json"), json.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                Log.error(null, "could not save conversation " + v.id + ": " + e.getMessage());
            }
            if (s.shared != null) s.shared.put("conversation", v.id, json);
        }

        Conversation create(String name) {
            load();
            Conversation v = new Conversation(UUID.randomUUID().toString());
            v.name = name == null || name.isBlank() ? "New chat" : name.strip();
            v.createdAt = v.updatedAt = System.currentTimeMillis();
            all.put(v.id, v);
            save(v);
            return v;
        }

        Conversation get(String id) {
            load();
            Conversation v = id == null ? null : all.get(id);
            if (v == null) throw new ApiException(404, "invalid_request_error", "chat_not_found", "chatId", "No conversation '" + id + "'.");
            return v;
        }

        /** Forgets a conversation and deletes its upstream chat. */
        void delete(Conversation v) {
            all.remove(v.id);
            if (s.shared != null) s.shared.drop("conversation", v.id);
            try {
                Files.deleteIfExists(dir.resolve(v.id + ".json"));
            } catch (IOException e) {
                Log.warn(null, "could not delete " + v.id + ": " + e.getMessage());
            }
            Account a = v.account == null ? null : s.accounts.find(v.account);
            if (a != null && v.chatId != null) s.background.execute(() -> s.upstream.deleteChat(a, v.chatId, null));
        }

        /** POST /api/chat: {message | messages, model, chatId, stream}; the reply carries chatId. */
        void chat(Call c) {
            Map<String, Object> b = readJsonObject(c, s.cfg.maxBodyBytes());
            Object message = b.get("message");
            if ((message == null || message == Json.NULL) && b.get("messages") instanceof List<?> l)      // the last user message, as FreeQwenApi
                for (Object o : l) if ("user".equals(Json.str(Json.asObject(o), "role"))) message = Json.asObject(o).get("content");
            if (message == null || message == Json.NULL || message instanceof String str && str.isBlank())
                throw ApiException.invalid("message", "missing_required_parameter", "Missing required parameter: 'message' (or a user message in 'messages').");
            if (!(message instanceof String) && !(message instanceof List)) throw ApiException.invalid("message", "invalid_type", "'message' must be a string or content parts.");
            Conversation v = optString(b, "chatId") != null ? get(optString(b, "chatId")) : create(null);
            v.turn.lock();             // one turn of a conversation at a time
            try {
                Map<String, Object> user = orderedObject("role", "user", "content", message, "timestamp", System.currentTimeMillis() / 1000);
                List<Object> history = new ArrayList<>();
                synchronized (v) { history.addAll(v.messages); }
                history.add(user);
                String model = optString(b, "model") != null ? optString(b, "model") : v.model;
                Map<String, Object> whole = orderedObject("model", model == null ? Json.NULL : model, "stream", b.getOrDefault("stream", false),
                        "messages", history.stream().map(m -> Map.of("role", Json.asObject(m).get("role"), "content", Json.asObject(m).get("content"))).toList());
                ChatRequest full = ChatRequest.parse(whole, s.models, s.cfg);
                ChatRequest turn = ChatRequest.parse(orderedObject("model", whole.get("model"), "stream", whole.get("stream"),
                        "messages", List.of(Map.of("role", "user", "content", message))), s.models, s.cfg);
                boolean continues = v.parentId != null && full.upstreamModel().equals(v.model);    // another model: a new chat
                boolean both = s.cfg.reasoning() == Reasoning.BOTH;
                ChatCall call = new ChatCall(s, c, continues ? turn : full, stream -> stream == null
                        ? new OpenAiCompletion(c, full.model(), both, v.id) : new OpenAiChunks(stream, full.model(), full.includeUsage(), both, v.id));
                synchronized (v) { call.cont = continues ? new ChatCall.Continuation(v.account, v.chatId, v.parentId) : null; }
                call.history = full;
                call.after = (a, chat, responseId, out) -> v.answered(s, a, chat, responseId, out.said.toString());
                synchronized (v) {
                    v.messages.add(user);
                    v.model = full.upstreamModel();
                }
                try {
                    call.failover();
                } catch (RuntimeException e) {
                    synchronized (v) { v.messages.remove(user); }      // no answer: the question is not part of the history
                    throw e;
                }
                c.note += " chatId=" + v.id;
            } finally {
                v.turn.unlock();
            }
        }

        /** /api/chats (GET, POST), /api/chats/{id} (GET, DELETE), /api/chats/{id}/rename (PUT), /api/chats/cleanup (POST). */
        void handle(Call c, String method, String path) {
            load();
            if (path.equals("/api/chats")) {
                if (method.equals("POST")) {
                    Map<String, Object> b = readJsonObject(c, 65536);
                    sendJson(c, 200, Map.of("chatId", create(optString(b, "name")).id));
                    return;
                }
                allow(method, "GET");
                List<Object> chats = new ArrayList<>();
                all.values().stream().sorted(Comparator.comparingLong(v -> -v.updatedAt)).forEach(v -> chats.add(v.summary()));
                sendJson(c, 200, Map.of("chats", chats));
            } else if (path.equals("/api/chats/cleanup")) {
                allow(method, "POST");
                Map<String, Object> b = readJsonObject(c, 65536);
                long olderThan = optLong(b, "olderThan", 0), users = optLong(b, "userMessageCountLessThan", -1), msgs = optLong(b, "messageCountLessThan", -1);
                long max = optLong(b, "maxChats", 0), now = System.currentTimeMillis();
                if (olderThan < 0 || max < 0) throw ApiException.invalid(olderThan < 0 ? "olderThan" : "maxChats", "invalid_value", "Must not be negative.");
                List<Conversation> byAge = new ArrayList<>(all.values());
                byAge.sort(Comparator.comparingLong(v -> -v.updatedAt));
                List<String> deleted = new ArrayList<>();
                for (int i = 0; i < byAge.size(); i++) {
                    Conversation v = byAge.get(i);
                    Map<String, Object> sum = v.summary();
                    if ((olderThan > 0 && now - v.updatedAt > olderThan) || (users >= 0 && Json.longValue(sum.get("userMessageCount"), 0) < users)
                            || (msgs >= 0 && Json.longValue(sum.get("messageCount"), 0) < msgs) || (max > 0 && i >= max)) {
                        delete(v);
                        deleted.add(v.id);
                    }
                }
                sendJson(c, 200, orderedObject("success", true, "deletedCount", deleted.size(), "deleted", deleted, "remaining", all.size()));
            } else {
                String rest = path.substring(11), id = rest.endsWith("/rename") ? rest.substring(0, rest.length() - 7) : rest;
                Conversation v = get(id);
                if (rest.endsWith("/rename")) {
                    allow(method, "PUT");
                    String name = optString(readJsonObject(c, 65536), "name");
                    if (name == null || name.isBlank()) throw ApiException.invalid("name", "missing_required_parameter", "Missing required parameter: 'name'.");
                    synchronized (v) {
                        v.name = name.strip();
                        v.updatedAt = System.currentTimeMillis();    // the newer copy wins (--redis)
                    }
                    save(v);
                    sendJson(c, 200, orderedObject("success", true, "chatId", id, "name", v.name));
                } else if (method.equals("DELETE")) {
                    delete(v);
                    sendJson(c, 200, orderedObject("success", true));
                } else {
                    allow(method, "GET");
                    Map<String, Object> h = v.toJson();
                    sendJson(c, 200, orderedObject("chatId", id, "history", orderedObject("name", h.get("name"), "messages", h.get("messages"),
                            "created", h.get("created_at"), "updated", h.get("updated_at"), "model", h.get("model"))));
                }
            }
        }
    }

    /**
     * --reuse-chats: a /v1/chat/completions request whose history extends one this proxy answered
     * (the same system text and tools, the same earlier turns, our answer echoed back unchanged:
     * one hash) goes on in that answer's upstream chat with only its new turns, on the same account
     * (§9); anything else is flattened as usual. An answered chat is kept --chat-ttl-ms after its
     * last answer, then deleted (all of them at stop).
     */
    static final class ReuseIndex {
        record Entry(String account, String chatId, String parent, long until) {}
        private final Server s;
        private final Map<String, Entry> entries = new ConcurrentHashMap<>();

        ReuseIndex(Server s) { this.s = s; }

        static String key(Transcript t, String instructions, List<String> turns) {
            return sha256(t.system() + "\u0000" + instructions + "\u0000" + String.join("\u0000", turns));
        }

        /** Before the request: continue where its history was answered, if it was. After the answer: remember where it lives. */
        void prepare(ChatCall call) {
            ChatRequest req = call.req;
            Transcript t = req.transcript();
            String instructions = ChatRequest.instructions(req.tools(), req.format(), false);
            int k = -1;
            for (int i = 0; i < t.turns().size(); i++) if (t.turns().get(i).startsWith("Assistant: ")) k = i;
            Entry e = k < 0 ? null : entries.get(key(t, instructions, t.turns().subList(0, k + 1)));
            if (e != null && e.until() > System.currentTimeMillis() && k < t.turns().size() - 1 && req.chatType().equals("t2t") && t.media().isEmpty()) {
                List<String> rest = t.turns().subList(k + 1, t.turns().size());
                call.cont = new ChatCall.Continuation(e.account(), e.chatId(), e.parent());
                call.history = req;
                call.req = req.continuing(rest.size() == 1 && rest.get(0).startsWith("User: ") ? rest.get(0).substring(6) : String.join("\n\n", rest));
            }
            call.after = (a, chat, responseId, out) -> {
                if (responseId == null || !call.req.chatType().equals("t2t")) {      // nothing to go on from: the chat goes as usual
                    if (s.cfg.deleteChats()) s.background.execute(() -> s.upstream.deleteChat(a, chat, null));
                    return;
                }
                List<String> turns = new ArrayList<>(t.turns());
                turns.add(out.assistantTurn());
                entries.put(key(t, instructions, turns), new Entry(a.id, chat, responseId, System.currentTimeMillis() + s.cfg.chatTtlMs()));
            };
        }

        /** The timer's job (and, with all, the stop's): forget expired entries, deleting each chat no live entry goes on in. */
        void sweep(boolean all) {
            long now = System.currentTimeMillis();
            List<Entry> gone = new ArrayList<>();
            entries.forEach((k, e) -> { if ((all || e.until() <= now) && entries.remove(k, e)) gone.add(e); });
            Set<String> keep = new HashSet<>();
            for (Entry e : entries.values()) keep.add(e.chatId());
            List<Future<?>> deleting = new ArrayList<>();
            for (Entry e : gone) {
                Account a = s.accounts.find(e.account());
                if (keep.add(e.chatId()) && a != null && s.cfg.deleteChats())
                    deleting.add(s.background.submit(() -> s.upstream.deleteChat(a, e.chatId(), null)));
            }
            long end = System.currentTimeMillis() + 5_000;          // side by side, and a dead upstream cannot hold a stop
            try {
                for (Future<?> f : deleting) f.get(Math.max(1, end - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                Log.warn(null, "not every reused chat could be deleted: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * java QwenProxy.java login: asks for e-mail and password (not echoed on a terminal), signs in
     * (§2.2) and stores the account in the data directory, where the next start finds it.
     */
    static final class Login {
        private Login() { }

        static int run(Config cfg, BufferedReader in, Function<String, char[]> secretPrompt, PrintStream out) {
            Log.level = Math.max(Log.WARN, cfg.logLevel());
            try {
                out.print("Qwen e-mail: ");
                out.flush();
                String email = in.readLine();
                String password;
                if (secretPrompt != null) {
                    char[] pw = secretPrompt.apply("Password (not shown): ");
                    password = pw == null ? null : new String(pw);
                } else {
                    out.print("Password: ");
                    out.flush();
                    password = in.readLine();
                }
                if (email == null || email.isBlank() || password == null || password.isEmpty()) {
                    out.println("\nlogin: an e-mail and a password are needed.");
                    return Startup.CMDERR.ordinal();
                }
                Log.secrets(password);
                Account a = Account.password(email.trim(), sha256(password));
                a.source = "login";
                a.upstreamKey = cfg.baseUrl();
                a.take(new Upstream(cfg, null).signIn(a, null));
                Store store = new Store(cfg.dataDir());
                List<Map<String, Object>> saved = new ArrayList<>(store.load());
                saved.removeIf(m -> a.id.equals(Json.str(m, "id")));
                saved.add(a.toJson());
                store.save(saved);
                if (cfg.redis() != null) {       // every instance sharing Redis serves it
                    Shared shared = new Shared(cfg.redis());
                    shared.push(a);
                    if (shared.call("SADD", REDIS_PREFIX + "accounts", a.id) == null) out.println("\n(Redis could not be reached: the account is only in " + store.file + ")");
                    shared.redis.close();
                }
                out.println("\nSigned in as " + a.email + ". Account " + a.id + " is stored in " + store.file
                        + (a.expiresAt > 0 ? " (token valid until " + Instant.ofEpochMilli(a.expiresAt) + "; renewed automatically)" : "")
                        + ".\nStart the proxy with: java QwenProxy.java" + (cfg.dataDir().equals(home("~/.qwenproxy")) ? "" : " --data-dir " + cfg.dataDir()));
                return Startup.OK.ordinal();
            } catch (ApiException e) {
                out.println("\nlogin failed: " + e.getMessage());
                return Startup.SYSERR.ordinal();
            } catch (IOException e) {
                out.println("\nlogin: cannot read the answer: " + e.getMessage());
                return Startup.CMDERR.ordinal();
            }
        }
    }

    /**
     * GET /metrics in Prometheus' text format (0.0.4), behind the admin key. Counters and histograms
     * are kept per series ("name{labels}") in adders; gauges (accounts, streams, requests in flight)
     * are read at the scrape. Label values come from a small set (routes are templates, models at
     * most MAX_MODELS distinct), so a client cannot grow the series without bound.
     */
    static final class Metrics {
        static final double[] BUCKETS = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
        static final int MAX_MODELS = 100;
        static final Map<String, String> HELP = orderedMap(
                "qwenproxy_requests_total", "counter Requests answered, by route, status and model.",
                "qwenproxy_request_duration_seconds", "histogram Time to answer a request, by route (a stream: until its end).",
                "qwenproxy_upstream_latency_seconds", "histogram From sending a completion upstream to its response headers, by backend.",
                "qwenproxy_time_to_first_byte_seconds", "histogram From a streamed request's arrival to its first byte to the client, by backend.",
                "qwenproxy_active_streams", "gauge Streamed replies being sent now.",
                "qwenproxy_requests_in_flight", "gauge Requests being handled now.",
                "qwenproxy_tokens_total", "counter Tokens of replies (qwen-code's when they carry usage), by direction (in, out) and model.",
                "qwenproxy_accounts", "gauge Accounts by backend and state.",
                "qwenproxy_token_refreshes_total", "counter Token renewals, by backend and result.",
                "qwenproxy_uploads_total", "counter Uploads: to Qwen (media and context files of requests) or to files (/v1/files), by result.",
                "qwenproxy_uptime_seconds", "gauge Seconds since the proxy started.",
                "qwenproxy_build_info", "gauge The running version.");
        private final Map<String, LongAdder> counters = new ConcurrentHashMap<>();
        private final Map<String, LongAdder[]> histograms = new ConcurrentHashMap<>();   // buckets..., +Inf, sum in µs
        private final Set<String> models = ConcurrentHashMap.newKeySet();
        final AtomicInteger streams = new AtomicInteger();

        void count(long n, String name, String... labels) { counters.computeIfAbsent(series(name, labels), k -> new LongAdder()).add(n); }

        void observe(double seconds, String name, String... labels) {
            LongAdder[] h = histograms.computeIfAbsent(series(name, labels), k -> {
                LongAdder[] a = new LongAdder[BUCKETS.length + 2];
                for (int i = 0; i < a.length; i++) a[i] = new LongAdder();
                return a;
            });
            for (int i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) h[i].increment();
            h[BUCKETS.length].increment();
            h[BUCKETS.length + 1].add((long) (seconds * 1e6));
        }

        /** A client's model name as a label: one of the first MAX_MODELS seen, else "other". */
        String model(String m) {
            if (m == null || m.isEmpty()) return "";
            if (models.contains(m) || (models.size() < MAX_MODELS && models.add(m))) return m;
            return "other";
        }

        /** Every request's end (handle()): its count and duration; a stream's first byte and its end. */
        void done(Call c, long ms) {
            count(1, "qwenproxy_requests_total", "route", c.route, "status", Integer.toString(c.status), "model", model(c.model));
            observe(ms / 1000.0, "qwenproxy_request_duration_seconds", "route", c.route);
            if (c.firstByte > 0) {
                streams.decrementAndGet();
                observe((c.firstByte - c.started) / 1e9, "qwenproxy_time_to_first_byte_seconds", "backend", c.backend);
            }
        }

        static String series(String name, String... kv) {
            StringBuilder b = new StringBuilder(name);
            for (int i = 0; i < kv.length; i += 2)
                b.append(i == 0 ? "{" : ",").append(kv[i]).append("=\"").append(kv[i + 1].replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")).append('"');
            return kv.length == 0 ? b.toString() : b.append('}').toString();
        }

        String render(Server s) {
            Map<String, Long> gauges = new TreeMap<>();
            gauges.put("qwenproxy_active_streams", (long) streams.get());
            gauges.put("qwenproxy_requests_in_flight", (long) Math.max(0, s.busy.get() - 1));    // not the scrape itself
            gauges.put("qwenproxy_uptime_seconds", (System.currentTimeMillis() - s.startedAt) / 1000);
            gauges.put(series("qwenproxy_build_info", "version", VERSION), 1L);
            for (Accounts pool : s.code == null ? List.of(s.accounts) : List.of(s.accounts, s.code.pool)) {
                String backend = pool == s.accounts ? "web" : "qwen-code";
                for (State st : State.values()) gauges.put(series("qwenproxy_accounts", "backend", backend, "state", st.name()), 0L);
                for (Account a : pool.all) {
                    a.usable(System.currentTimeMillis(), 0);
                    synchronized (a) { gauges.merge(series("qwenproxy_accounts", "backend", backend, "state", a.state.name()), 1L, Long::sum); }
                }
            }
            StringBuilder out = new StringBuilder();
            List<Map<String, ?>> values = List.of(new TreeMap<>(counters), gauges);
            Map<String, LongAdder[]> sortedHistograms = new TreeMap<>(histograms);
            HELP.forEach((name, help) -> {
                int sp = help.indexOf(' ');
                out.append("# HELP ").append(name).append(' ').append(help.substring(sp + 1)).append("\n# TYPE ").append(name).append(' ')
                        .append(help, 0, sp).append('\n');
                for (Map<String, ?> m : values)
                    m.forEach((k, v) -> { if (k.equals(name) || k.startsWith(name + "{")) out.append(k).append(' ').append(v).append('\n'); });
                sortedHistograms.forEach((k, h) -> {
                    if (!k.startsWith(name + "{") && !k.equals(name)) return;
                    String labels = k.length() > name.length() ? k.substring(name.length() + 1, k.length() - 1) + "," : "";
                    for (int i = 0; i <= BUCKETS.length; i++)
                        out.append(name).append("_bucket{").append(labels).append("le=\"").append(i < BUCKETS.length ? Double.toString(BUCKETS[i]) : "+Inf")
                                .append("\"} ").append(h[i].sum()).append('\n');
                    String plain = labels.isEmpty() ? "" : "{" + labels.substring(0, labels.length() - 1) + "}";
                    out.append(name).append("_sum").append(plain).append(' ').append(h[BUCKETS.length + 1].sum() / 1e6).append('\n');
                    out.append(name).append("_count").append(plain).append(' ').append(h[BUCKETS.length].sum()).append('\n');
                });
            });
            return out.toString();
        }
    }

    // ==== 9. Models ====

    /**
     * An upstream model; thinking = it can reason (§3.3 abilities.thinking / capabilities.thinking);
     * alwaysThinks = its thinking cannot be switched off (§3.3 think_skip.enable false, the qwen3.8
     * series): a completion with thinking_enabled false is refused, so it has no -fast variant.
     */
    record Model(String id, String name, long created, boolean thinking, boolean alwaysThinks, Set<String> abilities, Set<String> chatTypes) {
        Model(String id, String name, long created, boolean thinking) { this(id, name, created, thinking, false, null, null); }
        Model(String id, String name, long created, boolean thinking, boolean alwaysThinks) { this(id, name, created, thinking, alwaysThinks, null, null); }

        /** Its client-facing names: -thinking / -fast where thinking can be switched; -search, -image, -deep-research where its chat types say so (§11). */
        List<String> variants() {
            List<String> v = alwaysThinks ? List.of(id, id + "-thinking") : thinking ? List.of(id, id + "-thinking", id + "-fast") : List.of(id);
            if (chatTypes == null) return v;
            List<String> all = new ArrayList<>(v);
            if (chatTypes.contains("search")) for (String x : v) all.add(x + "-search");
            if (chatTypes.contains("t2i")) all.add(id + "-image");
            if (chatTypes.contains("t2v")) all.add(id + "-video");
            if (chatTypes.contains("image_edit")) all.add(id + "-image-edit");
            if (chatTypes.contains("deep_research")) all.add(id + "-deep-research");
            return all;
        }

        /** Whether it can do a chat type (t2t, search, ...); unknown when its list entry did not say. */
        boolean can(String chatType) { return chatType.equals("t2t") || chatTypes == null || chatTypes.contains(chatType); }
    }

    /** What a requested name resolves to; forced = thinking set by a -thinking / -fast suffix. */
    record Resolved(String upstreamId, Thinking forced, boolean canThink, boolean alwaysThinks, Set<String> abilities, Set<String> chatTypes,
                    String chatType) {
        Resolved(Model m, Thinking forced) { this(m.id(), forced, m.thinking(), m.alwaysThinks(), m.abilities(), m.chatTypes(), "t2t"); }

        Resolved as(String type) { return new Resolved(upstreamId, forced, canThink, alwaysThinks, abilities, chatTypes, type); }
    }

    /**
     * The model list, cached for --models-ttl-ms and refreshed in the background, so /v1/models
     * never waits for the upstream. A failed refresh keeps the last good list (or the built-in one).
     */
    static final class Models {
        private final Config cfg;
        private final Upstream upstream;
        private final Accounts accounts;
        private final ExecutorService background;
        private final AtomicBoolean refreshing = new AtomicBoolean();
        private volatile List<Model> list;
        private volatile boolean fromUpstream;
        private volatile long fetchedAt;

        Models(Config cfg, Upstream upstream, Accounts accounts, ExecutorService background) {
            this.cfg = cfg;
            this.upstream = upstream;
            this.accounts = accounts;
            this.background = background;
            list = marked(BUILTIN_MODELS);
        }

        /** --thinking-only-models overrides what the list says about switching thinking off. */
        private List<Model> marked(List<Model> l) {
            List<Model> out = new ArrayList<>();
            for (Model m : l) {
                Boolean always = cfg.thinkingOnly().get(m.id().toLowerCase(Locale.ROOT));
                out.add(always == null ? m : new Model(m.id(), m.name(), m.created(), m.thinking() || always, always, m.abilities(), m.chatTypes()));
            }
            return List.copyOf(out);
        }

        /**
         * At startup: fetch the list, and wait a little for it so that the banner shows real models.
         * A slow upstream does not hold the banner longer; the fetch goes on with the usual timeout.
         */
        void init() {
            if (!canFetch() || !refreshing.compareAndSet(false, true)) return;
            try {
                background.submit(() -> refresh(cfg.requestTimeoutMs())).get(startupModelsWaitMs, TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // the banner says the list is still loading
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        boolean fromUpstream() { return fromUpstream; }

        boolean loading() { return refreshing.get() && !fromUpstream; }

        private boolean canFetch() { return accounts.any() != null; }

        List<Model> current() {
            if (canFetch() && System.currentTimeMillis() - fetchedAt > cfg.modelsTtlMs() && refreshing.compareAndSet(false, true)) {
                try {
                    background.execute(() -> refresh(cfg.requestTimeoutMs()));
                } catch (RuntimeException e) {
                    refreshing.set(false);   // shutting down
                }
            }
            return list;
        }

        private void refresh(long timeoutMs) {
            try {
                Account a = accounts.any();
                if (a == null) return;
                List<Model> fresh;
                String token = a.accessToken;
                try {
                    fresh = upstream.fetchModels(timeoutMs, a);
                } catch (ApiException e) {    // an expired token: renew it once, as chat requests do
                    if (e.kind != ApiException.Kind.TOKEN || !accounts.renew(a, token, null)) throw e;
                    fresh = upstream.fetchModels(timeoutMs, a);
                }
                if (fresh.isEmpty()) throw new ApiException(502, "server_error", "upstream_error", null, "Qwen listed no models");
                list = marked(fresh);
                fromUpstream = true;
                fetchedAt = System.currentTimeMillis();
            } catch (RuntimeException e) {
                Log.warn(null, "model list refresh failed: " + sentence(e.getMessage()) + "; serving the "
                        + (fromUpstream ? "cached" : "built-in") + " list");
                // try again in 30 s rather than after a whole TTL
                fetchedAt = System.currentTimeMillis() - cfg.modelsTtlMs() + Math.min(cfg.modelsTtlMs(), 30_000);
            } finally {
                refreshing.set(false);
            }
        }

        /** Client-facing ids: each upstream id, plus -thinking and -fast for models that can think (§11). */
        List<String> ids() {
            List<String> ids = new ArrayList<>();
            for (Model m : current()) ids.addAll(m.variants());
            return ids;
        }

        Map<String, Object> openAiList() {
            List<Object> data = new ArrayList<>();
            for (Model m : current()) for (String v : m.variants()) data.add(modelObject(v, m.created()));
            return orderedObject("object", "list", "data", data);
        }

        Map<String, Object> openAiModel(String id) {
            for (Model m : current()) {
                for (String v : m.variants()) if (v.equalsIgnoreCase(id)) return modelObject(v, m.created());
            }
            resolve(id);    // an alias or display name is a model too; unknown names throw 404
            return modelObject(id, list.get(0).created());
        }

        private static Map<String, Object> modelObject(String id, long created) {
            return orderedObject("id", id, "object", "model", "created", created, "owned_by", "qwen");
        }

        String defaultId() {
            Resolved r = resolve(null);
            return r.upstreamId();
        }

        static final Map<String, String> SUFFIXES = orderedMap("-deep-research", "deep_research", "-image-edit", "image_edit", "-search", "search",
                "-image", "t2i", "-video", "t2v");

        /** Name -> upstream model: exact id or display name, then -thinking/-fast, --model-map, aliases. */
        Resolved resolve(String asked) {
            List<Model> l = current();
            if (asked == null || asked.isBlank()) return fallback(l, null);
            String lower = asked.trim().toLowerCase(Locale.ROOT);
            Model exact = find(l, lower);
            if (exact != null) return new Resolved(exact, null);
            for (Map.Entry<String, String> x : SUFFIXES.entrySet())     // chat types by suffix (§11): -search, -image, -deep-research
                if (lower.endsWith(x.getKey()) && lower.length() > x.getKey().length())
                    return resolve(asked.trim().substring(0, lower.length() - x.getKey().length())).as(x.getValue());
            if (lower.endsWith("-thinking")) {
                Resolved r = base(l, lower.substring(0, lower.length() - 9), Thinking.ON);
                if (r != null) return r;
            }
            if (lower.endsWith("-fast")) {
                Resolved r = base(l, lower.substring(0, lower.length() - 5), Thinking.OFF);
                if (r != null) return r;
            }
            Resolved r = base(l, lower, null);
            if (r != null) return r;
            List<String> ids = ids();
            throw new ApiException(404, "invalid_request_error", "model_not_found", "model",
                    "The model '" + asked + "' does not exist. Try one of: "
                            + String.join(", ", ids.subList(0, Math.min(5, ids.size()))) + " (GET /v1/models lists all).");
        }

        private Resolved base(List<Model> l, String lower, Thinking forced) {
            Model m = find(l, lower);
            if (m == null && cfg.modelMap().containsKey(lower)) {
                String target = cfg.modelMap().get(lower);
                m = find(l, target.toLowerCase(Locale.ROOT));
                if (m == null) return unlisted(target, forced);
            }
            if (m == null && lower.startsWith("claude-") && !cfg.modelMap().containsKey(lower))    // Claude Code's names, by family
                lower = lower.contains("opus") ? "qwen-max" : lower.contains("haiku") ? "qwen-turbo" : "qwen-plus";
            if (m == null && ALIASES.containsKey(lower)) {
                for (String candidate : ALIASES.get(lower)) if ((m = find(l, candidate)) != null) break;
                if (m == null) return fallback(l, forced);
            }
            return m == null ? null : new Resolved(m, forced);
        }

        /** The default model: --default-model (an id, display name or --model-map name), else the first listed. */
        private Resolved fallback(List<Model> l, Thinking forced) {
            String d = cfg.defaultModel();
            if (d == null) return new Resolved(l.get(0), forced);
            Model m = find(l, d);
            if (m != null) return new Resolved(m, forced);
            return unlisted(cfg.modelMap().getOrDefault(d.toLowerCase(Locale.ROOT), d), forced);
        }

        /** A model the list lacks but the user named (--model-map, --default-model): let Qwen judge it. */
        private Resolved unlisted(String id, Thinking forced) {
            return new Resolved(id, forced, true, cfg.thinkingOnly().getOrDefault(id.toLowerCase(Locale.ROOT), false), null, null, "t2t");
        }

        /** A listed model that can do `ability` (§3.3 capabilities), for an error that names one; null if none is known. */
        String capable(String ability) {
            for (Model m : current())
                if (m.abilities() != null && m.abilities().contains(ability) || m.chatTypes() != null && m.chatTypes().contains(ability)) return m.id();
            return null;
        }

        private static Model find(List<Model> l, String lower) {
            for (Model m : l) if (m.id().equalsIgnoreCase(lower)) return m;
            for (Model m : l) if (m.name() != null && m.name().equalsIgnoreCase(lower)) return m;
            return null;
        }
    }

    // ==== 10. Accounts ====

    enum State { OK, COOLING, BLOCKED, INVALID }

    /**
     * One Qwen identity. Its access token is a JWT that lives 15 minutes in 2026 (§2.1); with a
     * refresh_token cookie (~300 days) it renews itself (§2.2). State changes happen under the
     * account's lock; tokens are volatile so requests read them without it.
     */
    static final class Account {
        final String id, kind;              // kind: token | refresh | cookie | password
        String email, passwordHash;         // password accounts: sha256 hex, what the sign-in takes (§2.2)
        String givenRefresh;                // the refresh token as given, tried again if a saved rotation fails
        String upstreamKey = "";            // the upstream it belongs to: state is kept per (upstream, account)
        volatile String user;               // the Qwen user id, when who-am-I told us (admin adds)
        String source = "config";           // config (flags: leaves with them) | file (the accounts file) | added (admin API) | login
        private final String jar;           // the browser's other cookies (cna, acw_tc, ...), if given
        volatile String accessToken, refreshToken;
        volatile long expiresAt;            // ms since the epoch, from the JWT's exp; 0 = unknown
        State state = State.OK;
        String reason = "";
        long until, lastUsed, requests, failures;   // requests: today's (UTC day below)
        String day = "";
        int strikes, inFlight;
        final Object renewal = new Object();          // one renewal at a time
        CredFile creds;                               // a qwen-code credential: its file is the truth (§Q1)
        volatile String proxy;                        // its egress: http://[user:pass@]host:port or direct (null: --upstream-proxy)
        volatile long syncedAt;                       // --redis: changed_at of the state last pushed or taken
        volatile long tokenAt;                        // when its tokens were issued (ms): the newer tokens win between instances
        volatile ApiException renewalError;           // why the last renewal failed, for the request that waited on it
        final Map<String, Long> quotaUntil = new ConcurrentHashMap<>();   // chat type -> end of its own cooldown (in memory)

        /** When this account's quota for the chat type comes back, or 0 if it is not cooling. */
        long coolingFor(String chatType, long now) {
            Long until = quotaUntil.get(chatType);
            return until != null && until > now ? until : 0;
        }
        final AtomicBoolean renewing = new AtomicBoolean();

        Account(String kind, String accessToken, String refreshToken, String jar) {
            // the id comes from the secret first given, so it survives refresh-token rotation
            this(kind.substring(0, 3) + "-" + sha256(refreshToken != null ? refreshToken : String.valueOf(accessToken)).substring(0, 8),
                    kind, accessToken, refreshToken, jar);
            givenRefresh = refreshToken;
        }

        Account(String id, String kind, String accessToken, String refreshToken, String jar) {
            this.id = id;
            this.kind = kind;
            this.accessToken = accessToken;
            this.refreshToken = refreshToken;
            this.jar = jar;
            this.expiresAt = accessToken == null ? 0 : jwtExpiry(accessToken);
        }

        /** Everything a restart needs, secrets included: accounts.json is private (0600). */
        synchronized Map<String, Object> toJson() {
            boolean own = creds == null;        // a qwen-code credential's tokens live in its own file only
            return orderedObject("id", id, "upstream", upstreamKey, "kind", kind, "source", source, "access_token", nullable(own ? accessToken : null),
                    "refresh_token", nullable(own ? refreshToken : null), "cookie_jar", nullable(jar), "state", state.name(),
                    "reason", reason, "until", until, "strikes", strikes, "day", day, "requests_today", requests,
                    "failures", failures, "last_used", lastUsed, "email", nullable(email), "password_sha256", nullable(passwordHash),
                    "user", nullable(user), "proxy", nullable(proxy), "token_at", tokenAt);
        }

        static Account fromJson(Map<String, Object> m) {
            String id = Json.str(m, "id"), kind = Json.str(m, "kind");
            if (id == null || kind == null) throw new IllegalArgumentException("an account without id or kind");
            Account a = new Account(id, kind, Json.str(m, "access_token"), Json.str(m, "refresh_token"), Json.str(m, "cookie_jar"));
            if (Json.str(m, "source") != null) a.source = Json.str(m, "source");
            a.upstreamKey = String.valueOf(m.getOrDefault("upstream", ""));
            a.restore(m);
            a.email = Json.str(m, "email");
            a.passwordHash = Json.str(m, "password_sha256");
            a.user = Json.str(m, "user");
            a.proxy = Upstream.egressUrl(Json.str(m, "proxy"));
            return a;
        }

        /**
         * Takes over the saved state of the same identity (a restart). INVALID is not taken over for
         * accounts given on the command line: a restart is when users fix credentials, and one
         * upstream call finds out again. Cooldowns are kept: they end on their own.
         */
        synchronized void restore(Map<String, Object> m) {
            String t = Json.str(m, "access_token"), r = Json.str(m, "refresh_token");
            if (t != null && jwtExpiry(t) >= (accessToken == null ? 0 : jwtExpiry(accessToken))) { accessToken = t; expiresAt = jwtExpiry(t); }
            tokenAt = Math.max(tokenAt, Json.longValue(m.get("token_at"), 0));
            if (r != null) refreshToken = r;          // the newest rotation: the flag's value may be dead by now
            try {
                state = State.valueOf(String.valueOf(m.get("state")));
            } catch (IllegalArgumentException e) {
                state = State.OK;
            }
            if (state == State.INVALID && source.equals("config")) state = State.OK;
            reason = String.valueOf(m.getOrDefault("reason", ""));
            until = Json.longValue(m.get("until"), 0);
            strikes = (int) Json.longValue(m.get("strikes"), 0);
            day = String.valueOf(m.getOrDefault("day", ""));
            requests = Json.longValue(m.get("requests_today"), 0);
            failures = Json.longValue(m.get("failures"), 0);
            lastUsed = Json.longValue(m.get("last_used"), 0);
        }

        /** Counts a request against today (UTC); the counter starts over each day. */
        synchronized void used(long now) {
            String today = LocalDate.now(ZoneOffset.UTC).toString();
            if (!today.equals(day)) { day = today; requests = 0; }
            requests++;
            lastUsed = now;
        }

        boolean renewable() { return refreshToken != null || passwordHash != null; }

        static Account password(String email, String passwordHash) {
            Account a = new Account("pas-" + sha256(email.toLowerCase(Locale.ROOT)).substring(0, 8), "password", null, null, null);
            a.email = email;
            a.passwordHash = passwordHash;
            return a;
        }

        /** One line of an accounts file, or an --account value: a credential, then maybe " proxy=<its egress>". */
        static Account parse(String line) {
            String l = line.trim();
            int p = l.lastIndexOf(" proxy=");
            if (p > 0) {
                Account a = parse(l.substring(0, p));
                a.proxy = Upstream.egressUrl(l.substring(p + 7));
                return a;
            }
            if (l.startsWith("refresh=")) return new Account("refresh", null, l.substring(8).trim(), null);
            if (l.startsWith("cookie=")) return fromCookie(l.substring(7).trim());
            if (l.startsWith("eyJ") || !l.contains(":")) return new Account("token", l, null, null);
            int c = l.indexOf(':');
            if (c <= 0 || c == l.length() - 1) throw new IllegalArgumentException("expected a token, refresh=..., cookie=... or email:password");
            return password(l.substring(0, c).trim(), sha256(l.substring(c + 1)));
        }

        /** A browser cookie string: its token and refresh_token make the account; the rest rides along. */
        static Account fromCookie(String header) {
            Map<String, String> c = cookies(header);
            String t = c.remove("token"), r = c.remove("refresh_token");
            if (t == null && r == null) throw new IllegalArgumentException("the cookie has neither token= nor refresh_token=");
            StringBuilder jar = new StringBuilder();
            c.forEach((k, v) -> jar.append(jar.length() > 0 ? "; " : "").append(k).append('=').append(v));
            return new Account("cookie", t, r, jar.toString());
        }

        private String userOfToken, userToken;    // the last token read for user(): adds compare every account

        /** Who this is: the id who-am-I gave, else the user id inside the token (§2.1), else the token itself. */
        synchronized String user() {
            String t = accessToken;
            if (user != null || t == null) return user;
            if (!t.equals(userToken)) {
                String u = jwtUser(t);
                userOfToken = u != null ? u : "token " + sha256(t);
                userToken = t;
            }
            return userOfToken;
        }

        /**
         * New tokens from a refresh or a sign-in. A rotated refresh token replaces the old one, which
         * is dead now; tokens replaced leave the redaction list (else it grows with every renewal),
         * except the refresh token first given, which a renewal may fall back on.
         */
        void take(Tokens t) {
            take(t, System.currentTimeMillis());
        }

        void take(Tokens t, long issuedAt) {
            tokenAt = issuedAt;
            Log.secrets(t.access(), t.refresh());
            String old = accessToken, oldRefresh = refreshToken;
            accessToken = t.access();
            if (t.refresh() != null) refreshToken = t.refresh();
            expiresAt = t.expiresAt();
            if (old != null && !old.equals(accessToken)) Log.forget(old);
            if (oldRefresh != null && !oldRefresh.equals(refreshToken) && !oldRefresh.equals(givenRefresh)) Log.forget(oldRefresh);
        }

        /** The Cookie header: the browser's jar with this account's current token. */
        String cookie() {
            String t = accessToken == null ? "" : "token=" + accessToken;
            return jar == null || jar.isEmpty() ? t : t.isEmpty() ? jar : jar + "; " + t;
        }

        /** Cooling and blocked accounts come back on their own once their time is up. */
        synchronized boolean usable(long now, int cap) {
            if ((state == State.COOLING || state == State.BLOCKED) && now >= until) { state = State.OK; reason = ""; }
            return state == State.OK && accessToken != null && (cap == 0 || inFlight < cap);
        }

        synchronized void set(State s, String why, long untilMs) {
            state = s;
            reason = why;
            until = untilMs;
        }

        /** For logs and errors; an OK account without a token is not usable, and does not say OK. */
        synchronized String describe() {
            if (state == State.OK && accessToken == null)
                return id + " has no token yet" + (reason.isEmpty() ? (renewable() ? " (its first renewal is pending)" : "") : " (" + reason + ")");
            return id + " " + state + (reason.isEmpty() ? "" : " (" + reason + ")");
        }
    }

    /** What the refresh endpoint gave back. */
    record Tokens(String access, String refresh, long expiresAt) {}

    /**
     * The account pool: picks an account per attempt (round-robin or fill-first over usable ones),
     * applies what an attempt's failure says about the account, and renews tokens ahead of expiry
     * in the background so requests never wait for it.
     */
    static final class Accounts {
        final List<Account> all = new CopyOnWriteArrayList<>();
        private final Config cfg;
        private final AtomicLong next = new AtomicLong();
        private Upstream upstream;
        private final QwenCode code;           // set: the qwen-code credentials (§Q), renewed through their files
        private final long aheadMs;            // renew a token this long before it expires
        Metrics metrics = new Metrics();       // the server's (a pool on its own, in a test or the login, counts for nobody)
        Shared shared;                         // --redis: the state several instances share
        private Store store;
        private volatile boolean dirty;        // counters changed since the last save

        /** The qwen-code pool: one account per credential file, empty until QwenCode adds them. */
        Accounts(Config cfg, QwenCode code) {
            this.cfg = cfg;
            this.code = code;
            aheadMs = cfg.tokenRefreshBufferMs();
        }

        Accounts(Config cfg) {
            this.cfg = cfg;
            code = null;
            aheadMs = cfg.refreshAheadMs();
            for (String t : cfg.tokens()) add(new Account("token", t, null, null));
            for (String r : cfg.refreshTokens()) add(new Account("refresh", null, r, null));
            if (cfg.cookie() != null) {
                Map<String, String> c = cookies(cfg.cookie());
                Log.secrets(c.get("token"), c.get("refresh_token"));
                if (c.containsKey("token") || c.containsKey("refresh_token")) add(Account.fromCookie(cfg.cookie()));
                else if (!all.isEmpty()) {      // only anti-bot cookies: lend them to the token account
                    Account first = all.remove(0);
                    all.add(0, new Account(first.kind, first.accessToken, first.refreshToken, cfg.cookie()));
                }
            }
            for (String pw : cfg.passwords()) add(Account.parse(pw));
        }

        /**
         * Adds an account unless it is there already: the same credential, or the same Qwen user
         * given another way (a cookie and a token of one person). Then the one that can renew itself
         * stays. False if a was not added.
         */
        boolean add(Account a) {
            for (Account b : all) if (b.id.equals(a.id)) return false;
            Account same = sameUser(a);
            if (same != null) {
                if (!a.renewable() || same.renewable()) {
                    Log.info(null, "account " + a.id + " is the same Qwen user as " + same.id + "; keeping " + same.id);
                    return false;
                }
                all.remove(same);
                Log.info(null, "account " + same.id + " is the same Qwen user as " + a.id + ", which renews itself; keeping " + a.id);
            }
            a.upstreamKey = cfg.baseUrl();
            all.add(a);
            return true;
        }

        /** Another account of the same Qwen user (who-am-I's id, else the user id in the token), or null. */
        Account sameUser(Account a) {
            String user = a.user();
            if (user == null) return null;
            for (Account b : all) if (b != a && user.equals(b.user())) return b;
            return null;
        }

        void connect(Upstream u) { upstream = u; }

        /** Loads accounts.json: saved state for the configured accounts, and the accounts added at run time. */
        void open(Store s) {
            store = s;
            String here = cfg.baseUrl();
            for (Account a : all) a.upstreamKey = here;
            List<Map<String, Object>> elsewhere = new ArrayList<>();
            for (Map<String, Object> m : s.load()) {
                String up = Json.str(m, "upstream");
                if (up != null && !up.isEmpty() && !up.equals(here)) { elsewhere.add(m); continue; }
                String id = Json.str(m, "id");
                Account known = null;
                for (Account a : all) if (a.id.equals(id)) known = a;
                if (known != null) known.restore(m);
                else if (!"config".equals(Json.str(m, "source"))) {   // config accounts that left the flags are dropped
                    try {
                        all.add(Account.fromJson(m));
                    } catch (IllegalArgumentException e) {
                        Log.warn(null, "accounts.json: skipping an entry: " + e.getMessage());
                    }
                }
            }
            for (Account a : all) Log.secrets(a.accessToken, a.refreshToken);
            otherUpstreams = elsewhere;
            dirty = true;      // written by the timer or at stop: no fsync on the way to the first request
        }

        private List<Map<String, Object>> otherUpstreams = List.of();   // kept as they are, for their own upstream

        /** An account changed here (state, tokens): saved, and shared with the other instances. */
        void changed(Account a) {
            save();
            if (shared != null) shared.push(a);
        }

        void save() {
            if (store == null) return;
            List<Map<String, Object>> out = new ArrayList<>(otherUpstreams);
            for (Account a : all) out.add(a.toJson());
            dirty = false;
            store.save(out);
        }

        /** Makes the accounts that came from the accounts file match its lines now. */
        synchronized void sync(List<String> lines, ExecutorService background) {
            Map<String, Account> wanted = new LinkedHashMap<>();
            for (int i = 0; i < lines.size(); i++) {
                try {
                    Account a = Account.parse(lines.get(i));
                    a.source = "file";
                    wanted.put(a.id, a);
                } catch (IllegalArgumentException e) {
                    Log.warn(null, "accounts file, line " + (i + 1) + ": " + e.getMessage());   // the line may hold a secret
                }
            }
            for (Account a : all) if ("file".equals(a.source) && !wanted.containsKey(a.id)) {
                all.remove(a);
                Log.info(null, "account " + a.id + " removed (no longer in the accounts file)");
            }
            for (Account a : wanted.values()) {
                Log.secrets(a.accessToken, a.refreshToken);
                Account have = find(a.id);
                if (have != null && "file".equals(have.source)) have.proxy = a.proxy;     // a line's proxy may change
                if (!add(a)) continue;
                Log.info(null, "account " + a.id + " added from the accounts file");
                if (a.accessToken == null && upstream != null) background.execute(() -> renew(a, null, null));
            }
            save();
        }

        /**
         * Checks a new account with Qwen before it is stored: a refresh (refresh token), a sign-in
         * (e-mail and password), then "who am I" (GET /api/v1/auths/) with the token. A credential
         * Qwen refuses is a 400 invalid_account with Qwen's reason; an unreachable or failing
         * upstream keeps its own status (502/503/504): nothing is known about the credential then.
         */
        void validate(Account a, String rid) {
            try {
                if (a.renewable()) a.take(a.refreshToken != null ? upstream.refresh(a, a.refreshToken, rid) : upstream.signIn(a, rid));
                try {
                    Map<String, Object> me = upstream.whoami(a, rid);
                    a.user = firstString(Json.str(me, "id"), Json.str(me, "email"));
                } catch (ApiException e) {
                    // a renewal already proved the credential; who-am-I only names the user then
                    if (!a.renewable() || e.status == 401) throw e;
                    Log.debug(rid, "who-am-I for " + a.id + " failed: " + e.getMessage());
                }
            } catch (ApiException e) {
                if (e.status != 401) throw e;
                throw ApiException.invalid(a.renewable() ? (a.refreshToken != null ? "refresh_token" : "password") : "token",
                        "invalid_account", "Qwen did not accept this account: " + e.getMessage());
            }
        }

        boolean remove(String id) {
            for (Account a : all) if (a.id.equals(id)) {
                all.remove(a);
                save();
                if (shared != null) shared.drop("account", id);
                return true;
            }
            return false;
        }

        /** An account added at run time: stored, and served by every instance sharing Redis. */
        void added(Account a) {
            changed(a);
            if (shared != null) shared.call("SADD", REDIS_PREFIX + "accounts", a.id);
        }

        Account find(String id) {
            for (Account a : all) if (a.id.equals(id)) return a;
            return null;
        }

        /** The timer flushes request counters now and then rather than on every request. */
        void saveIfDirty() { if (dirty) save(); }

        boolean isEmpty() { return all.isEmpty(); }

        /** The next usable account not yet tried for this request, or null. */
        /** Chat types with a quota of their own (§10.5): their rate limit cools only them, not the account's text models. */
        static final Set<String> OWN_QUOTA = Set.of("t2i", "t2v", "image_edit");

        Account acquire(Set<Account> tried, String chatType) { return acquire(tried, chatType, null); }

        /** The same, trying the account named `prefer` first (a conversation goes on where it lives, §9). */
        Account acquire(Set<Account> tried, String chatType, String prefer) {
            long now = System.currentTimeMillis();
            List<Account> l = all;
            int n = l.size();
            long start = cfg.fillFirst() ? 0 : next.getAndIncrement();
            Account preferred = find(prefer);
            for (int i = -1; i < n; i++) {
                Account a = i < 0 ? preferred : l.get((int) ((start + i) % n));
                if (a == null || tried.contains(a) || !a.usable(now, cfg.accountConcurrency()) || a.coolingFor(chatType, now) > 0) continue;
                synchronized (a) { a.inFlight++; }
                a.used(now);
                dirty = true;
                return a;
            }
            return null;
        }

        void release(Account a) {
            synchronized (a) { a.inFlight--; }
        }

        /**
         * The pool's one retry policy: `work` on the next usable account (`prefer` first), at most
         * --max-attempts accounts; a failure about the account (token, limit, firewall) that `again`
         * allows cools or blocks it and moves on to the next; any other failure goes up. The account
         * that succeeded; else the last failure, or why no account could take the work.
         */
        Account failover(String chatType, String prefer, String rid, Predicate<ApiException> again, Consumer<Account> work) {
            Set<Account> tried = new HashSet<>();
            ApiException last = null;
            for (int attempt = 0; attempt < cfg.maxAttempts(); attempt++) {
                Account a = acquire(tried, chatType, attempt == 0 ? prefer : null);
                // just started or just added: an account whose first token is on its way is worth the wait
                if (a == null && awaitFirstTokens(rid)) a = acquire(tried, chatType);
                if (a == null) break;
                tried.add(a);
                try {
                    work.accept(a);
                    succeeded(a);
                    return a;
                } catch (ApiException e) {
                    if (!e.aboutAccount() || !again.test(e)) throw e;
                    penalize(a, e, chatType);
                    last = e;
                    Log.info(rid, "account " + a.id + " failed (" + e.code + "); trying another");
                } finally {
                    release(a);
                }
            }
            throw last != null ? last : unavailable(chatType);
        }

        /** How many accounts could take a request now. */
        int usable() {
            int n = 0;
            for (Account a : all) if (a.usable(System.currentTimeMillis(), 0)) n++;
            return n;
        }

        /** An account any background job (the model list) may use. */
        Account any() {
            for (Account a : all) if (a.usable(System.currentTimeMillis(), 0)) return a;
            return null;
        }

        /** No account can take a request: 429 until the soonest recovery, or 503 if none will recover. */
        ApiException unavailable(String chatType) {
            long now = System.currentTimeMillis(), soonest = Long.MAX_VALUE;
            for (Account a : all) if (a.coolingFor(chatType, now) > 0) soonest = Math.min(soonest, a.coolingFor(chatType, now));
            if (soonest != Long.MAX_VALUE) return ApiException.rateLimited("Every account's " + chatType + " quota is used up",
                    Math.max(1, (soonest - now + 999) / 1000));
            boolean busy = false;
            List<String> why = new ArrayList<>();
            for (Account a : all) {
                synchronized (a) {
                    if ((a.state == State.COOLING || a.state == State.BLOCKED) && a.until > now) soonest = Math.min(soonest, a.until);
                    if (a.state == State.OK && a.accessToken != null) busy = true;
                }
                why.add(a.describe());
            }
            if (busy) return ApiException.rateLimited("Every account is at its --account-concurrency limit", 1);
            if (soonest != Long.MAX_VALUE)
                return ApiException.rateLimited("No Qwen account is usable right now: " + String.join("; ", why),
                        Math.max(1, (soonest - now + 999) / 1000));
            if (code != null)        // every credential invalid: it takes a login, not waiting, so 401 (§Q6)
                return CredFile.loginRequired("No qwen-code credential is usable (" + String.join("; ", why) + ")");
            return new ApiException(503, "server_error", "no_available_accounts", null,
                    "No usable Qwen account: " + String.join("; ", why) + ". Renew the tokens (see README, 'Getting the token').");
        }

        /** What a failure says about the account: cooling, blocked (backing off) or invalid. */
        void penalize(Account a, ApiException e, String chatType) {
            long now = System.currentTimeMillis();
            if (e.kind == ApiException.Kind.RATE_LIMIT && OWN_QUOTA.contains(chatType)) {
                a.quotaUntil.put(chatType, now + Math.max(1, e.retryAfterS) * 1000);
                Log.warn(null, "account " + a.id + ": its " + chatType + " quota is used up for " + Math.max(1, e.retryAfterS) + " s; text goes on");
                return;
            }
            synchronized (a) {
                a.failures++;
                switch (e.kind) {
                    case RATE_LIMIT -> a.set(State.COOLING, e.getMessage(), now + Math.max(1, e.retryAfterS) * 1000);
                    case BLOCKED -> {
                        a.strikes++;
                        long pause = Math.min(MAX_COOLDOWN_MS, cfg.blockedCooldownMs() << Math.min(a.strikes - 1, 20));
                        a.set(State.BLOCKED, "anti-bot firewall, retry in " + pause / 1000 + " s", now + pause);
                    }
                    case TOKEN -> {     // a renewal that marked it INVALID said why already
                        if (a.state != State.INVALID) a.set(State.INVALID, a.renewable()
                                ? "token rejected even after renewal" : "token expired or revoked; give it a new one", 0);
                    }
                    default -> { return; }
                }
            }
            Log.warn(null, "account " + a.describe());
            changed(a);
        }

        void succeeded(Account a) {
            synchronized (a) { a.strikes = 0; }
        }

        /**
         * Renews a's access token, unless another thread already did since `seen` was read (so a
         * burst of 401s costs one renewal). False when the account cannot be renewed or renewal failed.
         */
        boolean renew(Account a, String seen, String rid) {
            if (a.creds != null) a.creds.sync(a);       // the qwen-code CLI may have renewed it already (§Q2)
            if (!a.renewable()) return false;
            synchronized (a.renewal) {
                if (a.accessToken != null && !a.accessToken.equals(seen) && !dueForRenewal(a, System.currentTimeMillis())) return true;
                String owner = shared == null || a.creds != null ? null : uuid();
                // one instance renews an account at a time: refresh tokens are revoked on use (§2.2)
                boolean locked = owner != null && shared.lock(a.id, owner);
                try {
                    if (locked) {
                        shared.pull(a);       // another instance may have renewed it a moment ago: take that, call no one
                        if (a.accessToken != null && !a.accessToken.equals(seen) && !dueForRenewal(a, System.currentTimeMillis())) return true;
                    }
                    Tokens t;
                    try {
                        t = a.creds != null ? a.creds.refresh(code, seen, rid)
                                : a.refreshToken != null ? upstream.refresh(a, a.refreshToken, rid) : upstream.signIn(a, rid);
                    } catch (ApiException e) {
                        // a saved rotation may be stale (another copy of the account rotated it); try what we were given
                        if (e.status != 401 || a.givenRefresh == null || a.givenRefresh.equals(a.refreshToken) || a.creds != null) throw e;
                        t = upstream.refresh(a, a.givenRefresh, rid);
                    }
                    a.take(t);
                    a.renewalError = null;
                    metrics.count(1, "qwenproxy_token_refreshes_total", "backend", code != null ? "qwen-code" : "web", "result", "ok");
                    synchronized (a) { if (a.state == State.INVALID || a.state == State.OK) a.set(State.OK, "", 0); }
                    changed(a);       // a rotated refresh token must survive a crash, and reach the other instances before the lock goes
                    Log.info(rid, "renewed the token of account " + a.id + (a.expiresAt > 0
                            ? ", valid until " + Instant.ofEpochMilli(a.expiresAt) : ""));
                    return true;
                } catch (ApiException e) {
                    a.renewalError = e;
                    metrics.count(1, "qwenproxy_token_refreshes_total", "backend", code != null ? "qwen-code" : "web", "result", "failed");
                    if (e.status == 401) {
                        a.set(State.INVALID, (a.creds != null ? "" : a.refreshToken != null ? "refresh token rejected: " : "sign-in refused: ") + e.getMessage(), 0);
                        changed(a);
                    }
                    else if (e.kind == ApiException.Kind.BLOCKED) penalize(a, e, "t2t");
                    else if (a.accessToken == null) synchronized (a) { a.reason = "renewal failed: " + e.getMessage(); }
                    Log.warn(rid, "could not renew the token of account " + a.id + ": " + e.getMessage());
                    return false;
                } finally {
                    if (locked) shared.unlock(a.id, owner);
                }
            }
        }

        boolean dueForRenewal(Account a, long now) {
            return a.accessToken == null || (a.expiresAt > 0 && a.expiresAt - now <= aheadMs);
        }

        /** The timer's job: renew, in the background, every token that expires within --refresh-ahead-ms. */
        void renewDue(ExecutorService background) {
            long now = System.currentTimeMillis();
            for (Account a : all) {
                boolean invalid;
                synchronized (a) { invalid = a.state == State.INVALID; }
                if (!a.renewable() || invalid || !dueForRenewal(a, now) || !a.renewing.compareAndSet(false, true)) continue;
                // without Redis two instances could rotate one refresh token apart: only a token that has expired is renewed then
                if (shared != null && shared.down() && a.accessToken != null && a.expiresAt > now) { a.renewing.set(false); continue; }
                try {
                    background.execute(() -> {
                        try { renew(a, a.accessToken, null); } finally { a.renewing.set(false); }
                    });
                } catch (RuntimeException e) {
                    a.renewing.set(false);    // shutting down
                }
            }
        }

        /**
         * Waits for the renewals of accounts that have no token yet (the start-up renewal, or one for
         * an account just added) and tries once itself where none is running. True if one succeeded.
         * Bounded: each renewal is one upstream call with a timeout.
         */
        boolean awaitFirstTokens(String rid) {
            boolean got = false;
            for (Account a : all) {
                boolean waiting;
                synchronized (a) { waiting = a.state == State.OK && a.accessToken == null && a.renewable(); }
                if (waiting && renew(a, null, rid)) got = true;
            }
            return got;
        }

        /** At startup: accounts that have only a refresh token get their first access token now. */
        void renewMissing() {
            for (Account a : all) if (a.accessToken == null && a.renewable()) renew(a, null, null);
        }

        /** When the last token expires if no account can renew itself (plain access tokens), else 0. */
        long lastExpiry() {
            long last = 0;
            for (Account a : all) {
                if (a.renewable() || a.expiresAt == 0) return 0;
                last = Math.max(last, a.expiresAt);
            }
            return last;
        }

        String summary() {
            Map<String, Integer> kinds = new LinkedHashMap<>();
            for (Account a : all) kinds.merge(a.kind, 1, Integer::sum);
            StringBuilder b = new StringBuilder(all.size() + (all.size() == 1 ? " account" : " accounts"));
            if (!kinds.isEmpty()) b.append(" ").append(kinds.toString().replace("=", ": ").replace("{", "(").replace("}", ")"));
            for (Account a : all) if (!a.usable(System.currentTimeMillis(), 0)) b.append("; ").append(a.describe());
            return b.toString();
        }
    }

    /**
     * accounts.json in the data directory: written whole, atomically (temp file, fsync, rename),
     * owner-only (0600 in a 0700 directory). A file that cannot be read is moved aside with a loud
     * error and never overwritten, so nothing a user had is lost.
     */
    static final class Store {
        final Path dir, file;

        Store(String dir) { this(dir, "accounts.json"); }

        Store(String dir, String name) {
            this.dir = Path.of(dir);
            this.file = this.dir.resolve(name);
        }

        List<Map<String, Object>> load() {
            if (!Files.exists(file)) return List.of();
            String text;
            try {
                text = Files.readString(file);
                Map<String, Object> root = Json.asObject(Json.parse(text));
                if (root == null || !(root.get("accounts") instanceof List<?> items)) throw new IllegalArgumentException("no \"accounts\" list");
                List<Map<String, Object>> out = new ArrayList<>();
                for (Object o : items) if (Json.asObject(o) != null) out.add(Json.asObject(o));
                return out;
            } catch (IOException | RuntimeException e) {
                Path aside = dir.resolve(file.getFileName() + ".corrupt-" + System.currentTimeMillis());
                try {
                    Files.move(file, aside);
                    Log.error(null, file + " could not be read (" + e.getMessage() + "); kept it as " + aside
                            + " and started without it. Fix or merge it by hand, then restart.");
                } catch (IOException moveFailed) {
                    throw new IllegalStateException(file + " is unreadable (" + e.getMessage() + ") and could not be moved aside: "
                            + moveFailed.getMessage() + "; refusing to overwrite it");
                }
                return List.of();
            }
        }

        synchronized void save(List<Map<String, Object>> accounts) {
            try {
                writePrivate(file, (Json.write(orderedObject("version", 1, "saved_at", Instant.now().toString(), "accounts", accounts)) + "\n")
                        .getBytes(StandardCharsets.UTF_8));
            } catch (IOException | RuntimeException e) {
                Log.error(null, "could not save " + file + ": " + e.getMessage());
            }
        }

        /**
         * Writes a file of secrets: owner-only (0600 in a 0700 directory), atomically (a temp file of a
         * name no other writer uses, fsync, rename).
         */
        static void writePrivate(Path file, byte[] b) throws IOException {
            Path dir = privateDir(file.toAbsolutePath().getParent()), tmp = dir.resolve(file.getFileName() + "." + hex(randomBytes(6)) + ".tmp");
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                posix(tmp, "rw-------");           // before a single secret is written
                ch.write(ByteBuffer.wrap(b));
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }

        /** The directory, made owner-only (0700) if it has to be made. */
        static Path privateDir(Path dir) throws IOException {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
                posix(dir, "rwx------");
            }
            return dir;
        }

        private static void posix(Path p, String perms) throws IOException {
            try {
                Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString(perms));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system (Windows): the user's profile directory protects it
            }
        }
    }

    /**
     * A Redis client, as small as the job: RESP2 over one socket (commands one at a time; the
     * traffic is a few commands a second), connected on first use and again after a failure, every
     * call bounded by REDIS_TIMEOUT_MS. A failure is an IOException; Shared decides what it means.
     */
    static final class Redis {
        final String host, user, password;
        final int port, db;
        private Socket socket;
        private InputStream in;
        private OutputStream out;

        /** redis://[user:password@]host[:port][/db] (rediss is not supported: put stunnel or a local replica in front). */
        Redis(String url) {
            URI u = URI.create(url);
            if (!"redis".equals(u.getScheme()) || u.getHost() == null) throw new IllegalArgumentException("expected redis://[user:password@]host[:port][/db]");
            host = u.getHost();
            port = u.getPort() < 0 ? 6379 : u.getPort();
            String info = u.getRawUserInfo(), path = u.getPath() == null ? "" : u.getPath().replace("/", "");
            int colon = info == null ? -1 : info.indexOf(':');
            String name = colon <= 0 ? null : URLDecoder.decode(info.substring(0, colon), StandardCharsets.UTF_8);
            user = name == null || name.isEmpty() ? null : name;                   // redis://:password@host or redis://user:password@host
            password = info == null ? null : URLDecoder.decode(colon < 0 ? info : info.substring(colon + 1), StandardCharsets.UTF_8);
            db = path.isEmpty() ? 0 : Integer.parseInt(path);
            Log.secrets(password);
        }

        /** One command; its answer: String, Long, null, List, or a RedisError (an answer, not a failure of the link). */
        synchronized Object call(String... args) throws IOException {
            try {
                if (socket == null) connect();
                return exchange(args);
            } catch (IOException e) {
                close();
                throw e;
            }
        }

        private void connect() throws IOException {
            Socket s = new Socket();
            s.connect(new InetSocketAddress(host, port), (int) REDIS_TIMEOUT_MS);
            s.setSoTimeout((int) REDIS_TIMEOUT_MS);
            s.setTcpNoDelay(true);
            socket = s;
            in = new BufferedInputStream(s.getInputStream());
            out = new BufferedOutputStream(s.getOutputStream());
            if (password != null) check(user == null ? exchange("AUTH", password) : exchange("AUTH", user, password));
            if (db != 0) check(exchange("SELECT", Integer.toString(db)));
        }

        private static void check(Object answer) throws IOException {
            if (answer instanceof RedisError e) throw new IOException("Redis refused: " + e.message());
        }

        private Object exchange(String... args) throws IOException {
            StringBuilder b = new StringBuilder("*").append(args.length).append("\r\n");
            for (String a : args) b.append('$').append(utf8Length(a)).append("\r\n").append(a).append("\r\n");
            out.write(b.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            return read();
        }

        private Object read() throws IOException {
            int type = in.read();
            String line = line();
            switch (type) {
                case '+': return line;
                case '-': return new RedisError(line);
                case ':': return Long.parseLong(line);
                case '$': {
                    int n = Integer.parseInt(line);
                    if (n < 0) return null;
                    byte[] b = in.readNBytes(n + 2);
                    if (b.length < n + 2) throw new EOFException("Redis closed the connection");
                    return new String(b, 0, n, StandardCharsets.UTF_8);
                }
                case '*': {
                    int n = Integer.parseInt(line);
                    if (n < 0) return null;
                    List<Object> l = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) l.add(read());
                    return l;
                }
                default: throw new IOException(type < 0 ? "Redis closed the connection" : "not a RESP answer");
            }
        }

        private String line() throws IOException {
            StringBuilder b = new StringBuilder();
            for (int c; (c = in.read()) != '\r'; ) {
                if (c < 0) throw new EOFException("Redis closed the connection");
                b.append((char) c);
            }
            in.read();          // \n
            return b.toString();
        }

        synchronized void close() {
            try {
                if (socket != null) socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            socket = null;
        }
    }

    record RedisError(String message) {}

    /**
     * What several instances share through Redis (--redis): the accounts, their rotated refresh
     * tokens, states and cooldowns, today's request counts, the generated client key, the
     * conversations, stored responses and video jobs. Keys (prefix REDIS_PREFIX):
     *   account:<id>          the account's state as in accounts.json (state, until, reason, ...; no tokens), with changed_at
     *   tokens:<id>           hash token_at, access_token, refresh_token: replaced only by newer tokens (compare-and-set)
     *   accounts              set: ids of accounts added at run time (admin API, login), served by every instance
     *   refresh-lock:<id>     SET NX PX: the one instance renewing that account now
     *   requests:<day>        hash id -> requests that UTC day, all instances (kept two days)
     *   generated-api-key     the client key made for a public bind without keys
     *   api-keys              hash sha256(client key) -> until: every instance's keys, accepted by all
     *   conversation:<id>     a /api/chat conversation; conversations: the set of their ids
     *   response:<id>         a stored /v1/responses response with its history (previous_response_id), for 30 days
     *   video:<id>            a /v1/videos job as its instance last updated it, for a day; videos: the set of their ids
     * Each instance pulls the accounts every WATCH_MS and pushes an account when it changes it. A
     * Redis that cannot be reached is a warning: the instance goes on with its own state (renewing
     * only tokens that have expired, so two instances rarely rotate one refresh token apart), and
     * when Redis is back it pushes what changed meanwhile and takes what is newer there.
     */
    static final class Shared {
        final Redis redis;
        private volatile boolean down;
        private final Set<String> pending = ConcurrentHashMap.newKeySet();     // accounts changed while Redis was away
        private final Map<String, Long> counted = new ConcurrentHashMap<>();   // requests already added to requests:<day>
        private volatile Map<String, Long> totals = Map.of();                   // requests today, all instances (last pull)

        Shared(String url) { redis = new Redis(url); }

        boolean down() { return down; }

        private volatile long retryAt;          // while Redis is away, it is tried again once a second, not by every caller

        /** A command, or null when Redis cannot be reached (logged once per outage). */
        Object call(String... args) {
            if (down && System.currentTimeMillis() < retryAt) return null;
            try {
                Object r = redis.call(args);
                if (down) {
                    down = false;
                    Log.warn(null, "Redis at " + redis.host + ":" + redis.port + " is back; sharing state again");
                }
                if (r instanceof RedisError e) Log.warn(null, "Redis refused " + args[0] + ": " + e.message());
                return r instanceof RedisError ? null : r;
            } catch (IOException e) {
                if (!down) Log.warn(null, "Redis at " + redis.host + ":" + redis.port + " cannot be reached (" + e.getMessage()
                        + "); going on with this instance's own state");
                down = true;
                retryAt = System.currentTimeMillis() + 1000;
                return null;
            }
        }

        /** A JSON document every instance may read: <kind>:<id>, its id in the set <kind>s. False if Redis did not take it. */
        boolean put(String kind, String id, String json, String... options) {
            List<String> set = new ArrayList<>(List.of("SET", REDIS_PREFIX + kind + ":" + id, json));
            set.addAll(List.of(options));
            return call(set.toArray(new String[0])) != null && call("SADD", REDIS_PREFIX + kind + "s", id) != null;
        }

        void drop(String kind, String id) {
            if (call("SREM", REDIS_PREFIX + kind + "s", id) != null) call("DEL", REDIS_PREFIX + kind + ":" + id);
        }

        /** Every document of a kind by id (an id whose document expired leaves the set); null while Redis is away. */
        Map<String, String> all(String kind) {
            if (!(call("SMEMBERS", REDIS_PREFIX + kind + "s") instanceof List<?> ids)) return null;
            Map<String, String> out = new LinkedHashMap<>();
            if (ids.isEmpty()) return out;
            List<String> mget = new ArrayList<>(List.of("MGET"));
            for (Object id : ids) mget.add(REDIS_PREFIX + kind + ":" + id);
            if (!(call(mget.toArray(new String[0])) instanceof List<?> values)) return null;
            for (int i = 0; i < values.size(); i++)
                if (values.get(i) instanceof String v) out.put(String.valueOf(ids.get(i)), v);
                else call("SREM", REDIS_PREFIX + kind + "s", String.valueOf(ids.get(i)));
            return out;
        }

        /**
         * An account this instance changed (renewed, cooled, added): the others see it within
         * WATCH_MS. Its state replaces what Redis has (the latest change wins); its tokens only if
         * they are newer than Redis's (a compare-and-set in Redis), so no instance can put back a
         * refresh token that has been rotated since.
         */
        void push(Account a) {
            Map<String, Object> m = a.toJson();
            m.remove("access_token");
            m.remove("refresh_token");
            long now = System.currentTimeMillis();
            m.put("changed_at", now);
            boolean ok = call("SET", REDIS_PREFIX + "account:" + a.id, Json.write(m)) != null;
            String access, refresh;
            long at;
            synchronized (a) { access = a.accessToken; refresh = a.refreshToken; at = a.tokenAt; }
            if (ok && (access != null || refresh != null))
                ok = call("EVAL", "if tonumber(redis.call('hget', KEYS[1], 'token_at') or '-1') >= tonumber(ARGV[1]) then return 0 end "
                        + "redis.call('hset', KEYS[1], 'token_at', ARGV[1], 'access_token', ARGV[2], 'refresh_token', ARGV[3]) return 1",
                        "1", REDIS_PREFIX + "tokens:" + a.id, Long.toString(at), access == null ? "" : access, refresh == null ? "" : refresh) != null;
            if (ok) a.syncedAt = now;
            else pending.add(a.id);
        }

        /** Takes what other instances changed: newer tokens (the newest rotation), a newer state. */
        void pull(Account a) {
            Object state = call("GET", REDIS_PREFIX + "account:" + a.id);
            if (!down) apply(a, state instanceof String json ? Json.asObject(Json.parse(json)) : null,
                    call("HMGET", REDIS_PREFIX + "tokens:" + a.id, "token_at", "access_token", "refresh_token"));
        }

        private void apply(Account a, Map<String, Object> state, Object tokens) {
            boolean newerTokens = false;
            if (tokens instanceof List<?> t && t.size() == 3 && t.get(0) instanceof String at && Long.parseLong(at) > a.tokenAt) {
                String access = (String) t.get(1), refresh = (String) t.get(2);
                synchronized (a) {
                    a.take(new Tokens(access == null || access.isEmpty() ? a.accessToken : access, refresh == null || refresh.isEmpty() ? null : refresh,
                            access == null || access.isEmpty() ? a.expiresAt : jwtExpiry(access)), Long.parseLong(at));
                    // an instance that found its refresh token rotated away (by another, while Redis was away) has it back now
                    if (a.state == State.INVALID) a.set(State.OK, "", 0);
                }
                newerTokens = true;
            }
            long changed = state == null ? 0 : Json.longValue(state.get("changed_at"), 0);
            if (changed <= a.syncedAt) return;
            a.syncedAt = changed;
            synchronized (a) {
                try {
                    State st = State.valueOf(String.valueOf(state.get("state")));
                    // "invalid" is a verdict on the tokens it was judged with: not on newer ones
                    if (!(st == State.INVALID && (newerTokens || a.tokenAt > Json.longValue(state.get("token_at"), 0))))
                        a.set(st, String.valueOf(state.getOrDefault("reason", "")), Json.longValue(state.get("until"), 0));
                } catch (IllegalArgumentException ignored) {
                    // an unknown state from a newer version: keep ours
                }
                a.strikes = (int) Json.longValue(state.get("strikes"), a.strikes);
            }
        }

        /**
         * The timer's job: after an outage, merge and push what changed meanwhile; then take every
         * account's newer state and tokens, the accounts added or removed elsewhere, and flush
         * today's request counts.
         */
        void sync(Accounts pool) {
            if (!pending.isEmpty() && call("PING") != null) {
                for (String id : List.copyOf(pending)) {
                    pending.remove(id);
                    Account a = pool.find(id);
                    if (a == null) continue;
                    pull(a);        // the newer of each part...
                    push(a);        // ...for everyone (tokens only if still the newest)
                }
            }
            Map<String, String> added = all("account");
            if (added != null) {
                for (Account a : pool.all) if ("added".equals(a.source) && !added.containsKey(a.id)) pool.all.remove(a);    // removed elsewhere
                added.forEach((id, json) -> {
                    if (pool.find(id) != null) return;
                    Account a = Account.fromJson(Json.asObject(Json.parse(json)));
                    a.source = "added";
                    a.tokenAt = -1;     // the state names its tokens' age; the tokens themselves are in tokens:<id>
                    pull(a);            // ...and taken before the account can be chosen
                    pool.all.add(a);
                    Log.info(null, "account " + a.id + " added by another instance");
                });
            }
            List<Account> l = List.copyOf(pool.all);
            if (l.isEmpty() || down) return;
            String[] keys = new String[l.size() + 1];
            keys[0] = "MGET";
            for (int i = 0; i < l.size(); i++) keys[i + 1] = REDIS_PREFIX + "account:" + l.get(i).id;
            if (call(keys) instanceof List<?> values)
                for (int i = 0; i < l.size() && i < values.size(); i++)
                    apply(l.get(i), values.get(i) instanceof String json ? Json.asObject(Json.parse(json)) : null,
                            call("HMGET", REDIS_PREFIX + "tokens:" + l.get(i).id, "token_at", "access_token", "refresh_token"));
            count(l);
        }

        /** Adds this instance's new requests to requests:<day> and reads the totals back. */
        private void count(List<Account> l) {
            String day = LocalDate.now(ZoneOffset.UTC).toString(), key = REDIS_PREFIX + "requests:" + day;
            Map<String, Long> t = new HashMap<>();
            for (Account a : l) {
                long mine;
                synchronized (a) { mine = day.equals(a.day) ? a.requests : 0; }
                String k = a.id + "/" + day;
                long delta = mine - counted.getOrDefault(k, 0L);
                if (delta > 0 && call("HINCRBY", key, a.id, Long.toString(delta)) != null) counted.put(k, mine);
            }
            counted.keySet().removeIf(k -> !k.endsWith(day));
            call("EXPIRE", key, "172800");
            if (call("HGETALL", key) instanceof List<?> kv)
                for (int i = 0; i + 1 < kv.size(); i += 2) t.put(String.valueOf(kv.get(i)), Long.parseLong(String.valueOf(kv.get(i + 1))));
            totals = t;
        }

        /**
         * This instance's client keys, for the others to accept too: their SHA-256 in the api-keys
         * hash, each with an expiry renewed every WATCH_MS, so a key taken out of one instance's
         * configuration stops working everywhere within API_KEY_TTL_MS.
         */
        void advertise(List<String> keys) {
            if (keys.isEmpty()) return;
            List<String> args = new ArrayList<>(List.of("HSET", REDIS_PREFIX + "api-keys"));
            String until = Long.toString(System.currentTimeMillis() + API_KEY_TTL_MS);
            for (String k : keys) args.addAll(List.of(sha256(k), until));
            call(args.toArray(new String[0]));
        }

        private final Map<String, Long> accepted = new ConcurrentHashMap<>();   // key hash -> until (a second's cache)

        /** Whether some instance has this client key now. */
        boolean accepts(String key) {
            String h = sha256(key);
            long now = System.currentTimeMillis();
            Long known = accepted.get(h);
            if (known != null && known > now) return true;
            Object until = call("HGET", REDIS_PREFIX + "api-keys", h);
            if (!(until instanceof String u) || Long.parseLong(u) <= now) return false;
            if (accepted.size() > 1000) accepted.clear();
            accepted.put(h, Math.min(now + 1000, Long.parseLong(u)));
            return true;
        }

        /** Requests today by all instances for the account, as of the last pull (null: not known). */
        Long today(String id) { return totals.get(id); }

        /**
         * The account's refresh lock: true once held; false if Redis is away (the caller goes on
         * alone). Waits while another instance holds it (it is renewing the same account).
         */
        boolean lock(String id, String owner) {
            long end = System.currentTimeMillis() + REDIS_LOCK_MS;
            while (true) {
                Object r = call("SET", REDIS_PREFIX + "refresh-lock:" + id, owner, "NX", "PX", Long.toString(REDIS_LOCK_MS));
                if ("OK".equals(r)) return true;
                if (down || System.currentTimeMillis() > end) return false;
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }

        /** Releases the lock if it is still ours (it expires on its own otherwise). */
        void unlock(String id, String owner) {
            call("EVAL", "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", "1",
                    REDIS_PREFIX + "refresh-lock:" + id, owner);
        }
    }

    /** A file we re-read when it changes (polled: portable, and a second is soon enough). */
    static final class Watched {
        final Path path;
        private long modified = -1, size = -1;
        volatile String error;
        volatile long loadedAt;

        Watched(String path) { this.path = Path.of(path); }

        synchronized boolean changed() {
            long m = 0, s = 0;
            try {
                m = Files.getLastModifiedTime(path).toMillis();
                s = Files.size(path);
            } catch (IOException e) {
                // a missing file counts as empty
            }
            boolean changed = m != modified || s != size;
            modified = m;
            size = s;
            return changed;
        }

        /** Non-blank lines without # comments; null (keep what we have) if the file cannot be read. */
        List<String> lines() {
            try {
                changed();
                List<String> out = new ArrayList<>();
                for (String l : Files.readAllLines(path)) {
                    String t = l.strip();
                    if (!t.isEmpty() && !t.startsWith("#")) out.add(t);
                }
                error = null;
                loadedAt = System.currentTimeMillis();
                return out;
            } catch (IOException e) {
                error = e.getClass().getSimpleName() + ": " + e.getMessage();
                Log.warn(null, "cannot read " + path + ": " + error);
                return null;
            }
        }

        Map<String, Object> status() {
            return orderedObject("path", path.toString(), "loaded_at", loadedAt == 0 ? Json.NULL : Instant.ofEpochMilli(loadedAt).toString(),
                    "error", nullable(error));
        }
    }

    // ==== 11. OpenAI -> upstream ====

    /** A validated chat request: what the client asked for, and everything the upstream body needs. */
    record ChatRequest(String model, String upstreamModel, boolean stream, boolean includeUsage, String prompt,
                       Thinking thinking, long thinkingBudget, long maxTokens, List<String> stop, Transcript transcript,
                       Tools tools, Format format, String chatType, String size) {

        static final Set<String> CHAT_TYPES = Set.of("t2t", "search", "t2i", "t2v", "image_edit", "deep_research");

        /** Accepts everything clients send (C.2-C.3); unknown fields are ignored. */
        static ChatRequest parse(Map<String, Object> b, Models models, Config cfg) {
            String asked = optString(b, "model");
            boolean stream = optBool(b, "stream", false);
            Map<String, Object> opts = optObject(b, "stream_options");
            boolean includeUsage = opts != null && optBool(opts, "include_usage", false);
            long n = optLong(b, "n", 1);
            if (n != 1) throw ApiException.invalid("n", "unsupported_value", "Only n=1 is supported, got n=" + n + ".");
            long maxTokens = optLong(b, "max_completion_tokens", optLong(b, "max_tokens", 0));
            if (maxTokens < 0) throw ApiException.invalid("max_tokens", "invalid_value", "max_tokens must be positive.");
            long budget = optLong(b, "thinking_budget", 0);
            List<String> stop = stopSequences(b.get("stop"));
            Object messages = b.get("messages");
            if (messages == null || messages == Json.NULL)
                throw ApiException.invalid("messages", "missing_required_parameter", "Missing required parameter: 'messages'.");
            if (!(messages instanceof List<?> list))
                throw ApiException.invalid("messages", "invalid_type", "'messages' must be an array of message objects.");
            if (list.isEmpty())
                throw ApiException.invalid("messages", "invalid_value", "'messages' must contain at least one message.");
            Tools tools = Tools.parse(b);
            Format format = Format.parse(b);
            Transcript transcript = Transcript.of(list);
            String prompt = transcript.render(instructions(tools, format, false));
            if (prompt.isBlank()) throw ApiException.invalid("messages", "invalid_value", "The messages contain no text.");
            Thinking thinking = requestedThinking(b, cfg.thinking());
            Resolved r = models.resolve(asked);
            if (r.forced() != null) thinking = r.forced();       // the model name is the most explicit choice
            if (!r.canThink()) thinking = Thinking.OFF;
            if (r.alwaysThinks()) thinking = Thinking.ON;      // refused otherwise (§3.3); --reasoning decides what shows
            for (Media m : transcript.media()) {
                if (r.abilities() == null || r.abilities().contains(m.ability())) continue;
                String other = models.capable(m.ability());
                throw ApiException.invalid("messages", "unsupported_content", "The model '" + r.upstreamId() + "' cannot read "
                        + m.kind() + " input" + (other == null ? "." : "; " + other + " can."));
            }
            // web search (§10.5): a -search model name, Qwen2API's chat_type, or OpenAI's web_search_options
            String chatType = optString(b, "chat_type") != null ? optString(b, "chat_type").strip().toLowerCase(Locale.ROOT)
                    : optObject(b, "web_search_options") != null ? "search" : r.chatType();
            if (!CHAT_TYPES.contains(chatType)) throw ApiException.invalid("chat_type", "invalid_value", "chat_type must be one of "
                    + new TreeSet<>(CHAT_TYPES) + ", got '" + chatType + "'.");
            if (chatType.equals("image_edit") && transcript.media().stream().noneMatch(m -> m.kind().equals("image")))
                throw ApiException.invalid("messages", "invalid_value", "image_edit needs the image to edit in the message (an image_url part).");
            if (r.chatTypes() != null && !r.chatTypes().contains(chatType)) {
                String other = models.capable(chatType);
                throw ApiException.invalid("model", "unsupported_value", "The model '" + r.upstreamId() + "' cannot do " + chatType
                        + (other == null ? "." : "; " + other + " can."));
            }
            return new ChatRequest(asked != null ? asked : r.upstreamId(), r.upstreamId(), stream, includeUsage,
                    prompt, thinking, budget, maxTokens, stop, transcript, tools, format, chatType,
                    chatType.equals("t2i") || chatType.equals("t2v") || optString(b, "size") != null && chatType.equals("image_edit")
                            ? aspect(optString(b, "size")) : null);
        }

        /** The same request with only `turn` to send: a conversation that goes on in its upstream chat (§9). */
        ChatRequest continuing(String turn) {
            return new ChatRequest(model, upstreamModel, stream, includeUsage, turn, thinking, thinkingBudget, maxTokens, stop,
                    new Transcript("", List.of("User: " + turn), true, List.of()), tools, format, chatType, size);
        }

        /** An image size as Qwen takes it (§10.5): "16:9" as given, "1792x1024" to the nearest of its ratios; "1:1" by default. */
        static String aspect(String size) {
            if (size == null || size.isBlank() || size.equals("auto")) return "1:1";
            String[] wh = size.strip().toLowerCase(Locale.ROOT).split("[x:*×]");
            double want;
            try {
                want = Double.parseDouble(wh[0]) / Double.parseDouble(wh[1]);
            } catch (RuntimeException e) {
                throw ApiException.invalid("size", "invalid_value", "size must be WIDTHxHEIGHT (1024x1024) or a ratio (16:9), got '" + size + "'.");
            }
            String best = "1:1";
            for (String r : List.of("1:1", "4:3", "3:4", "16:9", "9:16"))
                if (Math.abs(Math.log(ratio(r) / want)) < Math.abs(Math.log(ratio(best) / want))) best = r;
            return best;
        }

        private static double ratio(String r) { return Double.parseDouble(r.split(":")[0]) / Double.parseDouble(r.split(":")[1]); }

        /**
         * "stop": a string or an array of strings, any number of them (Continue sends more than
         * OpenAI's four, C.2). Qwen's web API has no such field, so the translator applies them.
         */
        static List<String> stopSequences(Object v) {
            if (v == null || v == Json.NULL) return List.of();
            List<?> items = v instanceof List<?> l ? l : List.of(v);
            List<String> out = new ArrayList<>();
            for (Object o : items) {
                if (!(o instanceof String s))
                    throw ApiException.invalid("stop", "invalid_type", "'stop' must be a string or an array of strings.");
                if (!s.isEmpty()) out.add(s);
            }
            return out;
        }

        /** What goes after the client's system text: the tool protocol and the output format. */
        static String instructions(Tools tools, Format format, boolean firmer) {
            StringBuilder b = new StringBuilder();
            if (tools.active()) b.append(ToolLayer.toolPrompt(tools, firmer));
            if (format != null) b.append(b.length() > 0 ? "\n\n" : "").append(ToolLayer.formatPrompt(format, firmer));
            return b.toString();
        }

        /** The same conversation, with instructions that insist (the one retry of §11 rules). */
        String prompt(boolean firmer) { return firmer ? transcript.render(instructions(tools, format, true)) : prompt; }

        /** enable_thinking > reasoning_effort > reasoning.effort > the configured default. */
        static Thinking requestedThinking(Map<String, Object> b, Thinking def) {
            Thinking t = def;
            Map<String, Object> reasoning = optObject(b, "reasoning");
            if (reasoning != null && optString(reasoning, "effort") != null)
                t = effort(optString(reasoning, "effort"), "reasoning.effort");
            String effort = optString(b, "reasoning_effort");
            if (effort != null) t = effort(effort, "reasoning_effort");
            Object enable = b.get("enable_thinking");
            if (enable != null && enable != Json.NULL) t = optBool(b, "enable_thinking", false) ? Thinking.ON : Thinking.OFF;
            return t;
        }

        static Thinking effort(String e, String param) {
            return switch (e.trim().toLowerCase(Locale.ROOT)) {
                case "none", "minimal", "low" -> Thinking.OFF;
                case "medium", "high", "xhigh", "max" -> Thinking.ON;
                default -> throw ApiException.invalid(param, "invalid_value", "'" + param
                        + "' must be one of none, minimal, low, medium, high, xhigh, max; got '" + e + "'.");
            };
        }

        /** The §5.1 body (web client, 2026-09): one user message, phase output, thinking flags of §5.2. */
        Map<String, Object> upstreamBody(String chatId, boolean firmer) { return upstreamBody(chatId, prompt(firmer), List.of()); }

        /** The same with another prompt and files (§10.4 entries): a conversation too large to send whole (§5.6). */
        Map<String, Object> upstreamBody(String chatId, String content, List<Map<String, Object>> files) {
            long now = System.currentTimeMillis() / 1000;   // seconds here; chats/new takes milliseconds (§4)
            Map<String, Object> features = orderedObject(
                    "thinking_enabled", thinking == Thinking.ON,
                    "output_schema", "phase",              // without it deltas lose their phase (§5.2, RFYM 1198003)
                    "research_mode", "normal",
                    "auto_thinking", thinking == Thinking.AUTO,
                    "thinking_mode", thinking == Thinking.ON ? "Thinking" : thinking == Thinking.AUTO ? "Auto" : "Fast",
                    "auto_search", chatType.equals("search"));     // otherwise an API call should not wander off into web search
            if (thinking != Thinking.OFF) features.put("thinking_format", "summary");
            if (thinkingBudget > 0) features.put("thinking_budget", thinkingBudget);
            Map<String, Object> message = orderedObject(
                    "id", Json.NULL, "fid", uuid(), "parentId", Json.NULL,
                    "childrenIds", List.of(uuid()), "role", "user", "content", content,
                    "user_action", "chat", "files", files, "timestamp", now, "models", List.of(upstreamModel),
                    "model", "", "chat_type", chatType, "feature_config", features,
                    "extra", Map.of("meta", Map.of("subChatType", chatType)), "sub_chat_type", chatType, "parent_id", Json.NULL);
            Map<String, Object> body = orderedObject("stream", !chatType.equals("t2v"), "version", "2.1", "incremental_output", true,
                    "chatId", chatId, "parentId", "", "chat_id", chatId, "chat_mode", "normal",
                    "model", upstreamModel, "parent_id", Json.NULL, "messages", List.of(message), "timestamp", now);
            if (size != null) body.put("size", size);           // t2i, t2v: the aspect ratio (§10.5)
            return body;
        }
    }

    /**
     * The whole conversation as one upstream message (the format is documented in the header): the system and developer text, and the turns,
     * each already labelled ("User: ...", "Assistant: ...", "Tool (id, name):\n<tool_response>...").
     */
    record Transcript(String system, List<String> turns, boolean loneUser, List<Media> media) {
        static final Pattern THINK_BLOCK = Pattern.compile("(?s)<think>.*?</think>\\s*");

        static Transcript of(List<?> messages) {
            StringBuilder system = new StringBuilder();
            List<String> turns = new ArrayList<>();
            boolean loneUser = true;
            Map<String, String> toolNames = new LinkedHashMap<>();
            List<Media> media = new ArrayList<>();
            for (int i = 0; i < messages.size(); i++) {
                String at = "messages[" + i + "]";
                if (!(messages.get(i) instanceof Map<?, ?> raw))
                    throw ApiException.invalid(at, "invalid_type", at + " must be an object.");
                @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) raw;
                String role = optString(m, "role");
                if (role == null) throw ApiException.invalid(at + ".role", "missing_required_parameter", at + " has no 'role'.");
                String text = contentText(m.get("content"), at + ".content", media);
                switch (role) {
                    case "system", "developer" -> {
                        if (!text.isBlank()) system.append(system.length() > 0 ? "\n\n" : "").append(text);
                    }
                    case "user" -> turns.add("User: " + text);
                    case "assistant" -> {
                        loneUser = false;
                        StringBuilder a = new StringBuilder(THINK_BLOCK.matcher(text).replaceAll("").trim());
                        for (String call : toolCalls(m, toolNames, at)) a.append(a.length() > 0 ? "\n" : "").append(call);
                        if (a.length() > 0) turns.add("Assistant: " + a);
                    }
                    case "tool", "function" -> {
                        loneUser = false;
                        String id = optString(m, "tool_call_id"), name = optString(m, "name");
                        if (name == null && id != null) name = toolNames.get(id);
                        StringBuilder label = new StringBuilder("Tool");
                        if (id != null || name != null)
                            label.append(" (").append(id == null ? name : name == null ? id : id + ", " + name).append(')');
                        turns.add(label + ":\n<tool_response>\n" + text + "\n</tool_response>");
                    }
                    default -> throw ApiException.invalid(at + ".role", "invalid_value", "Unknown role '" + role
                            + "'; expected system, developer, user, assistant or tool.");
                }
            }
            return new Transcript(system.toString(), List.copyOf(turns), loneUser, List.copyOf(media));
        }

        /** The transcript with our instructions after the client's system text; a plain question goes as it is. */
        String render(String extraSystem) {
            String sys = join(system, extraSystem);
            if (sys.isEmpty() && loneUser && turns.size() == 1) return turns.get(0).substring("User: ".length());
            StringBuilder b = new StringBuilder();
            if (!sys.isEmpty()) b.append("System: ").append(sys);
            for (String t : turns) b.append(b.length() > 0 ? "\n\n" : "").append(t);
            return b.toString();
        }

        /**
         * §5.6: a prompt of at most `budget` UTF-8 bytes for a conversation too large to send whole.
         * In priority order: the notice, our instructions (tool protocol, output format), the
         * client's system text (clipped to 40 % of what is left), the original task (the first
         * user turn, 25 %), the current turn (what follows the last assistant turn), then the
         * latest turns, newest first, as long as they fit whole. Older middle turns are dropped
         * first. Rendered in conversation order; null if the notice and instructions alone do not fit.
         */
        String compact(String notice, String instructions, long budget) {
            long left = budget - utf8Length(notice) - utf8Length(instructions) - 64;
            if (left < 1024) return null;
            String sys = clip(system, left * 2 / 5);
            left -= utf8Length(sys);
            int n = turns.size(), lastAssistant = -1;
            for (int i = 0; i < n; i++) if (turns.get(i).startsWith("Assistant: ")) lastAssistant = i;
            // the current turn: the user's message or the tool results the reply is for
            int current = lastAssistant < 0 || lastAssistant == n - 1 ? Math.max(0, n - 1) : lastAssistant + 1;
            int first = 0;
            while (first < current && !turns.get(first).startsWith("User: ")) first++;
            boolean hasFirst = first < current;
            String task = hasFirst ? clip(turns.get(first), left / 4) : "";
            left -= utf8Length(task);
            String now = clip(String.join("\n\n", turns.subList(current, n)), left);
            left -= utf8Length(now);
            int from = current;       // the latest turns before the current one that fit whole
            while (from - 1 > (hasFirst ? first : -1) && utf8Length(turns.get(from - 1)) + 2 <= left) left -= utf8Length(turns.get(--from)) + 2;
            int dropped = from - (hasFirst ? first + 1 : 0);
            StringBuilder b = new StringBuilder(notice);
            String s = join(sys, instructions);
            if (!s.isEmpty()) b.append("\n\nSystem: ").append(s);
            if (hasFirst) b.append("\n\n").append(task);
            if (dropped > 0) b.append("\n\n[").append(dropped).append(dropped == 1 ? " earlier message is" : " earlier messages are")
                    .append(" left out here.]");
            for (String t : turns.subList(from, current)) b.append("\n\n").append(t);
            if (!now.isEmpty()) b.append("\n\n").append(now);
            return b.toString();
        }

        /** Prior assistant tool calls, in Qwen's own Hermes format so the model recognises its history. */
        static List<String> toolCalls(Map<String, Object> m, Map<String, String> toolNames, String at) {
            List<Map<String, Object>> calls = new ArrayList<>();
            if (m.get("tool_calls") instanceof List<?> l) {
                for (Object o : l) if (o instanceof Map<?, ?> call) {
                    @SuppressWarnings("unchecked") Map<String, Object> c = (Map<String, Object>) call;
                    Map<String, Object> fn = optObject(c, "function");
                    if (fn == null) continue;
                    if (optString(c, "id") != null && optString(fn, "name") != null) toolNames.put(optString(c, "id"), optString(fn, "name"));
                    calls.add(fn);
                }
            }
            Map<String, Object> legacy = optObject(m, "function_call");
            if (legacy != null) calls.add(legacy);
            List<String> out = new ArrayList<>();
            for (Map<String, Object> fn : calls) {
                Object args = fn.get("arguments");
                if (args instanceof String s) {
                    try { args = Json.parse(s); } catch (Json.ParseError e) { /* keep the client's text as it is */ }
                }
                out.add("<tool_call>\n" + Json.write(orderedObject("name", optString(fn, "name"),
                        "arguments", args == null ? Map.of() : args)) + "\n</tool_call>");
            }
            return out;
        }

        /**
         * A message's text: a string, or the parts of an array joined by newlines. Images, audio,
         * video and documents are collected into `media` (attached to the upstream message, §10.4) and
         * leave a marker such as "[image 1]" where they stood, so the flattened transcript still says
         * which turn showed what.
         */
        static String contentText(Object content, String at, List<Media> media) {
            if (content == null || content == Json.NULL) return "";
            if (content instanceof String s) return s;
            if (!(content instanceof List<?> parts))
                throw ApiException.invalid(at, "invalid_type", at + " must be a string or an array of content parts.");
            StringBuilder b = new StringBuilder();
            for (int j = 0; j < parts.size(); j++) {
                String pat = at + "[" + j + "]", text;
                Object p = parts.get(j);
                if (p instanceof String s) {
                    text = s;
                } else if (p instanceof Map<?, ?> raw) {
                    @SuppressWarnings("unchecked") Map<String, Object> part = (Map<String, Object>) raw;
                    String type = optString(part, "type");
                    if (type == null || Set.of("text", "input_text", "output_text").contains(type)) {
                        text = optString(part, "text");
                        if (text == null) throw ApiException.invalid(pat + ".text", "invalid_type", pat + " has no 'text'.");
                    } else if (type.equals("refusal")) {
                        text = String.valueOf(optString(part, "refusal"));
                    } else {
                        Media m = Media.of(type, part, pat, media.size() + 1);
                        media.add(m);
                        text = "[" + m.kind().replace("file", "document") + " " + media.size() + (m.named() ? ": " + m.name() : "") + "]";
                    }
                } else {
                    throw ApiException.invalid(pat, "invalid_type", pat + " must be an object.");
                }
                b.append(b.length() > 0 ? "\n" : "").append(text);
            }
            return b.toString();
        }

        private static String join(String a, String b) {
            return a.isEmpty() ? b : b.isEmpty() ? a : a + "\n\n" + b;
        }

        /** At most max UTF-8 bytes: the head and the tail, with a marker where the middle was. */
        static String clip(String s, long max) {
            long size = utf8Length(s);
            if (size <= max) return s;
            String marker = "\n[… " + (size - max) + " bytes left out here …]\n";
            long keep = Math.max(0, max - utf8Length(marker));
            // proportional: bytes per char of this text, rounded down so the result stays within max
            int chars = (int) Math.max(0, keep * s.length() / size - 1);
            int head = chars * 2 / 3, tail = chars - head;
            if (head > 0 && Character.isHighSurrogate(s.charAt(head - 1))) head--;
            int tailStart = s.length() - tail;
            if (tail > 0 && Character.isLowSurrogate(s.charAt(tailStart))) tailStart++;
            return s.substring(0, head) + marker + s.substring(tailStart);
        }
    }

    /**
     * An image, audio, video or document part (§10): bytes given inline (a data: URL or base64), or
     * an http(s) URL that ChatCall fetches once per request. kind: image | audio | video | file.
     */
    record Media(String kind, String name, boolean named, String mime, byte[] data, String url) {
        /** The §3.3 capability a model needs to read it. */
        String ability() { return kind.equals("image") ? "vision" : kind.equals("file") ? "document" : kind; }

        /** An OpenAI (image_url, input_audio, file, input_file), Responses (input_image) or Qwen (image, video, audio) part. */
        static Media of(String type, Map<String, Object> part, String at, int n) {
            String kind = switch (type) {
                case "image_url", "input_image", "image" -> "image";
                case "input_audio", "audio" -> "audio";
                case "video_url", "video" -> "video";
                case "file", "input_file" -> "file";
                default -> throw ApiException.invalid(at + ".type", "invalid_value", "Unknown content part type '" + type + "'.");
            };
            Object v = part.get(type);
            Map<String, Object> o = Json.asObject(v);
            String ref = v instanceof String str ? str : null, name = null, format = null;
            if (o != null) {
                ref = firstString(Json.str(o, "url"), Json.str(o, "file_data"), Json.str(o, "data"), Json.str(o, "file_url"));
                name = Json.str(o, "filename");
                format = Json.str(o, "format");                  // input_audio: wav, mp3
                if (ref == null) ref = Json.str(o, "file_id");
            }
            if (type.equals("input_image") || type.equals("input_file"))
                ref = firstString(ref, optString(part, "image_url"), optString(part, "file_data"), optString(part, "file_url"), optString(part, "file_id"));
            if (name == null) name = optString(part, "filename");
            if (ref == null || ref.isBlank()) throw ApiException.invalid(at, "invalid_value", at + " has no " + kind + " (a URL, a data: URL or base64 data).");
            ref = ref.strip();
            String label = kind.equals("file") ? "document" : kind, stored = FileStore.idIn(ref);
            if (stored != null) return new Media(kind, stored, false, null, null, "stored:" + stored);     // resolved by ChatCall
            if (ref.regionMatches(true, 0, "http://", 0, 7) || ref.regionMatches(true, 0, "https://", 0, 8)) {
                String path;
                try {
                    path = URI.create(ref.replace(" ", "%20")).getPath();
                } catch (IllegalArgumentException e) {
                    throw ApiException.invalid(at, kind.equals("image") ? "invalid_image_url" : "invalid_url", at + " is not a valid URL: " + e.getMessage());
                }
                String last = path == null ? "" : path.substring(path.lastIndexOf('/') + 1);
                return new Media(kind, name != null ? name : last.isEmpty() ? label + "-" + n : last, name != null, null, null, ref);
            }
            String mime = format != null ? kind + "/" + format.toLowerCase(Locale.ROOT).replace("mp3", "mpeg") : null, payload = ref;
            boolean base64 = true;
            if (ref.regionMatches(true, 0, "data:", 0, 5)) {
                int comma = ref.indexOf(',');
                if (comma < 0) throw ApiException.invalid(at, "invalid_value", at + " has a data: URL without data.");
                String head = ref.substring(5, comma);
                base64 = head.toLowerCase(Locale.ROOT).endsWith(";base64");
                if (!head.isEmpty() && !head.startsWith(";")) mime = head.split(";")[0].toLowerCase(Locale.ROOT);
                payload = ref.substring(comma + 1);
            }
            byte[] data;
            try {
                data = base64 ? Base64.getDecoder().decode(payload.replaceAll("\\s+", ""))
                        : URLDecoder.decode(payload.replace("+", "%2B"), StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid(at, "invalid_value", at + ": the " + label + " data is not valid base64.");
            }
            if (data.length == 0) throw ApiException.invalid(at, "invalid_value", at + ": the " + label + " is empty.");
            mime = sniff(data, mime != null ? mime : kind.equals("file") ? mimeOf(name) : kind + "/*");
            return new Media(kind, name != null ? name : label + "-" + n + extension(mime), name != null, mime, data, null);
        }

        /** The same part with its bytes (a fetched URL). */
        Media with(byte[] bytes, String type) {
            String m = sniff(bytes, type != null && !type.isBlank() && !type.startsWith("application/octet") ? type.split(";")[0].strip()
                    : kind.equals("file") ? mimeOf(name) : kind + "/*");
            return new Media(kind, named || name.contains(".") ? name : name + extension(m), named, m, bytes, url);
        }

        /** Images say what they are in their first bytes; a wrong or missing type is corrected from them. */
        static String sniff(byte[] d, String fallback) {
            if (d.length > 3 && (d[0] & 0xff) == 0x89 && d[1] == 'P' && d[2] == 'N' && d[3] == 'G') return "image/png";
            if (d.length > 2 && (d[0] & 0xff) == 0xff && (d[1] & 0xff) == 0xd8 && (d[2] & 0xff) == 0xff) return "image/jpeg";
            if (d.length > 3 && d[0] == 'G' && d[1] == 'I' && d[2] == 'F' && d[3] == '8') return "image/gif";
            if (d.length > 11 && d[0] == 'R' && d[1] == 'I' && d[8] == 'W' && d[9] == 'E' && d[10] == 'B' && d[11] == 'P') return "image/webp";
            if (d.length > 3 && d[0] == '%' && d[1] == 'P' && d[2] == 'D' && d[3] == 'F') return "application/pdf";
            return fallback.endsWith("/*") ? fallback.replace("*", fallback.startsWith("image") ? "png" : "octet-stream") : fallback;
        }

        static String mimeOf(String name) {
            String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
            return n.endsWith(".pdf") ? "application/pdf" : n.endsWith(".docx") ? "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                    : n.endsWith(".txt") || n.endsWith(".md") ? "text/plain" : n.endsWith(".csv") ? "text/csv" : "application/octet-stream";
        }

        static String extension(String mime) {
            return switch (mime) {
                case "image/png" -> ".png"; case "image/jpeg" -> ".jpg"; case "image/gif" -> ".gif"; case "image/webp" -> ".webp";
                case "application/pdf" -> ".pdf"; case "text/plain" -> ".txt"; case "audio/wav" -> ".wav"; case "audio/mpeg" -> ".mp3";
                default -> "";
            };
        }
    }

    /**
     * Files clients upload (POST /v1/files, and /api/files/upload as FreeQwenApi has it), kept in
     * the data directory (files/<id>.bin and .json, owner-only) until deleted, so an id works in
     * later messages, after a restart and with any account: it is uploaded to Qwen (§10) when a
     * message uses it, through the same per-account cache as inline media.
     */
    static final class FileStore {
        static final String PREFIX = "file-";
        private final Path dir;
        private final Server s;

        FileStore(Server s) {
            this.s = s;
            this.dir = Path.of(s.cfg.dataDir(), "files");
        }

        /** POST /v1/files (multipart: file, purpose) or POST /api/files/upload (multipart: file). */
        void upload(Call c, boolean freeQwen) {
            long max = s.cfg.uploadMaxBytes();
            List<Part> parts = multipart(c.ex.getRequestHeaders().getFirst("Content-Type"), readBody(c, max + 64 * 1024, "--upload-max-bytes"));
            Part file = null;
            String purpose = "user_data";
            for (Part p : parts) {
                if ("file".equals(p.name())) file = p;
                if ("purpose".equals(p.name())) purpose = new String(p.data(), StandardCharsets.UTF_8).strip();
            }
            if (file == null) throw ApiException.invalid("file", "missing_required_parameter", "Missing required parameter: 'file' (a multipart field).");
            if (file.data().length > max) throw new ApiException(413, "invalid_request_error", "request_too_large", "file",
                    "The file has " + file.data().length + " bytes; at most " + max + " are accepted (--upload-max-bytes).");
            String name = file.filename() == null || file.filename().isBlank() ? "upload" : Path.of(file.filename().replace('\\', '/')).getFileName().toString();
            String mime = Media.sniff(file.data(), file.type() != null && !file.type().isBlank() ? file.type().toLowerCase(Locale.ROOT) : Media.mimeOf(name));
            String id = PREFIX + randomToken(18);
            Map<String, Object> meta = orderedObject("id", id, "object", "file", "bytes", file.data().length, "created_at",
                    System.currentTimeMillis() / 1000, "filename", name, "purpose", purpose, "status", "processed", "expires_at", Json.NULL,
                    "status_details", Json.NULL, "mime_type", mime);
            try {
                Store.writePrivate(dir.resolve(id + ".bin"), file.data());
                Store.writePrivate(dir.resolve(id + ".json"), Json.write(meta).getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                c.metrics.count(1, "qwenproxy_uploads_total", "to", "files", "result", "failed");
                throw new ApiException(500, "server_error", "storage_error", null, "Cannot store the file in " + dir + ": " + e.getMessage());
            }
            c.metrics.count(1, "qwenproxy_uploads_total", "to", "files", "result", "ok");
            Log.info(c.rid, "stored " + name + " (" + file.data().length + " bytes) as " + id);
            if (!freeQwen) { sendJson(c, 200, meta); return; }
            String url = s.url() + "/v1/files/" + id + "/content";
            sendJson(c, 200, orderedObject("success", true, "fileId", id, "id", id, "fileName", name, "url", url, "bytes", file.data().length,
                    "mimeType", mime));
        }

        /** /v1/files (GET, POST), /v1/files/{id} (GET, DELETE), /v1/files/{id}/content (GET). */
        void handle(Call c, String method, String path) {
            if (path.equals("/files")) {
                if (method.equals("POST")) { upload(c, false); return; }
                allow(method, "GET");
                List<Object> data = new ArrayList<>();
                try (DirectoryStream<Path> ds = Files.isDirectory(dir) ? Files.newDirectoryStream(dir, "*.json") : null) {
                    if (ds != null) for (Path p : ds) data.add(Json.parse(Files.readString(p)));
                } catch (IOException | RuntimeException e) {
                    Log.warn(c.rid, "cannot list " + dir + ": " + e);
                }
                data.sort(Comparator.comparingLong(o -> -Json.longValue(Json.asObject(o).get("created_at"), 0)));
                sendJson(c, 200, orderedObject("object", "list", "data", data, "has_more", false));
                return;
            }
            String rest = path.substring(7), id = rest.endsWith("/content") ? rest.substring(0, rest.length() - 8) : rest;
            Map<String, Object> meta = meta(id, "id");
            if (rest.endsWith("/content")) {
                allow(method, "GET");
                c.ex.getResponseHeaders().set("Content-Disposition", "attachment; filename=\"" + String.valueOf(meta.get("filename")).replace("\"", "") + "\"");
                send(c, 200, String.valueOf(meta.get("mime_type")), bytes(id));
            } else if (method.equals("DELETE")) {
                try {
                    Files.deleteIfExists(dir.resolve(id + ".bin"));
                    Files.deleteIfExists(dir.resolve(id + ".json"));
                } catch (IOException e) {
                    throw new ApiException(500, "server_error", "storage_error", null, "Cannot delete " + id + ": " + e.getMessage());
                }
                sendJson(c, 200, orderedObject("id", id, "object", "file", "deleted", true));
            } else {
                allow(method, "GET");
                sendJson(c, 200, meta);
            }
        }

        /** A stored file's metadata; 404 (or, in a message, a 400 naming `param`) if there is none. */
        Map<String, Object> meta(String id, String param) {
            Map<String, Object> m = null;
            if (id.matches(PREFIX + "[A-Za-z0-9_-]{1,64}")) {
                try {
                    m = Json.asObject(Json.parse(Files.readString(dir.resolve(id + ".json"))));
                } catch (IOException | RuntimeException e) {
                    m = null;
                }
            }
            if (m != null) return m;
            if (param.equals("id")) throw new ApiException(404, "invalid_request_error", "file_not_found", "id", "No such file: '" + id + "'.");
            throw ApiException.invalid(param, "invalid_value", "No file '" + id + "' here: upload it first (POST /v1/files).");
        }

        private byte[] bytes(String id) {
            try {
                return Files.readAllBytes(dir.resolve(id + ".bin"));
            } catch (IOException e) {
                throw new ApiException(404, "invalid_request_error", "file_not_found", "id", "No such file: '" + id + "'.");
            }
        }

        /** A message's reference to a stored file (an id, or this proxy's content URL), with its bytes. */
        Media resolve(Media m) {
            String id = m.url().substring(m.url().lastIndexOf(':') + 1);
            Map<String, Object> meta = meta(id, "messages");
            String name = String.valueOf(meta.get("filename")), mime = String.valueOf(meta.get("mime_type"));
            String kind = m.kind().equals("file") && mime.startsWith("image/") ? "image" : m.kind();     // a picture sent as a file
            return new Media(kind, name, true, mime, bytes(id), m.url());
        }

        /** The stored file a media reference names: "file-…" or a URL ending in /v1/files/file-…/content; else null. */
        static String idIn(String ref) {
            java.util.regex.Matcher mt = FILE_REF.matcher(ref);
            return mt.matches() ? mt.group(1) : null;
        }

        static final Pattern FILE_REF = Pattern.compile("(?:https?://[^/]+/(?:v1/)?files/)?(" + PREFIX + "[A-Za-z0-9_-]{1,64})(?:/content)?");
    }

    // ==== 12. Tools and formats ====

    /**
     * The functions a request offers and how it wants them used (tools or legacy functions,
     * tool_choice, parallel_tool_calls). No functions means no tools are offered, as with "none".
     */
    record Tools(List<Map<String, Object>> functions, String choice, String forced, boolean parallel) {
        static final Tools NONE = new Tools(List.of(), "none", null, true);

        static Tools parse(Map<String, Object> b) {
            List<Map<String, Object>> fns = new ArrayList<>();
            Object tools = b.get("tools") != null && b.get("tools") != Json.NULL ? b.get("tools") : b.get("functions");
            String key = b.get("tools") != null && b.get("tools") != Json.NULL ? "tools" : "functions";
            if (tools != null && tools != Json.NULL) {
                if (!(tools instanceof List<?> l)) throw ApiException.invalid(key, "invalid_type", "'" + key + "' must be an array.");
                for (int i = 0; i < l.size(); i++) {
                    Map<String, Object> t = Json.asObject(l.get(i));
                    Map<String, Object> fn = key.equals("tools") ? Json.obj(t, "function") : t;
                    String name = Json.str(fn, "name");
                    if (name == null || !name.matches("[A-Za-z0-9_.:-]{1,128}"))
                        throw ApiException.invalid(key + "[" + i + "]", "invalid_value", "Each tool needs a function with a valid 'name'.");
                    fns.add(fn);
                }
            }
            Object choice = b.get("tool_choice") != null && b.get("tool_choice") != Json.NULL ? b.get("tool_choice") : b.get("function_call");
            String mode = "auto", forced = null;
            if (choice instanceof String c) {
                mode = switch (c) {
                    case "auto", "none", "required" -> c;
                    default -> throw ApiException.invalid("tool_choice", "invalid_value", "tool_choice must be auto, none, required or a function.");
                };
            } else if (choice instanceof Map<?, ?>) {
                Map<String, Object> c = Json.asObject(choice);
                forced = Json.obj(c, "function") != null ? Json.str(Json.obj(c, "function"), "name") : Json.str(c, "name");
                if (forced == null) throw ApiException.invalid("tool_choice", "invalid_value", "tool_choice names no function.");
                mode = "named";
            }
            if (mode.equals("none") || fns.isEmpty()) {
                if (!mode.equals("none") && !mode.equals("auto"))
                    throw ApiException.invalid("tool_choice", "invalid_value", "tool_choice asks for a tool call but no tools were given.");
                return NONE;
            }
            final String want = forced;
            if (want != null && fns.stream().noneMatch(f -> want.equals(Json.str(f, "name"))))
                throw ApiException.invalid("tool_choice", "invalid_value", "tool_choice names '" + want + "', which is not among the tools.");
            Object parallel = b.get("parallel_tool_calls");
            return new Tools(fns, mode, forced, !Boolean.FALSE.equals(parallel));
        }

        boolean active() { return !functions.isEmpty(); }

        boolean mustCall() { return choice.equals("required") || choice.equals("named"); }

        Map<String, Object> function(String name) {
            for (Map<String, Object> f : functions) if (name.equals(Json.str(f, "name"))) return f;
            return null;
        }
    }

    /** response_format json_object / json_schema (C.2): what the answer must be. */
    record Format(boolean schema, Map<String, Object> jsonSchema, boolean strict) {
        static Format parse(Map<String, Object> b) {
            Map<String, Object> rf = optObject(b, "response_format");
            if (rf == null) return null;
            String type = String.valueOf(rf.get("type"));
            switch (type) {
                case "text": return null;
                case "json_object": return new Format(false, null, false);
                case "json_schema":
                    Map<String, Object> js = Json.obj(rf, "json_schema");
                    Map<String, Object> schema = Json.obj(js, "schema");
                    if (schema == null) throw ApiException.invalid("response_format.json_schema.schema", "missing_required_parameter",
                            "response_format json_schema needs a 'schema' object.");
                    return new Format(true, schema, Boolean.TRUE.equals(js.get("strict")));
                default: throw ApiException.invalid("response_format.type", "invalid_value",
                        "response_format.type must be text, json_object or json_schema; got '" + type + "'.");
            }
        }
    }

    /**
     * Splits streamed answer text into content and tool calls. Call markup never reaches content;
     * markers split across deltas are recognised (a possible marker prefix is held back); the
     * end of a call is found structurally (JSON nesting, string-aware), so markers inside
     * argument strings do not end it. Scanning is incremental: large arguments stay linear.
     */
    static final class ToolParser {
        interface Out {
            void text(String s);
            void call(String name, String arguments);
            void rejected(String why);
        }

        private static final String[] STARTS = {"<tool_call>", "<function=", "```json"};
        private static final String[] CLOSERS = {"</tool_call>", "</function>"};   // stray ones are dropped from text
        private final Tools tools;
        private final Out out;
        private final StringBuilder buf = new StringBuilder();
        private String mode;             // null: plain text; else the marker that opened the block at buf[0]
        private int scan, depth, objStart, objEnd, calls;
        private boolean inString, escaped;

        ToolParser(Tools tools, Out out) {
            this.tools = tools;
            this.out = out;
        }

        void feed(String s) {
            buf.append(s);
            drain(false);
        }

        void end() { drain(true); }

        private void drain(boolean eof) {
            while (true) {
                if (mode == null) {
                    int at = -1;
                    String marker = null;
                    for (String m : STARTS) {
                        int i = buf.indexOf(m);
                        if (i >= 0 && (at < 0 || i < at)) { at = i; marker = m; }
                    }
                    if (marker == null) {
                        text(buf.length() - (eof ? 0 : heldBack()));
                        return;
                    }
                    text(at);
                    mode = marker;
                    scan = marker.equals("<function=") ? 0 : marker.length();
                    depth = 0;
                    objStart = objEnd = -1;
                    inString = escaped = false;
                }
                int end = blockEnd(eof);
                if (end < 0) return;                         // the block is not complete yet
                String block = buf.substring(0, end), m = mode;
                buf.delete(0, end);
                mode = null;
                handle(m, block);
            }
        }

        /** Plain text up to n goes out, minus stray closing tags. */
        private void text(int n) {
            if (n <= 0) return;
            String t = buf.substring(0, n).replace("</tool_call>", "").replace("</function>", "");
            buf.delete(0, n);
            if (!t.isEmpty()) out.text(t);
        }

        /** How much of the tail might be the start of a marker (or of a stray closing tag). */
        private int heldBack() {
            for (int k = Math.min(buf.length(), 12); k > 0; k--) {
                String tail = buf.substring(buf.length() - k);
                for (String m : STARTS) if (m.startsWith(tail)) return k;
                for (String m : CLOSERS) if (m.startsWith(tail)) return k;
            }
            return 0;
        }

        /** The length of the complete block at buf[0], or -1 to wait for more text. */
        private int blockEnd(boolean eof) {
            if (mode.equals("<tool_call>") && objStart < 0 && !eof) {
                int i = mode.length();                       // wait until the block shows which format it is
                while (i < buf.length() && Character.isWhitespace(buf.charAt(i))) i++;
                String head = buf.substring(i, Math.min(buf.length(), i + 10));
                if (head.length() < 10 && "<function=".startsWith(head)) return -1;
            }
            boolean coder = mode.equals("<function=") || (mode.equals("<tool_call>") && nextNonSpaceIs("<function="));
            if (coder) {
                int f = buf.indexOf("</function>", scan);
                if (f < 0) {
                    scan = Math.max(scan, buf.length() - 11);
                    return eof ? buf.length() : -1;
                }
                return closing(f + 11, mode.equals("<tool_call>") ? "</tool_call>" : null, eof);
            }
            if (objEnd < 0) {
                for (; scan < buf.length(); scan++) {
                    char c = buf.charAt(scan);
                    if (objStart < 0) {
                        if (Character.isWhitespace(c)) continue;
                        if (c != '{') return closing(scan, mode.equals("```json") ? "```" : "</tool_call>", eof);  // not a JSON call
                        objStart = scan;
                    }
                    if (inString) {
                        if (escaped) escaped = false;
                        else if (c == '\\') escaped = true;
                        else if (c == '"') inString = false;
                    } else if (c == '"') inString = true;
                    else if (c == '{' || c == '[') depth++;
                    else if ((c == '}' || c == ']') && --depth == 0) { objEnd = ++scan; break; }
                }
                if (objEnd < 0) return eof ? buf.length() : -1;
            }
            return closing(objEnd, mode.equals("```json") ? "```" : mode.equals("<tool_call>") ? "</tool_call>" : null, eof);
        }

        private boolean nextNonSpaceIs(String s) {
            int i = mode.length();
            while (i < buf.length() && Character.isWhitespace(buf.charAt(i))) i++;
            return startsAt(s, i);
        }

        private boolean startsAt(String s, int i) {
            if (buf.length() - i < s.length()) return false;
            for (int k = 0; k < s.length(); k++) if (buf.charAt(i + k) != s.charAt(k)) return false;
            return true;
        }

        /** After position p: the closing tag if it is there (tolerating its absence), else wait. */
        private int closing(int p, String tag, boolean eof) {
            if (tag == null) return p;
            int i = p;
            while (i < buf.length() && Character.isWhitespace(buf.charAt(i))) i++;
            if (startsAt(tag, i)) return i + tag.length();
            String rest = buf.substring(i);
            if (!eof && tag.startsWith(rest)) return -1;                  // the tag may still be arriving
            int far = buf.indexOf(tag, i);
            if (objStart < 0 && far >= 0) return far + tag.length();     // junk inside the block: up to its tag
            return rest.isEmpty() && !eof ? -1 : p;                      // no tag: the block ends here
        }

        private void handle(String marker, String block) {
            ToolLayer.ParsedCall c = ToolLayer.parseCall(marker, block);
            if (c == null) {
                if (marker.equals("```json")) out.text(block);   // an ordinary JSON code block
                else out.rejected("a <tool_call> block that is not a call: " + abbreviate(block));
                return;
            }
            Map<String, Object> fn = tools.function(c.name());
            if (fn == null) { out.rejected("a call to unknown tool '" + c.name() + "'"); return; }
            if (tools.choice().equals("named") && !c.name().equals(tools.forced())) { out.rejected("a call to '" + c.name() + "' instead of '" + tools.forced() + "'"); return; }
            if (!tools.parallel() && calls > 0) { out.rejected("a second call while parallel_tool_calls is false"); return; }
            Map<String, Object> schema = Json.obj(fn, "parameters");
            Object args = c.arguments() instanceof Map ? c.arguments() : null;
            if (args == null) { out.rejected("arguments of '" + c.name() + "' that are not a JSON object"); return; }
            if (schema != null) {
                args = ToolLayer.coerce(args, schema);
                List<String> errors = new ArrayList<>();
                ToolLayer.validate(args, schema, "", errors);
                if (!errors.isEmpty()) {
                    if (Boolean.TRUE.equals(fn.get("strict"))) { out.rejected("arguments of '" + c.name() + "' break its schema: " + errors); return; }
                    Log.debug(null, "tool call " + c.name() + " does not match its schema: " + errors);
                }
            }
            calls++;
            out.call(c.name(), Json.write(args));
        }
    }

    /**
     * The tool layer's functions: the prompts that offer tools and formats in Qwen's own terms, and
     * the lenient reading and schema checks of what comes back (ToolParser drives them while streaming).
     */
    static final class ToolLayer {
        private ToolLayer() { }

        private static Object tryJson(String s) {
            try {
                return Json.parse(s);
            } catch (Json.ParseError e) {
                return null;
            }
        }

        private static boolean hasType(Object v, String type) {
            return switch (type) {
                case "object" -> v instanceof Map;
                case "array" -> v instanceof List;
                case "string" -> v instanceof String;
                case "boolean" -> v instanceof Boolean;
                case "null" -> v == Json.NULL || v == null;
                case "integer" -> v instanceof Json.Num n && n.text().matches("-?\\d+") || v instanceof Integer || v instanceof Long;
                case "number" -> v instanceof Json.Num || v instanceof Number;
                default -> true;
            };
        }

        /**
         * THE TOOL PROTOCOL, in one replaceable block. Qwen's chat template (Hermes style) lists tools
         * inside <tools></tools> and expects each call as a <tool_call> block holding
         * {"name": ..., "arguments": {...}}; results come back inside <tool_response> (see Transcript).
         * ToolParser also reads Qwen3-Coder's <function=NAME><parameter=P>...</parameter></function>.
         */
        static String toolPrompt(Tools t, boolean firmer) {
            StringBuilder b = new StringBuilder("# Tools\n\nYou can call functions to help with the request. "
                    + "Their signatures are listed inside <tools></tools>:\n<tools>\n");
            for (Map<String, Object> fn : t.functions()) {
                Map<String, Object> f = orderedObject("name", fn.get("name"));
                if (fn.get("description") != null) f.put("description", fn.get("description"));
                f.put("parameters", fn.get("parameters") == null ? Map.of("type", "object", "properties", Map.of()) : fn.get("parameters"));
                b.append(Json.write(orderedObject("type", "function", "function", f))).append('\n');
            }
            b.append("</tools>\n\nTo call a function, write one block per call, exactly like this:\n<tool_call>\n"
                    + "{\"name\": \"<function name>\", \"arguments\": {<the arguments as a JSON object>}}\n</tool_call>\n"
                    + "The arguments must follow the function's parameters schema. After your last </tool_call> write nothing more: "
                    + "the results will come back inside <tool_response></tool_response>. Do not describe a call in words instead of making it.");
            if (!t.parallel()) b.append("\nCall at most one function in a reply.");
            if (t.choice().equals("required")) b.append("\nIn this reply you must call at least one function.");
            if (t.choice().equals("named")) b.append("\nIn this reply you must call the function \"").append(t.forced()).append("\".");
            if (firmer) b.append("\nYour previous reply had no valid <tool_call> block. Answer now with the <tool_call> block(s) only.");
            return b.toString();
        }

        static String formatPrompt(Format f, boolean firmer) {
            StringBuilder b = new StringBuilder("# Output format\n\nAnswer with a single JSON value and nothing else: "
                    + "no explanation, no markdown, no code fence.");
            if (f.schema()) b.append(" It must be valid against this JSON schema:\n").append(Json.write(f.jsonSchema()));
            else b.append(" It must be a JSON object.");
            if (firmer) b.append("\nYour previous answer was not valid JSON of that shape. Answer again with the JSON only.");
            return b.toString();
        }

        record ParsedCall(String name, Object arguments) {}

        /** A call block -> name and arguments, or null. Hermes JSON, Qwen3-Coder XML, or a fenced JSON call. */
        static ParsedCall parseCall(String marker, String block) {
            String body = (marker.equals("<function=") ? block : block.substring(marker.length())).strip();
            if (body.endsWith("</tool_call>")) body = body.substring(0, body.length() - 12).strip();   // only the closing tag
            if (body.endsWith("```")) body = body.substring(0, body.length() - 3).strip();
            if (body.startsWith("<function=")) {
                int gt = body.indexOf('>');
                if (gt < 0) return null;
                String name = body.substring(10, gt).strip();
                Map<String, Object> args = new LinkedHashMap<>();
                int p = gt + 1;
                while (true) {
                    int s = body.indexOf("<parameter=", p);
                    if (s < 0) break;
                    int g = body.indexOf('>', s), e = body.indexOf("</parameter>", g < 0 ? s : g);
                    if (g < 0) break;
                    String value = body.substring(g + 1, e < 0 ? body.length() : e);
                    if (value.startsWith("\n")) value = value.substring(1);
                    if (value.endsWith("\n")) value = value.substring(0, value.length() - 1);
                    args.put(body.substring(s + 11, g).strip(), value);
                    if (e < 0) break;
                    p = e + 12;
                }
                return name.isEmpty() ? null : new ParsedCall(name, args);
            }
            Object v = lenientJson(body);
            Map<String, Object> m = Json.asObject(v);
            if (m == null) return null;
            String name = Json.str(m, "name");
            Object args = m.containsKey("arguments") ? m.get("arguments") : m.get("parameters");
            if (args instanceof String s) args = lenientJson(s);           // double-encoded arguments
            if (args == null || args == Json.NULL) args = new LinkedHashMap<String, Object>();
            return name == null ? null : new ParsedCall(name, args);
        }

        /**
         * JSON, repairing the trivial damage models do: code fences, text before or after the value,
         * single quotes, Python literals, trailing commas. Null if it still is not JSON.
         */
        static Object lenientJson(String text) {
            String t = text.strip();
            if (t.startsWith("```")) {
                int nl = t.indexOf('\n');
                t = (nl < 0 ? "" : t.substring(nl + 1)).replaceAll("```\\s*$", "").strip();
            }
            int start = -1;
            for (int i = 0; i < t.length(); i++) if (t.charAt(i) == '{' || t.charAt(i) == '[') { start = i; break; }
            if (start < 0) return tryJson(t);
            int end = balancedEnd(t, start);
            String core = t.substring(start, end < 0 ? t.length() : end);
            Object v = tryJson(core);
            if (v != null) return v;
            StringBuilder b = new StringBuilder();       // single quotes -> double, Python literals, trailing commas
            boolean inDouble = false, inSingle = false;
            for (int i = 0; i < core.length(); i++) {
                char c = core.charAt(i);
                if (c == '\\' && i + 1 < core.length()) { b.append(c).append(core.charAt(++i)); continue; }
                if (c == '"' && !inSingle) inDouble = !inDouble;
                else if (c == '\'' && !inDouble) { inSingle = !inSingle; b.append('"'); continue; }
                else if (inSingle && c == '"') { b.append("\\\""); continue; }
                b.append(c);
            }
            String fixed = b.toString().replaceAll("\\bTrue\\b", "true").replaceAll("\\bFalse\\b", "false")
                    .replaceAll("\\bNone\\b", "null").replaceAll(",\\s*([}\\]])", "$1");
            return tryJson(fixed);
        }

        /** The index just past the bracket that closes the one at start (string-aware), or -1. */
        static int balancedEnd(String s, int start) {
            int depth = 0;
            boolean str = false, esc = false;
            char quote = 0;
            for (int i = start; i < s.length(); i++) {
                char c = s.charAt(i);
                if (str) {
                    if (esc) esc = false;
                    else if (c == '\\') esc = true;
                    else if (c == quote) str = false;
                } else if (c == '"' || c == '\'') { str = true; quote = c; }
                else if (c == '{' || c == '[') depth++;
                else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
            }
            return -1;
        }

        /** Trivial type repairs the schema makes obvious: "5" for an integer, "true" for a boolean, JSON text for objects. */
        static Object coerce(Object v, Map<String, Object> schema) {
            String type = Json.str(schema, "type");
            if (v instanceof String s && type != null) {
                String t = s.strip();
                switch (type) {
                    case "integer": if (t.matches("-?\\d{1,18}")) return new Json.Num(t); break;
                    case "number": if (t.matches("-?\\d+(\\.\\d+)?([eE][+-]?\\d+)?")) return new Json.Num(t); break;
                    case "boolean": if (t.equals("true") || t.equals("false")) return Boolean.valueOf(t); break;
                    case "object", "array": { Object j = lenientJson(t); if (j != null) return coerce(j, schema); break; }
                    case "null": if (t.equals("null")) return Json.NULL; break;
                    default: break;
                }
                return v;
            }
            Map<String, Object> props = Json.obj(schema, "properties");
            if (v instanceof Map<?, ?> && props != null) {
                Map<String, Object> m = new LinkedHashMap<>(Json.asObject(v));
                for (Map.Entry<String, Object> e : m.entrySet()) {
                    Map<String, Object> ps = Json.obj(props, e.getKey());
                    if (ps != null) e.setValue(coerce(e.getValue(), ps));
                }
                return m;
            }
            Map<String, Object> items = Json.obj(schema, "items");
            if (v instanceof List<?> l && items != null) {
                List<Object> out = new ArrayList<>();
                for (Object o : l) out.add(coerce(o, items));
                return out;
            }
            return v;
        }

        /** The JSON-schema subset agents use: type, properties, required, enum, items, additionalProperties. */
        static void validate(Object v, Map<String, Object> schema, String path, List<String> errors) {
            String at = path.isEmpty() ? "$" : path;
            List<String> types = new ArrayList<>();          // type names; anything else there (null, a number) checks nothing
            for (Object t : schema.get("type") instanceof List<?> l ? l : Collections.singletonList(schema.get("type"))) if (t instanceof String n) types.add(n);
            if (!types.isEmpty()) {
                boolean ok = false;
                for (String t : types) ok |= hasType(v, t);
                if (!ok) { errors.add(at + " should be " + types); return; }
            }
            if (schema.get("enum") instanceof List<?> options) {
                boolean found = false;
                for (Object o : options) found |= Json.write(o).equals(Json.write(v));
                if (!found) errors.add(at + " should be one of " + Json.write(options));
            }
            if (v instanceof Map<?, ?>) {
                Map<String, Object> m = Json.asObject(v), props = Json.obj(schema, "properties");
                if (schema.get("required") instanceof List<?> req)
                    for (Object r : req) if (!m.containsKey(String.valueOf(r))) errors.add(at + "." + r + " is required");
                for (Map.Entry<String, Object> e : m.entrySet()) {
                    Map<String, Object> ps = props == null ? null : Json.obj(props, e.getKey());
                    if (ps != null) validate(e.getValue(), ps, at + "." + e.getKey(), errors);
                    else if (Boolean.FALSE.equals(schema.get("additionalProperties"))) errors.add(at + "." + e.getKey() + " is not allowed");
                }
            }
            if (v instanceof List<?> l && Json.obj(schema, "items") != null)
                for (int i = 0; i < l.size(); i++) validate(l.get(i), Json.obj(schema, "items"), at + "[" + i + "]", errors);
        }

        /** response_format: the JSON in an answer, checked against the schema; null when there is none that fits. */
        static String structured(String answer, Format f, List<String> errors) {
            Object v = lenientJson(answer);
            if (v == null) { errors.add("the answer holds no JSON"); return null; }
            if (!f.schema() && !(v instanceof Map)) { errors.add("the answer is not a JSON object"); return null; }
            if (f.schema()) {
                v = coerce(v, f.jsonSchema());
                validate(v, f.jsonSchema(), "", errors);
                if (!errors.isEmpty()) return null;
            }
            return Json.write(v);
        }
    }

    // ==== 13. Upstream -> OpenAI ====

    /**
     * Turns upstream SSE payloads (§6) into reasoning and content pieces, tracking usage and the
     * finish reason. Pure apart from its sink, so tests feed it the captures of §6 directly.
     * Errors become ApiExceptions; where output already went out, moderation and context errors
     * end the reply with finish_reason content_filter / length instead (§7.3).
     */
    static final class StreamTranslator implements Reply.Events {
        interface Sink {
            void emit(boolean reasoning, String text);

            /** Reasoning rendered into content (--reasoning think), tags included. */
            default void think(String text) { emit(false, text); }

            /** Web search results (§6.2), in the order the answer's [[n]] markers count them. */
            default void sources(List<Source> found) { }

            /** A generated image (§10.5). */
            default void image(String url) { }
        }

        static final Set<String> ANSWER_PHASES = Set.of("answer", "ReportGeneration", "deep_research_answer", "PdfMdGen", "slides");
        static final Set<String> REASONING_PHASES = Set.of("think", "image_gen_think", "DeepThinking", "ResearchPlanning");

        private final Reasoning mode;
        private final long maxTokens;
        private final List<String> stops;
        private final StringBuilder pending = new StringBuilder();  // answer text that may begin a stop sequence
        private final Sink sink;
        private final List<String> thoughtSent = new ArrayList<>();  // thinking_summary arrays are cumulative
        private boolean thinkOpen;
        private String main, parentId;                               // the main candidate (§6.3b)
        private final Set<String> others = new HashSet<>();
        private long answerChars, reasoningChars;
        private String finish;
        private final Map<String, Object> usage = new LinkedHashMap<>();

        StreamTranslator(Reasoning mode, long maxTokens, List<String> stops, Sink sink) {
            this.mode = mode;
            this.maxTokens = maxTokens;
            this.stops = stops;
            this.sink = sink;
        }

        /** One SSE payload; true when the reply is complete. */
        @Override public boolean accept(String data) {
            if (data.startsWith("[DONE]")) return true;       // never seen from Qwen; tolerated (§6.1)
            Map<String, Object> ev;
            try {
                ev = Json.asObject(Json.parse(data, maxTokens > 0 ? null : RAW_USAGE));
            } catch (Json.ParseError e) {
                ev = null;
            }
            if (ev == null) {
                // "data:" lines without the blank line between them are one event by the SSE rules;
                // some gateways (and peers' fixtures, §6.3b) frame JSON events that way: one per line
                if (data.indexOf('\n') > 0 && data.charAt(0) == '{') {
                    for (String line : data.split("\n")) if (!line.isBlank() && accept(line)) return true;
                    return false;
                }
                if (ApiException.looksBlocked(data)) throw ApiException.blocked();
                Log.debug(null, "upstream: skipping non-JSON event: " + abbreviate(data));
                return false;
            }
            Map<String, Object> created = Json.obj(ev, "response.created");
            if (created != null) { candidate(created); return false; }
            if (ev.containsKey("response.info")) return false;
            if (!fromMain(Json.str(ev, "response_id"))) return false;    // a parallel candidate's event (§6.3b)
            if (ev.containsKey("response.stopped")) return true;
            Map<String, Object> err = Json.obj(ev, "error");
            if (err != null) {
                String details = Json.str(err, "details");
                return streamError(Json.str(err, "code"), details != null ? details : Json.str(err, "message"), null);
            }
            if (Boolean.FALSE.equals(ev.get("success")) || ev.containsKey("ret")) throw ApiException.envelopeError(ev);
            // cumulative, but later events may drop detail objects (§6 thinking capture): merge, newest wins
            Object u = ev.get("usage");
            if (u instanceof Map<?, ?>) merge(usage, Json.asObject(u));
            else if (u instanceof Json.Raw r) {        // read at the end: no maps per delta for counts nobody looks at yet
                usageRaw = r.text();
                if (usageRaw.contains("_details")) detailRaw = usageRaw;
            }
            Map<String, Object> delta = null;
            if (ev.get("choices") instanceof List<?> choices && !choices.isEmpty())
                delta = Json.obj(Json.asObject(choices.get(0)), "delta");
            if (delta == null) return false;
            String phase = Json.str(delta, "phase"), status = Json.str(delta, "status");
            Map<String, Object> extra = Json.obj(delta, "extra");
            if ("error".equals(status)) {
                Map<String, Object> e = extra == null ? null : Json.obj(extra, "error");
                return streamError(e == null ? "error" : Json.str(e, "code"), e == null ? null : Json.str(e, "details"), null);
            }
            String text = Json.str(delta, "content");
            boolean answer = phase == null || ANSWER_PHASES.contains(phase);
            if (answer) {
                if (answer(text)) { finish = "stop"; return true; }     // a stop sequence: we stop reading
            } else if (REASONING_PHASES.contains(phase)) {
                reasoning(text);
            } else if (phase.equals("thinking_summary")) {
                summary(extra);
            } else if (phase.equals("web_search")) {
                search(extra);
            } else if (phase.equals("image_gen")) {       // t2i (§10.5): each event's content is one finished image's URL
                if (text != null && !text.isBlank()) image(text.strip());
                if ("finished".equals(status)) return true;
            } else {
                Log.debug(null, "upstream: skipping phase " + phase);
            }
            if (maxTokens > 0 && Json.longValue(usage.get("output_tokens"), 0) >= maxTokens) {
                finish = "length";                              // max_tokens: we stop reading; OpenAI says length
                return true;
            }
            return answer && "finished".equals(status);         // a finished thinking phase is not the end (§6.4)
        }

        /**
         * §6.3b: the upstream may open a second candidate answer (response_index "1") and interleave
         * its events with the main one's, each tagged with its response_id. Only the main candidate
         * (index "0"; without indexes, the first response_id seen) reaches the client.
         */
        private void candidate(Map<String, Object> created) {
            String id = Json.str(created, "response_id"), index = String.valueOf(created.get("response_index"));
            if (id == null) return;
            if (index.equals("0") || (main == null && !created.containsKey("response_index"))) { main = id; parentId = Json.str(created, "parent_id"); }
            else if (!id.equals(main)) others.add(id);
        }

        private boolean fromMain(String id) {
            if (id == null) return true;                   // untagged events (errors with request_id) are the reply's
            if (main == null && !others.contains(id)) main = id;
            return id.equals(main);
        }

        /** The main candidate's response_id: the parent of a follow-up turn in the same chat (§9). */
        String responseId() { return main; }

        String parentId() { return parentId; }

        /** Newest wins, key by key, into maps of our own (no new map per event: this runs for every delta). */
        static void merge(Map<String, Object> into, Map<String, Object> fresh) {
            for (Map.Entry<String, Object> e : fresh.entrySet()) {
                Object v = e.getValue(), old = into.get(e.getKey());
                if (v instanceof Map && old instanceof Map) merge(Json.asObject(old), Json.asObject(v));
                else into.put(e.getKey(), v instanceof Map ? new LinkedHashMap<>(Json.asObject(v)) : v);
            }
        }

        /** §7.3: moderation and context errors after some answer end the reply; otherwise they are errors. */
        private boolean streamError(String code, String details, Object num) {
            if (answerChars > 0 && "data_inspection_failed".equals(code)) { finish = "content_filter"; return true; }
            if (answerChars > 0 && "ContextLengthExceeded".equals(code)) { finish = "length"; return true; }
            throw ApiException.classify(code, details, num);
        }

        private void image(String url) {
            answerChars += url.length();
            sink.image(url);
        }

        /** web_search results (§6.2): extra.tool_result.docs[], or the older extra.web_search_info[]; the call itself carries none. */
        private void search(Map<String, Object> extra) {
            Object docs = extra == null ? null : Json.obj(extra, "tool_result") != null ? Json.obj(extra, "tool_result").get("docs") : extra.get("web_search_info");
            if (!(docs instanceof List<?> l)) return;
            List<Source> found = new ArrayList<>();
            for (Object o : l) {
                Map<String, Object> d = Json.asObject(o);
                String url = Json.str(d, "url");
                if (url != null) found.add(new Source(url, firstString(Json.str(d, "title"), Json.str(d, "hostname"), url)));
            }
            if (!found.isEmpty()) sink.sources(found);
        }

        /** thinking_summary: extra.summary_thought.content[] is a growing snapshot; send only what is new. */
        private void summary(Map<String, Object> extra) {
            Map<String, Object> thought = extra == null ? null : Json.obj(extra, "summary_thought");
            if (thought == null || !(thought.get("content") instanceof List<?> items)) return;
            for (int i = 0; i < items.size(); i++) {
                if (!(items.get(i) instanceof String s)) continue;
                String sent = i < thoughtSent.size() ? thoughtSent.get(i) : null;
                String fresh;
                if (sent == null) fresh = (i > 0 ? "\n\n" : "") + s;
                else if (s.startsWith(sent)) fresh = s.substring(sent.length());
                else fresh = "";      // a rewritten earlier item cannot be unsent; keep what we have
                if (sent == null) thoughtSent.add(s); else if (s.length() > sent.length()) thoughtSent.set(i, s);
                reasoning(fresh);
            }
        }

        private void reasoning(String text) {
            if (text == null || text.isEmpty()) return;
            reasoningChars += text.length();
            switch (mode) {
                case FIELD, BOTH -> sink.emit(true, text);
                case THINK -> {
                    if (answerChars > 0) return;     // reasoning after the answer began has no place in content
                    if (!thinkOpen) { thinkOpen = true; sink.think("<think>\n"); }
                    sink.think(text);
                }
                case HIDE -> { }
            }
        }

        /** True when the answer reached one of the request's stop sequences (which is not sent, as OpenAI does). */
        private boolean answer(String text) {
            if (text == null || text.isEmpty()) return false;
            closeThink();
            answerChars += text.length();
            if (stops.isEmpty()) { sink.emit(false, text); return false; }
            String p = pending.append(text).toString();
            int cut = -1;
            for (String stop : stops) {
                int i = p.indexOf(stop);
                if (i >= 0 && (cut < 0 || i < cut)) cut = i;
            }
            if (cut >= 0) {
                for (String stop : stops) if (p.startsWith(stop, cut)) stopped = stop;
                pending.setLength(cut);
                flushPending();
                return true;
            }
            // hold back the longest tail that a stop sequence could still start with (split across deltas)
            int keep = 0;
            for (String stop : stops)
                for (int k = Math.min(stop.length() - 1, p.length()); k > keep; k--)
                    if (p.regionMatches(p.length() - k, stop, 0, k)) { keep = k; break; }
            pending.delete(0, p.length() - keep);
            if (p.length() > keep) sink.emit(false, p.substring(0, p.length() - keep));
            return false;
        }

        private void flushPending() {
            if (pending.length() > 0) sink.emit(false, pending.toString());
            pending.setLength(0);
        }

        private void closeThink() {
            if (thinkOpen) { thinkOpen = false; sink.think("\n</think>\n\n"); }
        }

        /** End of the upstream stream: settle the finish reason; an empty answer is an error, not a 200. */
        @Override public void finish() {
            closeThink();
            flushPending();
            if (finish == null) finish = "stop";
            if (answerChars == 0 && finish.equals("stop")) {
                throw new ApiException(502, "server_error", "empty_response", null, "Qwen returned an empty answer"
                        + (reasoningChars > 0 ? " (it only reasoned)" : "") + "; retry the request.");
            }
        }

        String finishReason() { return finish; }

        private String stopped;

        /** The stop sequence that ended the answer, or null. */
        String stopped() { return stopped; }

        static final Set<String> RAW_USAGE = Set.of("usage");
        private String usageRaw, detailRaw;        // the newest usage, and the newest that had detail objects (later ones may drop them)

        /** §6.5: the last cumulative counts. */
        Usage usage() {
            for (String r : new String[] {detailRaw, usageRaw}) {       // newest wins, key by key, as for parsed events
                if (r == null) continue;
                try {
                    Map<String, Object> m = Json.asObject(Json.parse(r));
                    if (m != null) merge(usage, m);
                } catch (Json.ParseError e) {
                    // a usage that is not JSON: the counts stay as they were
                }
            }
            detailRaw = usageRaw = null;
            long prompt = Json.longValue(usage.get("input_tokens"), 0), completion = Json.longValue(usage.get("output_tokens"), 0);
            Map<String, Object> out = Json.obj(usage, "output_tokens_details"), in = Json.obj(usage, "prompt_tokens_details");
            if (in == null) in = Json.obj(usage, "input_tokens_details");
            return new Usage(prompt, completion, Json.longValue(usage.get("total_tokens"), prompt + completion),
                    in == null ? 0L : Json.longValue(in.get("cached_tokens"), 0), out == null ? 0L : Json.longValue(out.get("reasoning_tokens"), 0));
        }
    }

    // ==== 14. Upstream client ====

    /**
     * chat.qwen.ai over one shared HttpClient. Every call carries the UPSTREAM_HEADERS table
     * (with --upstream-header applied); every failure becomes an ApiException with an honest
     * status: §7.1 envelopes, §7.2 HTTP statuses, §7.4 WAF pages.
     */
    static final class Upstream {
        private final Config cfg;
        private final Map<String, HttpClient> clients = new ConcurrentHashMap<>();   // by egress proxy ("": the JVM's settings)
        private final Executor executor;    // the server's virtual threads (JDK 24+), or null: the client's own pool
        private final Map<String, String> headers;
        Metrics metrics = new Metrics();

        Upstream(Config cfg, Executor executor) {
            this.cfg = cfg;
            this.executor = executor;
            headers = overridden(UPSTREAM_HEADERS, cfg.upstreamHeaders());
        }

        /** The client an account's calls leave through: its proxy, else --upstream-proxy, else the JVM's (-Dhttps.proxyHost). */
        HttpClient client(Account a) { return via(a != null && a.proxy != null ? a.proxy : cfg.upstreamProxy()); }

        /** One client per egress (built on first use: its TLS setup costs ~300 ms); null: the JVM's proxy settings. */
        HttpClient via(String proxy) {
            HttpClient c = clients.get(proxy == null ? "" : proxy);
            return c != null ? c : clients.computeIfAbsent(proxy == null ? "" : proxy, k -> {
                HttpClient.Builder b = egress(HttpClient.newBuilder(), proxy);
                if (executor != null) b.executor(executor);
                return b    // HTTP/2 over TLS as the browser does; plain HTTP/1.1 otherwise (no h2c upgrade with fakes)
                        .version(cfg.baseUrl().startsWith("https:") ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofMillis(Math.min(cfg.requestTimeoutMs(), 30_000)))
                        .followRedirects(HttpClient.Redirect.NEVER).build();
            });
        }

        /**
         * A client that leaves through `proxy`: http://[user:pass@]host:port (Basic, also for HTTPS
         * tunnels), "direct" (none), or null (the JVM's own proxy properties).
         */
        static HttpClient.Builder egress(HttpClient.Builder b, String proxy) {
            if (proxy == null) return ProxySelector.getDefault() == null ? b : b.proxy(ProxySelector.getDefault());
            if (proxy.equals("direct")) return b.proxy(HttpClient.Builder.NO_PROXY);
            URI u = URI.create(proxy);
            b.proxy(ProxySelector.of(new InetSocketAddress(u.getHost(), u.getPort() < 0 ? 80 : u.getPort())));
            String info = u.getRawUserInfo();
            if (info == null) return b;
            int colon = info.indexOf(':');
            String user = URLDecoder.decode(colon < 0 ? info : info.substring(0, colon), StandardCharsets.UTF_8);
            char[] pass = URLDecoder.decode(colon < 0 ? "" : info.substring(colon + 1), StandardCharsets.UTF_8).toCharArray();
            return b.authenticator(new java.net.Authenticator() {
                @Override protected PasswordAuthentication getPasswordAuthentication() {
                    return getRequestorType() == RequestorType.PROXY ? new PasswordAuthentication(user, pass) : null;
                }
            });
        }

        /** An egress proxy as given (an accounts-file line, the admin API, --upstream-proxy): checked; its password becomes a secret. */
        static String egressUrl(String raw) {
            if (raw == null || raw.isBlank()) return null;
            String p = raw.trim();
            if (p.equals("direct")) return p;
            try {
                URI u = URI.create(p);
                if ("http".equals(u.getScheme()) && u.getHost() != null && u.getPort() > 0) {
                    String info = u.getRawUserInfo();
                    if (info != null && info.indexOf(':') >= 0) Log.secrets(info.substring(info.indexOf(':') + 1),
                            URLDecoder.decode(info.substring(info.indexOf(':') + 1), StandardCharsets.UTF_8));
                    return p;
                }
            } catch (IllegalArgumentException e) {
                // said below
            }
            throw new IllegalArgumentException("a proxy is http://[user:password@]host:port or direct");
        }

        /** For the admin API and logs: the proxy without its password. */
        static String maskedEgress(String proxy) {
            return proxy == null ? null : proxy.replaceFirst("^(http://[^:@/]*):[^@/]*@", "$1:***@");
        }

        /** A request with the header table filled in; a header whose placeholder is empty is left out. */
        HttpRequest.Builder request(String pathKey, String suffix, String chat, String rid, long timeoutMs, Account a) {
            return request(cfg.baseUrl(), pathKey, suffix, chat, rid, timeoutMs,
                    a == null || a.accessToken == null ? "" : a.accessToken, a == null ? "" : a.cookie());
        }

        HttpRequest.Builder request(String base, String pathKey, String suffix, String chat, String rid, long timeoutMs,
                                    String token, String cookie) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + cfg.upstreamPaths().get(pathKey) + suffix))
                    .timeout(Duration.ofMillis(timeoutMs));
            String upstreamId = uuid();
            Map<String, String> values = Map.of("{request_id}", upstreamId, "{token}", token, "{cookie}", cookie,
                    "{timezone}", jsDate(ZonedDateTime.now()),
                    "{base}", cfg.baseUrl(), "{chat}", chat == null ? "new-chat" : chat);
            headers:
            for (Map.Entry<String, String> h : headers.entrySet()) {
                String v = h.getValue();
                for (int i = v.indexOf('{'); i >= 0; i = v.indexOf('{', i + 1)) {
                    int j = v.indexOf('}', i);
                    String value = j < 0 ? null : values.get(v.substring(i, j + 1));
                    if (value == null) continue;
                    if (value.isEmpty()) continue headers;
                    v = v.substring(0, i) + value + v.substring(j + 1);
                    i += value.length() - 1;
                }
                b.setHeader(h.getKey(), v);
            }
            Log.debug(rid, "upstream " + pathKey + " x-request-id=" + upstreamId);
            return b;
        }

        /**
         * JavaScript's Date.toString() without the zone name, "Mon Dec 08 2025 17:28:55 GMT+0800" (§2.4).
         * Built by hand: a DateTimeFormatter with day and month names loads the locale tables (~50 ms
         * of a start) and is slow per call.
         */
        static String jsDate(ZonedDateTime t) {
            int off = t.getOffset().getTotalSeconds() / 60, abs = Math.abs(off);
            return "MonTueWedThuFriSatSun".substring(3 * t.getDayOfWeek().ordinal(), 3 * t.getDayOfWeek().ordinal() + 3) + " "
                    + "JanFebMarAprMayJunJulAugSepOctNovDec".substring(3 * t.getMonthValue() - 3, 3 * t.getMonthValue()) + " "
                    + two(t.getDayOfMonth()) + " " + t.getYear() + " " + two(t.getHour()) + ":" + two(t.getMinute()) + ":" + two(t.getSecond())
                    + " GMT" + (off < 0 ? "-" : "+") + two(abs / 60) + two(abs % 60);
        }

        private static String two(int n) { return n < 10 ? "0" + n : Integer.toString(n); }

        private <T> HttpResponse<T> send(Account a, HttpRequest r, HttpResponse.BodyHandler<T> handler, String what) {
            try {
                return client(a).send(r, handler);
            } catch (HttpTimeoutException e) {
                throw ApiException.timeout(what, r.timeout().map(Duration::toMillis).orElse(0L));
            } catch (IOException e) {
                throw new ApiException(502, "server_error", "upstream_unreachable", null, "Cannot reach Qwen at "
                        + cfg.baseUrl() + " (" + what + "): " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw ApiException.shuttingDown();
            }
        }


        /**
         * GET /api/models (§3.1), and GET /api/v2/models/ (§3.2) if that route is gone: both are in use by
         * peers in 2026, and the older one is the likelier to be retired. {"data":[...]} or {"success":true,"data":{"data":[...]}}.
         */
        List<Model> fetchModels(long timeoutMs, Account a) {
            Answer r = call("model list", a, null, timeoutMs, null, "models", "models_v2");
            if (!r.ok()) throw r.failure();
            Object data = r.json().get("data");
            if (data instanceof Map<?, ?> inner) data = inner.get("data");
            if (!(data instanceof List<?> items)) throw new ApiException(502, "server_error", "upstream_error", null, "Unexpected model list shape from Qwen.");
            List<Model> models = new ArrayList<>();
            for (Object o : items) {
                Map<String, Object> m = Json.asObject(o), info = Json.obj(m, "info");
                if (m == null) continue;
                String id = Json.str(m, "id") != null ? Json.str(m, "id") : Json.str(info, "id");
                if (id == null || (info != null && Boolean.FALSE.equals(info.get("is_active")))) continue;
                Map<String, Object> meta = Json.obj(info, "meta");
                boolean thinking = truthy(get(meta, "abilities", "thinking")) || truthy(get(meta, "capabilities", "thinking"));
                boolean always = Boolean.FALSE.equals(get(meta, "think_skip", "enable"));
                String name = Json.str(m, "name") != null ? Json.str(m, "name") : Json.str(info, "name");
                long created = Json.longValue(info != null ? info.get("created_at") : null, Json.longValue(m.get("created"), 0));
                Set<String> abilities = new LinkedHashSet<>();     // §3.3: what it reads besides text (null: unknown)
                for (String k : List.of("vision", "document", "video", "audio"))
                    if (truthy(get(meta, "capabilities", k)) || truthy(get(meta, "abilities", k))) abilities.add(k);
                Set<String> types = null;
                if (meta != null && meta.get("chat_type") instanceof List<?> ct) {
                    types = new LinkedHashSet<>();
                    for (Object t : ct) types.add(String.valueOf(t));
                }
                models.add(new Model(id, name, created, thinking || always, always, meta == null ? null : Set.copyOf(abilities),
                        types == null ? null : Set.copyOf(types)));
            }
            return models;
        }

        /** An uploaded file, as a completion references it (§10.4). kind: image, video, audio or file. */
        record FileRef(String id, String url, String name, long size, String mime, String kind) {
            /** The web client's messages[0].files[] entry (§10.4; C2A and G4F agree on the field names). */
            Map<String, Object> entry() {
                long now = System.currentTimeMillis();
                String showType = kind, fileClass = kind.equals("image") ? "vision" : kind.equals("file") ? "document" : kind;
                Map<String, Object> file = orderedObject("created_at", now, "data", Map.of(), "filename", name, "hash", Json.NULL,
                        "id", id, "user_id", "", "meta", orderedObject("name", name, "size", size, "content_type", mime), "update_at", now);
                return orderedObject("type", kind, "file", file, "id", id, "url", url, "name", name, "collection_name", "",
                        "progress", 0, "status", "uploaded", "greenNet", "success", "size", size, "error", "",
                        "itemId", uuid(), "file_type", mime, "showType", showType, "file_class", fileClass,
                        "uploadTaskId", uuid());
            }
        }

        private record Uploaded(FileRef file, long until) {}
        private final Map<String, Uploaded> uploads = new ConcurrentHashMap<>();   // account + sha256 of the bytes

        /**
         * Bytes -> a file the upstream can reference (§10): an STS credential (§10.1), a PUT to
         * Alibaba OSS signed by hand (§10.2), and for documents Qwen's parse, polled until done
         * (§10.3). The same bytes for the same account are uploaded once per UPLOAD_CACHE_MS.
         */
        FileRef upload(Account a, String name, String mime, byte[] data, boolean document, String rid) {
            String key = a.id + "/" + sha256(data);
            long now = System.currentTimeMillis();
            Uploaded hit = uploads.get(key);
            if (hit != null && hit.until() > now) {         // the same bytes: the stored object, under this name
                Log.debug(rid, "upload: " + name + " is already there");
                return new FileRef(hit.file().id(), hit.file().url(), name, data.length, mime, hit.file().kind());
            }
            String kind = document ? "file" : mime.startsWith("image/") ? "image" : mime.startsWith("video/") ? "video"
                    : mime.startsWith("audio/") ? "audio" : "file";
            Map<String, Object> ask = orderedObject("filename", name, "filesize", data.length, "filetype", kind.equals("file") ? "document" : kind);
            String fileId, url;
            try {
                Answer r = call("upload credential", a, rid, shortTimeout(), ask, "sts", "sts_v1");
                Map<String, Object> sts = r.data() != null ? r.data() : r.json();
                if (!r.ok() || Json.str(sts, "access_key_secret") == null) throw r.failure();
                fileId = firstString(Json.str(sts, "file_id"), uuid());
                url = Json.str(sts, "file_url");
                putToOss(a, sts, mime, data, rid);
                if (document) parse(a, fileId, rid);
                metrics.count(1, "qwenproxy_uploads_total", "to", "qwen", "result", "ok");
            } catch (ApiException e) {
                metrics.count(1, "qwenproxy_uploads_total", "to", "qwen", "result", "failed");
                throw e;
            }
            FileRef f = new FileRef(fileId, url == null ? "" : url, name, data.length, mime, kind);
            uploads.values().removeIf(u -> u.until() <= now);
            if (uploads.size() < 256) uploads.put(key, new Uploaded(f, now + UPLOAD_CACHE_MS));
            Log.info(rid, "uploaded " + name + " (" + data.length / 1024 + " KiB) as file " + fileId);
            return f;
        }

        /**
         * §10.2: PUT the bytes to the STS credential's object, signed OSS4-HMAC-SHA256 as the web
         * client's SDK does: unsigned payload; content-type and the x-oss-* headers signed; the
         * canonical path is /bucket/key; the scope's region without its "oss-" prefix. The target
         * is file_url without its query (or bucket.endpoint).
         */
        private void putToOss(Account a, Map<String, Object> sts, String mime, byte[] data, String rid) {
            String key = firstString(Json.str(sts, "file_path"), ""), bucket = firstString(Json.str(sts, "bucketname"), "");
            String region = firstString(Json.str(sts, "region"), "cn-hangzhou").replaceFirst("^oss-", "");
            String fileUrl = Json.str(sts, "file_url"), endpoint = firstString(Json.str(sts, "endpoint"), Json.str(sts, "region") + ".aliyuncs.com");
            String target = fileUrl != null && fileUrl.startsWith("http") ? fileUrl.replaceFirst("[?#].*$", "")
                    : "https://" + (endpoint.startsWith(bucket + ".") ? endpoint : bucket + "." + endpoint.replaceFirst("^https?://", "")) + ossPath(key);
            ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
            String date = now.format(DateTimeFormatter.ofPattern("yyyyMMdd")), stamp = now.format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'"));
            Map<String, String> signed = new TreeMap<>(Map.of("content-type", mime, "x-oss-content-sha256", "UNSIGNED-PAYLOAD",
                    "x-oss-date", stamp));
            if (Json.str(sts, "security_token") != null) signed.put("x-oss-security-token", Json.str(sts, "security_token"));
            String authorization = ossAuthorization("PUT", "/" + bucket + ossPath(key), signed, Json.str(sts, "access_key_id"),
                    Json.str(sts, "access_key_secret"), date, stamp, region);
            HttpRequest.Builder put = HttpRequest.newBuilder(URI.create(target)).timeout(Duration.ofMillis(Math.min(cfg.requestTimeoutMs(), 60_000)))
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).header("Authorization", authorization);
            signed.forEach(put::header);
            HttpResponse<byte[]> r = send(a, put.build(), BYTES, "file upload");
            if (r.statusCode() / 100 != 2) throw new ApiException(502, "server_error", "upload_failed", null, "Qwen's file storage refused the upload: HTTP "
                    + r.statusCode() + " " + abbreviate(new String(r.body(), StandardCharsets.UTF_8)));
            Log.debug(rid, "upload: stored " + key);
        }

        static String ossPath(String key) {
            String k = key.startsWith("/") ? key : "/" + key;
            return URLEncoder.encode(k, StandardCharsets.UTF_8).replace("+", "%20").replace("%2F", "/").replace("%7E", "~").replace("*", "%2A");
        }

        /** The OSS V4 Authorization header: HMAC-SHA256 over the canonical request, key derived per day and region. */
        static String ossAuthorization(String method, String canonicalPath, Map<String, String> signedHeaders, String accessKey,
                                       String secret, String date, String stamp, String region) {
            StringBuilder canonical = new StringBuilder(method).append('\n').append(canonicalPath).append("\n\n");
            signedHeaders.forEach((k, v) -> canonical.append(k).append(':').append(v.trim()).append('\n'));
            canonical.append("\n\nUNSIGNED-PAYLOAD");
            String scope = date + "/" + region + "/oss/aliyun_v4_request";
            String toSign = "OSS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + sha256(canonical.toString());
            byte[] k = hmac(("aliyun_v4" + secret).getBytes(StandardCharsets.UTF_8), date);
            for (String part : List.of(region, "oss", "aliyun_v4_request")) k = hmac(k, part);
            return "OSS4-HMAC-SHA256 Credential=" + accessKey + "/" + scope + ",Signature=" + hex(hmac(k, toSign));
        }

        static byte[] hmac(byte[] key, String data) {
            try {
                javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
                mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
                return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);     // HmacSHA256 is in every JDK
            }
        }

        /**
         * §10.3: documents are parsed by Qwen before a completion may reference them. Asked every
         * 0.25 s at first, then every PARSE_POLL_MS, until a status says success or failure.
         */
        private void parse(Account a, String fileId, String rid) {
            long deadline = System.currentTimeMillis() + cfg.requestTimeoutMs();
            Answer r = call("document parse", a, rid, shortTimeout(), Map.of("file_id", fileId), "parse");
            if (!r.ok()) throw r.failure();
            for (long wait = 250; ; wait = Math.min(PARSE_POLL_MS, wait * 2)) {
                r = call("parse status", a, rid, shortTimeout(), Map.of("file_id_list", List.of(fileId)), "parse_status");
                if (!r.ok()) throw r.failure();
                String status = parseStatus(r.json(), fileId).toLowerCase(Locale.ROOT);
                if (Set.of("success", "finished", "done", "parsed", "completed").contains(status)) return;
                if (Set.of("failed", "error", "fail").contains(status))
                    throw new ApiException(502, "server_error", "upload_failed", null, "Qwen could not parse the uploaded document (status " + status + ").");
                if (System.currentTimeMillis() + wait > deadline) throw ApiException.timeout("document parse", cfg.requestTimeoutMs());
                try {
                    Thread.sleep(wait);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw ApiException.shuttingDown();
                }
            }
        }

        /** The status in any of the shapes seen (§10.3): data[id], data[0], data, [id] or the top level; "" if none. */
        static String parseStatus(Map<String, Object> env, String fileId) {
            Object data = env.get("data");
            List<Object> places = new ArrayList<>();
            if (data instanceof Map<?, ?> m) { places.add(m.get(fileId)); places.add(m); }
            if (data instanceof List<?> l && !l.isEmpty()) places.add(l.get(0));
            places.add(env.get(fileId));
            places.add(env);
            for (Object p : places) {
                Map<String, Object> o = Json.asObject(p);
                if (o != null && Json.str(o, "status") != null) return Json.str(o, "status");
            }
            return "";
        }

        /**
         * A client's media URL, fetched for upload: at most --media-max-bytes, 3 redirects, each hop's
         * address checked (loopback, private, link-local and multicast ones are refused unless
         * --allow-private-urls: the proxy must not be a way into the user's network). Any failure is
         * the client's 400 (invalid_image_url), never an upstream error.
         */
        Media fetch(Media m, String rid) {
            Object[] got = get(m.url(), m.kind().equals("image") ? "invalid_image_url" : "invalid_url", !cfg.allowPrivateUrls(), rid);
            return m.with((byte[]) got[0], (String) got[1]);
        }

        /** A URL's bytes and content type; `guard`: refuse private addresses (client URLs; Qwen's own are trusted). */
        Object[] get(String url, String code, boolean guard, String rid) {
            URI u = null;
            try {
                u = URI.create(url.replace(" ", "%20"));
                for (int hop = 0; hop <= 3; hop++) {
                    if (u.getHost() == null || !List.of("http", "https").contains(String.valueOf(u.getScheme()).toLowerCase(Locale.ROOT)))
                        throw ApiException.invalid("messages", code, "Cannot fetch " + u + ": only http(s) URLs are fetched.");
                    if (guard) for (InetAddress ia : InetAddress.getAllByName(u.getHost()))
                        if (ia.isLoopbackAddress() || ia.isSiteLocalAddress() || ia.isLinkLocalAddress() || ia.isAnyLocalAddress()
                                || ia.isMulticastAddress() || (ia.getAddress().length == 16 && (ia.getAddress()[0] & 0xfe) == 0xfc))
                            throw ApiException.invalid("messages", code, "Refused to fetch " + u + ": it is on a private or local address ("
                                    + ia.getHostAddress() + "); --allow-private-urls permits that.");
                    HttpResponse<InputStream> r = via(null).send(HttpRequest.newBuilder(u).timeout(Duration.ofMillis(shortTimeout()))
                            .header("User-Agent", headers.getOrDefault("User-Agent", NAME)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
                    try (InputStream in = r.body()) {
                        Optional<String> to = r.headers().firstValue("Location");
                        if (r.statusCode() / 100 == 3 && to.isPresent()) { u = u.resolve(to.get().replace(" ", "%20")); continue; }
                        if (r.statusCode() != 200) throw ApiException.invalid("messages", code, "Fetching " + u + " answered HTTP " + r.statusCode() + ".");
                        byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, cfg.mediaMaxBytes() + 1));
                        if (b.length > cfg.mediaMaxBytes()) throw new ApiException(413, "invalid_request_error", "request_too_large", "messages",
                                u + " is larger than " + cfg.mediaMaxBytes() + " bytes (--media-max-bytes).");
                        Log.debug(rid, "fetched " + b.length + " bytes from " + u);
                        return new Object[] {b, r.headers().firstValue("Content-Type").orElse(null)};
                    }
                }
                throw ApiException.invalid("messages", code, "Fetching " + url + " was redirected more than 3 times.");
            } catch (IOException | IllegalArgumentException e) {
                throw ApiException.invalid("messages", code, "Cannot fetch " + (u == null ? url : u) + ": " + e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : " " + e.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw ApiException.shuttingDown();
            }
        }

        /** GET /api/v1/auths/ (§13): who the token belongs to; a rejected token is a 401 ApiException. */
        Map<String, Object> whoami(Account a, String rid) {
            Answer r = call("who am I", a, rid, shortTimeout(), null, "whoami");
            Map<String, Object> me = r.data() != null && Boolean.TRUE.equals(r.json().get("success")) ? r.data() : r.json();
            if (r.status() == 200 && me != null && (Json.str(me, "id") != null || Json.str(me, "email") != null)) return me;
            // here a 401 or 403 that is no firewall page can only mean the token ("Not authenticated")
            if ((r.status() == 401 || r.status() == 403) && !ApiException.looksBlocked(r.text())) throw ApiException.tokenExpired();
            throw r.failure();
        }

        /** The §4 body of the current web client; timestamp in milliseconds. */
        static Map<String, Object> newChatBody(String model, String chatType) {
            return orderedObject("chatId", "", "models", List.of(model), "project_id", "",
                    "timestamp", System.currentTimeMillis(), "chat_type", chatType, "chat_mode", "normal");
        }

        /** POST /api/v2/chats/new (§4) -> the chat id. */
        String createChat(Account a, String model, String chatType, String rid) {
            Answer r = call("new chat", a, rid, cfg.requestTimeoutMs(), newChatBody(model, chatType), "new_chat");
            String id = Json.str(r.data(), "id");
            if (r.ok() && Boolean.TRUE.equals(r.json().get("success")) && id != null) return id;
            throw r.failure();
        }

        /** POST /api/v2/chat/completions?chat_id= (§5) -> the open SSE stream; anything else is an error (§7.1). */
        Reply complete(Account a, String chatId, String body, String rid) {
            HttpRequest req = request("completions", "?chat_id=" + URLEncoder.encode(chatId, StandardCharsets.UTF_8),
                    chatId, rid, cfg.requestTimeoutMs(), a).POST(HttpRequest.BodyPublishers.ofString(body)).build();
            // a 200 event stream is pushed through a Reply as it arrives; anything else is read whole
            long t0 = System.nanoTime();
            HttpResponse<Object> r = send(a, req, info -> {
                metrics.observe((System.nanoTime() - t0) / 1e9, "qwenproxy_upstream_latency_seconds", "backend", "web");
                String type = info.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT);
                String enc = encoding(info.headers());
                if (info.statusCode() == 200 && type.contains("event-stream") && info.headers().firstValue("bxpunish").isEmpty()
                        && (enc.equals("identity") || enc.equals("gzip"))) return new Reply(enc.equals("gzip"));
                return HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofByteArray(), b -> (Object) b);
            }, "completion");
            if (r.body() instanceof Reply reply) return reply;
            byte[] b = decode(r.headers(), (byte[]) r.body());
            // some gateways drop the content type; a body of data: lines is still a stream
            if (r.statusCode() == 200 && new String(b, 0, Math.min(b.length, 64), StandardCharsets.UTF_8).stripLeading().startsWith("data:"))
                return Reply.of(b);
            throw failure(r, b);
        }

        /** t2v (§10.5): the completion (stream false) answers JSON whose first message carries extra.wanx.task_id. */
        String startVideo(Account a, String chatId, String body, String rid) {
            Answer r = call(a, request("completions", "?chat_id=" + URLEncoder.encode(chatId, StandardCharsets.UTF_8), chatId, rid, cfg.requestTimeoutMs(), a)
                    .POST(HttpRequest.BodyPublishers.ofString(body)), "video task");
            Object messages = r.data() == null ? null : r.data().get("messages");
            String task = messages instanceof List<?> l && !l.isEmpty() ? Json.str(Json.obj(Json.obj(Json.asObject(l.get(0)), "extra"), "wanx"), "task_id") : null;
            if (r.ok() && task != null) return task;
            throw r.failure();
        }

        /** GET .../task/status/<id> (v2, then v1 on 404/405): null while the task runs, its video URL once done; a failed task is a 502. */
        String videoStatus(Account a, String task, String rid) {
            Answer r = null;
            for (String p : List.of("task_status", "task_status_v1")) {
                r = call(a, request(p, URLEncoder.encode(task, StandardCharsets.UTF_8), null, rid, shortTimeout(), a).GET(), "video status");
                if (r.status() != 404 && r.status() != 405) break;
            }
            Map<String, Object> st = r.data() != null ? r.data() : r.json();
            if (!r.ok()) throw r.failure();
            String status = String.valueOf(st.get("task_status")).toLowerCase(Locale.ROOT), url = firstString(Json.str(st, "content"), Json.str(st, "url"));
            if ((status.equals("success") || status.equals("completed")) && url != null) return url;
            if (Set.of("failed", "fail", "error", "success", "completed").contains(status))
                throw new ApiException(502, "server_error", "upstream_error", null, "Qwen could not generate the video (task " + task + ": " + status
                        + (Json.str(st, "message") == null ? "" : ", " + Json.str(st, "message")) + ").");
            return null;
        }

        /** DELETE /api/v2/chats/<id> (§8); runs in the background, failures are only logged. */
        void deleteChat(Account a, String chatId, String rid) {
            try {
                Answer r = call(a, request("chat", URLEncoder.encode(chatId, StandardCharsets.UTF_8), chatId, rid, shortTimeout(), a).DELETE(), "delete chat");
                if (r.status() / 100 == 2 || r.status() == 404) Log.debug(rid, "deleted upstream chat " + chatId);
                else Log.warn(rid, "could not delete upstream chat " + chatId + ": HTTP " + r.status() + " " + abbreviate(r.text()));
            } catch (ApiException e) {
                Log.warn(rid, "could not delete upstream chat " + chatId + ": " + e.getMessage());
            }
        }

        /**
         * GET <auth base>/api/v2/auths/refresh with the refresh_token cookie (§2.2, verified against the
         * 2026-09 web bundle): a new access token, and maybe a rotated refresh token (body or Set-Cookie).
         */
        Tokens refresh(Account a, String refreshToken, String rid) {
            Answer r = call(a, request(cfg.authBaseUrl(), "refresh", "", null, rid, shortTimeout(), "", "refresh_token=" + refreshToken)
                    .setHeader("x-request-origin", cfg.baseUrl()), "token refresh");    // without that header: "Missing origin" (§2.2)
            Map<String, Object> env = r.json(), data = r.data();
            String access = firstString(Json.str(data, "access_token"), Json.str(data, "token"), Json.str(env, "access_token"));
            if (r.ok() && access != null) {
                long exp = jwtExpiry(access);
                if (exp == 0) exp = Json.longValue(data == null ? null : data.get("expires_at"), 0) * 1000;
                return new Tokens(access, firstString(Json.str(data, "refresh_token"), setCookie(r.r(), "refresh_token")), exp);
            }
            if (ApiException.looksBlocked(r.text())) throw ApiException.blocked();
            String code = firstString(Json.str(data, "code"), Json.str(env, "code"), "HTTP " + r.status());
            String details = firstString(Json.str(data, "details"), Json.str(data, "message"), Json.str(env, "detail"), Json.str(env, "message"), "");
            if (r.status() == 401 || r.status() == 403 || Boolean.FALSE.equals(env == null ? null : env.get("success")))
                throw new ApiException(401, "authentication_error", "refresh_token_invalid", null,
                        "Qwen refused the refresh token (" + code + (details.isEmpty() ? "" : ": " + details) + "); sign in again and pass a new one.");
            throw r.failure();
        }

        /** A cookie the upstream sets (a rotated refresh_token, §2.2), or null. */
        static String setCookie(HttpResponse<?> r, String name) {
            for (String c : r.headers().allValues("set-cookie")) {
                if (!c.startsWith(name + "=")) continue;
                int end = c.indexOf(';');
                String v = c.substring(name.length() + 1, end < 0 ? c.length() : end);
                return v.isEmpty() ? null : v;
            }
            return null;
        }

        /** POST /api/v2/auths/signin {email, password: sha256 hex}, falling back to v1 on 404/405 (§2.2). */
        Tokens signIn(Account a, String rid) {
            String email = a.email;
            Answer r = call("sign-in", null, a, rid, shortTimeout(), orderedObject("email", email, "password", a.passwordHash), "signin", "signin_v1");
            Map<String, Object> env = r.json(), data = r.data();
            String token = firstString(Json.str(data, "token"), Json.str(Json.obj(data, "user"), "token"), Json.str(env, "token"));
            if (r.status() == 200 && token != null) return new Tokens(token, setCookie(r.r(), "refresh_token"), jwtExpiry(token));
            if (ApiException.looksBlocked(r.text())) throw ApiException.blocked();
            if (r.status() / 100 == 4 || (env != null && Boolean.FALSE.equals(env.get("success"))))
                throw new ApiException(401, "authentication_error", "sign_in_failed", null, "Qwen refused the sign-in for " + email
                        + ": " + firstString(Json.str(env, "detail"), Json.str(data, "details"), Json.str(data, "code"), "HTTP " + r.status()));
            throw r.failure();
        }

        /** A non-stream answer that is not a success: WAF page, envelope, or HTTP status (§7). */
        static ApiException failure(HttpResponse<?> r, byte[] body) {
            int status = r.statusCode();
            String text = new String(body, StandardCharsets.UTF_8);
            if (ApiException.looksBlocked(text) || r.headers().firstValue("bxpunish").isPresent()) return ApiException.blocked();
            Map<String, Object> env = Json.asObject(parseOrNull(body));
            if (env != null && (Boolean.FALSE.equals(env.get("success")) || env.containsKey("code") || env.containsKey("ret")
                    || Json.obj(env, "data") != null && Json.obj(env, "data").containsKey("code"))) {
                ApiException e = ApiException.envelopeError(env);
                r.headers().firstValue("Retry-After").ifPresent(v -> { if (e.kind == ApiException.Kind.RATE_LIMIT) e.retryAfter(Json.longValue(new Json.Num(v.trim()), e.retryAfterS)); });
                return e;
            }
            String detail = env != null && Json.str(env, "detail") != null ? Json.str(env, "detail") : abbreviate(text);
            if (status == 401 || (status == 403 && detail.toLowerCase(Locale.ROOT).contains("token"))) return ApiException.tokenExpired();
            if (status == 403) return ApiException.blocked();
            if (status == 429) return ApiException.rateLimited("HTTP 429 " + detail, r.headers().firstValue("Retry-After")
                    .map(v -> Json.longValue(new Json.Num(v.trim()), DEFAULT_RETRY_AFTER_S)).orElse(DEFAULT_RETRY_AFTER_S));
            if (status == 504) return new ApiException(504, "server_error", "upstream_timeout", null, "Qwen's gateway timed out (HTTP 504).");
            if (status == 404) return new ApiException(502, "server_error", "upstream_error", null, "Qwen answered 404 for "
                    + r.request().uri().getPath() + "; the upstream path may have changed (--upstream-path).");
            String what = status == 200 ? "an unexpected " + r.headers().firstValue("Content-Type").orElse("untyped") + " reply" : "HTTP " + status;
            return new ApiException(502, "server_error", "upstream_error", null, "Qwen answered with " + what + ": " + detail);
        }

        static final HttpResponse.BodyHandler<byte[]> BYTES = HttpResponse.BodyHandlers.ofByteArray();

        static String encoding(HttpHeaders h) {
            return h.firstValue("Content-Encoding").orElse("identity").trim().toLowerCase(Locale.ROOT).replace("x-gzip", "gzip");
        }

        /** A whole body, inflated if Qwen gzipped it (we ask for gzip only; br cannot be decoded by the JDK). */
        static byte[] decode(HttpHeaders h, byte[] b) {
            String enc = encoding(h);
            if (enc.equals("identity") || enc.isEmpty() || b.length == 0) return b;
            if (!enc.equals("gzip")) throw new ApiException(502, "server_error", "upstream_error", null, "Qwen sent Content-Encoding '"
                    + enc + "', which the JDK cannot decode; do not override Accept-Encoding.");
            try {
                return new Gunzip().feed(b, 0, b.length);
            } catch (IOException e) {
                throw new ApiException(502, "server_error", "upstream_error", null, "Broken compressed reply from Qwen: " + e.getMessage());
            }
        }

        /** A JSON exchange's answer: the response, its decoded body, and the body as a JSON object (null if it is none). */
        record Answer(HttpResponse<byte[]> r, byte[] body, Map<String, Object> json) {
            int status() { return r.statusCode(); }
            String text() { return new String(body, StandardCharsets.UTF_8); }
            Map<String, Object> data() { return Json.obj(json, "data"); }
            /** 200 with a JSON object that does not say "success": false. */
            boolean ok() { return status() == 200 && json != null && !Boolean.FALSE.equals(json.get("success")); }
            ApiException failure() { return Upstream.failure(r, body); }
        }

        Answer call(Account via, HttpRequest.Builder req, String what) {
            HttpResponse<byte[]> r = send(via, req.build(), BYTES, what);
            byte[] b = decode(r.headers(), r.body());
            return new Answer(r, b, Json.asObject(parseOrNull(b)));
        }

        /** GET (body null) or POST JSON to the first of `paths` that exists: a v2 route, else its v1 fallback on 404/405. */
        Answer call(String what, Account a, String rid, long timeoutMs, Object body, String... paths) {
            return call(what, a, a, rid, timeoutMs, body, paths);
        }

        /** The same with a's token (a may be null: none), leaving through via's egress. */
        Answer call(String what, Account a, Account via, String rid, long timeoutMs, Object body, String... paths) {
            Answer r = null;
            for (String p : paths) {
                HttpRequest.Builder b = request(p, "", null, rid, timeoutMs, a);
                r = call(via, body == null ? b.GET() : b.POST(HttpRequest.BodyPublishers.ofString(Json.write(body))), what);
                if (r.status() != 404 && r.status() != 405) break;
            }
            return r;
        }

        private long shortTimeout() { return Math.min(cfg.requestTimeoutMs(), 30_000); }

        static Object parseOrNull(byte[] b) {
            try {
                return Json.parse(new String(b, StandardCharsets.UTF_8));
            } catch (Json.ParseError e) {
                return null;
            }
        }

        private static boolean truthy(Object v) {
            return Boolean.TRUE.equals(v) || Json.longValue(v, 0) > 0;
        }

        private static Object get(Map<String, Object> m, String a, String b) {
            Map<String, Object> inner = Json.obj(m, a);
            return inner == null ? null : inner.get(b);
        }
    }

    /**
     * Warm chats: every completion needs a chat the server created (§4), a full round trip before
     * the answer can start. The pool keeps up to --chat-pool chats per (account, model) created
     * ahead, refilled in the background after each use, so a request goes straight to the
     * completion. A pooled chat serves one request (and is deleted after it, as every chat is);
     * one older than maxAgeMs is deleted instead of used. The pool is written to warm-chats.json in
     * the data directory (within a second of a change): stop() deletes the chats, and a start after
     * a crash deletes what the last run left.
     */
    static final class ChatPool {
        static volatile long maxAgeMs = 600_000;     // the upstream keeps empty chats longer; tests shorten it
        record Warm(Account account, String chatId, long createdAt) {}
        /** A chat for one request; warm: made ahead (the upstream may have dropped it since). */
        record Chat(String id, boolean warm) {}

        private final int size;
        private final Upstream upstream;
        private final ExecutorService background;
        private final Path file;
        private final Map<String, Pool> pools = new ConcurrentHashMap<>();     // per account and model

        /** The chats ready for one account and model, and how many are being made. */
        private static final class Pool {
            final Deque<Warm> ready = new ConcurrentLinkedDeque<>();
            final AtomicInteger making = new AtomicInteger();
        }

        ChatPool(int size, Upstream upstream, ExecutorService background, String dataDir) {
            this.size = size;
            this.upstream = upstream;
            this.background = background;
            this.file = Path.of(dataDir, "warm-chats.json");
        }

        /** A chat for this request: a warm one if there is one, else one created now. */
        Chat take(Account a, String model, String chatType, String rid) {
            if (size == 0) return new Chat(upstream.createChat(a, model, chatType, rid), false);
            Pool p = pools.computeIfAbsent(a.id + "\n" + model + "\n" + chatType, k -> new Pool());
            long now = System.currentTimeMillis();
            Warm w;
            while ((w = p.ready.pollFirst()) != null && now - w.createdAt() > maxAgeMs) delete(w, rid);
            String id = w != null ? w.chatId() : upstream.createChat(a, model, chatType, rid);   // the account works: warm more
            refill(a, model, chatType, p);
            if (w != null) {
                dirty = true;
                Log.debug(rid, "warm chat " + id);
            }
            return new Chat(id, w != null);
        }

        private volatile boolean closed;

        private void refill(Account a, String model, String chatType, Pool p) {
            while (!closed && p.ready.size() + p.making.get() < size) {
                p.making.incrementAndGet();
                try {
                    background.execute(() -> {
                        try {
                            p.ready.addLast(new Warm(a, upstream.createChat(a, model, chatType, null), System.currentTimeMillis()));
                            dirty = true;
                        } catch (RuntimeException e) {
                            Log.debug(null, "warm chat for " + a.id + " not made: " + e.getMessage());
                        } finally {
                            p.making.decrementAndGet();
                        }
                    });
                } catch (RuntimeException e) {      // shutting down
                    p.making.decrementAndGet();
                    return;
                }
            }
        }

        private void delete(Warm w, String rid) {
            background.execute(() -> upstream.deleteChat(w.account(), w.chatId(), rid));
        }

        private volatile boolean dirty;

        /** The timer's job, every second: the record follows the pool without a disk write per request. */
        void flush() {
            if (!dirty) return;
            dirty = false;
            save();
        }

        /** The chats waiting now, for the next start to delete if this run does not. */
        private synchronized void save() {
            List<Object> out = new ArrayList<>();
            for (Pool p : pools.values())
                for (Warm w : p.ready) out.add(orderedObject("account", w.account().id, "upstream", w.account().upstreamKey, "chat_id", w.chatId()));
            if (out.isEmpty() && !Files.exists(file)) return;     // nothing to record, nothing recorded
            try {
                Store.writePrivate(file, (Json.write(orderedObject("chats", out)) + "\n").getBytes(StandardCharsets.UTF_8));
            } catch (IOException | RuntimeException e) {
                Log.warn(null, "could not record the warm chats in " + file + ": " + e.getMessage());
            }
        }

        /** At stop: delete every waiting chat (bounded), and the record of them. */
        void drain(long timeoutMs) {
            closed = true;                 // no more refills; the ones under way finish first, so their chats are deleted too
            long end = System.currentTimeMillis() + timeoutMs;
            while (pools.values().stream().anyMatch(p -> p.making.get() > 0) && System.currentTimeMillis() < end) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            List<Warm> all = new ArrayList<>();
            for (Pool p : pools.values()) for (Warm w; (w = p.ready.pollFirst()) != null; ) all.add(w);
            deleteAll(all, timeoutMs);
            save();
        }

        /** At start: the chats a previous run left behind (it crashed), deleted in the background. */
        void sweep(Accounts accounts) {
            if (!Files.exists(file)) return;
            List<Warm> left = new ArrayList<>();
            try {
                Map<String, Object> root = Json.asObject(Json.parse(Files.readString(file)));
                if (root != null && root.get("chats") instanceof List<?> items) for (Object o : items) {
                    Map<String, Object> m = Json.asObject(o);
                    Account a = m == null ? null : accounts.find(Json.str(m, "account"));
                    if (a != null && Json.str(m, "chat_id") != null && a.upstreamKey.equals(Json.str(m, "upstream")))
                        left.add(new Warm(a, Json.str(m, "chat_id"), 0));
                }
            } catch (IOException | RuntimeException e) {
                Log.warn(null, "could not read " + file + ": " + e.getMessage());
            }
            save();
            if (!left.isEmpty()) {
                Log.info(null, "deleting " + left.size() + " warm chat(s) an earlier run left behind");
                background.execute(() -> deleteAll(left, 60_000));
            }
        }

        /** Deletes the chats side by side, waiting at most timeoutMs for all of them (a dead upstream cannot hold a stop). */
        private void deleteAll(List<Warm> chats, long timeoutMs) {
            List<Future<?>> all = new ArrayList<>();
            try {
                for (Warm w : chats) all.add(background.submit(() -> upstream.deleteChat(w.account(), w.chatId(), null)));
                long end = System.currentTimeMillis() + timeoutMs;
                for (Future<?> f : all) f.get(Math.max(1, end - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                Log.warn(null, "not every warm chat could be deleted: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * One upstream SSE stream, pushed to us by the HTTP client as it arrives: bytes are inflated
     * (gzip), split into events and translated on the client's own thread, so no thread wakes up
     * per chunk. The request thread waits in pump() for the end; the watchdog's abort() cancels
     * the subscription, which closes the upstream stream at once.
     */
    static final class Reply implements HttpResponse.BodySubscriber<Object> {
        /** Where the stream's payloads go (the translator): accept() says when the reply is complete. */
        interface Events {
            boolean accept(String data);
            void finish();
        }


        static final int TIMED_OUT = 1, CLIENT_GONE = 2;
        private final Gunzip gunzip;                 // null: the stream is not compressed
        private final SseDecoder sse = new SseDecoder();
        private final Consumer<String> onEvent = this::event;
        private final CompletableFuture<Void> done = new CompletableFuture<>();
        private volatile Flow.Subscription subscription;
        private volatile int aborted;
        private byte[] preloaded;                    // a stream that arrived without its content type
        private Events translator;
        private boolean finished;                    // the final event was seen; what follows is tail
        private int tail;
        volatile long lastActivity = System.currentTimeMillis();

        Reply(boolean gzip) { gunzip = gzip ? new Gunzip() : null; }

        static Reply of(byte[] body) {
            Reply r = new Reply(false);
            r.preloaded = body;
            return r;
        }

        @Override public CompletionStage<Object> getBody() { return CompletableFuture.completedFuture(this); }

        // nothing is requested before pump() has a translator (the upstream waits: flow control);
        // the client may subscribe before or after pump() starts, hence the lock
        @Override public void onSubscribe(Flow.Subscription s) {
            synchronized (this) {
                subscription = s;
                if (done.isDone()) s.cancel();
                else if (translator != null) s.request(1);
            }
        }

        @Override public void onNext(List<ByteBuffer> items) {
            lastActivity = System.currentTimeMillis();
            try {
                for (ByteBuffer b : items) feed(b);
            } catch (IOException | RuntimeException e) {
                subscription.cancel();
                done.completeExceptionally(e);
                return;
            }
            if (done.isDone() && !finished) subscription.cancel();          // aborted or failed
            else if (finished && ++tail > 16) subscription.cancel();       // a tail that will not end
            else subscription.request(1);    // reading Qwen's last bytes lets the connection be reused
        }

        @Override public void onError(Throwable e) { done.completeExceptionally(e); }

        @Override public void onComplete() {
            try {
                if (!finished) {
                    sse.end(onEvent);
                    if (!finished) finish();   // Qwen may just close the stream (§6.1)
                }
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            }
        }

        private void feed(ByteBuffer b) throws IOException {
            if (gunzip != null) {
                byte[] a = new byte[b.remaining()];
                b.get(a);
                b = ByteBuffer.wrap(gunzip.feed(a, 0, a.length));
            }
            if (!finished) sse.feed(b, onEvent);
        }

        private void event(String data) {
            if (finished || done.isDone()) return;
            if (Log.level == Log.DEBUG) Log.debug(null, "upstream event: " + abbreviate(data));
            if (translator.accept(data)) finish();
        }

        private void finish() {
            finished = true;
            translator.finish();
            done.complete(null);
        }

        /** On the request thread: let the stream flow through t, and wait for its end. */
        void pump(Events t, long timeoutMs) {
            synchronized (this) {
                translator = t;
                if (preloaded == null && subscription != null) subscription.request(1);
            }
            if (preloaded != null) {
                try {
                    feed(ByteBuffer.wrap(preloaded));
                    onComplete();
                } catch (IOException | RuntimeException e) {
                    done.completeExceptionally(e);
                }
            }
            try {
                done.get();
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (aborted == TIMED_OUT) throw ApiException.timeout("stream went silent", timeoutMs);
                if (cause instanceof ClientGone g) throw g;
                if (aborted == CLIENT_GONE) throw new ClientGone(cause);
                if (cause instanceof ApiException a) throw a;
                Log.warn(null, "upstream stream broke off: " + cause);       // the detail is for the log, not the client
                throw new ApiException(502, "server_error", "upstream_error", null,
                        "The connection to Qwen broke off in the middle of the reply; retry the request.");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                abort(CLIENT_GONE);
                throw ApiException.shuttingDown();
            }
        }

        /** From the watchdog: stop reading and close the upstream stream. */
        void abort(int why) {
            if (done.isDone()) return;
            aborted = why;
            Flow.Subscription s = subscription;
            if (s != null) s.cancel();
            done.completeExceptionally(new IOException(why == TIMED_OUT ? "upstream silent" : "client went away"));
        }

        /** When the request ends: an unfinished stream is cancelled (a finished one drains its tail). */
        void close() {
            Flow.Subscription s = subscription;
            if (!done.isDone() || !finished) {
                done.completeExceptionally(new IOException("closed"));
                if (s != null) s.cancel();
            }
        }
    }

    // ==== 15. qwen-code backend ====

    /**
     * The second backend (test/PROTOCOL.md §Q): the qwen-code CLI's OAuth credentials and its
     * OpenAI-compatible API. A request passes through as it came (the model mapped, the CLI's headers
     * added, a system message first, §Q5) and the reply is relayed as it arrives, flushed per read, so
     * native tools, vision and stream_options work untouched. Each credential file is an account of a
     * pool of its own (the rotation and states of the web accounts); the file stays the truth: read
     * again whenever it changes, refreshed only under the CLI's lock, written back atomically (§Q2).
     */
    static final class QwenCode {
        static final List<String> MODELS = List.of("coder-model", "vision-model");
        static final String PREFIX = "qwen-code/";       // a --model-map target with it goes here: qwen3-coder-plus=qwen-code/qwen3-coder-plus
        final Config cfg;
        final Accounts pool;
        private final ScheduledExecutorService timer;
        private final Map<String, String> headers;
        private volatile HttpClient http;

        QwenCode(Config cfg, ScheduledExecutorService timer) {
            this.cfg = cfg;
            this.timer = timer;
            headers = overridden(QWEN_CODE_HEADERS, cfg.qwenCodeHeaders());
            pool = new Accounts(cfg, this);
            for (String f : cfg.qwenCode()) {
                CredFile cf = new CredFile(f);
                Account a = new Account("qwc-" + sha256(cf.path.toString()).substring(0, 8), "qwen-code", null, null, null);
                a.creds = cf;
                pool.all.add(a);
            }
            pool.open(new Store(cfg.dataDir(), "qwen-code.json"));    // states and counters; the tokens stay in the files
            for (Account a : pool.all) a.creds.sync(a);
        }

        /** §Q1: $QWEN_HOME/oauth_creds.json, else ~/.qwen/oauth_creds.json. */
        static String defaultFile(Map<String, String> env) {
            String dir = env.get("QWEN_HOME");
            return Path.of(dir != null && !dir.isBlank() ? home(dir) : home("~/.qwen"), "oauth_creds.json").toString();
        }

        /** Whether a /v1 request for this model comes here: coder-model, vision-model, or a --model-map target "qwen-code/<id>". */
        boolean owns(String asked) {
            if (asked == null) return false;
            String m = cfg.modelMap().getOrDefault(asked.trim().toLowerCase(Locale.ROOT), asked.trim()).toLowerCase(Locale.ROOT);
            return MODELS.contains(m) || m.startsWith(PREFIX);
        }

        /** The model sent (§Q5): --model-map first, the prefix dropped, the Coding-Plan ids the API refuses as coder-model. */
        String upstreamModel(String asked) {
            if (asked == null || asked.isBlank()) return MODELS.get(0);
            String m = cfg.modelMap().getOrDefault(asked.trim().toLowerCase(Locale.ROOT), asked.trim());
            if (m.toLowerCase(Locale.ROOT).startsWith(PREFIX)) m = m.substring(PREFIX.length());
            return Set.of("qwen3.5-plus", "qwen3.6-plus").contains(m.toLowerCase(Locale.ROOT)) ? MODELS.get(0) : m;
        }

        static Map<String, Object> model(String id) { return orderedObject("id", id, "object", "model", "created", 0, "owned_by", "qwen-code"); }

        List<Object> models() {
            List<Object> l = new ArrayList<>();
            for (String m : MODELS) l.add(model(m));
            return l;
        }

        /** /cli/v1/... and /code/v1/... (Qwen2API's CLI routes): everything on this backend, whatever the model. */
        static void route(Server s, Call c, String method, String path) {
            String id;
            if (s.code == null) throw new ApiException(404, "invalid_request_error", "not_found", null, "The qwen-code backend is off: "
                    + "start the proxy with --qwen-code (the qwen-code CLI's credentials; README, 'qwen-code').");
            if (path.equals("/models")) {
                allow(method, "GET");
                sendJson(c, 200, orderedObject("object", "list", "data", s.code.models()));
            } else if (path.startsWith("/models/") && s.code.owns(id = URLDecoder.decode(path.substring(8), StandardCharsets.UTF_8))) {
                allow(method, "GET");
                sendJson(c, 200, model(id));
            } else if (path.equals("/chat/completions")) {
                allow(method, "POST");
                s.code.forward(c, method, path, readJsonObject(c, s.cfg.maxBodyBytes()));
            } else s.code.forward(c, method, path, null);
        }

        /**
         * One request on the pool: a credential per attempt; a failure about the credential (its token,
         * its quota, throttling) moves to the next while nothing has reached the client. json: a chat
         * request, mapped (§Q5); null: the client's body goes as it is.
         */
        void forward(Call c, String method, String path, Map<String, Object> json) {
            byte[] body;
            boolean stream = json != null && Boolean.TRUE.equals(json.get("stream"));
            c.backend = "qwen-code";
            if (json != null) {
                json.put("model", upstreamModel(json.get("model") instanceof String m ? m : null));
                if (json.get("messages") instanceof List<?> l && (l.isEmpty() || !"system".equals(Json.str(Json.asObject(l.get(0)), "role")))) {
                    List<Object> m = new ArrayList<>(l);       // §Q5: the API refuses a conversation without a leading system message
                    m.add(0, orderedObject("role", "system", "content", ""));
                    json.put("messages", m);
                }
                body = Json.write(json).getBytes(StandardCharsets.UTF_8);
                c.note = " backend=qwen-code model=" + json.get("model") + (stream ? " stream" : "");
                c.model = String.valueOf(json.get("model"));
            } else {
                body = method.equals("GET") || method.equals("HEAD") ? new byte[0] : readBody(c, cfg.maxBodyBytes(), "--max-body-bytes");
                c.note = " backend=qwen-code";
                c.route = "/qwen-code/other";        // any path at all: one label, not one per path
            }
            for (Account a : pool.all) a.creds.sync(a);      // a login or a refresh by the CLI is seen at once
            Account a = pool.failover("t2t", null, c.rid, e -> !c.responded, credential -> exchange(c, credential, method, path, body, stream));
            c.note += " credential=" + a.id;
        }

        /** One credential: a fresh token, the call, and after a 401/403 one forced refresh and one retry (§Q6). */
        private void exchange(Call c, Account a, String method, String path, byte[] body, boolean stream) {
            if (pool.dueForRenewal(a, System.currentTimeMillis()) && !pool.renew(a, a.accessToken, c.rid)) throw renewalFailed(a);
            for (int attempt = 0; ; attempt++) {
                String token = a.accessToken;
                HttpResponse<InputStream> r = send(c, a, token, method, path, body, stream);
                if (r.statusCode() / 100 == 2) {
                    relay(c, r);
                    return;
                }
                ApiException e = failure(r.statusCode(), r.headers(), readError(r));
                if (e.kind != ApiException.Kind.TOKEN || attempt > 0) throw e;
                Log.info(c.rid, "qwen-code answered HTTP " + r.statusCode() + " for " + a.id + "; refreshing its token and trying once more");
                if (!pool.renew(a, token, c.rid)) throw renewalFailed(a);
            }
        }

        private ApiException renewalFailed(Account a) {
            ApiException e = a.renewalError;
            return e != null ? e : new ApiException(401, "authentication_error", "qwen_code_login_required", null,
                    "The qwen-code credential " + a.id + " cannot be used: " + a.describe() + ".").kind(ApiException.Kind.TOKEN);
        }

        private HttpClient client() {
            HttpClient c = http;
            if (c == null) synchronized (this) {
                if ((c = http) == null) http = c = Upstream.egress(HttpClient.newBuilder(), cfg.upstreamProxy()).version(HttpClient.Version.HTTP_1_1)   // as the CLI's Node client
                        .connectTimeout(Duration.ofMillis(Math.min(cfg.requestTimeoutMs(), 10_000))).followRedirects(HttpClient.Redirect.NEVER).build();
            }
            return c;
        }

        /**
         * §Q5: https://<resource_url>/v1, or the default when the file has none; --qwen-code-base-url
         * wins. A bare host:port that is the OAuth server's own, or on loopback (a local server, never
         * Qwen's), takes the OAuth server's scheme or http.
         */
        static String baseUrl(String resourceUrl, String oauthBase) {
            if (resourceUrl == null || resourceUrl.isBlank()) return QWEN_CODE_DEFAULT_BASE_URL;
            String u = resourceUrl.trim();
            if (!u.regionMatches(true, 0, "http://", 0, 7) && !u.regionMatches(true, 0, "https://", 0, 8)) {
                URI o = URI.create(oauthBase), bare = URI.create("x://" + u);
                boolean local = bare.getHost() != null && (bare.getHost().equals("localhost") || bare.getHost().startsWith("127.") || bare.getHost().equals("[::1]"));
                u = (u.startsWith(o.getRawAuthority() + "/") || u.equals(o.getRawAuthority()) ? o.getScheme() : local ? "http" : "https") + "://" + u;
            }
            u = u.replaceAll("/+$", "");
            return u.endsWith("/v1") ? u : u + "/v1";
        }

        private HttpResponse<InputStream> send(Call c, Account a, String token, String method, String path, byte[] body, boolean stream) {
            String base = cfg.qwenCodeBaseUrl() != null ? cfg.qwenCodeBaseUrl() : baseUrl(a.creds.resourceUrl(), cfg.oauthBaseUrl());
            String query = c.ex.getRequestURI().getRawQuery();
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path + (query == null ? "" : "?" + query)))
                    .timeout(Duration.ofMillis(cfg.requestTimeoutMs()));       // until the headers; a stream then has the idle watchdog
            headers.forEach((k, v) -> b.setHeader(k, v.replace("{accept}", stream ? "text/event-stream" : "application/json")));
            String type = c.ex.getRequestHeaders().getFirst("Content-Type");
            if (type != null && body.length > 0) b.setHeader("Content-Type", type);
            b.setHeader("Authorization", "Bearer " + token);
            b.method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            long t0 = System.nanoTime();
            try {
                HttpResponse<InputStream> r = client().send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
                c.metrics.observe((System.nanoTime() - t0) / 1e9, "qwenproxy_upstream_latency_seconds", "backend", "qwen-code");
                return r;
            } catch (HttpTimeoutException e) {
                throw new ApiException(504, "server_error", "upstream_timeout", null, "The qwen-code API did not answer within "
                        + cfg.requestTimeoutMs() + " ms (--request-timeout-ms).");
            } catch (IOException e) {
                throw new ApiException(502, "server_error", "upstream_unreachable", null, "Cannot reach the qwen-code API at " + base + ": "
                        + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw ApiException.shuttingDown();
            }
        }

        private static String readError(HttpResponse<InputStream> r) {
            try (InputStream in = r.body()) {
                return new String(in.readNBytes(MAX_UPSTREAM_ERROR_BODY), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }

        /**
         * A success, relayed as it arrives: status, type and bytes unchanged, each read flushed. The
         * upstream is given --request-timeout-ms of silence at most; a stream that breaks after the
         * status went out ends with one SSE error event (C.5.6).
         */
        private void relay(Call c, HttpResponse<InputStream> r) {
            String type = r.headers().firstValue("Content-Type").orElse("application/json");
            boolean sse = type.startsWith("text/event-stream");
            Headers h = c.ex.getResponseHeaders();
            h.set("Content-Type", type);
            h.set("X-Request-Id", c.rid);
            r.headers().firstValue("Content-Encoding").ifPresent(v -> h.set("Content-Encoding", v));
            if (sse) {
                h.set("Cache-Control", "no-cache");
                h.set("X-Accel-Buffering", "no");
            }
            long length = sse ? -1 : r.headers().firstValueAsLong("Content-Length").orElse(-1);
            InputStream in = r.body();
            long[] lastRead = {System.currentTimeMillis()};
            AtomicBoolean idle = new AtomicBoolean();
            long period = Math.max(10, Math.min(cfg.requestTimeoutMs() / 4, 5_000));
            ScheduledFuture<?> watchdog = timer.scheduleAtFixedRate(() -> {
                if (System.currentTimeMillis() - lastRead[0] > cfg.requestTimeoutMs() && idle.compareAndSet(false, true)) {
                    try { in.close(); } catch (IOException ignored) { /* the read fails either way */ }
                }
            }, period, period, TimeUnit.MILLISECONDS);
            try (in) {
                OutputStream out = c.ex.getResponseBody();
                try {
                    c.ex.sendResponseHeaders(r.statusCode(), length == 0 ? NO_BODY : length > 0 ? length : CHUNKED);
                } catch (IOException e) {
                    throw new ClientGone(e);
                }
                c.responded = true;
                c.status = r.statusCode();
                if (sse) c.streaming();
                byte[] buf = new byte[8192], tail = new byte[4096];      // the reply's last bytes: its usage, for the metrics
                int kept = 0;
                for (int n; ; ) {
                    try {
                        if ((n = in.read(buf)) < 0) break;
                    } catch (IOException e) {
                        c.error = idle.get() ? new ApiException(504, "server_error", "upstream_timeout", null, "The qwen-code API sent nothing for "
                                + cfg.requestTimeoutMs() + " ms (--request-timeout-ms).") : new ApiException(502, "server_error", "upstream_error",
                                null, "The qwen-code API broke off the reply: " + e.getClass().getSimpleName());
                        if (sse) write(out, ("data: " + Json.write(c.error.body()) + "\n\n").getBytes(StandardCharsets.UTF_8), 0, -1);
                        c.note += " (in the stream)";
                        return;
                    }
                    lastRead[0] = System.currentTimeMillis();
                    write(out, buf, 0, n);
                    int take = Math.min(n, tail.length), keep = Math.min(kept, tail.length - take);
                    System.arraycopy(tail, kept - keep, tail, 0, keep);
                    System.arraycopy(buf, n - take, tail, keep, take);
                    kept = keep + take;
                }
                write(out, buf, 0, 0);
                if (!h.containsKey("Content-Encoding")) countUsage(c, new String(tail, 0, kept, StandardCharsets.UTF_8));
            } catch (IOException e) {
                // closing the upstream body: nothing more to do
            } finally {
                watchdog.cancel(false);
            }
        }

        /**
         * Tokens in the metrics: the last "usage" object of a reply (a chat.completion's, or a stream's
         * usage chunk, sent when the client asked for include_usage). Nothing is added to the reply.
         */
        static void countUsage(Call c, String tail) {
            int at = tail.lastIndexOf("\"usage\":");
            if (at < 0 || !(Json.parseAt(tail, at + 8) instanceof Map<?, ?> u)) return;
            String model = c.metrics.model(c.model);
            c.metrics.count(Json.longValue(u.get("prompt_tokens"), 0), "qwenproxy_tokens_total", "direction", "in", "model", model);
            c.metrics.count(Json.longValue(u.get("completion_tokens"), 0), "qwenproxy_tokens_total", "direction", "out", "model", model);
        }

        /** Writes and flushes (n < 0: all of b); a failed write means the client left. */
        private static void write(OutputStream out, byte[] b, int off, int n) {
            try {
                out.write(b, off, n < 0 ? b.length : n);
                out.flush();
            } catch (IOException e) {
                throw new ClientGone(e);
            }
        }

        /** What a non-2xx answer means (§Q6): a dead token, a quota, throttling; other errors keep their status, in OpenAI's shape. */
        static ApiException failure(int status, HttpHeaders h, String text) {
            Map<String, Object> body = Json.asObject(Upstream.parseOrNull(text.getBytes(StandardCharsets.UTF_8))), err = Json.obj(body, "error");
            String code = firstString(Json.str(err, "code"), Json.str(body, "code")), type = Json.str(err, "type");
            String message = firstString(Json.str(err, "message"), Json.str(body, "message"), Json.str(body, "error_description"),
                    Json.str(body, "error"), abbreviate(text.strip()), "HTTP " + status);
            String all = (code + " " + type + " " + message).toLowerCase(Locale.ROOT);
            if ((status == 429 || status == 403) && (all.contains("quota") || all.contains("free tier"))) {
                long untilMidnight = Duration.between(Instant.now(), LocalDate.now(ZoneOffset.UTC).plusDays(1).atStartOfDay(ZoneOffset.UTC)).toSeconds() + 1;
                return new ApiException(429, "insufficient_quota", "insufficient_quota", null, "The qwen-code credential's quota is used up (Qwen said: "
                        + sentence(message) + "). Qwen ended the free tier of the qwen-code OAuth login on 2026-04-15, so only credentials "
                        + "with a paid entitlement still work; this one is paused until 00:00 UTC. Log in with an entitled account "
                        + "(`qwen`, then /auth) or use a DashScope API key.").kind(ApiException.Kind.RATE_LIMIT).retryAfter(untilMidnight)
                        .header("x-should-retry", "false");
            }
            if (status == 401 || status == 403)
                return new ApiException(401, "authentication_error", "upstream_token_expired", null, "The qwen-code API refused the "
                        + "credential's token (" + sentence(message) + "). Log in again with the qwen-code CLI (`qwen`, then /auth).").kind(ApiException.Kind.TOKEN);
            if (status == 429)
                return ApiException.rateLimited("qwen-code throttling: " + message, h.firstValue("Retry-After")
                        .map(v -> Json.longValue(new Json.Num(v.trim()), 60)).orElse(60L));
            if (status >= 500) return new ApiException(status == 503 || status == 504 ? status : 502, "server_error",
                    status == 504 ? "upstream_timeout" : "upstream_error", null, "The qwen-code API answered HTTP " + status + ": " + message);
            return new ApiException(status, type != null ? type : "invalid_request_error", code != null ? code : "upstream_error",
                    Json.str(err, "param"), message);
        }

        // ---- the OAuth endpoints (§Q3, §Q4)

        /** A form POST to the OAuth origin; the answer with its JSON (null if the body is none, e.g. a firewall page). */
        Upstream.Answer post(String path, String... kv) { return post(client(), cfg.oauthBaseUrl() + path, headers.get("User-Agent"), kv); }

        static Upstream.Answer post(HttpClient client, String url, String agent, String... kv) {
            StringBuilder form = new StringBuilder();
            for (int i = 0; i < kv.length; i += 2)
                form.append(i == 0 ? "" : "&").append(kv[i]).append('=').append(URLEncoder.encode(kv[i + 1], StandardCharsets.UTF_8));
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/x-www-form-urlencoded").header("Accept", "application/json")
                    .header("x-request-id", uuid()).POST(HttpRequest.BodyPublishers.ofString(form.toString()));
            if (agent != null) b.header("User-Agent", agent);     // without one the firewall answers with a page (§Q3)
            try {
                HttpResponse<byte[]> r = client.send(b.build(), Upstream.BYTES);
                return new Upstream.Answer(r, r.body(), Json.asObject(Upstream.parseOrNull(r.body())));
            } catch (HttpTimeoutException e) {
                throw new ApiException(504, "server_error", "upstream_timeout", null, "qwen-code's OAuth endpoint did not answer within 30 s.");
            } catch (IOException e) {
                throw new ApiException(502, "server_error", "upstream_unreachable", null, "Cannot reach qwen-code's OAuth endpoint at "
                        + url + ": " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw ApiException.shuttingDown();
            }
        }

        /** `java QwenProxy.java qwen-code-login`: the device login (§Q4), writing a file the CLI reads too. */
        static int login(Config cfg, Map<String, String> env, PrintStream out) {
            Log.level = Math.max(Log.WARN, cfg.logLevel());
            Path file = Path.of(cfg.qwenCode().isEmpty() ? defaultFile(env) : cfg.qwenCode().get(0));
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            String agent = QWEN_CODE_HEADERS.get("User-Agent"), base = cfg.oauthBaseUrl();
            try {
                byte[] v = new byte[32];
                new java.security.SecureRandom().nextBytes(v);
                String verifier = Base64.getUrlEncoder().withoutPadding().encodeToString(v);
                String challenge = Base64.getUrlEncoder().withoutPadding().encodeToString(
                        java.security.MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
                Upstream.Answer d = post(client, base + QWEN_CODE_PATHS.get("device_code"), agent, "client_id", QWEN_CODE_CLIENT_ID,
                        "scope", QWEN_CODE_SCOPE, "code_challenge", challenge, "code_challenge_method", "S256");
                String device = Json.str(d.json(), "device_code");
                if (d.status() != 200 || device == null) {
                    out.println("qwen-code-login: the device authorization failed: " + failure(d.status(), d.r().headers(), d.text()).getMessage());
                    return Startup.SYSERR.ordinal();
                }
                out.println("Open this page, sign in to Qwen and approve the login:\n  " + firstString(Json.str(d.json(), "verification_uri_complete"),
                        Json.str(d.json(), "verification_uri")) + "\nCode: " + Json.str(d.json(), "user_code") + "\nWaiting for the approval...");
                out.flush();
                long interval = Math.max(1, Json.longValue(d.json().get("interval"), 2)) * 1000;
                long end = System.currentTimeMillis() + Math.max(60, Json.longValue(d.json().get("expires_in"), 1800)) * 1000;
                while (System.currentTimeMillis() < end) {
                    Thread.sleep(interval);
                    Upstream.Answer t = post(client, base + QWEN_CODE_PATHS.get("token"), agent, "grant_type", "urn:ietf:params:oauth:grant-type:device_code",
                            "client_id", QWEN_CODE_CLIENT_ID, "device_code", device, "code_verifier", verifier);
                    String error = Json.str(t.json(), "error"), access = Json.str(t.json(), "access_token");
                    if (t.status() == 200 && access != null && error == null) {
                        Map<String, Object> creds = orderedObject("access_token", access, "refresh_token", Json.str(t.json(), "refresh_token"),
                                "token_type", firstString(Json.str(t.json(), "token_type"), "Bearer"),
                                "resource_url", firstString(Json.str(t.json(), "resource_url"), Json.str(t.json(), "endpoint")),
                                "expiry_date", System.currentTimeMillis() + Json.longValue(t.json().get("expires_in"), 21600) * 1000);
                        creds.values().removeIf(Objects::isNull);
                        CredFile cf = new CredFile(file.toString());
                        String lock = cf.acquire();
                        try {
                            cf.write(creds);
                        } finally {
                            cf.release(lock);
                        }
                        out.println("Logged in. The credentials are in " + file + " (the qwen-code CLI reads them too).\n"
                                + "Start the proxy with: java QwenProxy.java --qwen-code" + (cfg.qwenCode().isEmpty() ? "" : "=" + file));
                        return Startup.OK.ordinal();
                    }
                    if ("authorization_pending".equals(error)) continue;
                    if ("slow_down".equals(error)) { interval = Math.min(10_000, interval * 3 / 2); continue; }
                    out.println("qwen-code-login: " + (t.status() == 401 ? "the device code expired or is invalid; run it again"
                            : "the login ended: " + failure(t.status(), t.r().headers(), t.text()).getMessage()));
                    return Startup.SYSERR.ordinal();
                }
                out.println("qwen-code-login: nobody approved the login in time; run it again.");
                return Startup.SYSERR.ordinal();
            } catch (ApiException | java.security.NoSuchAlgorithmException e) {
                out.println("qwen-code-login failed: " + e.getMessage());
                return Startup.SYSERR.ordinal();
            } catch (InterruptedException e) {
                return Startup.SYSERR.ordinal();
            }
        }
    }

    /**
     * One oauth_creds.json (§Q1) and its lock (§Q2). What was read is kept whole (key order and keys we
     * do not know), so the write-back changes only the token fields.
     */
    static final class CredFile {
        final Path path, lock;
        private Map<String, Object> data = Map.of();
        private long modified = Long.MIN_VALUE;
        private String deadRefresh;        // the refresh token the endpoint refused: the file must change before it is tried again

        CredFile(String file) {
            path = Path.of(file).toAbsolutePath();
            String n = path.getFileName().toString();
            lock = path.resolveSibling((n.endsWith(".json") ? n.substring(0, n.length() - 5) : n) + ".lock");
        }

        synchronized String resourceUrl() { return Json.str(data, "resource_url"); }

        /** Reads the file again if it changed (one stat otherwise): the account takes its tokens, or says why it cannot. */
        synchronized void sync(Account a) {
            long m;
            try {
                m = Files.getLastModifiedTime(path).toMillis();
            } catch (IOException e) {
                m = -1;
            }
            if (m == modified) return;
            modified = m;
            try {
                Map<String, Object> d = read();
                boolean fixed = !Json.str(d, "refresh_token").equals(deadRefresh);
                take(a, d);
                synchronized (a) { if (a.state == State.INVALID && fixed) a.set(State.OK, "", 0); }
            } catch (ApiException e) {
                a.set(State.INVALID, e.getMessage(), 0);
                Log.warn(null, "qwen-code credential " + a.id + ": " + e.getMessage());
            }
        }

        private void take(Account a, Map<String, Object> d) {
            data = d;
            a.take(new Tokens(Json.str(d, "access_token"), Json.str(d, "refresh_token"), Json.longValue(d.get("expiry_date"), 0)));
        }

        /** The file as qwen-code accepts it (§Q1), or a 401 saying what to do. */
        private Map<String, Object> read() {
            try {
                Map<String, Object> d = Json.asObject(Json.parse(Files.readString(path)));
                if (d == null || Json.str(d, "access_token") == null || Json.str(d, "refresh_token") == null
                        || Json.str(d, "token_type") == null || Json.longValue(d.get("expiry_date"), 0) == 0)
                    throw new IllegalArgumentException("it lacks access_token, refresh_token, token_type or expiry_date");
                Log.secrets(Json.str(d, "access_token"), Json.str(d, "refresh_token"));
                return d;
            } catch (NoSuchFileException e) {
                throw loginRequired(path + " does not exist");
            } catch (IOException | RuntimeException e) {
                throw loginRequired("cannot use " + path + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
            }
        }

        static ApiException loginRequired(String why) {
            return new ApiException(401, "authentication_error", "qwen_code_login_required", null, why + ". Log in with the qwen-code CLI "
                    + "(`qwen`, then /auth) or run `java QwenProxy.java qwen-code-login`; the proxy never deletes the file.").kind(ApiException.Kind.TOKEN);
        }

        /**
         * A new access token under the lock (§Q2): the file read again, and a token another process got
         * since `seen` failed or expired taken as it is; else the token endpoint asked (§Q3) and the
         * rotation written back before the token is used.
         */
        synchronized Tokens refresh(QwenCode qc, String seen, String rid) {
            String id = acquire();
            try {
                Map<String, Object> d = read();
                String access = Json.str(d, "access_token"), refresh = Json.str(d, "refresh_token");
                long expiry = Json.longValue(d.get("expiry_date"), 0);
                try {
                    modified = Files.getLastModifiedTime(path).toMillis();
                } catch (IOException ignored) { /* read just now */ }
                data = d;
                if (!access.equals(seen) && expiry - System.currentTimeMillis() > qc.cfg.tokenRefreshBufferMs()) {
                    Log.info(rid, "qwen-code: " + path + " holds a token renewed by another process; using it");
                    return new Tokens(access, refresh, expiry);
                }
                Upstream.Answer r = qc.post(QWEN_CODE_PATHS.get("token"), "grant_type", "refresh_token", "refresh_token", refresh,
                        "client_id", QWEN_CODE_CLIENT_ID);
                Map<String, Object> t = r.json();
                String next = Json.str(t, "access_token");
                if (r.status() == 400 || r.status() == 401) {
                    deadRefresh = refresh;
                    throw loginRequired("qwen-code's token endpoint refused the refresh token in " + path + " ("
                            + firstString(Json.str(t, "error"), "HTTP " + r.status()) + firstString(": " + Json.str(t, "error_description"), "") + ")");
                }
                if (r.status() != 200 || next == null || Json.str(t, "error") != null)
                    throw new ApiException(502, "server_error", "upstream_error", null, "qwen-code's token refresh failed: " + (t == null
                            ? "HTTP " + r.status() + " with a " + r.r().headers().firstValue("Content-Type").orElse("untyped") + " body (a firewall page?)"
                            : QwenCode.failure(r.status(), r.r().headers(), r.text()).getMessage()));
                Log.secrets(next, Json.str(t, "refresh_token"));
                long until = System.currentTimeMillis() + Json.longValue(t.get("expires_in"), 21600) * 1000;
                Map<String, Object> out = new LinkedHashMap<>(d);      // the refresh's key order for keys new to the file (§Q1)
                out.put("access_token", next);
                out.put("token_type", firstString(Json.str(t, "token_type"), Json.str(d, "token_type")));
                out.put("refresh_token", firstString(Json.str(t, "refresh_token"), refresh));
                String resource = firstString(Json.str(t, "resource_url"), Json.str(d, "resource_url"));
                if (resource != null) out.put("resource_url", resource);
                out.put("expiry_date", until);
                write(out);
                return new Tokens(next, (String) out.get("refresh_token"), until);
            } finally {
                release(id);
            }
        }

        /** JSON.stringify(creds, null, 2), written atomically, 0600 (§Q1); a symlinked file stays a link. */
        void write(Map<String, Object> d) {
            StringBuilder b = new StringBuilder("{");
            d.forEach((k, v) -> b.append(b.length() > 1 ? "," : "").append("\n  ").append(Json.write(k)).append(": ").append(Json.write(v)));
            try {
                Store.writePrivate(Files.exists(path) ? path.toRealPath() : path, b.append("\n}").toString().getBytes(StandardCharsets.UTF_8));
                modified = Files.getLastModifiedTime(path).toMillis();
                data = d;
            } catch (IOException e) {
                throw new ApiException(500, "server_error", "credentials_not_saved", null, "Cannot write " + path + ": " + e.getMessage()
                        + ". The refresh token may have rotated: log in again if the credential stops working.");
            }
        }

        /** §Q2: the CLI's lock file, made exclusively with a UUID in it; one older than 10 s is stale and broken. */
        String acquire() {
            String id = uuid();
            long wait = 100;
            for (int i = 0; i < LOCK_TRIES; i++) {
                try {
                    Store.privateDir(lock.getParent());
                    Files.write(lock, id.getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                    return id;
                } catch (FileAlreadyExistsException e) {
                    try {
                        if (System.currentTimeMillis() - Files.getLastModifiedTime(lock).toMillis() > LOCK_STALE_MS) {
                            Path aside = lock.resolveSibling(lock.getFileName() + ".stale." + uuid());
                            Files.move(lock, aside, StandardCopyOption.ATOMIC_MOVE);
                            Files.deleteIfExists(aside);
                            Log.warn(null, "qwen-code: broke the stale lock " + lock);
                            continue;
                        }
                    } catch (IOException gone) {
                        continue;          // released or broken by someone else meanwhile: try at once
                    }
                    try {
                        Thread.sleep(wait);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        throw ApiException.shuttingDown();
                    }
                    wait = Math.min(2000, wait * 3 / 2);
                } catch (IOException e) {
                    throw new ApiException(500, "server_error", "credentials_not_saved", null, "Cannot create " + lock + ": " + e.getMessage());
                }
            }
            throw new ApiException(503, "server_error", "credentials_locked", null, "Another process has held " + lock
                    + " for too long (qwen-code refreshing?); try again shortly.").retryAfter(5);
        }

        /** Deletes the lock if it is still ours (a stale-lock breaker may have taken it over). */
        void release(String id) {
            try {
                if (id.equals(Files.readString(lock, StandardCharsets.UTF_8))) Files.delete(lock);
            } catch (IOException ignored) {
                // gone already
            }
        }
    }

    // ==== 16. SSE and gzip decoding ====

    /**
     * Splits an event stream into "data:" payloads, fed bytes as they arrive (WHATWG rules: CR,
     * LF or CRLF line ends; one optional space after the colon; multi-line data joined with LF;
     * ":" comments ignored; a blank line dispatches). A bare JSON line is taken as data too: some
     * gateways drop the "data:" prefix.
     */
    static final class SseDecoder {
        private static final int MAX_LINE = 16 << 20;
        private byte[] line = new byte[512];    // the current line, across reads too; reused, so no allocation per line
        private int n;
        private boolean skipLf;     // the last line ended with CR: a following LF belongs to it
        private String data;        // the pending event: its data lines joined with LF

        void feed(byte[] b, int off, int len, Consumer<String> out) throws IOException { feed(ByteBuffer.wrap(b, off, len), out); }

        /** Bytes as they arrive, read where they are (the HTTP client's buffers are read-only: no copy of each read). */
        void feed(ByteBuffer b, Consumer<String> out) throws IOException {
            for (int i = b.position(), end = b.limit(); i < end; ) {
                if (skipLf) {
                    skipLf = false;
                    if (b.get(i) == '\n') { i++; continue; }
                }
                int start = i;
                byte c = 0;
                while (i < end && (c = b.get(i)) != '\n' && c != '\r') i++;
                if (n + i - start > line.length) {
                    if (n + i - start > MAX_LINE) throw new IOException("SSE line longer than " + MAX_LINE + " bytes");
                    line = Arrays.copyOf(line, Math.max(n + i - start, line.length * 2));
                }
                b.get(start, line, n, i - start);
                n += i - start;
                if (i == end) break;        // no line end in this read: the line goes on in the next
                skipLf = c == '\r';
                i++;
                dispatch(out);
            }
            b.position(b.limit());
        }

        /** End of stream: an unterminated last line, then the pending event, are dispatched. */
        void end(Consumer<String> out) {
            if (n > 0) dispatch(out);
            dispatch(out);
        }

        private void dispatch(Consumer<String> out) {
            byte[] b = line;
            int len = n;
            n = 0;
            if (len == 0) {
                if (data != null) {
                    String d = data;
                    data = null;
                    out.accept(d);
                }
            } else if (len >= 5 && b[0] == 'd' && b[1] == 'a' && b[2] == 't' && b[3] == 'a' && b[4] == ':') {
                int skip = len > 5 && b[5] == ' ' ? 6 : 5;
                String v = new String(b, skip, len - skip, StandardCharsets.UTF_8);
                data = data == null ? v : data + "\n" + v;
            } else if (b[0] == '{' && data == null) {
                out.accept(new String(b, 0, len, StandardCharsets.UTF_8));
            }   // ":" comments, event:, id:, retry: carry nothing this upstream uses (§6.1)
        }
    }

    /** A streaming gzip inflater (RFC 1952): header skipped, members inflated, trailer ignored. */
    static final class Gunzip {
        private final java.util.zip.Inflater inflater = new java.util.zip.Inflater(true);
        private final ByteArrayOutputStream header = new ByteArrayOutputStream();
        private final byte[] buf = new byte[16384];
        private boolean inBody, done;

        byte[] feed(byte[] b, int off, int len) throws IOException {
            if (done) return new byte[0];
            if (!inBody) {
                header.write(b, off, len);
                byte[] h = header.toByteArray();
                int start = headerLength(h);
                if (start < 0) return new byte[0];      // the header is not complete yet
                inBody = true;
                b = h;
                off = start;
                len = h.length - start;
            }
            inflater.setInput(b, off, len);
            ByteArrayOutputStream out = new ByteArrayOutputStream(len * 4);
            try {
                for (int n; (n = inflater.inflate(buf)) > 0; ) out.write(buf, 0, n);
            } catch (java.util.zip.DataFormatException e) {
                throw new IOException("bad gzip data: " + e.getMessage());
            }
            if (inflater.finished()) { done = true; inflater.end(); }   // CRC and size trailer: not needed
            return out.toByteArray();
        }

        /** Length of a complete gzip header, or -1 while it is incomplete. */
        static int headerLength(byte[] h) throws IOException {
            if (h.length < 10) return -1;
            if ((h[0] & 0xff) != 0x1f || (h[1] & 0xff) != 0x8b || h[2] != 8) throw new IOException("not gzip data");
            int flags = h[3], p = 10;
            if ((flags & 4) != 0) {                                     // FEXTRA
                if (h.length < p + 2) return -1;
                p += 2 + ((h[p] & 0xff) | (h[p + 1] & 0xff) << 8);
            }
            if ((flags & 8) != 0) { while (p < h.length && h[p] != 0) p++; p++; }   // FNAME
            if ((flags & 16) != 0) { while (p < h.length && h[p] != 0) p++; p++; }  // FCOMMENT
            if ((flags & 2) != 0) p += 2;                                            // FHCRC
            return p <= h.length ? p : -1;
        }
    }

    // ==== 17. JSON ====

    /**
     * A small JSON reader and writer. Values: LinkedHashMap, ArrayList, String, Boolean, Json.Num
     * (the number's own text, so nothing is lost on the way through), Json.NULL (JSON null, kept
     * apart from a missing key). Parsing is recursive descent with a depth cap and an offset in
     * every error. Writing escapes U+2028/2029 and lone surrogates.
     */
    static final class Json {
        static final Object NULL = new Object() {
            @Override public String toString() { return "null"; }
        };
        static final int MAX_DEPTH = 128;
        static final Pattern INTEGER = Pattern.compile("-?\\d{1,18}");

        /** A JSON number as written. */
        record Num(String text) {
            @Override public String toString() { return text; }
        }

        static final class ParseError extends RuntimeException {
            final int offset;
            ParseError(String message, int offset) {
                super(message + " at offset " + offset, null, false, false);
                this.offset = offset;
            }
        }

        /** A top-level value kept as its JSON text (parse(text, raw)): read later, or never. */
        record Raw(String text) {}

        /**
         * A parsed object: ordered and mutable as a LinkedHashMap, in one array. The upstream sends
         * a few small objects per delta; a hash table and an entry object per key were a fifth of
         * what a streamed delta allocated. Lookups compare the keys in order (the shared key strings
         * mostly match by identity); a large object gets a hash index of its own.
         */
        static final class Obj extends AbstractMap<String, Object> {
            private Object[] kv = new Object[8];
            private int n;
            private HashMap<String, Integer> index;        // beyond 16 keys

            @Override public int size() { return n; }
            @Override public Object get(Object key) { int i = find(key); return i < 0 ? null : kv[2 * i + 1]; }
            @Override public boolean containsKey(Object key) { return find(key) >= 0; }

            @Override public Object put(String key, Object value) {
                int i = find(key);
                if (i >= 0) {
                    Object old = kv[2 * i + 1];
                    kv[2 * i + 1] = value;
                    return old;
                }
                if (2 * n == kv.length) kv = Arrays.copyOf(kv, kv.length * 2);
                kv[2 * n] = key;
                kv[2 * n + 1] = value;
                if (index != null) index.put(key, n);
                else if (n == 16) {
                    index = new HashMap<>();
                    for (int k = 0; k <= n; k++) index.put((String) kv[2 * k], k);
                }
                n++;
                return null;
            }

            @Override public Object remove(Object key) {
                int i = find(key);
                if (i < 0) return null;
                Object old = kv[2 * i + 1];
                System.arraycopy(kv, 2 * i + 2, kv, 2 * i, 2 * (n - i - 1));
                n--;
                kv[2 * n] = kv[2 * n + 1] = null;
                index = null;                                  // rebuilt only if it grows past 16 again
                if (n > 16) {
                    index = new HashMap<>();
                    for (int k = 0; k < n; k++) index.put((String) kv[2 * k], k);
                }
                return old;
            }

            @Override public void clear() {
                Arrays.fill(kv, 0, 2 * n, null);
                n = 0;
                index = null;
            }

            private int find(Object key) {
                if (index != null) {
                    Integer i = index.get(key);
                    return i == null ? -1 : i;
                }
                for (int i = 0; i < n; i++) if (kv[2 * i] == key) return i;
                for (int i = 0; i < n; i++) if (kv[2 * i].equals(key)) return i;
                return -1;
            }

            @Override public Set<Entry<String, Object>> entrySet() {
                return new AbstractSet<>() {
                    @Override public int size() { return n; }

                    @Override public Iterator<Entry<String, Object>> iterator() {
                        return new Iterator<>() {
                            int next, last = -1;

                            @Override public boolean hasNext() { return next < n; }

                            @Override public Entry<String, Object> next() {
                                if (next >= n) throw new NoSuchElementException();
                                int at = last = next++;
                                return new SimpleEntry<>((String) kv[2 * at], kv[2 * at + 1]) {
                                    @Override public Object setValue(Object v) {
                                        kv[2 * at + 1] = v;
                                        return super.setValue(v);
                                    }
                                };
                            }

                            @Override public void remove() {
                                if (last < 0) throw new IllegalStateException();
                                Obj.this.remove(kv[2 * last]);
                                next = last;
                                last = -1;
                            }
                        };
                    }
                };
            }
        }

        private final String s;
        private int pos, depth;
        private Set<String> raw;       // top-level keys whose values stay text

        private Json(String s) { this.s = s; }

        static Object parse(String text) { return parse(text, null); }

        /** The same, keeping the values of the top-level keys in `raw` as Raw text (no maps built for them). */
        static Object parse(String text, Set<String> raw) {
            Json p = new Json(text);
            p.raw = raw;
            p.skipWs();
            Object v = p.value();
            p.skipWs();
            if (p.pos < text.length()) throw p.error("Unexpected '" + text.charAt(p.pos) + "' after the value");
            return v;
        }

        /** The value that begins at `pos` (anything may follow it), or null if none does. */
        static Object parseAt(String text, int pos) {
            Json p = new Json(text);
            p.pos = pos;
            try {
                p.skipWs();
                return p.value();
            } catch (ParseError e) {
                return null;
            }
        }

        private Object value() {
            if (pos >= s.length()) throw error("Unexpected end of input");
            char c = s.charAt(pos);
            return switch (c) {
                case '{' -> object();
                case '[' -> array();
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", NULL);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) yield number();
                    throw error("Expected a value but found '" + c + "'");
                }
            };
        }

        private Map<String, Object> object() {
            Map<String, Object> m = new Obj();
            if (open('}')) return m;
            do {
                skipWs();
                if (peek() != '"') throw expected("a string key");
                String key = string();
                skipWs();
                if (peek() != ':') throw expected("':'");
                pos++;
                skipWs();
                if (raw != null && depth == 1 && raw.contains(key)) {
                    int start = pos;
                    skip();
                    m.put(key, new Raw(s.substring(start, pos)));
                } else m.put(key, value());
            } while (next('}'));
            return m;
        }

        private List<Object> array() {
            List<Object> l = new ArrayList<>();
            if (open(']')) return l;
            do {
                skipWs();
                l.add(value());
            } while (next(']'));
            return l;
        }

        /** Past '{' or '['; true if the container is empty (and closed). */
        private boolean open(char close) {
            if (++depth > MAX_DEPTH) throw error("Nesting deeper than " + MAX_DEPTH + " levels");
            pos++;
            skipWs();
            if (peek() != close) return false;
            pos++;
            depth--;
            return true;
        }

        /** After a member: true on ',' (another follows), false on the closing bracket. */
        private boolean next(char close) {
            skipWs();
            char c = peek();
            if (c != ',' && c != close) throw expected("',' or '" + close + "'");
            pos++;
            if (c == close) depth--;
            return c == ',';
        }

        private String string() {
            int start = ++pos;
            StringBuilder b = null;
            while (true) {
                if (pos >= s.length()) throw error("Unterminated string");
                char c = s.charAt(pos);
                if (c == '"') break;
                if (c < 0x20) throw error("Unescaped control character in string");
                if (c != '\\') { pos++; continue; }
                if (b == null) b = new StringBuilder();
                b.append(s, start, pos);
                if (++pos >= s.length()) throw error("Unterminated string");
                char e = s.charAt(pos++);
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (pos + 4 > s.length()) throw error("Unterminated \\u escape");
                        int cp = 0;
                        for (int k = 0; k < 4; k++) {
                            int d = Character.digit(s.charAt(pos + k), 16);
                            if (d < 0) throw error("Bad hex digit in \\u escape");
                            cp = cp * 16 + d;
                        }
                        pos += 4;
                        b.append((char) cp);
                    }
                    default -> { pos--; throw error("Bad escape '\\" + e + "'"); }
                }
                start = pos;
            }
            String out = b != null ? b.append(s, start, pos).toString() : pos - start <= 40 ? shared(start, pos) : s.substring(start, pos);
            pos++;
            return out;
        }

        /**
         * Upstream events repeat the same keys, phases, numbers and response ids thousands of times a second: one
         * String each, shared, instead of a new one per event. A racy table (Strings are immutable),
         * bounded; a miss or a lost race only costs the allocation it would have made anyway.
         */
        private static final String[] SHARED = new String[4096];

        private String shared(int start, int end) {
            int h = 0;
            for (int i = start; i < end; i++) h = 31 * h + s.charAt(i);
            int slot = (h ^ h >>> 16) & (SHARED.length - 1);
            String c = SHARED[slot];
            if (c != null && c.length() == end - start && s.startsWith(c, start)) return c;
            return SHARED[slot] = s.substring(start, end);
        }

        /** Past one value, checked as value() checks it but building nothing. */
        private void skip() {
            char c = peek();
            if (c == '{' || c == '[') {
                char close = c == '{' ? '}' : ']';
                if (open(close)) return;
                do {
                    skipWs();
                    if (close == '}') {
                        if (peek() != '"') throw expected("a string key");
                        skipString();
                        skipWs();
                        if (peek() != ':') throw expected("':'");
                        pos++;
                        skipWs();
                    }
                    skip();
                } while (next(close));
            } else if (c == '"') skipString();
            else value();              // numbers and literals: small, and checked the same way
        }

        private void skipString() {
            for (pos++; ; pos++) {
                if (pos >= s.length()) throw error("Unterminated string");
                char c = s.charAt(pos);
                if (c == '"') { pos++; return; }
                if (c == '\\') pos++;
                else if (c < 0x20) throw error("Unescaped control character in string");
            }
        }

        private Num number() {
            int start = pos;
            if (peek() == '-') pos++;
            if (peek() == '0') pos++;
            else if (!digits()) throw expected("a digit");
            if (peek() == '.') { pos++; if (!digits()) throw expected("a digit after '.'"); }
            if (peek() == 'e' || peek() == 'E') {
                pos++;
                if (peek() == '+' || peek() == '-') pos++;
                if (!digits()) throw expected("a digit in the exponent");
            }
            return new Num(shared(start, pos));
        }

        private boolean digits() {
            int start = pos;
            while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') pos++;
            return pos > start;
        }

        private Object literal(String word, Object v) {
            if (!s.startsWith(word, pos)) throw expected("'" + word + "'");
            pos += word.length();
            return v;
        }

        private char peek() { return pos < s.length() ? s.charAt(pos) : '\0'; }

        private void skipWs() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
                pos++;
            }
        }

        private ParseError expected(String what) {
            return pos >= s.length() ? error("Unexpected end of input") : error("Expected " + what);
        }

        private ParseError error(String message) { return new ParseError(message, pos); }

        // ---- writing

        static String write(Object v) {
            StringBuilder b = new StringBuilder();
            write(v, b);
            return b.toString();
        }

        static void write(Object v, StringBuilder b) {
            if (v == null || v == NULL) b.append("null");
            else if (v instanceof String str) quote(str, b);
            else if (v instanceof Boolean || v instanceof Num || v instanceof Integer || v instanceof Long
                    || v instanceof Short || v instanceof java.math.BigInteger || v instanceof java.math.BigDecimal) b.append(v);
            else if (v instanceof Number n) {
                double d = n.doubleValue();
                if (!Double.isFinite(d)) b.append("null");                    // JSON has no NaN or Infinity
                else if (d == Math.rint(d) && Math.abs(d) < 1e15) b.append((long) d);
                else b.append(d);
            } else if (v instanceof Map<?, ?> m) {
                b.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) b.append(',');
                    first = false;
                    quote(String.valueOf(e.getKey()), b);
                    b.append(':');
                    write(e.getValue(), b);
                }
                b.append('}');
            } else if (v instanceof Collection<?> c) {
                b.append('[');
                boolean first = true;
                for (Object o : c) {
                    if (!first) b.append(',');
                    first = false;
                    write(o, b);
                }
                b.append(']');
            } else quote(v.toString(), b);
        }

        static void quote(String str, StringBuilder b) {
            b.append('"');
            int last = 0, n = str.length();
            for (int i = 0; i < n; i++) {
                char c = str.charAt(i);
                if (c >= 0x20 && c != '"' && c != '\\' && (c < '\u2028' || c > '\u2029') && !Character.isSurrogate(c)) continue;
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(str.charAt(i + 1))) { i++; continue; }
                b.append(str, last, i);
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    case '\b' -> b.append("\\b");
                    case '\f' -> b.append("\\f");
                    // U+2028/2029 end lines in JavaScript; lone surrogates cannot be encoded in UTF-8
                    default -> b.append(String.format("\\u%04x", (int) c));
                }
                last = i + 1;
            }
            b.append(str, last, n).append('"');
        }

        // ---- lenient access, for upstream data (a wrong type reads as absent)

        @SuppressWarnings("unchecked")
        static Map<String, Object> asObject(Object v) { return v instanceof Map ? (Map<String, Object>) v : null; }

        static Map<String, Object> obj(Map<String, Object> m, String key) { return m == null ? null : asObject(m.get(key)); }

        static String str(Map<String, Object> m, String key) { return m != null && m.get(key) instanceof String s ? s : null; }

        static long longValue(Object v, long def) {
            try {
                if (v instanceof Num n) {
                    String t = n.text();
                    return INTEGER.matcher(t).matches() ? Long.parseLong(t) : (long) Double.parseDouble(t);
                }
                if (v instanceof Number n) return n.longValue();
            } catch (NumberFormatException e) { /* not a number after all: use the default */ }
            return def;
        }
    }

    // ==== 18. Utilities ====

    /** The exp claim of a JWT in ms (no signature check: we only schedule renewals by it), or 0. */
    static long jwtExpiry(String jwt) {
        return Json.longValue(jwtClaims(jwt).get("exp"), 0) * 1000;    // 0: renew only when Qwen says it expired
    }

    /** Who a token belongs to: its JWT's "id" claim (the Qwen user id, §2.1), or null. */
    static String jwtUser(String jwt) {
        return jwt == null ? null : Json.str(jwtClaims(jwt), "id");
    }

    /** The claims of a JWT, unchecked (we only read its expiry and user); empty if it is no JWT we can read. */
    static Map<String, Object> jwtClaims(String jwt) {
        String[] parts = jwt.split("\\.");
        if (parts.length < 2) return Map.of();
        try {
            Map<String, Object> claims = Json.asObject(Json.parse(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)));
            return claims == null ? Map.of() : claims;
        } catch (RuntimeException e) {
            return Map.of();
        }
    }

    /** "a=1; b=2" -> {a=1, b=2}, in order. */
    static Map<String, String> cookies(String header) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String part : header.split(";")) {
            int eq = part.indexOf('=');
            if (eq > 0) m.put(part.substring(0, eq).trim(), part.substring(eq + 1).trim());
        }
        return m;
    }

    /** A message without its closing full stop, to go on with "; ..." or ". ...". */
    static String sentence(String message) {
        return message == null ? "" : message.replaceAll("[.\\s]+$", "");
    }

    // ---- strict access, for client requests (a wrong type is a 400 naming the field)

    /** The value of key if it is a `type` (null if absent or JSON null); any other type is a 400 saying what it must be. */
    static <T> T opt(Map<String, Object> m, String key, Class<T> type, String mustBe) {
        Object v = m.get(key);
        if (v == null || v == Json.NULL) return null;
        if (type.isInstance(v)) return type.cast(v);
        throw ApiException.invalid(key, "invalid_type", "'" + key + "' must be " + mustBe + ".");
    }

    static String optString(Map<String, Object> m, String key) { return opt(m, key, String.class, "a string"); }

    static boolean optBool(Map<String, Object> m, String key, boolean def) {
        Boolean b = opt(m, key, Boolean.class, "true or false");
        return b == null ? def : b;
    }

    static long optLong(Map<String, Object> m, String key, long def) {
        Json.Num n = opt(m, key, Json.Num.class, "an integer");
        if (n != null && !Json.INTEGER.matcher(n.text()).matches()) throw ApiException.invalid(key, "invalid_type", "'" + key + "' must be an integer.");
        return n == null ? def : Long.parseLong(n.text());
    }

    static Map<String, Object> optObject(Map<String, Object> m, String key) { return Json.asObject(opt(m, key, Map.class, "an object")); }

    static Map<String, String> orderedMap(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return Collections.unmodifiableMap(m);
    }

    /** A header table with the user's changes: a name replaces its entry (any case), an empty value removes it. */
    static Map<String, String> overridden(Map<String, String> table, Map<String, String> changes) {
        Map<String, String> m = new LinkedHashMap<>(table);
        changes.forEach((name, value) -> {
            m.keySet().removeIf(k -> k.equalsIgnoreCase(name));
            if (!value.isEmpty()) m.put(name, value);
        });
        return m;
    }

    /** A mutable, ordered JSON object from key, value pairs. */
    static Map<String, Object> orderedObject(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    @SafeVarargs
    static Map<String, List<String>> aliasTable(List<String>... targetsThenNames) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (int i = 0; i < targetsThenNames.length; i += 2)
            for (String name : targetsThenNames[i + 1]) m.put(name, targetsThenNames[i]);
        return Collections.unmodifiableMap(m);
    }

    static Object nullable(Object v) { return v == null ? Json.NULL : v; }

    static String firstString(String... values) {
        for (String v : values) if (v != null && !v.isEmpty()) return v;
        return null;
    }

    static String mask(String secret) {
        if (secret == null) return "(none)";
        return secret.length() <= 8 ? "***" : secret.substring(0, 6) + "…";
    }

    static String abbreviate(String s) {
        return s.length() <= 300 ? s : s.substring(0, 300) + "…(" + s.length() + " chars)";
    }

    /** A version-4 UUID for ids the upstream wants (request ids, message fids): unique, not secret. */
    static String uuid() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return new UUID(r.nextLong() & ~0xF000L | 0x4000L, r.nextLong() & 0x3FFFFFFFFFFFFFFFL | 0x8000000000000000L).toString();
    }

    /** An id (request, completion, tool call): unique, not secret, so no SecureRandom on the request path. */
    static String randomToken(int bytes) { return Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(bytes)); }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }

    /** A secret (the generated client key). */
    static String secretToken(int bytes) {
        byte[] b = new byte[bytes];
        new java.security.SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch < 0x80) n++;
            else if (ch < 0x800) n += 2;
            else if (Character.isHighSurrogate(ch)) { n += 4; i++; }
            else n += 3;
        }
        return n;
    }

    static String sha256(String s) { return sha256(s.getBytes(StandardCharsets.UTF_8)); }

    static String sha256(byte[] data) {
        try {
            return hex(java.security.MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);   // every JDK has SHA-256
        }
    }

    static String hex(byte[] d) {
        StringBuilder b = new StringBuilder(d.length * 2);
        for (byte x : d) b.append(Character.forDigit((x >> 4) & 15, 16)).append(Character.forDigit(x & 15, 16));
        return b.toString();
    }

    /** "~/x" -> the user's home + "/x". */
    static String home(String path) {
        return path.trim().replaceFirst("^~(?=/|$)", java.util.regex.Matcher.quoteReplacement(System.getProperty("user.home")));
    }

    static String blankToNull(String s) { return s == null || s.isBlank() ? null : s.trim(); }

    static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (IOException e) {
            return false;   // unresolvable: treat as exposed, the safe side
        }
    }

    static ThreadFactory daemonThreads(String name) {
        AtomicLong n = new AtomicLong();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
