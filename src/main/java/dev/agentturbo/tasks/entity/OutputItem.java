package dev.agentturbo.tasks.entity;

import java.time.Instant;

/**
 * One stored piece of a task's output: an event of the {@code claude} program or a line of a program.
 *
 * @param seq     grows along the task's output, over all its attempts (not contiguous: dropped lines leave gaps)
 * @param attempt the attempt that printed it
 * @param stream  stdout, stderr, or system (said by the node)
 * @param kind    assistant, tool_use, tool_result, system, stdout, stderr or result
 * @param text    what a person reads
 * @param event   the program's JSON line as printed, or null
 */
public record OutputItem(long seq, Instant at, int attempt, String stream, String kind, String text, String event) {
}
