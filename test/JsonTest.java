import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class JsonTest {
    static Object parse(String s) { return QwenProxy.Json.parse(s); }
    static String write(Object o) { return QwenProxy.Json.write(o); }

    static QwenProxy.Json.ParseError fails(String s) {
        return assertThrows(QwenProxy.Json.ParseError.class, () -> parse(s), "should reject: " + s);
    }

    @Test
    void raw_keepsATopLevelValueAsItsTextAndStillChecksIt() {
        Map<?, ?> m = (Map<?, ?>) QwenProxy.Json.parse("{\"usage\": {\"a\": [1, \"x\\\"}\", {\"b\": null}]}, \"n\": 2}", java.util.Set.of("usage"));
        assertEquals(new QwenProxy.Json.Raw("{\"a\": [1, \"x\\\"}\", {\"b\": null}]}"), m.get("usage"));
        assertEquals("2", m.get("n").toString());
        assertThrows(QwenProxy.Json.ParseError.class, () -> QwenProxy.Json.parse("{\"usage\": {\"a\": }}", java.util.Set.of("usage")));
        assertThrows(QwenProxy.Json.ParseError.class, () -> QwenProxy.Json.parse("{\"usage\": [1,]}", java.util.Set.of("usage")));
        Map<?, ?> nested = (Map<?, ?>) QwenProxy.Json.parse("{\"x\": {\"usage\": {\"a\": 1}}}", java.util.Set.of("usage"));
        assertTrue(((Map<?, ?>) nested.get("x")).get("usage") instanceof Map, "only top-level keys stay text");
    }

    @Test
    void parse_objectKeepsKeyOrderAndNumbersAsWritten() {
        String doc = "{\"b\":1,\"a\":1.50,\"c\":-0e+3,\"d\":[true,false,null],\"e\":{}}";
        Map<?, ?> m = (Map<?, ?>) parse(doc);
        assertEquals(List.of("b", "a", "c", "d", "e"), new ArrayList<>(m.keySet()));
        assertEquals("1.50", m.get("a").toString());
        assertEquals(doc, write(m), "a round trip changes nothing");
    }

    @Test
    void parse_numbersStayExactBeyondLongAndDouble() {
        String doc = "[12345678901234567890123456789,1e400,-0.000000000000000000001,9007199254740993]";
        assertEquals(doc, write(parse(doc)));
    }

    @Test
    void parse_nullIsKeptApartFromAbsent() {
        Map<?, ?> m = (Map<?, ?>) parse("{\"a\":null}");
        assertTrue(m.containsKey("a"));
        assertSame(QwenProxy.Json.NULL, m.get("a"));
        assertNull(m.get("b"));
        assertEquals("{\"a\":null}", write(m));
    }

    @Test
    void parse_escapesAndSurrogatePairs() {
        assertEquals("\"\\/\b\f\n\r\té", parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\""));
        assertEquals("😀", parse("\"\\ud83d\\ude00\""));
        assertEquals("😀 raw", parse("\"😀 raw\""));
        assertEquals("\ud800", parse("\"\\ud800\""), "a lone surrogate survives parsing");
    }

    @Test
    void write_escapesWhatJsonAndJavaScriptNeed() {
        assertEquals("\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\"", write("a\"b\\c\n\r\t\b\f\u0001"));
        assertEquals("\"\\u2028\\u2029\"", write("\u2028\u2029"));
        assertEquals("\"😀\"", write("😀"), "valid pairs are written as they are");
        assertEquals("\"\\ud800x\\udc00\"", write("\ud800x\udc00"), "lone surrogates are escaped, not lost");
        assertEquals("\"/é中\"", write("/é中"));
        for (String s : List.of("\u2028", "\ud83d\ude00", "\u0000\u001f", "q\"\\"))
            assertEquals(s, parse(write(s)));
    }

    @Test
    void write_javaValues() {
        assertEquals("[1,2.5,null,true,\"x\"]", write(List.of(1, 2.5, QwenProxy.Json.NULL, true, "x")));
        assertEquals("[null,null]", write(List.of(Double.NaN, Double.POSITIVE_INFINITY)));
        assertEquals("{\"k\":3}", write(Map.of("k", 3L)));
    }

    @Test
    void parse_depthIsCapped() {
        String ok = "[".repeat(QwenProxy.Json.MAX_DEPTH) + "]".repeat(QwenProxy.Json.MAX_DEPTH);
        assertNotNull(parse(ok));
        QwenProxy.Json.ParseError e = fails("[".repeat(QwenProxy.Json.MAX_DEPTH + 1) + "]".repeat(QwenProxy.Json.MAX_DEPTH + 1));
        assertTrue(e.getMessage().contains("Nesting"));
        assertEquals(QwenProxy.Json.MAX_DEPTH, e.offset);
        fails("{\"a\":".repeat(100_000));   // no StackOverflowError
    }

    @Test
    void parse_errorsCarryTheOffset() {
        assertEquals(5, fails("{\"a\":}").offset);
        assertEquals(3, fails("[1,]").offset);
        assertEquals(1, fails("01").offset);
        assertEquals(4, fails("\"abc").offset);
        assertTrue(fails("\"abc").getMessage().contains("Unterminated string"));
        assertTrue(fails("[1 2]").getMessage().contains("at offset 3"));
    }

    @Test
    void parse_rejectsGarbage() {
        for (String bad : List.of("", "   ", "}", "{\"a\" 1}", "[1 2]", "nul", "tru", "-", "1.", "1e", "1e+", ".5", "+1",
                "\"\\x\"", "\"\u0001\"", "{\"a\":1,}", "[,]", "{a:1}", "'x'", "\"\\u12G4\"", "[1]]", "NaN", "\"\\u12"))
            fails(bad);
    }

    @Test
    void parse_everyTruncationFailsCleanly() {
        String doc = "{\"id\":\"chatcmpl-1\",\"n\":[1,-2.5e3,{\"x\":\"\\u00e9\\n\"}],\"ok\":true,\"z\":null}";
        assertNotNull(parse(doc));
        for (int i = 0; i < doc.length(); i++) fails(doc.substring(0, i));
    }

    @Test
    void parse_randomInputNeverThrowsAnythingButParseError() {
        Random r = new Random(42);
        String alphabet = "{}[]\":,.-+eE0123456789truefalsn \\u\n\t";
        int parsed = 0;
        for (int i = 0; i < 20_000; i++) {
            StringBuilder b = new StringBuilder();
            for (int k = r.nextInt(12); k > 0; k--) b.append(alphabet.charAt(r.nextInt(alphabet.length())));
            try {
                Object v = parse(b.toString());
                assertEquals(write(v), write(parse(write(v))), "write/parse is stable");
                parsed++;
            } catch (QwenProxy.Json.ParseError expected) {
                // the only acceptable failure
            }
        }
        assertTrue(parsed > 0);
    }

    @Test
    void parsedObjectsBehaveAsOrderedMaps() {
        java.util.Map<String, Object> m = QwenProxy.Json.asObject(QwenProxy.Json.parse("{\"b\":1,\"a\":2,\"b\":3}"));
        assertEquals(java.util.List.of("b", "a"), new java.util.ArrayList<>(m.keySet()), "order of first appearance; a repeated key: the last value");
        assertEquals("3", ((QwenProxy.Json.Num) m.get("b")).text());
        assertEquals(java.util.Map.of("b", new QwenProxy.Json.Num("3"), "a", new QwenProxy.Json.Num("2")), m, "equals any Map");
        m.put("c", "x");
        m.remove("b");
        assertEquals(java.util.List.of("a", "c"), new java.util.ArrayList<>(m.keySet()));
        assertNull(m.get("b"));
        for (java.util.Map.Entry<String, Object> e : m.entrySet()) e.setValue("v-" + e.getKey());
        assertEquals("v-a", m.get("a"));
        m.keySet().removeIf(k -> k.equals("a"));
        assertEquals(java.util.Map.of("c", "v-c"), m);
        StringBuilder big = new StringBuilder("{");
        for (int k = 0; k < 40; k++) big.append(k == 0 ? "" : ",").append("\"k").append(k).append("\":").append(k);
        java.util.Map<String, Object> large = QwenProxy.Json.asObject(QwenProxy.Json.parse(big.append("}").toString()));
        assertEquals(40, large.size());
        for (int k = 0; k < 40; k++) assertEquals(Integer.toString(k), ((QwenProxy.Json.Num) large.get("k" + k)).text());
        large.remove("k3");
        assertNull(large.get("k3"));
        assertEquals("39", ((QwenProxy.Json.Num) large.get("k39")).text(), "the index follows a removal");
        large.put("k3", "back");
        assertEquals("k3", new java.util.ArrayList<>(large.keySet()).get(39), "a key put again goes last");
        assertEquals(QwenProxy.Json.write(large), QwenProxy.Json.write(new java.util.LinkedHashMap<>(large)));
    }
}
