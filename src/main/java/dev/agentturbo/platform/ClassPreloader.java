package dev.agentturbo.platform;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Loads every class of the application at start. When a node stops, the container closes the application's
 * class loader while the slots are still recording what their agents did; a class first needed then (an enum's
 * switch table, a rarely taken error path) would fail with NoClassDefFoundError and the record would be lost.
 */
public final class ClassPreloader {

    private static final Logger LOG = Logger.getLogger(ClassPreloader.class.getName());

    private ClassPreloader() {
    }

    /** Loads the classes found beside {@code anchor} (its class folder or jar root); returns how many. */
    public static int loadAll(Class<?> anchor) {
        ClassLoader loader = anchor.getClassLoader();
        try {
            URL location = anchor.getProtectionDomain().getCodeSource().getLocation();
            Path found = Path.of(location.toURI());
            if (found.toString().endsWith(".class")) {
                // some containers give the class file itself as the code source: climb to the class folder
                for (int i = anchor.getName().split("\\.").length; i > 0; i--) {
                    found = found.getParent();
                }
            }
            Path root = found;
            if (!Files.isDirectory(root)) {
                return 0;
            }
            int[] loaded = {0};
            try (Stream<Path> files = Files.walk(root)) {
                files.filter(p -> p.toString().endsWith(".class")).forEach(p -> {
                    String name = root.relativize(p).toString().replace('/', '.').replaceAll("\\.class$", "");
                    try {
                        Class.forName(name, false, loader);
                        loaded[0]++;
                    } catch (ClassNotFoundException | LinkageError e) {
                        LOG.log(Level.FINE, "could not preload " + name, e);
                    }
                });
            }
            return loaded[0];
        } catch (IOException | URISyntaxException | RuntimeException e) {
            LOG.log(Level.WARNING, "could not preload the application's classes", e);
            return 0;
        }
    }
}
