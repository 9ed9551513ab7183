import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Image generation (§10.5, t2i) in chat (-image, chat_type) and as POST /v1/images/generations; deep research (-deep-research). */
class ImagesTest extends Fixture {

    @BeforeAll
    static void startProxy() throws Exception { proxy = withToken("--chat-pool", "0"); }

    @BeforeEach
    void reset() {
        fake.completionBodies.clear();
        fake.newChatBodies.clear();
    }

    static HttpResponse<String> generate(String body) throws Exception { return call(proxy, "POST", "/v1/images/generations", body); }

    @Test
    void imagesEndpoint_urlsAndBase64_sizeAsAspectRatio() throws Exception {
        HttpResponse<String> r = generate("{\"model\":\"dall-e-3\",\"prompt\":\"A cat on a roof\",\"size\":\"1792x1024\"}");
        assertEquals(200, r.statusCode(), r.body());
        List<?> data = (List<?>) json(r.body()).get("data");
        assertEquals(1, data.size());
        String url = (String) at(data.get(0), "url");
        assertTrue(url.startsWith(fake.url() + "/_fake/media/gen-"), url);
        Map<String, Object> body = fake.completionBodies.get(0), msg = lastUpstreamMessage();
        assertEquals("16:9", body.get("size"));
        assertEquals("t2i", msg.get("chat_type"));
        assertEquals("t2i", msg.get("sub_chat_type"));
        assertEquals("t2i", fake.newChatBodies.get(0).get("chat_type"));
        assertEquals("A cat on a roof", msg.get("content"));

        r = generate("{\"prompt\":\"Two dogs\",\"n\":2,\"response_format\":\"b64_json\",\"size\":\"1024x1536\"}");
        assertEquals(200, r.statusCode(), r.body());
        data = (List<?>) json(r.body()).get("data");
        assertEquals(2, data.size());
        for (Object d : data) assertArrayEquals(MediaTest.PNG, Base64.getDecoder().decode((String) at(d, "b64_json")));
        assertEquals("3:4", fake.completionBodies.get(1).get("size"));
    }

    @Test
    void imagesEndpoint_badRequests() throws Exception {
        assertEquals("prompt", errorOf(generate("{}")).get("param"));
        assertEquals("n", errorOf(generate("{\"prompt\":\"x\",\"n\":9}")).get("param"));
        assertEquals("response_format", errorOf(generate("{\"prompt\":\"x\",\"response_format\":\"png\"}")).get("param"));
        assertEquals("size", errorOf(generate("{\"prompt\":\"x\",\"size\":\"huge\"}")).get("param"));
        assertEquals(0, fake.completionBodies.size());
    }

    @Test
    void imageModelInChat_showsTheImagesAsMarkdown_streamingAndNot() throws Exception {
        String ask = "\"messages\":[{\"role\":\"user\",\"content\":\"Draw a lighthouse\"}]";
        HttpResponse<String> r = post(proxy, "{\"model\":\"qwen3.7-plus-image\"," + ask + "}");
        assertEquals(200, r.statusCode(), r.body());
        String content = (String) at(json(r.body()), "choices", 0, "message", "content");
        assertTrue(content.matches("!\\[image 1]\\(" + java.util.regex.Pattern.quote(fake.url()) + "/_fake/media/gen-[^)]+\\)"), content);
        assertEquals("t2i", lastUpstreamMessage().get("chat_type"));
        StringBuilder text = new StringBuilder();
        for (String e : events(post(proxy, "{\"model\":\"qwen3.7-plus\",\"stream\":true,\"chat_type\":\"t2i\"," + ask + "}").body())) {
            if (e.equals("[DONE]")) continue;
            Object t = at(json(e), "choices", 0, "delta", "content");
            if (t != null) text.append(t);
        }
        assertTrue(text.toString().startsWith("![image 1]("), text.toString());
    }

