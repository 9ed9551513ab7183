import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The streaming tool-call parser, with every input cut at every point. */
class ToolParserTest {
    static final String WEATHER = "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather for a city\","
            + "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"days\":{\"type\":\"integer\"},"
            + "\"unit\":{\"type\":\"string\",\"enum\":[\"C\",\"F\"]}},\"required\":[\"city\"]}}}";
    static final String RUN = "{\"type\":\"function\",\"function\":{\"name\":\"run\",\"strict\":true,\"parameters\":{\"type\":\"object\","
            + "\"properties\":{\"code\":{\"type\":\"string\"},\"opts\":{\"type\":\"object\"}},\"required\":[\"code\"],\"additionalProperties\":false}}}";

    @SuppressWarnings("unchecked")
    static QwenProxy.Tools tools(String extra) {
        return QwenProxy.Tools.parse((Map<String, Object>) QwenProxy.Json.parse("{\"tools\":[" + WEATHER + "," + RUN + "]" + extra + "}"));
    }

    /** Events: T:text (merged), C:name:args, R:reason. */
    static List<String> run(QwenProxy.Tools t, String... pieces) {
        List<String> ev = new ArrayList<>();
        QwenProxy.ToolParser p = new QwenProxy.ToolParser(t, new QwenProxy.ToolParser.Out() {
            public void text(String s) {
                if (!ev.isEmpty() && ev.get(ev.size() - 1).startsWith("T:")) ev.set(ev.size() - 1, ev.get(ev.size() - 1) + s);
                else ev.add("T:" + s);
            }
            public void call(String name, String args) { ev.add("C:" + name + ":" + args); }
            public void rejected(String why) { ev.add("R:" + why.split(":")[0]); }
        });
        for (String piece : pieces) p.feed(piece);
        p.end();
        return ev;
    }

    /** The same result whatever the split: in two at every point, and one character at a time. */
    static void everySplit(QwenProxy.Tools t, String text, List<String> expected) {
        assertEquals(expected, run(t, text), "whole");
        for (int i = 0; i <= text.length(); i++)
            assertEquals(expected, run(t, text.substring(0, i), text.substring(i)), "split at " + i);
        assertEquals(expected, run(t, text.split("")), "char by char");
    }

    @Test
    void hermesCall_afterText() {
        everySplit(tools(""), "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
                List.of("T:Let me check.\n", "C:get_weather:{\"city\":\"Paris\"}"));
    }

    @Test
    void twoCalls_andTextBetweenThemIsKeptButMarkupIsNot() {
        everySplit(tools(""), "<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"A\"}}\n</tool_call>\n"
                        + "<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"B\",\"days\":2}}</tool_call>",
                List.of("C:get_weather:{\"city\":\"A\"}", "T:\n", "C:get_weather:{\"city\":\"B\",\"days\":2}"));
    }

    @Test
    void qwenCoderFormat_withTypesFromTheSchema() {
        everySplit(tools(""), "<tool_call>\n<function=get_weather>\n<parameter=city>\nNew York\n</parameter>\n<parameter=days>\n3\n</parameter>\n"
                        + "</function>\n</tool_call>",
                List.of("C:get_weather:{\"city\":\"New York\",\"days\":3}"));
        everySplit(tools(""), "<function=get_weather>\n<parameter=city>\nLima\n</parameter>\n</function>",
                List.of("C:get_weather:{\"city\":\"Lima\"}"));
    }

    @Test
    void fencedJsonCalls_andOrdinaryJsonBlocks() {
        everySplit(tools(""), "```json\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}\n```",
                List.of("C:get_weather:{\"city\":\"Rome\"}"));
        everySplit(tools(""), "Config:\n```json\n{\"port\": 8080}\n```\nDone.", List.of("T:Config:\n```json\n{\"port\": 8080}\n```\nDone."));
    }

    @Test
    void aMissingClosingTagAtTheEndIsTolerated() {
        everySplit(tools(""), "<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Oslo\"}}",
                List.of("C:get_weather:{\"city\":\"Oslo\"}"));
    }

    @Test
    void markersInsideStringsAndNestedJsonDoNotEndTheCall() {
        everySplit(tools(""), "<tool_call>\n{\"name\":\"run\",\"arguments\":{\"code\":\"print('</tool_call>')\\n# {\\\"x\\\": [1, \\\"}\\\"]}\","
                        + "\"opts\":{\"a\":[1,{\"b\":\"}]\"}]}}}\n</tool_call>",
                List.of("C:run:{\"code\":\"print('</tool_call>')\\n# {\\\"x\\\": [1, \\\"}\\\"]}\",\"opts\":{\"a\":[1,{\"b\":\"}]\"}]}}"));
    }

    @Test
    void unknownToolsAreNotCalls_andTheirMarkupDoesNotLeak() {
        everySplit(tools(""), "Hm.<tool_call>{\"name\":\"rm_rf\",\"arguments\":{}}</tool_call>", List.of("T:Hm.", "R:a call to unknown tool 'rm_rf'"));
    }

