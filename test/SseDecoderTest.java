import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class SseDecoderTest {
    /** Feeds the stream in pieces of the given size, as the network would hand it over. */
    static List<String> read(String s, int piece) throws IOException {
        QwenProxy.SseDecoder d = new QwenProxy.SseDecoder();
        List<String> out = new ArrayList<>();
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i += piece) d.feed(b, i, Math.min(piece, b.length - i), out::add);
        d.end(out::add);
        return out;
    }

    static List<String> read(String s) throws IOException { return read(s, 1 << 20); }

    @Test
    void feed_handlesLfCrlfAndCrLineEnds() throws IOException {
        assertEquals(List.of("a", "b", "c"), read("data: a\n\ndata: b\r\n\r\ndata: c\r\r"));
    }

    @Test
    void feed_joinsMultiLineDataAndSkipsCommentsAndOtherFields() throws IOException {
        assertEquals(List.of("one\ntwo", "x"), read(": hello\nevent: ping\nid: 7\ndata: one\ndata: two\n\nretry: 5\ndata:x\n\n"));
    }

    @Test
    void feed_keepsAllButOneLeadingSpaceAndTrailingSpaces() throws IOException {
        assertEquals(List.of(" two spaces", "{\"response.created\":{}} "), read("data:  two spaces\n\ndata: {\"response.created\":{}} \n\n"));
    }

    @Test
    void feed_dispatchesAPendingEventAtEndOfStream() throws IOException {
        assertEquals(List.of("last"), read("data: last"));
        assertEquals(List.of(), read("\n\n\n"));
        assertEquals(List.of(""), read("data:\n\n"));
    }

    @Test
    void feed_survivesSplitsAtEveryByte() throws IOException {
        String s = "data: {\"a\":\"中文😀\"}\r\n\r\n: c\r\ndata: b\n\n";
        for (int piece = 1; piece <= 7; piece++) assertEquals(List.of("{\"a\":\"中文😀\"}", "b"), read(s, piece));
    }

    @Test
    void gunzip_inflatesAStreamSplitAnywhere() throws IOException {
        String text = "data: {\"x\":1}\n\n".repeat(200);
        java.io.ByteArrayOutputStream z = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream g = new java.util.zip.GZIPOutputStream(z)) { g.write(text.getBytes(StandardCharsets.UTF_8)); }
        byte[] gz = z.toByteArray();
        for (int piece : new int[]{1, 3, 10, 64, gz.length}) {
            QwenProxy.Gunzip g = new QwenProxy.Gunzip();
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < gz.length; i += piece) out.write(g.feed(gz, i, Math.min(piece, gz.length - i)));
            assertEquals(text, out.toString(StandardCharsets.UTF_8), "pieces of " + piece);
        }
        assertThrows(IOException.class, () -> new QwenProxy.Gunzip().feed("not gzip at all".getBytes(StandardCharsets.UTF_8), 0, 15));
    }

    @Test
    void feed_acceptsBareJsonLines() throws IOException {
        assertEquals(List.of("{\"success\":false}"), read("{\"success\":false}\n"));
    }
}
