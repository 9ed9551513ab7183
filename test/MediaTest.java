import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * §10: images, audio and documents in messages. Each is uploaded (STS, a signed OSS PUT the fake
 * checks, parse for documents) and referenced in the upstream message's files[] (§10.4); URLs are
 * fetched with limits; a model that cannot read the input is refused with one that can.
 */
class MediaTest extends Fixture {
    /** A real 1x1 PNG: the upload must carry these bytes unchanged. */
    static final byte[] PNG = Base64.getDecoder().decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");
    static final byte[] PDF = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".getBytes(StandardCharsets.US_ASCII);

    @BeforeAll
    static void startProxy() throws Exception {
        proxy = withToken("--allow-private-urls", "--media-max-bytes", "4096");
        fake.media.put("cat.png", PNG);
        fake.mediaTypes.put("cat.png", "image/png");
        fake.media.put("big.png", new byte[5000]);
        fake.media.put("photo", PNG);               // no extension and no type: the bytes say PNG
    }

    @BeforeEach
    void reset() {
        fake.completionBodies.clear();
        fake.scripts.clear();
    }

    static String dataUrl(String mime, byte[] b) { return "data:" + mime + ";base64," + Base64.getEncoder().encodeToString(b); }

    static String ask(String model, boolean stream, String parts) {
        return "{\"model\":\"" + model + "\",\"stream\":" + stream + ",\"messages\":[{\"role\":\"user\",\"content\":["
                + "{\"type\":\"text\",\"text\":\"What is in it?\"}," + parts + "]}]}";
    }

    static String imagePart(String url) { return "{\"type\":\"image_url\",\"image_url\":{\"url\":\"" + url + "\",\"detail\":\"auto\"}}"; }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> upstreamFiles() { return (List<Map<String, Object>>) lastUpstreamMessage().get("files"); }

    @Test
    void dataUrlImage_isUploadedAndReferencedAsVision_streamingAndNot() throws Exception {
        for (boolean stream : new boolean[] {false, true}) {
            HttpResponse<String> r = post(proxy, ask("qwen3.7-plus", stream, imagePart(dataUrl("image/png", PNG))));
            assertEquals(200, r.statusCode(), r.body());
            if (stream) assertEquals("[DONE]", events(r.body()).get(events(r.body()).size() - 1));
            else assertEquals("Hello from Qwen.", at(json(r.body()), "choices", 0, "message", "content"));
            Map<String, Object> f = upstreamFiles().get(0);
            assertEquals(1, upstreamFiles().size());
            assertEquals("image", f.get("type"));
            assertEquals("vision", f.get("file_class"));
            assertEquals("image/png", f.get("file_type"));
            assertArrayEquals(PNG, fake.storedBytes.get((String) f.get("id")), "the OSS object holds the image's bytes");
            assertTrue(((String) f.get("url")).startsWith(fake.url() + "/oss/"), "the STS credential's file_url");
            assertTrue(((String) lastUpstreamMessage().get("content")).contains("What is in it?"));
        }
    }

    @Test
    void sameBytesTwice_areUploadedOnce() throws Exception {
        byte[] other = PNG.clone();
        other[other.length - 5] ^= 1;           // a different image: not in the cache yet
        int before = fake.stsCalls.get();
        for (int i = 0; i < 3; i++) assertEquals(200, post(proxy, ask("qwen3.7-plus", false, imagePart(dataUrl("image/png", other)))).statusCode());
        assertEquals(before + 1, fake.stsCalls.get(), "one upload for the same bytes");
    }

    @Test
    void urlImage_isFetchedFollowingRedirects_andTheBytesDecideTheType() throws Exception {
        assertEquals(200, post(proxy, ask("qwen3.7-plus", false, imagePart(fake.url() + "/_fake/media/cat.png"))).statusCode());
        assertArrayEquals(PNG, fake.storedBytes.get((String) upstreamFiles().get(0).get("id")));
        assertEquals("cat.png", upstreamFiles().get(0).get("name"));
        HttpResponse<String> r = post(proxy, ask("qwen3.7-plus", true, imagePart(fake.url() + "/_fake/redirect/2/photo")));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("image/png", upstreamFiles().get(0).get("file_type"));
        assertEquals("photo.png", upstreamFiles().get(0).get("name"));
    }

    @Test
    void badUrls_areTheClientsErrors() throws Exception {
        HttpResponse<String> r = post(proxy, ask("qwen3.7-plus", false, imagePart(fake.url() + "/_fake/redirect/5/cat.png")));
        assertEquals(400, r.statusCode());
        assertEquals("invalid_image_url", errorOf(r).get("code"));
        assertTrue(((String) errorOf(r).get("message")).contains("redirected"));
        r = post(proxy, ask("qwen3.7-plus", true, imagePart(fake.url() + "/_fake/media/missing.png")));
        assertEquals(400, r.statusCode(), "a stream that cannot start is a real status");
        assertTrue(((String) errorOf(r).get("message")).contains("404"));
        r = post(proxy, ask("qwen3.7-plus", false, imagePart(fake.url() + "/_fake/media/big.png")));
        assertEquals(413, r.statusCode());
        assertTrue(((String) errorOf(r).get("message")).contains("4096"), "the limit is named");
        r = post(proxy, ask("qwen3.7-plus", false, imagePart("ftp://example.com/x.png")));
        assertEquals(400, r.statusCode());
        assertEquals(0, fake.completionBodies.size(), "nothing reached Qwen");
    }

