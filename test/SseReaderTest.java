import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class SseReaderTest {
    static List<String> read(InputStream in) throws IOException {
        QwenProxy.SseReader r = new QwenProxy.SseReader(in);
        List<String> out = new ArrayList<>();
        for (String d; (d = r.next()) != null; ) out.add(d);
        return out;
    }

    static List<String> read(String s) throws IOException {
        return read(new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8)));
    }

    /** Hands out one byte per read, so every line is split at every point. */
    static InputStream trickle(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return new InputStream() {
            int i;
            @Override public int read() { return i < b.length ? b[i++] & 0xff : -1; }
            @Override public int read(byte[] buf, int off, int len) { if (i >= b.length) return -1; buf[off] = b[i++]; return 1; }
        };
    }

    @Test
    void next_handlesLfCrlfAndCrLineEnds() throws IOException {
        assertEquals(List.of("a", "b", "c"), read("data: a\n\ndata: b\r\n\r\ndata: c\r\r"));
    }

    @Test
    void next_joinsMultiLineDataAndSkipsCommentsAndOtherFields() throws IOException {
        assertEquals(List.of("one\ntwo", "x"), read(": hello\nevent: ping\nid: 7\ndata: one\ndata: two\n\nretry: 5\ndata:x\n\n"));
    }

    @Test
    void next_keepsAllButOneLeadingSpaceAndTrailingSpaces() throws IOException {
        assertEquals(List.of(" two spaces", "{\"response.created\":{}} "), read("data:  two spaces\n\ndata: {\"response.created\":{}} \n\n"));
    }

    @Test
    void next_dispatchesAPendingEventAtEndOfStream() throws IOException {
        assertEquals(List.of("last"), read("data: last"));
        assertEquals(List.of(), read("\n\n\n"));
        assertEquals(List.of(""), read("data:\n\n"));
    }

    @Test
    void next_survivesSplitsAtEveryByte() throws IOException {
        String s = "data: {\"a\":\"中文😀\"}\r\n\r\n: c\r\ndata: b\n\n";
        assertEquals(List.of("{\"a\":\"中文😀\"}", "b"), read(trickle(s)));
    }

    @Test
    void next_acceptsBareJsonLines() throws IOException {
        assertEquals(List.of("{\"success\":false}"), read("{\"success\":false}\n"));
    }
}
