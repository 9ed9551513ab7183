import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A forward HTTP proxy for plain-http targets (what an egress proxy is to the proxy under test):
 * absolute-form requests are forwarded and the answer streamed back; with a user and password it
 * answers 407 until the client sends them (Basic). It records every request that passed: method,
 * path and the Authorization header, so a test can tell whose calls left through it.
 */
final class TestProxy implements AutoCloseable {
    final HttpServer server;
    final String expected;                 // the Proxy-Authorization it wants, or null
    final List<String> passed = new CopyOnWriteArrayList<>();
    final List<String> refused = new CopyOnWriteArrayList<>();
    private final HttpClient out = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).proxy(HttpClient.Builder.NO_PROXY).build();
    private static final Set<String> HOP = Set.of("connection", "content-length", "expect", "host", "upgrade", "proxy-authorization",
            "proxy-connection", "keep-alive", "transfer-encoding", "te");

    TestProxy(String user, String password) throws IOException {
        expected = user == null ? null : "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newCachedThreadPool());
        server.start();
    }

    int port() { return server.getAddress().getPort(); }

    String url(String userInfo) { return "http://" + (userInfo == null ? "" : userInfo + "@") + "127.0.0.1:" + port(); }

    @Override public void close() { server.stop(0); }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            URI target = ex.getRequestURI();
            byte[] body = ex.getRequestBody().readAllBytes();
            String line = ex.getRequestMethod() + " " + target.getPath() + " " + ex.getRequestHeaders().getFirst("Authorization");
            if (!"http".equals(target.getScheme())) { ex.sendResponseHeaders(400, -1); return; }
            if (expected != null && !expected.equals(ex.getRequestHeaders().getFirst("Proxy-Authorization"))) {
                refused.add(line);
                ex.getResponseHeaders().set("Proxy-Authenticate", "Basic realm=\"egress\"");
                ex.sendResponseHeaders(407, -1);
                return;
            }
            passed.add(line);
            HttpRequest.Builder b = HttpRequest.newBuilder(target).method(ex.getRequestMethod(),
                    body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            ex.getRequestHeaders().forEach((k, vs) -> { if (!HOP.contains(k.toLowerCase())) for (String v : vs) b.header(k, v); });
            HttpResponse<InputStream> r = out.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            r.headers().map().forEach((k, vs) -> { if (!HOP.contains(k.toLowerCase()) && !k.startsWith(":")) ex.getResponseHeaders().put(k, vs); });
            long length = r.headers().firstValueAsLong("Content-Length").orElse(0);
            ex.sendResponseHeaders(r.statusCode(), length == 0 ? 0 : length);
            try (InputStream in = r.body(); OutputStream o = ex.getResponseBody()) {
                byte[] buf = new byte[8192];
                for (int n; (n = in.read(buf)) > 0; ) { o.write(buf, 0, n); o.flush(); }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
