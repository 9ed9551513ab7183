import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The upstream -> OpenAI translator on the real captures of test/PROTOCOL.md §6 (test/captures). */
class StreamTranslatorTest {
    final StringBuilder content = new StringBuilder(), reasoning = new StringBuilder();
    final List<String> pieces = new ArrayList<>();
    List<String> stops = List.of();

    QwenProxy.StreamTranslator translator(QwenProxy.Reasoning mode, long maxTokens) {
        return new QwenProxy.StreamTranslator(mode, maxTokens, stops, (isReasoning, text) -> {
            (isReasoning ? reasoning : content).append(text);
            pieces.add((isReasoning ? "R:" : "C:") + text);
        });
    }

    /** Feeds a capture through the SSE reader and the translator, as the proxy does. */
    QwenProxy.StreamTranslator run(String capture, QwenProxy.Reasoning mode) throws IOException {
        QwenProxy.StreamTranslator t = translator(mode, 0);
        byte[] bytes = Files.readAllBytes(Path.of("test/captures", capture));
        QwenProxy.SseDecoder d = new QwenProxy.SseDecoder();
        List<String> events = new ArrayList<>();
        d.feed(bytes, 0, bytes.length, events::add);
        d.end(events::add);
        for (String e : events) if (t.accept(e)) break;
        t.finish();
        return t;
    }

    static String delta(String content, String phase, String status) {
        return "{\"choices\": [{\"delta\": {\"role\": \"assistant\", \"content\": " + QwenProxy.Json.write(content)
                + ", \"phase\": \"" + phase + "\", \"status\": \"" + status + "\"}}], \"response_id\": \"r\"}";
    }

    static String summary(String... thoughts) {
        return "{\"choices\": [{\"delta\": {\"role\": \"assistant\", \"content\": \"\", \"phase\": \"thinking_summary\", \"extra\": "
                + "{\"summary_thought\": {\"content\": " + QwenProxy.Json.write(List.of(thoughts)) + "}}, \"status\": \"typing\"}}]}";
    }

    @Test
    void fastCapture_becomesContentAndUsage() throws IOException {
        QwenProxy.StreamTranslator t = run("fast.sse", QwenProxy.Reasoning.FIELD);
        assertEquals("Xin chào Khánh!", content.toString());
        assertEquals("", reasoning.toString());
        assertEquals("stop", t.finishReason());
        Map<String, Object> u = QwenProxy.openAiUsage(t.usage());
        assertEquals(1011L, u.get("prompt_tokens"));
        assertEquals(22L, u.get("completion_tokens"));
        assertEquals(1033L, u.get("total_tokens"));
        assertEquals(Map.of("cached_tokens", 512L), u.get("prompt_tokens_details"));
        assertEquals(Map.of("reasoning_tokens", 0L), u.get("completion_tokens_details"));
    }

    @Test
    void thinkingCapture_streamsSummaryAsReasoningThenAnswer() throws IOException {
        QwenProxy.StreamTranslator t = run("thinking.sse", QwenProxy.Reasoning.FIELD);
        assertEquals("我是一位由阿里巴巴通义实验室研发的超大规模语言模型……", reasoning.toString());
        assertEquals("我是通義千", content.toString());
        assertEquals(102L, ((Map<?, ?>) QwenProxy.openAiUsage(t.usage()).get("completion_tokens_details")).get("reasoning_tokens"),
                "usage is cumulative: the last event that has it wins, details from the last that had them");
        assertEquals(802L, QwenProxy.openAiUsage(t.usage()).get("completion_tokens"));
    }

    @Test
    void summaryArrays_areDiffedSoNothingRepeats() {
        QwenProxy.StreamTranslator t = translator(QwenProxy.Reasoning.FIELD, 0);
        t.accept(summary("I am"));
        t.accept(summary("I am thinking"));
        t.accept(summary("I am thinking", "Second"));
        t.accept(summary("I am thinking", "Second idea"));
        t.accept(summary("I am thinking", "Second idea"));
        t.accept(summary("I was rewritten", "Second idea!"));
        assertEquals(List.of("R:I am", "R: thinking", "R:\n\nSecond", "R: idea", "R:!"), pieces);
    }

