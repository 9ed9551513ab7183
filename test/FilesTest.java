import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Upload endpoints: POST /v1/files (OpenAI) and /api/files/upload (FreeQwenApi); the ids and URLs work in later messages. */
class FilesTest extends Fixture {
    static String dataDir;

    @BeforeAll
    static void startProxy() throws Exception {
        dataDir = tempDir();
        proxy = withToken("--data-dir", dataDir, "--upload-max-bytes", "2048");       // strict about URLs: stored files need no fetch
    }

    @BeforeEach
    void reset() { fake.completionBodies.clear(); }

    /** A multipart/form-data body as browsers and the SDKs send it. */
    static HttpResponse<String> upload(QwenProxy.Server p, String path, String filename, String type, byte[] data, String purpose) throws Exception {
        String boundary = "----qwenproxy" + System.nanoTime();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        if (purpose != null) b.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n" + purpose + "\r\n")
                .getBytes(StandardCharsets.UTF_8));
        b.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename + "\"\r\nContent-Type: "
                + type + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        b.writeBytes(data);
        b.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return http.send(HttpRequest.newBuilder(URI.create(p.url() + path)).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(b.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<byte[]> getBytes(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void openAiFiles_uploadListGetContentUseAndDelete() throws Exception {
        HttpResponse<String> r = upload(proxy, "/v1/files", "report.pdf", "application/pdf", MediaTest.PDF, "user_data");
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> f = json(r.body());
        String id = (String) f.get("id");
        assertTrue(id.startsWith("file-"));
        assertEquals("file", f.get("object"));
        assertEquals("report.pdf", f.get("filename"));
        assertEquals("user_data", f.get("purpose"));
        assertEquals(String.valueOf(MediaTest.PDF.length), f.get("bytes").toString());
        assertEquals(f, json(get(proxy, "/v1/files/" + id).body()));
        assertTrue(get(proxy, "/v1/files").body().contains(id));
        assertArrayEquals(MediaTest.PDF, getBytes(proxy.url() + "/v1/files/" + id + "/content").body());

        String ask = "{\"model\":\"qwen3.7-plus\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Summarise\"},"
                + "{\"type\":\"file\",\"file\":{\"file_id\":\"" + id + "\"}}]}]}";
        assertEquals(200, post(proxy, ask).statusCode());
        Map<String, Object> sent = obj(((List<?>) lastUpstreamMessage().get("files")).get(0));
        assertEquals("document", sent.get("file_class"));
        assertEquals("report.pdf", sent.get("name"));
        assertArrayEquals(MediaTest.PDF, fake.storedBytes.get((String) sent.get("id")));

        HttpResponse<String> d = http.send(HttpRequest.newBuilder(URI.create(proxy.url() + "/v1/files/" + id)).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(Map.of("id", id, "object", "file", "deleted", true), json(d.body()));
        assertEquals(404, get(proxy, "/v1/files/" + id).statusCode());
        assertEquals("file_not_found", errorOf(get(proxy, "/v1/files/" + id)).get("code"));
        HttpResponse<String> gone = post(proxy, ask);
        assertEquals(400, gone.statusCode());
        assertTrue(((String) errorOf(gone).get("message")).contains(id));
    }

    @Test
    void freeQwenUpload_returnsAnIdAndUrlThatMessagesUse_evenAfterARestart() throws Exception {
        HttpResponse<String> r = upload(proxy, "/api/files/upload", "cat.png", "image/png", MediaTest.PNG, null);
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> u = json(r.body());
        assertEquals(true, u.get("success"));
        assertEquals(u.get("id"), u.get("fileId"));
        String url = (String) u.get("url");
        assertTrue(url.endsWith("/v1/files/" + u.get("id") + "/content"), url);
        try (QwenProxy.Server again = withToken("--data-dir", dataDir)) {         // a restart: the file is still there
            String ask = "{\"model\":\"qwen3.7-plus\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is it?\"},"
                    + "{\"type\":\"image\",\"image\":\"" + url + "\"}]}]}";
            assertEquals(200, post(again, ask).statusCode(), "this proxy's own file URL is read from its store, not fetched");
            Map<String, Object> sent = obj(((List<?>) lastUpstreamMessage().get("files")).get(0));
            assertEquals("vision", sent.get("file_class"));
            assertArrayEquals(MediaTest.PNG, fake.storedBytes.get((String) sent.get("id")));
        }
    }

    @Test
    void limitsAndBadBodies() throws Exception {
        HttpResponse<String> r = upload(proxy, "/v1/files", "big.txt", "text/plain", new byte[3000], "user_data");
        assertEquals(413, r.statusCode());
        assertTrue(((String) errorOf(r).get("message")).contains("2048"), "the limit is named");
        r = http.send(HttpRequest.newBuilder(URI.create(proxy.url() + "/v1/files")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(400, r.statusCode());
        r = upload(proxy, "/v1/files", "x.txt", "text/plain", "hi".getBytes(StandardCharsets.UTF_8), "user_data");
        assertEquals(200, r.statusCode());
        assertEquals(404, get(proxy, "/v1/files/file-nope").statusCode());
        assertEquals(404, get(proxy, "/v1/files/..%2Faccounts.json").statusCode(), "ids never reach outside the store");
    }
}
