package dev.agentturbo.agents.control;

import java.util.Optional;

/**
 * The rules {@code git check-ref-format --branch} applies to a branch name, so that a task naming a bad branch is
 * refused at submission with the rule it breaks rather than failing on a node.
 */
final class BranchName {

    private BranchName() {
    }

    /** Why {@code name} is not a valid branch name, or empty when it is. */
    static Optional<String> problem(String name) {
        if (name.isEmpty()) {
            return Optional.of("is empty");
        }
        if (name.startsWith("-")) {
            return Optional.of("must not begin with '-'");
        }
        if (name.equals("@") || name.equals("HEAD")) {
            return Optional.of("must not be '" + name + "'");
        }
        for (int i = 0; i < name.length(); i++) {
            char ch = name.charAt(i);
            if (ch < 0x20 || ch == 0x7f) {
                return Optional.of("must not contain control characters");
            }
            if (" ~^:?*[\\".indexOf(ch) >= 0) {
                return Optional.of("must not contain '" + ch + "' (nor space, ~ ^ : ? * [ \\)");
            }
        }
        if (name.contains("..")) {
            return Optional.of("must not contain '..'");
        }
        if (name.contains("@{")) {
            return Optional.of("must not contain '@{'");
        }
        if (name.startsWith("/") || name.endsWith("/") || name.contains("//")) {
            return Optional.of("must not begin or end with '/' nor contain '//'");
        }
        if (name.endsWith(".")) {
            return Optional.of("must not end with '.'");
        }
        for (String part : name.split("/")) {
            if (part.startsWith(".")) {
                return Optional.of("must not have a part that begins with '.' ('" + part + "')");
            }
            if (part.endsWith(".lock")) {
                return Optional.of("must not have a part that ends with '.lock' ('" + part + "')");
            }
        }
        return Optional.empty();
    }
}