    @Test
    void thinkPhase_isIncrementalReasoning_andTheThinkingFinishedEventDoesNotEndTheReply() {
        QwenProxy.StreamTranslator t = translator(QwenProxy.Reasoning.FIELD, 0);
        assertFalse(t.accept(delta("Let me ", "think", "typing")));
        assertFalse(t.accept(delta("see.", "think", "typing")));
        assertFalse(t.accept(delta("", "think", "finished")));
        assertFalse(t.accept(delta("Answer", "answer", "typing")));
        assertTrue(t.accept(delta("", "answer", "finished")));
        assertEquals("Let me see.", reasoning.toString());
        assertEquals("Answer", content.toString());
    }

    @Test
    void thinkMode_wrapsReasoningInThinkTags() throws IOException {
        run("thinking.sse", QwenProxy.Reasoning.THINK);
        assertEquals("<think>\n我是一位由阿里巴巴通义实验室研发的超大规模语言模型……\n</think>\n\n我是通義千", content.toString());
        assertEquals("", reasoning.toString());
    }

    @Test
    void hideMode_dropsReasoning() throws IOException {
        run("thinking.sse", QwenProxy.Reasoning.HIDE);
        assertEquals("我是通義千", content.toString());
        assertEquals("", reasoning.toString());
    }

    @Test
    void keepAlivesToolEventsAndUnknownPhasesAreSkipped() {
        QwenProxy.StreamTranslator t = translator(QwenProxy.Reasoning.FIELD, 0);
        assertFalse(t.accept("{\"response.info\": {\"action\": \"keep_alive\", \"chat_id\": \"c\", \"response_id\": \"r\", \"timestamp\": 1}}"));
        assertFalse(t.accept("{\"choices\": [{\"delta\": {\"role\": \"assistant\", \"content\": \"\", \"phase\": \"web_search\", \"status\": "
                + "\"typing\", \"function_call\": {\"name\": \"web_search\", \"arguments\": \"{}\"}, \"function_id\": \"round_0_1\"}}]}"));
        assertFalse(t.accept(delta("mystery", "brand_new_phase", "typing")));
        assertFalse(t.accept("not json at all"));
        assertFalse(t.accept("{\"choices\": []}"));
        assertFalse(t.accept("[1,2]"));
        assertFalse(t.accept(delta("ok", "answer", "typing")));
        assertEquals("ok", content.toString());
        assertTrue(t.accept("[DONE]"));
    }

    @Test
    void moderationBeforeOutputIsAnError_afterOutputAFinishReason() {
        QwenProxy.StreamTranslator t = translator(QwenProxy.Reasoning.FIELD, 0);
        QwenProxy.ApiException e = assertThrows(QwenProxy.ApiException.class,
                () -> t.accept("{\"error\": {\"code\": \"data_inspection_failed\", \"details\": \"内容安全警告\"}, \"request_id\": \"x\"}"));
        assertEquals(400, e.status);
        assertEquals("content_filter", e.code);
        QwenProxy.StreamTranslator t2 = translator(QwenProxy.Reasoning.FIELD, 0);
        t2.accept(delta("Some text", "answer", "typing"));
        assertTrue(t2.accept("{\"error\": {\"code\": \"data_inspection_failed\", \"details\": \"x\"}, \"response_id\": \"r\"}"));
        t2.finish();
        assertEquals("content_filter", t2.finishReason());
    }

    @Test
    void contextLengthErrorsMapToLengthOr400() {
        QwenProxy.StreamTranslator t = translator(QwenProxy.Reasoning.FIELD, 0);
        assertEquals("context_length_exceeded", assertThrows(QwenProxy.ApiException.class,
                () -> t.accept("{\"error\": {\"code\": \"ContextLengthExceeded\", \"details\": \"too long\"}}")).code);
        QwenProxy.StreamTranslator t2 = translator(QwenProxy.Reasoning.FIELD, 0);
        t2.accept(delta("Some", "answer", "typing"));
        assertTrue(t2.accept("{\"error\": {\"code\": \"ContextLengthExceeded\", \"details\": \"too long\"}}"));
        t2.finish();
        assertEquals("length", t2.finishReason());
    }

