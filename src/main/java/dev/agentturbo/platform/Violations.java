package dev.agentturbo.platform;

import jakarta.validation.ConstraintViolation;
import jakarta.validation.ElementKind;
import jakarta.validation.Path;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Bean Validation's violations as the API's problems: one line each, naming the field as the client wrote it
 * ({@code prompt}, {@code [2].priority}), in the order of the record's fields.
 */
public final class Violations {

    private Violations() {
    }

    /** One problem per violation: "[1].priority must be from -1000 to 1000, not 5000". */
    public static List<String> problems(Collection<? extends ConstraintViolation<?>> violations) {
        List<ConstraintViolation<?>> sorted = new ArrayList<>(violations);
        sorted.sort(Comparator.comparing((ConstraintViolation<?> v) -> index(v.getPropertyPath()))
                .thenComparing(v -> position(v))
                .thenComparing(ConstraintViolation::getMessage));
        return sorted.stream().map(Violations::problem).toList();
    }

    static String problem(ConstraintViolation<?> v) {
        StringBuilder at = new StringBuilder();
        for (Path.Node node : v.getPropertyPath()) {
            if (node.getKind() == ElementKind.METHOD || node.getKind() == ElementKind.PARAMETER
                    || node.getKind() == ElementKind.BEAN || node.getKind() == ElementKind.CONTAINER_ELEMENT) {
                if (node.getIndex() != null) {
                    at.append('[').append(node.getIndex()).append("].");
                }
                continue;
            }
            if (node.getIndex() != null) {
                at.append('[').append(node.getIndex()).append("].");
            }
            if (node.getKind() == ElementKind.PROPERTY && node.getName() != null) {
                at.append(node.getName()).append('.');
            }
        }
        String where = at.toString();
        if (where.endsWith(".")) {
            where = where.substring(0, where.length() - 1);
            // a property's message follows its name; a whole item's problem already names what it is about
            return (where.endsWith("]") ? where + "." : where + " ") + v.getMessage();
        }
        return v.getMessage();
    }

    private static int index(Path path) {
        for (Path.Node node : path) {
            if (node.getIndex() != null) {
                return node.getIndex();
            }
        }
        return -1;
    }

    /** Where the violated field stands among its record's components: problems come in the body's order. */
    private static int position(ConstraintViolation<?> v) {
        Object bean = v.getLeafBean();
        String name = null;
        for (Path.Node node : v.getPropertyPath()) {
            name = node.getName();
        }
        if (bean != null && bean.getClass().isRecord() && name != null) {
            RecordComponent[] components = bean.getClass().getRecordComponents();
            for (int i = 0; i < components.length; i++) {
                if (components[i].getName().equals(name)) {
                    return i;
                }
            }
        }
        return Integer.MAX_VALUE;
    }

    /** A message as Bean Validation takes it literally: its braces, dollars and backslashes escaped. */
    public static String literal(String message) {
        return message.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}").replace("$", "\\$");
    }
}
