package dev.agentturbo.platform;

import jakarta.json.spi.JsonProvider;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObjectBuilder;
import jakarta.ws.rs.core.Response;

import java.util.List;

/** An RFC 9457 problem detail: what went wrong and what to change, as application/problem+json. */
public final class Problem {

    /** Looked up once: JsonProvider.provider() searches the class path on every call. */
    private static final JsonProvider JSON = JsonProvider.provider();

    public static final String MEDIA_TYPE = "application/problem+json";

    private Problem() {
    }

    public static Response of(Response.Status status, String title, String detail) {
        return of(status.getStatusCode(), title, detail, List.of());
    }

    public static Response of(int status, String title, String detail, List<String> errors) {
        return Response.status(status).type(MEDIA_TYPE).entity(json(status, title, detail, errors)).build();
    }

    /** The problem's JSON text, for answers written outside JAX-RS (the authentication mechanism). */
    public static String json(int status, String title, String detail, List<String> errors) {
        JsonObjectBuilder body = JSON.createObjectBuilder()
                .add("type", "about:blank")
                .add("title", title)
                .add("status", status)
                .add("detail", detail);
        if (!errors.isEmpty()) {
            JsonArrayBuilder list = JSON.createArrayBuilder();
            errors.forEach(list::add);
            body.add("errors", list);
        }
        return body.build().toString();
    }
}
