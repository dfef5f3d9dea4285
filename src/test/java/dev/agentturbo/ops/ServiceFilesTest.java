package dev.agentturbo.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The service files in payara/: the systemd unit and the launchd plist run the release jar, restart a node that
 * failed, and stop it with SIGTERM, giving it time to drain. The unit passes {@code systemd-analyze verify}, which
 * this machine has; macOS checks the plist with {@code plutil -lint} (run here too when there is one).
 */
class ServiceFilesTest {

    static final Path UNIT = Path.of("payara/agent-turbo.service");
    static final Path PLIST = Path.of("payara/dev.agentturbo.node.plist");
    static final String JAR = "/opt/agent-turbo/agent-turbo-micro.jar";

    @Test
    void unitPassesSystemdAnalyzeVerifyWithoutAWarning(@TempDir Path dir) throws Exception {
        assumeTrue(onPath("systemd-analyze"), "systemd-analyze is not on this machine: the unit was not verified");
        Path unit = Files.copy(UNIT, dir.resolve("agent-turbo.service"));
        Result verified = run(dir, "systemd-analyze", "verify", unit.toString());
        assertEquals(0, verified.exit, verified.output);
        // systemd-analyze exits 0 for unknown keys and bad values too, and only says so: any line is a finding
        assertEquals("", verified.output.strip(), "systemd-analyze verify found something in " + UNIT);
    }

    @Test
    void systemdAnalyzeVerifySpeaksUpAboutAMistakeInTheUnit(@TempDir Path dir) throws Exception {
        // the check above can fail: the same file with one misspelt key and one bad value is reported
        assumeTrue(onPath("systemd-analyze"), "systemd-analyze is not on this machine");
        String text = Files.readString(UNIT).replace("Restart=on-failure", "Restrat=on-failure")
                .replace("KillMode=mixed", "KillMode=gentle");
        Path unit = Files.writeString(dir.resolve("agent-turbo.service"), text);
        String output = run(dir, "systemd-analyze", "verify", unit.toString()).output;
        assertTrue(output.contains("Restrat") && output.contains("gentle"), output);
    }

    @Test
    void unitRunsTheReleaseJarRestartsOnFailureAndStopsWithSigtermWithTimeToDrain() throws Exception {
        String exec = directive("ExecStart");
        assertTrue(exec.matches("/usr/bin/java .*-jar " + Pattern.quote(JAR) + " --port 8080"), exec);
        assertFalse(exec.contains("--deploy"), "the jar carries the WAR: " + exec);
        assertEquals("on-failure", directive("Restart"));
        assertEquals("SIGTERM", directive("KillSignal"));
        // only the JVM gets SIGTERM: the agents' own processes must not end before the node's drain grace
        assertEquals("mixed", directive("KillMode"));
        assertEquals("143", directive("SuccessExitStatus"), "a SIGTERM stop is a clean stop, not a failure");
        assertTrue(Integer.parseInt(directive("TimeoutStopSec")) >= drainGraceSeconds() + 35,
                "systemd must wait longer than the drain grace before SIGKILL");
    }

    @Test
    void plistRunsTheReleaseJarRestartsOnFailureAndWaitsForTheDrain() throws Exception {
        if (onPath("plutil")) {
            Result lint = run(Path.of("."), "plutil", "-lint", PLIST.toString());
            assertEquals(0, lint.exit, lint.output);
        }
        var factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        Element dict = (Element) factory.newDocumentBuilder().parse(PLIST.toFile()).getDocumentElement()
                .getElementsByTagName("dict").item(0);
        List<String> arguments = strings(value(dict, "ProgramArguments"));
        assertEquals(List.of("/usr/bin/java", "-Xmx1g", "-Djava.io.tmpdir=REPLACE_WITH_USER_HOME/tmp", "-jar", JAR,
                "--port", "8080"), arguments);
        Element keepAlive = (Element) value(dict, "KeepAlive");
        assertEquals("false", value(keepAlive, "SuccessfulExit").getNodeName(), "started again after a failure");
        assertEquals("true", value(dict, "RunAtLoad").getNodeName());
        assertTrue(Integer.parseInt(value(dict, "ExitTimeOut").getTextContent()) >= drainGraceSeconds() + 35,
                "launchd must wait longer than the drain grace before SIGKILL");
        assertEquals("dev.agentturbo.node", value(dict, "Label").getTextContent());
    }

    /** The value of a directive in the unit (the last one, as systemd reads it). */
    static String directive(String key) throws IOException {
        Matcher m = Pattern.compile("(?m)^" + key + "=(.*)$").matcher(Files.readString(UNIT));
        String value = null;
        while (m.find()) {
            value = m.group(1).strip();
        }
        assertNotEquals(null, value, key + " missing in " + UNIT);
        return value;
    }

    static int drainGraceSeconds() throws IOException {
        Properties p = new Properties();
        try (var in = Files.newInputStream(Path.of("src/main/resources/META-INF/microprofile-config.properties"))) {
            p.load(in);
        }
        return Integer.parseInt(p.getProperty("agentturbo.worker.drain-grace-seconds"));
    }

    /** The element after {@code <key>key</key>} in a plist dict. */
    static Node value(Element dict, String key) {
        NodeList children = dict.getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            Node n = children.item(i);
            if (n instanceof Element e && e.getTagName().equals("key") && e.getTextContent().equals(key)) {
                Node next = e.getNextSibling();
                while (!(next instanceof Element)) {
                    next = next.getNextSibling();
                }
                return next;
            }
        }
        throw new AssertionError("no " + key + " in " + PLIST);
    }

    static List<String> strings(Node array) {
        List<String> out = new ArrayList<>();
        for (Node n = array.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals("string")) {
                out.add(e.getTextContent());
            }
        }
        return out;
    }

    record Result(int exit, String output) {
    }

    static Result run(Path dir, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " did not end");
        return new Result(p.exitValue(), output);
    }

    static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
