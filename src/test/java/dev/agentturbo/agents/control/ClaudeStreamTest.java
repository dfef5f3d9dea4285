package dev.agentturbo.agents.control;

import dev.agentturbo.tasks.entity.Outcome;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stream-json parser on what the real program printed. The files under {@code claude-stream/} are the stdout
 * of {@code claude} 2.1.197 ({@code -p --output-format stream-json --verbose}) run against a local fake of the
 * Messages API, unedited. The older usage-limit texts no longer come from 2.1.197; they are put into its real
 * result line in place of the current text.
 */
class ClaudeStreamTest {

    /** 2026-11-29T11:00:00Z, the morning the files were captured. */
    private static final Clock CAPTURE_MORNING = Clock.fixed(Instant.parse("2026-11-29T11:00:00Z"), ZoneOffset.UTC);

    @Test
    void aSuccess() {
        ClaudeStream stream = read("success.jsonl");
        Outcome outcome = stream.outcome(0);

        assertEquals(Outcome.Kind.SUCCEEDED, outcome.kind());
        assertEquals("Hello from fake", outcome.result());
        assertNull(outcome.error());
        assertEquals(0, new BigDecimal("0.000175").compareTo(outcome.costUsd()));
        assertEquals(10L, outcome.inputTokens());
        assertEquals(5L, outcome.outputTokens());
        assertEquals(1, outcome.numTurns());
        assertEquals("3e4b3942-08ac-4396-a5eb-63d355154df2", outcome.sessionId());
        assertEquals(0, outcome.exitCode());
        assertNull(outcome.resumeAt());
    }

    @Test
    void aSuccessThatRanATool() {
        Outcome outcome = read("success-with-tool.jsonl").outcome(0);

        assertEquals(Outcome.Kind.SUCCEEDED, outcome.kind());
        assertEquals(2, outcome.numTurns());
        assertTrue(outcome.result().startsWith("done: "), outcome.result());
    }

    @Test
    void aRateLimitThatOutlastsTheProgramsOwnRetriesBacksOffAndCountsNoAttempt() {
        // one api_retry line, then is_error true with subtype success and api_error_status 429; exit code 1
        ClaudeStream stream = read("api-key-429.jsonl");
        Outcome outcome = stream.outcome(1);

        assertEquals(Outcome.Kind.RATE_LIMITED, outcome.kind());
        assertEquals("the API stayed rate-limited (429) through 1 retries of claude: API Error: Request rejected (429)"
                + " · slow down", outcome.error());
        assertNull(outcome.resumeAt());
        assertEquals(1, outcome.exitCode());
        assertEquals(0, BigDecimal.ZERO.compareTo(outcome.costUsd()));
        assertNotNull(outcome.sessionId());
    }

    @Test
    void theSubscriptionsPlainRateLimitIsNoUsageLimitButABackOff() {
        // rate_limit_event "rejected" without resetsAt, text "(not your usage limit)"
        Outcome outcome = read("subscription-429.jsonl").outcome(1);

        assertEquals(Outcome.Kind.RATE_LIMITED, outcome.kind());
        assertNull(outcome.resumeAt());
        assertTrue(outcome.error().startsWith("the API stayed rate-limited (429)"), outcome.error());
    }

    @Test
    void theSessionLimitResumesAtTheResetOfItsRateLimitEvent() {
        Outcome outcome = read("usage-limit-session.jsonl").outcome(1);

        assertEquals(Outcome.Kind.USAGE_LIMITED, outcome.kind());
        assertEquals(Instant.ofEpochSecond(1795953363), outcome.resumeAt());
        assertEquals("You've hit your session limit · resets 11:56am (UTC)", outcome.result());
        assertEquals("usage limit reached: You've hit your session limit · resets 11:56am (UTC)", outcome.error());
    }

    @Test
    void theWeeklyLimitResumesAtTheResetOfItsRateLimitEvent() {
        Outcome outcome = read("usage-limit-weekly.jsonl").outcome(1);

        assertEquals(Outcome.Kind.USAGE_LIMITED, outcome.kind());
        assertEquals(Instant.ofEpochSecond(1796230216), outcome.resumeAt());
    }

    @Test
    void withoutTheRateLimitEventTheTextNamesTheReset() {
        assertEquals(Instant.parse("2026-11-29T11:56:00Z"),
                resumeWithoutEvent("usage-limit-session.jsonl", CAPTURE_MORNING));
        assertEquals(Instant.parse("2026-11-30T11:56:00Z"), resumeWithoutEvent("usage-limit-session.jsonl",
                Clock.fixed(Instant.parse("2026-11-29T12:00:00Z"), ZoneOffset.UTC)), "past: tomorrow's");
        // more than a day away, the program names the date: "resets Dec 2, 4:50pm (UTC)"
        assertEquals(Instant.parse("2026-12-02T16:50:00Z"),
                resumeWithoutEvent("usage-limit-weekly.jsonl", CAPTURE_MORNING));
    }

