package dev.agentturbo.tasks.boundary;

import jakarta.json.bind.annotation.JsonbNillable;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;

/** A page of tasks, newest first. */
@JsonbNillable
@JsonbPropertyOrder({"items", "nextCursor"})
@Schema(name = "TaskPage", requiredProperties = {"items", "nextCursor"})
public record TaskPage(
        List<TaskListItem> items,
        @Schema(nullable = true, description = "the cursor of the next page; null on the last") String nextCursor) {
}
