import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Web search (§6.2, §10.5): a -search model, chat_type "search" or web_search_options asks Qwen to
 * search; its results reach the client as url_citation annotations, the answer's [[n]] markers
 * as links, and a source list per --search-info.
 */
class SearchTest extends Fixture {
    static final String WIKI = "https://en.wikipedia.org/wiki/Paris", INSEE = "https://www.insee.fr/en/paris";
    static final String ANSWER = "Paris is the capital of France [1](" + WIKI + "). About 2.1 million people live there [2](" + INSEE + ")[9].";

    @BeforeAll
    static void startProxy() throws Exception { proxy = withToken("--chat-pool", "0"); }

    @BeforeEach
    void reset() {
        fake.completionBodies.clear();
        fake.newChatBodies.clear();
    }

    static String ask(String model, boolean stream, String extra) {
        return "{\"model\":\"" + model + "\",\"stream\":" + stream + extra + ",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me about Paris\"}]}";
    }

    /** Every annotation's span must be exactly the link text it describes. */
    static void assertSpans(String content, List<?> annotations) {
        assertFalse(annotations.isEmpty());
        for (Object a : annotations) {
            assertEquals("url_citation", at(a, "type"));
            int start = Integer.parseInt(at(a, "url_citation", "start_index").toString()), end = Integer.parseInt(at(a, "url_citation", "end_index").toString());
            String url = (String) at(a, "url_citation", "url");
            assertTrue(content.substring(start, end).endsWith("(" + url + ")"), content.substring(start, end) + " should link " + url);
        }
    }

    @Test
    void searchModel_nonStreaming_linksMarkersListsSourcesAndAnnotates() throws Exception {
        HttpResponse<String> r = post(proxy, ask("qwen3.7-plus-search", false, ""));
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> msg = obj(at(json(r.body()), "choices", 0, "message"));
        String content = (String) msg.get("content");
        assertTrue(content.startsWith(ANSWER), content);
        assertTrue(content.endsWith("| # | Source |\n|---|---|\n| 1 | [Paris - Wikipedia](" + WIKI + ") |\n| 2 | [Paris \\| INSEE](" + INSEE + ") |"), content);
        List<?> ann = (List<?>) msg.get("annotations");
        assertEquals(4, ann.size(), "two markers and two list entries");
        assertSpans(content, ann);
        assertEquals("Paris - Wikipedia", at(ann.get(0), "url_citation", "title"));
        Map<String, Object> m = lastUpstreamMessage();
        assertEquals("search", m.get("chat_type"));
        assertEquals("search", m.get("sub_chat_type"));
        assertEquals(true, at(m, "feature_config", "auto_search"));
        assertEquals("qwen3.7-plus", fake.completionBodies.get(0).get("model"));
        assertEquals("search", fake.newChatBodies.get(0).get("chat_type"));
    }

    @Test
    void streaming_givesTheSameTextAndTheAnnotationsBeforeTheEnd() throws Exception {
        String whole = (String) at(json(post(proxy, ask("qwen3.7-plus-search", false, "")).body()), "choices", 0, "message", "content");
        List<String> ev = events(post(proxy, ask("qwen3.7-plus-search", true, "")).body());
        StringBuilder text = new StringBuilder();
        List<Object> ann = new ArrayList<>();
        int annotationsAt = -1, finishAt = -1;
        for (int i = 0; i < ev.size() - 1; i++) {
            Map<String, Object> c = json(ev.get(i));
            Object t = at(c, "choices", 0, "delta", "content"), a = at(c, "choices", 0, "delta", "annotations");
            if (t != null) text.append(t);
            if (a != null) { ann.addAll((List<?>) a); annotationsAt = i; }
            if (at(c, "choices", 0, "finish_reason") != null) finishAt = i;
        }
        assertEquals(whole, text.toString(), "markers split across deltas are linked all the same");
        assertTrue(annotationsAt >= 0 && annotationsAt < finishAt);
        assertSpans(text.toString(), ann);
        assertEquals("stop", at(json(ev.get(finishAt)), "choices", 0, "finish_reason"));
    }

    @Test
    void chatTypeAndWebSearchOptions_askForSearchToo_andSearchInfoShapesTheList() throws Exception {
        String c = (String) at(json(post(proxy, ask("qwen3.7-plus", false, ",\"chat_type\":\"search\"")).body()), "choices", 0, "message", "content");
        assertTrue(c.startsWith(ANSWER));
        assertEquals("search", lastUpstreamMessage().get("chat_type"));
        assertEquals(200, post(proxy, ask("qwen3.7-plus", false, ",\"web_search_options\":{}")).statusCode());
        assertEquals("search", lastUpstreamMessage().get("chat_type"));
        try (QwenProxy.Server list = withToken("--search-info", "list"); QwenProxy.Server none = withToken("--search-info", "none")) {
            String l = (String) at(json(post(list, ask("qwen3.7-plus-thinking-search", false, "")).body()), "choices", 0, "message", "content");
            assertTrue(l.endsWith("**Sources**\n1. [Paris - Wikipedia](" + WIKI + ")\n2. [Paris \\| INSEE](" + INSEE + ")"), l);
            assertEquals(true, at(lastUpstreamMessage(), "feature_config", "thinking_enabled"));
            Map<String, Object> n = obj(at(json(post(none, ask("qwen3.7-plus-search", false, "")).body()), "choices", 0, "message"));
            assertEquals(ANSWER, n.get("content"));
            assertEquals(2, ((List<?>) n.get("annotations")).size(), "the markers only");
        }
    }

    @Test
    void withoutSearch_nothingChanges() throws Exception {
        Map<String, Object> msg = obj(at(json(post(proxy, ask("qwen3.7-plus", false, "")).body()), "choices", 0, "message"));
        assertEquals("Hello from Qwen.", msg.get("content"));
        assertNull(msg.get("annotations"));
        assertEquals("t2t", lastUpstreamMessage().get("chat_type"));
        assertEquals(false, at(lastUpstreamMessage(), "feature_config", "auto_search"));
    }

    @Test
    void modelsListSearchVariantsOnlyWhereTheListSaysSo() throws Exception {
        List<String> ids = new ArrayList<>();
        for (Object m : (List<?>) json(get(proxy, "/v1/models").body()).get("data")) ids.add((String) at(m, "id"));
        assertTrue(ids.containsAll(List.of("qwen3.7-plus-search", "qwen3.7-plus-thinking-search", "qwen3.7-plus-fast-search")), ids.toString());
        assertFalse(ids.contains("qwen3-coder-plus-search"), "the coder lists t2t only");
        HttpResponse<String> r = post(proxy, ask("qwen3-coder-plus-search", false, ""));
        assertEquals(400, r.statusCode());
        assertTrue(((String) errorOf(r).get("message")).contains("qwen3.7-plus"), "names a model that can search");
        r = post(proxy, ask("qwen3.7-plus", false, ",\"chat_type\":\"poetry\""));
        assertEquals("invalid_value", errorOf(r).get("code"));
    }
}