    @Test
    void theUsageLimitTextsOfEarlierVersions() {
        assertEquals(Instant.ofEpochSecond(1749924000),
                resumeOfResultText("Claude AI usage limit reached|1749924000", CAPTURE_MORNING));

        ZonedDateTime now = ZonedDateTime.now(CAPTURE_MORNING.withZone(ZoneId.systemDefault()));
        ZonedDateTime twoAm = now.with(LocalTime.of(2, 0));
        assertEquals((twoAm.isAfter(now) ? twoAm : twoAm.plusDays(1)).toInstant(),
                resumeOfResultText("5-hour limit reached ∙ resets 2am", CAPTURE_MORNING), "the node's time zone");

        assertEquals(ZonedDateTime.of(LocalDate.of(2026, 11, 29), LocalTime.of(17, 10), ZoneId.of("Europe/Paris"))
                        .toInstant(),
                resumeOfResultText("You've hit your session limit · resets 5:10pm (Europe/Paris)", CAPTURE_MORNING));
        assertEquals(Instant.parse("2027-01-03T17:00:00Z"),
                resumeOfResultText("You've hit your weekly limit · resets Jan 3, 2027, 5pm (UTC)", CAPTURE_MORNING));
        assertEquals(Instant.parse("2027-01-02T09:30:00Z"),
                resumeOfResultText("You've hit your weekly limit · resets Jan 2, 9:30am (UTC)",
                        Clock.fixed(Instant.parse("2026-12-31T20:00:00Z"), ZoneOffset.UTC)), "turn of the year");
    }

    @Test
    void otherErrorsWithoutAResetAreNoUsageLimit() {
        assertNull(resumeOfResultText("API Error: Request rejected (429) · slow down", CAPTURE_MORNING));
        assertNull(resumeOfResultText("API Error: Server is temporarily limiting requests (not your usage limit)"
                + " · slow down", CAPTURE_MORNING));
        assertNull(resumeOfResultText("Not logged in · Please run /login", CAPTURE_MORNING));
    }

    @Test
    void theMaxTurnsErrorFailsTheTaskForGood() {
        // subtype error_max_turns, is_error true, no "result" field at all; exit code 1: a retry would hit the
        // limit the task set again, and pay for it
        Outcome outcome = read("max-turns.jsonl").outcome(1);

        assertEquals(Outcome.Kind.PERMANENT, outcome.kind());
        assertEquals("claude reported an error (error_max_turns)", outcome.error());
        assertNull(outcome.result());
        assertEquals(2, outcome.numTurns());
    }

    @Test
    void aRunKilledBeforeItsResultLineFailsAndKeepsItsSession() {
        // SIGTERM while waiting for the API: only the init line, exit code 143
        ClaudeStream stream = read("killed.jsonl");
        Outcome outcome = stream.outcome(143);

        assertEquals(Outcome.Kind.RETRYABLE, outcome.kind());
        assertEquals("claude exited with 143 without a result line (1 lines read)", outcome.error());
        assertEquals(143, outcome.exitCode());
        assertEquals(stream.sessionId(), outcome.sessionId());
        assertNotNull(outcome.sessionId());
        assertEquals(1, stream.events());
    }

    @Test
    void noOutputAtAll() {
        ClaudeStream stream = new ClaudeStream(CAPTURE_MORNING);
        Outcome outcome = stream.outcome(1);

        assertEquals(Outcome.Kind.RETRYABLE, outcome.kind());
        assertEquals("claude exited with 1 without a result line (0 lines read)", outcome.error());
        assertEquals(0, stream.events());
        assertTrue(ClaudeCli.refusedToStart(1, stream, "--dangerously-skip-permissions cannot be used with "
                + "root/sudo privileges for security reasons"));
        assertTrue(!ClaudeCli.refusedToStart(143, stream, "terminated"), "killed is not refused");
        assertTrue(!ClaudeCli.refusedToStart(1, read("killed.jsonl"), "some error"), "it had started");
    }

    @Test
    void linesThatAreNotJsonObjectsAreIgnored() {
        List<String> real = lines("success.jsonl");
        ClaudeStream stream = new ClaudeStream(CAPTURE_MORNING);
        for (String noise : List.of("", "   ", "Warning: no stdin data received in 3s, proceeding without it",
                "[1,2,3]", "\"a string\"", "42", "null", "{\"type\":\"result\"", "{not json}")) {
            stream.accept(noise);
        }
        real.forEach(stream::accept);
        stream.accept("npm notice: a newer version is available");

        Outcome outcome = stream.outcome(0);
        assertEquals(Outcome.Kind.SUCCEEDED, outcome.kind());
        assertEquals("Hello from fake", outcome.result());
        assertEquals(3, stream.events());
    }

    // ---------------------------------------------------------------------------------------------------------

    /** The file's lines without its rate_limit_event, as a program that prints none would give them. */
    private static Instant resumeWithoutEvent(String file, Clock clock) {
        ClaudeStream stream = new ClaudeStream(clock);
        lines(file).stream().filter(l -> !l.contains("\"type\":\"rate_limit_event\"")).forEach(stream::accept);
        Outcome outcome = stream.outcome(1);
        return outcome.kind() == Outcome.Kind.USAGE_LIMITED ? outcome.resumeAt() : null;
    }