    @Test
    void trivialDamageIsRepaired() {
        assertEquals(List.of("C:get_weather:{\"city\":\"Paris\",\"days\":3}"),
                run(tools(""), "<tool_call>\n{'name': 'get_weather', 'arguments': {'city': 'Paris', 'days': '3',}}\n</tool_call>"));
        assertEquals(List.of("C:get_weather:{\"city\":\"Kyiv\"}"),
                run(tools(""), "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Kyiv\\\"}\"}\n</tool_call>"));
        assertEquals(List.of("C:run:{\"code\":\"x\",\"opts\":{\"ok\":true}}"),
                run(tools(""), "<tool_call>{\"name\":\"run\",\"arguments\":{\"code\":\"x\",\"opts\":{\"ok\":True}}}</tool_call>"));
        assertEquals(List.of("R:a <tool_call> block that is not a call"), run(tools(""), "<tool_call>\nI would call get_weather here\n</tool_call>"));
    }

    @Test
    void schemaRules_strictToolsRejectViolations_othersPassThem() {
        assertEquals(List.of("R:arguments of 'run' break its schema"), run(tools(""), "<tool_call>{\"name\":\"run\",\"arguments\":{\"code\":\"x\",\"evil\":1}}</tool_call>"));
        assertEquals(List.of("C:get_weather:{\"city\":\"X\",\"unit\":\"K\"}"),
                run(tools(""), "<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"X\",\"unit\":\"K\"}}</tool_call>"));
    }

    @Test
    void parallelFalseKeepsOneCall_andANamedChoiceOnlyThatOne() {
        String two = "<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"A\"}}</tool_call><tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"B\"}}</tool_call>";
        assertEquals(List.of("C:get_weather:{\"city\":\"A\"}", "R:a second call while parallel_tool_calls is false"), run(tools(",\"parallel_tool_calls\":false"), two));
        assertEquals(List.of("R:a call to 'get_weather' instead of 'run'"),
                run(tools(",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"run\"}}"), "<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"A\"}}</tool_call>"));
    }

    @Test
    void plainTextWithAngleBracketsAndPartialMarkersPassesThrough() {
        everySplit(tools(""), "if a < b and <div> then <tool", List.of("T:if a < b and <div> then <tool"));
        everySplit(tools(""), "stray </tool_call> tag", List.of("T:stray  tag"));
    }

    @Test
    void toolsParse_validatesChoices() {
        assertEquals("named", tools(",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"run\"}}").choice());
        assertFalse(tools(",\"tool_choice\":\"none\"").active(), "none: tools are not offered");
        assertThrows(QwenProxy.ApiException.class, () -> tools(",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}"));
        assertThrows(QwenProxy.ApiException.class, () -> tools(",\"tool_choice\":\"sometimes\""));
        @SuppressWarnings("unchecked") Map<String, Object> legacy = (Map<String, Object>) QwenProxy.Json.parse(
                "{\"functions\":[{\"name\":\"f\",\"parameters\":{}}],\"function_call\":{\"name\":\"f\"}}");
        assertEquals("f", QwenProxy.Tools.parse(legacy).forced());
    }

    @Test
    void structuredOutput_extractsAndChecksJson() {
        @SuppressWarnings("unchecked") Map<String, Object> schema = (Map<String, Object>) QwenProxy.Json.parse(
                "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\"},"
                        + "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},\"required\":[\"name\",\"age\"],\"additionalProperties\":false}");
        QwenProxy.Format f = new QwenProxy.Format(true, schema, true);
        List<String> errors = new ArrayList<>();
        assertEquals("{\"name\":\"Ann\",\"age\":31,\"tags\":[\"x\"]}",
                QwenProxy.ToolLayer.structured("Sure! ```json\n{\"name\": \"Ann\", \"age\": \"31\", \"tags\": [\"x\"]}\n```", f, errors));
        assertNull(QwenProxy.ToolLayer.structured("{\"name\": \"Ann\"}", f, errors));
        assertTrue(errors.toString().contains("$.age is required"), errors.toString());
        errors.clear();
        assertNull(QwenProxy.ToolLayer.structured("{\"name\": \"Ann\", \"age\": 3, \"x\": 1}", f, errors));
        assertTrue(errors.toString().contains("$.x is not allowed"));
        errors.clear();
        assertNull(QwenProxy.ToolLayer.structured("no json here", new QwenProxy.Format(false, null, false), errors));
        assertEquals("{\"a\":1}", QwenProxy.ToolLayer.structured("{\"a\": 1}", new QwenProxy.Format(false, null, false), errors));
        errors.clear();         // a malformed "type" (null, a number) checks nothing instead of failing every answer; names beside it still count
        @SuppressWarnings("unchecked") Map<String, Object> odd = (Map<String, Object>) QwenProxy.Json.parse(
                "{\"type\":null,\"properties\":{\"a\":{\"type\":[\"string\",null,3]}}}");
        assertEquals("{\"a\":\"x\"}", QwenProxy.ToolLayer.structured("{\"a\": \"x\"}", new QwenProxy.Format(true, odd, false), errors));
        assertNull(QwenProxy.ToolLayer.structured("{\"a\": 1}", new QwenProxy.Format(true, odd, false), errors));
        assertEquals("[$.a should be [string]]", errors.toString());
    }
}
