import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Video generation (§10.5, t2v): a task polled to its end, in chat (-video) and as OpenAI's /v1/videos jobs. */
class VideoTest extends Fixture {

    @BeforeAll
    static void startProxy() throws Exception {
        QwenProxy.videoPollMs = 20;
        proxy = withToken("--chat-pool", "0");
    }

    @AfterAll
    static void restorePolling() { QwenProxy.videoPollMs = 2000; }

    @BeforeEach
    void reset() {
        fake.completionBodies.clear();
        fake.statusCalls.clear();
        fake.videoV2 = true;
        fake.videoFails = false;
        fake.videoPolls = 2;
    }

    static final String ASK = "\"messages\":[{\"role\":\"user\",\"content\":\"A cat surfing\"}]";

    @Test
    void videoModel_pollsTheTaskAndAnswersWithALink() throws Exception {
        HttpResponse<String> r = post(proxy, "{\"model\":\"qwen3.7-plus-video\",\"size\":\"1280x720\"," + ASK + "}");
        assertEquals(200, r.statusCode(), r.body());
        String content = (String) at(json(r.body()), "choices", 0, "message", "content");
        assertTrue(content.matches("\\[video]\\(" + java.util.regex.Pattern.quote(fake.url()) + "/_fake/media/[0-9a-f-]+\\.mp4\\)"), content);
        Map<String, Object> body = fake.completionBodies.get(0);
        assertEquals(false, body.get("stream"), "t2v is asked without a stream (§10.5)");
        assertEquals("16:9", body.get("size"));
        assertEquals("t2v", lastUpstreamMessage().get("chat_type"));
        assertEquals(List.of("/api/v2/task/status/", "/api/v2/task/status/"), fake.statusCalls, "asked until done");
    }

    @Test
    void streaming_commitsAtOnceShowsProgressThenTheLink() throws Exception {
        fake.videoPolls = 4;
        String text = "", reasoning = "";
        for (String e : events(post(proxy, "{\"model\":\"qwen3.7-plus\",\"stream\":true,\"chat_type\":\"t2v\"," + ASK + "}").body())) {
            if (e.equals("[DONE]")) continue;
            Object t = at(json(e), "choices", 0, "delta", "content"), rc = at(json(e), "choices", 0, "delta", "reasoning_content");
            if (t != null) text += t;
            if (rc != null) reasoning += rc;
        }
        assertTrue(reasoning.startsWith("Qwen is generating the video"), reasoning);
        assertTrue(text.startsWith("[video]("), text);
    }

    @Test
    void theV1StatusRoute_whenV2IsGone_andAFailedTaskIs502() throws Exception {
        fake.videoV2 = false;
        assertEquals(200, post(proxy, "{\"model\":\"qwen3.7-plus-video\"," + ASK + "}").statusCode());
        assertTrue(fake.statusCalls.contains("/api/v1/tasks/status/"), fake.statusCalls.toString());
        fake.videoFails = true;
        HttpResponse<String> r = post(proxy, "{\"model\":\"qwen3.7-plus-video\"," + ASK + "}");
        assertEquals(502, r.statusCode());
        assertTrue(((String) errorOf(r).get("message")).contains("could not generate the video"));
    }

    @Test
    void videosEndpoint_aJobThatCompletes() throws Exception {
        HttpResponse<String> r = call(proxy, "POST", "/v1/videos", "{\"model\":\"sora-2\",\"prompt\":\"A cat surfing\",\"size\":\"720x1280\"}");
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> job = json(r.body());
        String id = (String) job.get("id");
        assertEquals("video", job.get("object"));
        assertTrue(List.of("queued", "in_progress").contains(job.get("status")), job.toString());
        waitFor("the video job", () -> "completed".equals(json(get(proxy, "/v1/videos/" + id).body()).get("status")));
        Map<String, Object> done = json(get(proxy, "/v1/videos/" + id).body());
        assertEquals("100", done.get("progress").toString());
        assertTrue(((String) done.get("url")).endsWith(".mp4"));
        assertEquals("9:16", fake.completionBodies.get(fake.completionBodies.size() - 1).get("size"));
        HttpResponse<String> content = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build()
                .send(HttpRequest.newBuilder(URI.create(proxy.url() + "/v1/videos/" + id + "/content")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(302, content.statusCode());
        assertEquals(done.get("url"), content.headers().firstValue("Location").orElse(null));
        assertTrue(get(proxy, "/v1/videos").body().contains(id));
        assertEquals(404, get(proxy, "/v1/videos/video_nope").statusCode());
    }

    @Test
    void videosEndpoint_aFailedJobSaysWhy_andBadRequestsAre400() throws Exception {
        fake.videoFails = true;
        String id = (String) json(call(proxy, "POST", "/v1/videos", "{\"prompt\":\"x\"}").body()).get("id");
        waitFor("the failed job", () -> "failed".equals(json(get(proxy, "/v1/videos/" + id).body()).get("status")));
        assertEquals("upstream_error", at(json(get(proxy, "/v1/videos/" + id).body()), "error", "code"));
        assertEquals(409, get(proxy, "/v1/videos/" + id + "/content").statusCode());
        HttpResponse<String> r = call(proxy, "POST", "/v1/videos", "{}");
        assertEquals("prompt", errorOf(r).get("param"));
    }
}
