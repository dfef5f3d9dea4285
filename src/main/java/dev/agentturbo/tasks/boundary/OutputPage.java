package dev.agentturbo.tasks.boundary;

import jakarta.json.bind.annotation.JsonbPropertyOrder;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;

/** A page of a task's output. */
@JsonbPropertyOrder({"items", "next", "taskStatus"})
@Schema(name = "OutputPage", requiredProperties = {"items", "next", "taskStatus"})
public record OutputPage(
        List<OutputItemView> items,
        @Schema(description = "the after of the next page") long next,
        @Schema(enumeration = {"pending", "running", "completed", "failed", "cancelled"}) String taskStatus) {
}
