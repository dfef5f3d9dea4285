package dev.agentturbo.logging;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The node's log handler and its formats, outside a server. */
class NodeLogTest {

    private static final Secrets NONE = new Secrets(List.of());

    @TempDir
    Path dir;

    @Test
    void aStateChangeIsOneJsonObjectWithItsFieldsApart() {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("task", 42L);
        fields.put("worker", "build-3:8080");
        fields.put("slot", 2);
        fields.put("attempt", 1);
        fields.put("from", "pending");
        fields.put("to", "running");
        fields.put("reason", "claimed \"now\"\nreally");
        LogRecord r = record(Level.INFO, "dev.agentturbo.workers.control.Dispatcher",
                "task=42 worker=build-3:8080/2 attempt=1 pending->running reason=\"claimed\"");
        r.setParameters(new Object[] {fields});

        String line = new JsonLines(NONE).format(r);
        assertTrue(line.endsWith("}\n") && line.indexOf('\n') == line.length() - 1, "one line: " + line);
        JsonObject json = parse(line);
        assertEquals("INFO", json.getString("level"));
        assertEquals("dev.agentturbo.workers.control.Dispatcher", json.getString("logger"));
        assertTrue(json.getString("time").matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"), line);
        assertTrue(json.getString("message").startsWith("task=42 "), line);
        assertEquals(42, json.getJsonNumber("task").longValue());
        assertEquals("build-3:8080", json.getString("worker"));
        assertEquals(2, json.getInt("slot"));
        assertEquals(1, json.getInt("attempt"));
        assertEquals("claimed \"now\"\nreally", json.getString("reason"));
    }

    @Test
    void anyOtherLineIsOneJsonObjectWithItsParametersInItsMessageAndItsStackTrace() {
        LogRecord r = record(Level.WARNING, "fish.payara.Something", "could not {0} at {1}");
        r.setParameters(new Object[] {"bind", "port\u00008080\ud800"});
        r.setThrown(new IllegalStateException("boom"));
        JsonObject json = parse(new JsonLines(NONE).format(r));
        assertEquals("could not bind at port\u00008080\ud800", json.getString("message"));
        assertTrue(json.getString("exception").contains("IllegalStateException: boom"));
        assertTrue(json.getString("exception").contains("at dev.agentturbo.logging.NodeLogTest"));
        assertFalse(json.containsKey("task"), "no task fields on a line about no task");
    }

    @Test
    void credentialsNeverAppear() {
        Secrets secrets = new Secrets(List.of("the-database-password-1", "short"));
        String[] lines = {
            "POST /api/tasks Authorization: Bearer at_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA and more",
            "authorization: basic cHJvbWV0aGV1czpzZWNyZXQtdG9rZW4tMTIz",
            "claude -p with ANTHROPIC_API_KEY=sk-ant-api03-AbCdEf_0123456789-xyz in its environment",
            "CLAUDE_CODE_OAUTH_TOKEN=sk-ant-oat01-QWERTY0123456789 and AGENTTURBO_BOOTSTRAP_TOKEN=abcdefghijklmnopqrstuvwxyz012",
            "jdbc:postgresql://db:5432/agentturbo?user=agentturbo&password=hunter2&ssl=true",
            "{\"password\": \"p4ss w0rd\", \"token\":\"abc123def456\"}",
            "x-api-key: sk-something-else-123",
            "connecting with the-database-password-1 as its password",
        };
        for (String text : lines) {
            String out = secrets.scrub(text);
            for (String secret : List.of("at_Zm9vYmFy", "cHJvbWV0aGV1cz", "AbCdEf_0123456789", "QWERTY0123456789",
                    "abcdefghijklmnopqrstuvwxyz012", "hunter2", "p4ss", "w0rd", "abc123def456", "sk-something-else",
                    "the-database-password-1")) {
                assertFalse(out.contains(secret), secret + " left in: " + out);
            }
            assertTrue(out.contains("***"), "says where it stood: " + out);
        }
        assertEquals("jdbc:postgresql://db:5432/agentturbo?user=agentturbo&password=***&ssl=true",
                secrets.scrub(lines[4]), "the rest of the line stays");
        String plain = "task=1 worker=- attempt=0 new->pending reason=\"submitted\"; basic authentication; a bearer token;"
                + " token 3 'ci' (submitter) made by bootstrap; short";
        assertEquals(plain, secrets.scrub(plain), "ordinary lines stay as they are");
    }

    @Test
    void theTerminalShowsAgentTurbosLinesAndTheWarningsThatMatter() {
        assertTrue(BriefLines.shows(record(Level.INFO, "dev.agentturbo.workers.control.Node", "node a started")));
        assertFalse(BriefLines.shows(record(Level.INFO, "fish.payara.nucleus.hazelcast.HazelcastCore", "bound")),
                "boot chatter");
        assertFalse(BriefLines.shows(record(Level.WARNING, "javax.enterprise.system.security.ssl",
                "The SSL certificate with alias entrustevca has expired: [\n[\n  Version: V3 ...")), "the expired CA dump");
        assertFalse(BriefLines.shows(record(Level.WARNING, "PayaraMicro", "Payara Micro Runtime directory is located"
                + " in a temporary file location which can be cleaned by system processes.")));
        assertFalse(BriefLines.shows(record(Level.WARNING, "",
                "MicroProfile Config: property 'db.url': no value found, no default given.")));
        LogRecord refused = record(Level.WARNING, "org.postgresql.core.ConnectionFactory", "Connection refused\nat …");
        assertTrue(BriefLines.shows(refused), "a warning that matters");
        assertTrue(BriefLines.shows(record(Level.SEVERE, "javax.enterprise.system.core", "deploy failed")));
        String line = new BriefLines(NONE).format(refused);
        assertTrue(line.matches("\\d\\d:\\d\\d:\\d\\d WARNING \\[org.postgresql.core.ConnectionFactory] Connection"
                + " refused …\\R"), line);
        String ours = new BriefLines(NONE).format(record(Level.INFO, "dev.agentturbo.workers.control.Node", "node a started"));
        assertTrue(ours.matches("\\d\\d:\\d\\d:\\d\\d INFO    node a started\\R"), ours);
    }

    @Test
    void theHandlerWritesEachLineToStdoutAndItsFile() throws Exception {
        Path file = dir.resolve("logs/node.log");
        Properties p = new Properties();
        p.setProperty(NodeLog.FILE, file.toString());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        NodeLog log = new NodeLog(new NodeLog.Settings(p, Map.of(), "none"), new PrintStream(out, true,
                StandardCharsets.UTF_8), false);
        for (int i = 0; i < 20; i++) {
            log.publish(record(Level.INFO, "dev.agentturbo.Test", "line " + i));
        }
        log.close();
        List<String> written = Files.readAllLines(file);
        String[] printed = out.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(21, written.size(), "every line, and first the one that says where the file is");
        assertEquals(List.of(printed), written, "the same lines on stdout");
        assertTrue(parse(written.get(0)).getString("message").contains(file.toString()), written.get(0));
        assertEquals("line 19", parse(written.get(20)).getString("message"));
    }

    @Test
    void theFileRotatesBySizeAndKeepsCountFiles() throws Exception {
        Path file = dir.resolve("node.log");
        String line = "x".repeat(99) + "\n";
        try (RotatingFile f = new RotatingFile(file, 1000, 2)) {
            for (int i = 0; i < 45; i++) {
                f.write(i + line.substring(Integer.toString(i).length()));
            }
        }
        assertEquals(List.of("node.log", "node.log.1", "node.log.2"), Files.list(dir).map(x -> x.getFileName().toString())
                .sorted().toList(), "the file and count rotated ones, no more");
        assertEquals(500, Files.size(file), "5 lines since the last rotation");
        assertEquals(1000, Files.size(dir.resolve("node.log.1")), "a full file: 10 lines");
        assertTrue(Files.readString(file).startsWith("40x"), "the newest lines in the file itself");
        assertTrue(Files.readString(dir.resolve("node.log.1")).startsWith("30x"));
        assertTrue(Files.readString(dir.resolve("node.log.2")).startsWith("20x"), "lines 0-19 are gone");
        try (RotatingFile f = new RotatingFile(file, 1000, 2)) {
            f.write("again" + "\n");
        }
        assertEquals(506, Files.size(file), "a restarted node appends");
    }

    @Test
    void theTextFormatAndBriefConsoleAreSwitchesAndABadValueIsSaidAndReplaced() {
        Properties p = new Properties();
        p.setProperty(NodeLog.FORMAT, "text");
        p.setProperty(NodeLog.FILE, "none");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        NodeLog log = new NodeLog(new NodeLog.Settings(p, Map.of(), "none"), new PrintStream(out, true,
                StandardCharsets.UTF_8), false);
        log.publish(record(Level.INFO, "dev.agentturbo.X", "hello text"));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("hello text") && !text.contains("{\""), "not JSON: " + text);
        assertEquals(null, log.file(), "none: no file");

        Map<String, String> env = Map.of("AGENTTURBO_LOG_FORMAT", "xml", "AGENTTURBO_LOG_CONSOLE", "brief",
                "AGENTTURBO_LOG_FILE", "none");
        out.reset();
        log = new NodeLog(new NodeLog.Settings(new Properties(), env, "none"), new PrintStream(out, true,
                StandardCharsets.UTF_8), false);
        log.publish(record(Level.INFO, "fish.payara.Boot", "chatter"));
        log.publish(record(Level.INFO, "dev.agentturbo.X", "ours"));
        String brief = out.toString(StandardCharsets.UTF_8);
        assertTrue(brief.contains("agentturbo.log.format (AGENTTURBO_LOG_FORMAT) must be one of json, text, not 'xml';"
                + " using json"), brief);
        assertTrue(brief.contains("INFO    ours") && !brief.contains("chatter"), brief);
    }

    private static LogRecord record(Level level, String logger, String message) {
        LogRecord r = new LogRecord(level, message);
        r.setLoggerName(logger);
        return r;
    }

    private static JsonObject parse(String line) {
        try (var reader = Json.createReader(new StringReader(line))) {
            return reader.readObject();
        }
    }
}
