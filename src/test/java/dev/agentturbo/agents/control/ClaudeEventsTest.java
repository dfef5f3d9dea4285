package dev.agentturbo.agents.control;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How the events of captured runs of the real {@code claude} program read in a task's output. */
class ClaudeEventsTest {

    @Test
    void aRunWithAToolReadsAsStartToolCallToolResultAnswerResult() {
        List<ClaudeEvents.Described> shown = lines("success-with-tool.jsonl").stream()
                .map(l -> ClaudeEvents.describe(json(l))).toList();

        assertEquals(List.of("system", "tool_use", "tool_result", "assistant", "result"),
                shown.stream().map(ClaudeEvents.Described::kind).toList());
        assertTrue(shown.get(0).text().equals("started: model claude-opus-4-8[1m], working in /tmp/wtc-probe/wd-allowed"),
                shown.get(0).text());
        assertEquals("Bash {\"command\":\"echo proof > proof.txt\",\"description\":\"write proof\"}", shown.get(1).text());
        assertEquals("(Bash completed with no output)", shown.get(2).text());
        assertTrue(shown.get(4).text().startsWith("done, $"), shown.get(4).text());
    }

    @Test
    void aFailedToolResultAndARejectedRateLimitSayWhatHappened() {
        var error = ClaudeEvents.describe(json("{\"type\":\"user\",\"message\":{\"content\":[{\"type\":\"tool_result\","
                + "\"content\":[{\"type\":\"text\",\"text\":\"permission denied\"}],\"is_error\":true}]}}"));
        assertEquals("tool_result", error.kind());
        assertEquals("(error) permission denied", error.text());

        var limit = ClaudeEvents.describe(json("{\"type\":\"rate_limit_event\",\"rate_limit_info\":{\"status\":\"rejected\","
                + "\"resetsAt\":1764414000,\"rateLimitType\":\"five_hour\"}}"));
        assertEquals("system", limit.kind());
        assertEquals("rate limit rejected (five_hour), resets at 2025-11-29T11:00:00Z", limit.text());

        var failed = ClaudeEvents.describe(json("{\"type\":\"result\",\"subtype\":\"error_max_turns\",\"is_error\":true,"
                + "\"num_turns\":3}"));
        assertEquals("failed (error_max_turns), 3 turns", failed.text());
    }

    private static JsonObject json(String line) {
        try (var reader = Json.createReader(new StringReader(line))) {
            return reader.readObject();
        }
    }

    private static List<String> lines(String file) {
        try (InputStream in = ClaudeEventsTest.class.getResourceAsStream("/claude-stream/" + file)) {
            assertNotNull(in, file);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
