package dev.agentturbo.logging;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A log file that rotates by size: lines go to {@code FILE}; when it would pass the limit it becomes
 * {@code FILE.1}, the older ones move up to {@code FILE.COUNT} and the oldest is deleted. The file keeps its name,
 * so {@code tail -F FILE} follows it across rotations. Not thread-safe: its handler serializes the calls.
 */
final class RotatingFile implements AutoCloseable {

    private final Path file;
    private final long limit;
    private final int keep;
    private OutputStream out;
    private long size;

    RotatingFile(Path file, long limitBytes, int keep) throws IOException {
        this.file = file.toAbsolutePath();
        this.limit = limitBytes;
        this.keep = keep;
        Path parent = this.file.getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        open();
    }

    Path path() {
        return file;
    }

    void write(String line) throws IOException {
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        if (size > 0 && size + bytes.length > limit) {
            rotate();
        }
        out.write(bytes);
        out.flush();
        size += bytes.length;
    }

    private void open() throws IOException {
        out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        size = Files.size(file);
    }

    private void rotate() throws IOException {
        out.close();
        if (keep < 1) {
            Files.delete(file);
        } else {
            Files.deleteIfExists(sibling(keep));
            for (int i = keep - 1; i >= 1; i--) {
                if (Files.exists(sibling(i))) {
                    Files.move(sibling(i), sibling(i + 1), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.move(file, sibling(1), StandardCopyOption.REPLACE_EXISTING);
        }
        open();
    }

    private Path sibling(int n) {
        return file.resolveSibling(file.getFileName() + "." + n);
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