    @Test
    void imageEdit_multipartAndJson_andInChat() throws Exception {
        String boundary = "----edit" + System.nanoTime();
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        b.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nMake it blue\r\n--" + boundary
                + "\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n1\r\n--" + boundary
                + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"cat.png\"\r\nContent-Type: image/png\r\n\r\n").getBytes());
        b.writeBytes(MediaTest.PNG);
        b.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes());
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(proxy.url() + "/v1/images/edits"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary).POST(HttpRequest.BodyPublishers.ofByteArray(b.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(1, ((List<?>) json(r.body()).get("data")).size());
        Map<String, Object> msg = lastUpstreamMessage();
        assertEquals("image_edit", msg.get("chat_type"));
        assertEquals("Make it blue", ((String) msg.get("content")).split("\n")[0]);
        Map<String, Object> file = obj(((List<?>) msg.get("files")).get(0));
        assertArrayEquals(MediaTest.PNG, fake.storedBytes.get((String) file.get("id")), "the source image, uploaded");
        assertNull(fake.completionBodies.get(0).get("size"), "no size unless asked: the source image has one");

        r = http.send(HttpRequest.newBuilder(URI.create(proxy.url() + "/v1/images/edits")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"Blue\",\"images\":[{\"image_url\":\"data:image/png;base64,"
                        + Base64.getEncoder().encodeToString(MediaTest.PNG) + "\"}],\"response_format\":\"b64_json\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("image", errorOf(http.send(HttpRequest.newBuilder(URI.create(proxy.url() + "/v1/images/edits")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"Blue\"}")).build(), HttpResponse.BodyHandlers.ofString())).get("param"));

        String chat = "{\"model\":\"qwen3.7-plus-image-edit\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Blue\"},"
                + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64," + Base64.getEncoder().encodeToString(MediaTest.PNG) + "\"}}]}]}";
        assertTrue(((String) at(json(post(proxy, chat).body()), "choices", 0, "message", "content")).startsWith("![image 1]("));
        HttpResponse<String> none = post(proxy, "{\"model\":\"qwen3.7-plus-image-edit\",\"messages\":[{\"role\":\"user\",\"content\":\"Blue\"}]}");
        assertEquals(400, none.statusCode());
    }

    @Test
    void anImageQuota_is429WithRetryAfter_andCoolsOnlyImagesOfThatAccount() throws Exception {
        try (QwenProxy.Server p = withToken("--chat-pool", "0")) {
            fake.rateLimitedChatTypes.add("t2i");
            try {
                String image = "{\"model\":\"qwen3.7-plus-image\",\"messages\":[{\"role\":\"user\",\"content\":\"Draw\"}]}";
                HttpResponse<String> r = post(p, image);
                assertEquals(429, r.statusCode(), r.body());
                assertEquals("7200", r.headers().firstValue("Retry-After").orElse(null), "Qwen's num hours");
                int sent = fake.completionBodies.size();
                assertEquals(200, post(p, "{\"model\":\"qwen3.7-plus\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}").statusCode(),
                        "text still works on the same account");
                r = post(p, image);
                assertEquals(429, r.statusCode(), "images stay cooling");
                assertTrue(Integer.parseInt(r.headers().firstValue("Retry-After").orElse("0")) > 7000);
                assertEquals(sent + 1, fake.completionBodies.size(), "the cooling account was not asked for images again");
                assertTrue(get(p, "/admin/accounts").body().contains("\"quota_cooling\":{\"t2i\":"));
            } finally {
                fake.rateLimitedChatTypes.clear();
            }
        }
    }

    @Test
    void deepResearch_reasoningThenTheReport() throws Exception {
        Map<String, Object> msg = obj(at(json(post(proxy, "{\"model\":\"qwen3.7-plus-deep-research\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Research Paris\"}]}").body()), "choices", 0, "message"));
        assertEquals("# Report\nParis is the capital of France.", msg.get("content"));
        assertEquals("Planning the research.Reading sources.", msg.get("reasoning_content"));
        assertEquals("deep_research", lastUpstreamMessage().get("chat_type"));
    }

    @Test
    void modelsListTheImageAndDeepResearchVariants() throws Exception {
        List<String> ids = new ArrayList<>();
        for (Object m : (List<?>) json(get(proxy, "/v1/models").body()).get("data")) ids.add((String) at(m, "id"));
        assertTrue(ids.containsAll(List.of("qwen3.7-plus-image", "qwen3.7-plus-image-edit", "qwen3.7-plus-video", "qwen3.7-plus-deep-research")), ids.toString());
        assertFalse(ids.contains("qwen3-coder-plus-image"));
        assertEquals(400, post(proxy, "{\"model\":\"qwen3-coder-plus-image\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").statusCode());
    }
}