    @Test
    void privateAddresses_areRefusedUnlessAllowed() throws Exception {
        try (QwenProxy.Server strict = withToken()) {
            HttpResponse<String> r = post(strict, ask("qwen3.7-plus", false, imagePart(fake.url() + "/_fake/media/cat.png")));
            assertEquals(400, r.statusCode());
            assertEquals("invalid_image_url", errorOf(r).get("code"));
            assertTrue(((String) errorOf(r).get("message")).contains("--allow-private-urls"));
            r = post(strict, ask("qwen3.7-plus", false, imagePart("http://[::1]:9/x.png")));
            assertEquals(400, r.statusCode());
        }
    }

    @Test
    void aModelWithoutVision_isRefusedNamingOneThatHasIt() throws Exception {
        HttpResponse<String> r = post(proxy, ask("qwen3.7-max", false, imagePart(dataUrl("image/png", PNG))));
        assertEquals(400, r.statusCode());
        Map<String, Object> e = errorOf(r);
        assertEquals("unsupported_content", e.get("code"));
        assertTrue(((String) e.get("message")).contains("qwen3.7-plus"), e.toString());
        assertEquals(0, fake.completionBodies.size());
    }

    @Test
    void imagesOfEarlierTurns_surviveFlattening() throws Exception {
        String body = "{\"model\":\"qwen3.7-plus\",\"messages\":["
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Remember this.\"}," + imagePart(dataUrl("image/png", PNG)) + "]},"
                + "{\"role\":\"assistant\",\"content\":\"A cat.\"},"
                + "{\"role\":\"user\",\"content\":\"What colour was it?\"}]}";
        assertEquals(200, post(proxy, body).statusCode());
        String content = (String) lastUpstreamMessage().get("content");
        assertTrue(content.contains("User: Remember this.\n[image 1]"), content);
        assertTrue(content.contains("User: What colour was it?"), content);
        assertEquals("vision", upstreamFiles().get(0).get("file_class"));
    }

    @Test
    void documents_areUploadedParsedAndReferenced() throws Exception {
        String part = "{\"type\":\"file\",\"file\":{\"filename\":\"report.pdf\",\"file_data\":\"" + dataUrl("application/pdf", PDF) + "\"}}";
        HttpResponse<String> r = post(proxy, ask("qwen3.7-plus", true, part));
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> f = upstreamFiles().get(0);
        assertEquals("document", f.get("file_class"));
        assertEquals("report.pdf", f.get("name"));
        assertEquals("application/pdf", f.get("file_type"));
        assertTrue(fake.parsing.getOrDefault((String) f.get("id"), 0) >= 2, "parsed (§10.3) before the completion");
        assertTrue(((String) lastUpstreamMessage().get("content")).contains("[document 1: report.pdf]"));
    }

    @Test
    void audio_asInputAudio() throws Exception {
        byte[] wav = "RIFF\0\0\0\0WAVEfmt ".getBytes(StandardCharsets.US_ASCII);
        String part = "{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"" + Base64.getEncoder().encodeToString(wav) + "\",\"format\":\"wav\"}}";
        assertEquals(200, post(proxy, ask("qwen3.7-plus", false, part)).statusCode());
        Map<String, Object> f = upstreamFiles().get(0);
        assertEquals("audio", f.get("type"));
        assertEquals("audio/wav", f.get("file_type"));
        assertArrayEquals(wav, fake.storedBytes.get((String) f.get("id")));
    }

    @Test
    void videoParts_whereTheModelReadsVideo() throws Exception {
        byte[] mp4 = "\0\0\0\u0018ftypmp42fake video".getBytes(StandardCharsets.ISO_8859_1);
        String part = "{\"type\":\"video_url\",\"video_url\":{\"url\":\"" + dataUrl("video/mp4", mp4) + "\"}}";
        assertEquals(200, post(proxy, ask("qwen3.7-plus", false, part)).statusCode());
        Map<String, Object> f = upstreamFiles().get(0);
        assertEquals("video", f.get("type"));
        assertEquals("video", f.get("file_class"));
        assertArrayEquals(mp4, fake.storedBytes.get((String) f.get("id")));
        HttpResponse<String> r = post(proxy, ask("qwen3.7-max", false, part));
        assertEquals(400, r.statusCode(), "qwen3.7-max's list entry says it reads no video");
        assertTrue(((String) errorOf(r).get("message")).contains("qwen3.7-plus"));
    }

    @Test
    void brokenParts_are400sNamingThePart() throws Exception {
        HttpResponse<String> r = post(proxy, ask("qwen3.7-plus", false, imagePart("data:image/png;base64,@@not-base64@@")));
        assertEquals(400, r.statusCode());
        assertEquals("messages[0].content[1]", errorOf(r).get("param"));
        r = post(proxy, ask("qwen3.7-plus", false, "{\"type\":\"image_url\",\"image_url\":{}}"));
        assertEquals(400, r.statusCode());
        r = post(proxy, ask("qwen3.7-plus", false, imagePart("http://exa mple.com/%zz.png")));
        assertEquals(400, r.statusCode(), "a malformed URL is the client's error, not a 500");
        assertEquals("invalid_image_url", errorOf(r).get("code"));
        r = post(proxy, ask("qwen3.7-plus", false, "{\"type\":\"hologram\",\"hologram\":\"x\"}"));
        assertEquals(400, r.statusCode());
        assertEquals("invalid_value", errorOf(r).get("code"));
    }
}
