package dev.agentturbo.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * An agent program for the {@code command} executor that records each of its runs in a file: {@code start <task>
 * <pid>} when it starts, {@code end <task> <pid>} when it was not killed. Its arguments are how long it runs (seconds)
 * and the record's path; it reads the task's name from its prompt. Tests count the lines to prove that every agent
 * ran once, whatever happened to the nodes and the database meanwhile.
 */
public final class RecordingAgent {

    private final Path program;
    private final Path record;

    private RecordingAgent(Path program, Path record) {
        this.program = program;
        this.record = record;
    }

    /** Writes the program into {@code target/<folder>} with a new, empty record beside it. */
    public static RecordingAgent in(String folder) {
        Path dir = Path.of(System.getProperty("agentturbo.war", "target/agent-turbo.war")).toAbsolutePath().getParent()
                .resolve(folder);
        try {
            Files.createDirectories(dir);
            Path program = dir.resolve("record-run.sh");
            Files.writeString(program, """
                    #!/bin/sh
                    # An agent that records each of its runs: "start <task>" now, "end <task>" if it was not killed.
                    read -r task
                    echo "start $task $$" >> "$2"
                    sleep "$1"
                    echo "end $task $$" >> "$2"
                    echo "ran $task"
                    """);
            Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
            return new RecordingAgent(program, dir.resolve("runs-" + System.nanoTime() + ".txt"));
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the recording agent into " + dir, e);
        }
    }

    /** The program: allow it with AGENTTURBO_COMMAND_ALLOWED. */
    public Path program() {
        return program;
    }

    /** The file the runs are recorded in. */
    public Path record() {
        return record;
    }

    /** The recorded lines so far. */
    public List<String> lines() throws IOException {
        return Files.exists(record) ? Files.readAllLines(record) : List.of();
    }
}
