package dev.agentturbo.workers.boundary;

import dev.agentturbo.platform.JsonBody;
import dev.agentturbo.platform.Violations;
import dev.agentturbo.workers.control.WorkerControl;
import jakarta.inject.Inject;
import jakarta.validation.Constraint;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import jakarta.validation.Payload;
import jakarta.validation.constraints.NotNull;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** A new slot count for a node: {@code {"slots": N}}. */
@JsonBody(title = "Invalid slot count", noun = "slot count", example = "{\"slots\": 4}", maxBytes = 10_000)
@Schema(name = "SlotCount", requiredProperties = "slots")
public record SlotCount(
        @NotNull(message = "is required: the number of agents the node runs at once")
        @SlotCount.Allowed
        @Schema(description = "agents the node runs at once, from 0 to agentturbo.worker.max-slots", minimum = "0",
                example = "4")
        Integer slots) {

    /** From 0 to agentturbo.worker.max-slots, which only the node's configuration knows. */
    @Constraint(validatedBy = AllowedCheck.class)
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.FIELD, ElementType.RECORD_COMPONENT, ElementType.METHOD})
    public @interface Allowed {
        String message() default "must be a whole number from 0 to agentturbo.worker.max-slots";

        Class<?>[] groups() default {};

        Class<? extends Payload>[] payload() default {};
    }

    /** Checks a slot count against this node's configuration. */
    public static class AllowedCheck implements ConstraintValidator<Allowed, Integer> {
        @Inject
        WorkerControl control;

        @Override
        public boolean isValid(Integer value, ConstraintValidatorContext context) {
            if (value == null || (value >= 0 && value <= control.maxSlots())) {
                return true;
            }
            context.disableDefaultConstraintViolation();
            context.buildConstraintViolationWithTemplate(Violations.literal("must be a whole number from 0 to "
                    + control.maxSlots() + " (agentturbo.worker.max-slots)")).addConstraintViolation();
            return false;
        }
    }
}
