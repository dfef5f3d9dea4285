package dev.agentturbo.platform;

import jakarta.annotation.Priority;
import jakarta.inject.Inject;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.ext.Provider;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Refuses request bodies over agentturbo.api.max-body-bytes with 413, before they are read into memory: at once
 * when Content-Length says so, else as soon as that many bytes have been read. A body without a Content-Type is
 * refused with 415.
 */
@Provider
@PreMatching
@Priority(Priorities.ENTITY_CODER)
public class BodyLimit implements ContainerRequestFilter {

    @Inject
    @ConfigProperty(name = "agentturbo.api.max-body-bytes")
    long maxBytes;

    @Override
    public void filter(ContainerRequestContext request) {
        if (request.getLength() > maxBytes) {
            request.abortWith(tooLarge());
            return;
        }
        if (request.hasEntity() && request.getMediaType() == null) {
            // without a Content-Type the runtime would take the body for JSON anyway
            request.abortWith(Problem.of(415, "Unsupported Media Type", "send the body as application/json"
                    + " (with that Content-Type)", java.util.List.of()));
            return;
        }
        request.setEntityStream(new Bounded(request.getEntityStream(), maxBytes));
    }

    private jakarta.ws.rs.core.Response tooLarge() {
        return Problem.of(413, "Request body too large", "the body may have at most " + maxBytes + " bytes"
                + " (agentturbo.api.max-body-bytes); send fewer or smaller tasks", java.util.List.of());
    }

    /** A stream that fails with 413 once more than the limit was read. */
    private final class Bounded extends FilterInputStream {
        private long left;

        Bounded(InputStream in, long limit) {
            super(in);
            this.left = limit;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                count(n);
            }
            return n;
        }

        private void count(long n) {
            left -= n;
            if (left < 0) {
                throw new WebApplicationException(tooLarge());
            }
        }
    }
}