    @Test
    void inStreamErrorsAreClassified() {
        Object[][] cases = {
                {"{\"error\": {\"code\": \"Too_Many_Requests\", \"details\": \"please slow down\"}, \"response_id\": \"r1\"}", 429},
                {"{\"error\": {\"code\": \"unauthorized\", \"details\": \"bad token\"}, \"response_id\": \"r1\"}", 401},
                {"{\"error\": {\"code\": \"internal_error\", \"message\": \"Allocated quota exceeded\"}}", 429},
                {"{\"success\":false,\"data\":{\"code\":\"RateLimited\",\"num\":2,\"details\":\"quota exceeded\"}}", 429},
                {"{\"ret\":[\"FAIL_SYS_USER_VALIDATE\",\"RGV587_ERROR::SM::x\"],\"data\":{}}", 503},
                {"{\"choices\": [{\"delta\": {\"status\": \"error\", \"extra\": {\"error\": {\"code\": \"Boom\", \"details\": \"d\"}}}}]}", 502},
                {"<!doctypehtml><meta name=\"aliyun_waf_aa\" content=\"x\">", 503},
        };
        for (Object[] c : cases) {
            QwenProxy.ApiException e = assertThrows(QwenProxy.ApiException.class, () -> translator(QwenProxy.Reasoning.FIELD, 0).accept((String) c[0]));
            assertEquals(c[1], e.status, (String) c[0]);
        }
    }

    @Test
    void maxTokensStopsTheReplyWithFinishReasonLength() {
        QwenProxy.StreamTranslator t = translator(QwenProxy.Reasoning.FIELD, 5);
        assertFalse(t.accept("{\"choices\": [{\"delta\": {\"content\": \"ab\", \"phase\": \"answer\", \"status\": \"typing\"}}], \"usage\": {\"output_tokens\": 2}}"));
        assertTrue(t.accept("{\"choices\": [{\"delta\": {\"content\": \"cd\", \"phase\": \"answer\", \"status\": \"typing\"}}], \"usage\": {\"output_tokens\": 5}}"));
        t.finish();
        assertEquals("length", t.finishReason());
        assertEquals("abcd", content.toString());
    }

    /** Feeds the answer in the given pieces; returns the piece index at which the translator stopped, or -1. */
    int answerIn(QwenProxy.StreamTranslator t, String... parts) {
        for (int i = 0; i < parts.length; i++) if (t.accept(delta(parts[i], "answer", "typing"))) return i;
        t.accept(delta("", "answer", "finished"));
        return -1;
    }

    @Test
    void stopSequencesEndTheAnswerBeforeThemAtEverySplit() {
        stops = List.of("\nObservation:", "STOP");
        String text = "Thought: look it up\nObservation: never sent";
        for (int a = 0; a <= text.length(); a++)
            for (int b = a; b <= text.length(); b += 3) {
                content.setLength(0);
                QwenProxy.StreamTranslator t = translator(QwenProxy.Reasoning.FIELD, 0);
                assertTrue(answerIn(t, text.substring(0, a), text.substring(a, b), text.substring(b)) >= 0, a + "/" + b);
                t.finish();
                assertEquals("Thought: look it up", content.toString(), a + "/" + b);
                assertEquals("stop", t.finishReason());
            }
    }

    @Test
    void stopSequences_earliestWins_heldTextIsReleased_noneIsNoStop() {
        stops = List.of("world", "lo");
        QwenProxy.StreamTranslator t = translator(QwenProxy.Reasoning.FIELD, 0);
        assertEquals(0, answerIn(t, "Hello world"));
        t.finish();
        assertEquals("Hel", content.toString(), "\"lo\" comes first");

        content.setLength(0);
        pieces.clear();
        stops = List.of("END!");
        t = translator(QwenProxy.Reasoning.FIELD, 0);
        assertEquals(-1, answerIn(t, "the EN", "D of it; EN"));
        assertEquals(List.of("C:the ", "C:END of it; "), pieces, "a possible start is held back, nothing more");
        t.finish();
        assertEquals("the END of it; EN", content.toString(), "and released when the answer ends");

        content.setLength(0);
        stops = List.of("Hi");
        t = translator(QwenProxy.Reasoning.FIELD, 0);
        assertEquals(0, answerIn(t, "Hi there"));
        t.finish();
        assertEquals("", content.toString(), "a stop at the start leaves an empty answer, which is no error");
        assertEquals("stop", t.finishReason());
    }

