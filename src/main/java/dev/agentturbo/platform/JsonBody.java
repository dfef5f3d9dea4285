package dev.agentturbo.platform;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A record the API takes as a JSON request body (read by {@link JsonBodies}): how a problem with it is titled and
 * what a client is told to send.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface JsonBody {

    /** The problem's title, such as {@code Invalid task}. */
    String title();

    /** What one body is, as in "colour is not a task field". */
    String noun();

    /** A smallest good body, shown when the body is empty or no object. */
    String example();

    /** The largest body of this kind, in bytes (all bodies are also bounded by agentturbo.api.max-body-bytes). */
    int maxBytes() default Integer.MAX_VALUE;
}