    /** The real usage-limit result line with another text in it, and no rate_limit_event. */
    private static Instant resumeOfResultText(String text, Clock clock) {
        String resultLine = lines("usage-limit-session.jsonl").stream()
                .filter(l -> l.contains("\"type\":\"result\"")).findFirst().orElseThrow();
        JsonObject result;
        try (var reader = Json.createReader(new StringReader(resultLine))) {
            result = Json.createObjectBuilder(reader.readObject()).add("result", text).build();
        }
        ClaudeStream stream = new ClaudeStream(clock);
        stream.accept(result.toString());
        Outcome outcome = stream.outcome(1);
        return outcome.kind() == Outcome.Kind.USAGE_LIMITED ? outcome.resumeAt() : null;
    }

    @Test
    void notLoggedInIsACredentialsPauseNotAFailure() {
        // no credential at all: the program asks nothing of the API and prints its own message (2.1.197)
        Outcome outcome = read("not-logged-in.jsonl").outcome(1);

        assertEquals(Outcome.Kind.CREDENTIALS, outcome.kind());
        assertTrue(outcome.error().startsWith("claude has no valid credential (Not logged in · Please run /login): "
                + "give this node's agents a valid credential: run `claude setup-token`"), outcome.error());
    }

    @Test
    void aRefusedSubscriptionTokenIsACredentialsPause() {
        // two api_retry lines with error_status 401, then "Failed to authenticate" with api_error_status 401
        Outcome outcome = read("subscription-401.jsonl").outcome(1);

        assertEquals(Outcome.Kind.CREDENTIALS, outcome.kind());
        assertTrue(outcome.error().contains("Failed to authenticate. API Error: 401"), outcome.error());
    }

    @Test
    void aRefusedKeyIsKnownAtTheFirstRetryOfTheProgram() {
        // with an API key the program retries a 401 for minutes: the first api_retry line is enough to stop it
        ClaudeStream stream = read("api-key-401-retrying.jsonl");

        assertTrue(stream.credentialRefused());
        Outcome outcome = stream.outcome(143);
        assertEquals(Outcome.Kind.CREDENTIALS, outcome.kind());
        assertTrue(outcome.error().startsWith("the API refused the credential of claude (status 401, "
                + "authentication_failed): give this node's agents"), outcome.error());
    }

    @Test
    void apiRetryLinesSayWhetherTheFleetShouldBackOff() {
        var limited = ClaudeStream.apiRetry(jakarta.json.Json.createReader(new java.io.StringReader(
                "{\"type\":\"system\",\"subtype\":\"api_retry\",\"attempt\":1,\"max_retries\":10,"
                        + "\"retry_delay_ms\":1500.5,\"error_status\":529,\"error\":\"overloaded\"}")).readObject());
        assertTrue(limited.limited());
        assertEquals(java.time.Duration.ofMillis(1500), limited.delay());
        var unreachable = ClaudeStream.apiRetry(jakarta.json.Json.createReader(new java.io.StringReader(
                "{\"type\":\"system\",\"subtype\":\"api_retry\",\"error_status\":null,\"error\":\"unknown\"}"))
                .readObject());
        assertTrue(!unreachable.limited() && !unreachable.refusedCredential());
        assertNull(ClaudeStream.apiRetry(jakarta.json.Json.createObjectBuilder().add("type", "system")
                .add("subtype", "init").build()));
    }

    @Test
    void anAnswerOfTheApiIsAModelsMessageOrAnAllowedLimitNeverOneTheProgramMadeUp() {
        assertTrue(lines("success.jsonl").stream().map(ClaudeStreamTest::object).filter(java.util.Objects::nonNull)
                .anyMatch(ClaudeStream::apiAnswered));
        assertTrue(lines("not-logged-in.jsonl").stream().map(ClaudeStreamTest::object)
                .filter(java.util.Objects::nonNull).noneMatch(ClaudeStream::apiAnswered), "a <synthetic> message");
        assertTrue(lines("usage-limit-session.jsonl").stream().map(ClaudeStreamTest::object)
                .filter(java.util.Objects::nonNull).noneMatch(ClaudeStream::apiAnswered), "a rejected limit");
    }

    private static jakarta.json.JsonObject object(String line) {
        try (var reader = jakarta.json.Json.createReader(new java.io.StringReader(line))) {
            return reader.readValue() instanceof jakarta.json.JsonObject o ? o : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static ClaudeStream read(String file) {
        ClaudeStream stream = new ClaudeStream(CAPTURE_MORNING);
        lines(file).forEach(stream::accept);
        return stream;
    }

    private static List<String> lines(String file) {
        try (InputStream in = ClaudeStreamTest.class.getResourceAsStream("/claude-stream/" + file)) {
            assertNotNull(in, file);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