    @Test
    void anEmptyAnswerIsAnError() {
        QwenProxy.StreamTranslator t = translator(QwenProxy.Reasoning.FIELD, 0);
        t.accept(summary("only thoughts"));
        t.accept(delta("", "answer", "finished"));
        QwenProxy.ApiException e = assertThrows(QwenProxy.ApiException.class, t::finish);
        assertEquals(502, e.status);
        assertEquals("empty_response", e.code);
    }

    /** Feeds bytes split at one point (as two network reads) and returns the translator after finish(). */
    QwenProxy.StreamTranslator runSplit(byte[] bytes, int at) throws IOException {
        content.setLength(0);
        reasoning.setLength(0);
        QwenProxy.StreamTranslator t = translator(QwenProxy.Reasoning.FIELD, 0);
        QwenProxy.SseDecoder d = new QwenProxy.SseDecoder();
        List<String> events = new ArrayList<>();
        d.feed(bytes, 0, at, events::add);
        d.feed(bytes, at, bytes.length - at, events::add);
        d.end(events::add);
        boolean ended = false;
        for (String e : events) if (t.accept(e)) { ended = true; break; }
        assertTrue(ended, "the main candidate's finished event ends the reply (split at " + at + ")");
        t.finish();
        return t;
    }

    @Test
    void parallelCandidates_onlyTheMainOneReachesTheClient_atEverySplit() throws IOException {
        // §6.3b fixture: the other candidate finishes first; lines without blank lines between them
        byte[] bytes = Files.readAllBytes(Path.of("test/captures/parallel.sse"));
        for (int at = 0; at <= bytes.length; at++) {
            QwenProxy.StreamTranslator t = runSplit(bytes, at);
            assertEquals("巴黎", content.toString(), "split at " + at);
            assertEquals("4f79335b", t.responseId(), "the main response_id is kept for a follow-up turn");
            assertEquals("stop", t.finishReason());
        }
    }

    @Test
    void parallelCandidates_reasoningUsageAndFinishAreTheMainOnes_atEverySplit() throws IOException {
        byte[] bytes = Files.readAllBytes(Path.of("test/captures/parallel-thinking.sse"));
        for (int at = 0; at <= bytes.length; at += 7) {
            QwenProxy.StreamTranslator t = runSplit(bytes, at);
            assertEquals("Main thinks hard", reasoning.toString(), "split at " + at);
            assertEquals("The capital is Paris.", content.toString(), "split at " + at);
            assertEquals(11L, QwenProxy.openAiUsage(t.usage()).get("completion_tokens"));
            assertEquals(Map.of("reasoning_tokens", 6L), QwenProxy.openAiUsage(t.usage()).get("completion_tokens_details"));
            assertEquals("7d1e0c2a-main", t.responseId());
            assertEquals("c3b1", t.parentId());
        }
    }

    @Test
    void withoutResponseIndex_theFirstResponseIdSeenIsTheMainOne() {
        QwenProxy.StreamTranslator t = translator(QwenProxy.Reasoning.FIELD, 0);
        t.accept("{\"response.created\":{\"chat_id\": \"c\", \"response_id\":\"a\"}}");
        assertFalse(t.accept(delta("one", "answer", "typing").replace("\"r\"", "\"a\"")));
        assertFalse(t.accept(delta("two", "answer", "typing").replace("\"r\"", "\"b\"")));
        assertFalse(t.accept(delta("", "answer", "finished").replace("\"r\"", "\"b\"")), "b's end is not the reply's end");
        assertTrue(t.accept(delta("", "answer", "finished").replace("\"r\"", "\"a\"")));
        assertEquals("one", content.toString());
        assertEquals("a", t.responseId());
    }
}
