package dev.agentturbo.platform;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.ext.MessageBodyReader;
import jakarta.ws.rs.ext.Provider;

import java.io.IOException;
import java.io.InputStream;
import java.lang.annotation.Annotation;
import java.lang.reflect.Type;
import java.util.List;

/**
 * Binds the API's request bodies to their {@link JsonBody} records, one or a list, through {@link JsonBodies}.
 * Each reader names the narrowest type it reads ({@code Record}, {@code List}): the runtime picks the reader of
 * the closest type, so these come before the general JSON-B reader (of {@code Object}), which would take trailing
 * text, "5" for a number and unknown fields without a word.
 */
public final class JsonBodyReader {

    private JsonBodyReader() {
    }

    /** A body of one record. */
    @Provider
    @Consumes(MediaType.APPLICATION_JSON)
    public static class One implements MessageBodyReader<Record> {
        @Override
        public boolean isReadable(Class<?> type, Type genericType, Annotation[] annotations, MediaType mediaType) {
            return JsonBodies.recordOf(type, genericType) != null;
        }

        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        public Record readFrom(Class<Record> type, Type genericType, Annotation[] annotations, MediaType mediaType,
                               MultivaluedMap<String, String> headers, InputStream entity) throws IOException {
            return JsonBodies.one(entity.readAllBytes(), (Class) type);
        }
    }

    /** A body of an array of records. */
    @Provider
    @Consumes(MediaType.APPLICATION_JSON)
    @SuppressWarnings("rawtypes")
    public static class Many implements MessageBodyReader<List> {
        @Override
        public boolean isReadable(Class<?> type, Type genericType, Annotation[] annotations, MediaType mediaType) {
            return JsonBodies.recordOf(type, genericType) != null;
        }

        @Override
        @SuppressWarnings("unchecked")
        public List readFrom(Class<List> type, Type genericType, Annotation[] annotations, MediaType mediaType,
                             MultivaluedMap<String, String> headers, InputStream entity) throws IOException {
            return JsonBodies.many(entity.readAllBytes(), (Class) JsonBodies.recordOf(type, genericType));
        }
    }
}
