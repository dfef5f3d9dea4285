package dev.agentturbo.security.boundary;

import dev.agentturbo.platform.Violations;
import dev.agentturbo.security.entity.Role;
import jakarta.validation.Constraint;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import jakarta.validation.Payload;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** The name of a {@link Role}: viewer, submitter or operator. Null counts as none of them. */
@Constraint(validatedBy = RoleName.Check.class)
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.RECORD_COMPONENT, ElementType.METHOD})
public @interface RoleName {

    String message() default "must be one of viewer, submitter, operator";

    Class<?>[] groups() default {};

    Class<? extends Payload>[] payload() default {};

    final class Check implements ConstraintValidator<RoleName, String> {
        @Override
        public boolean isValid(String value, ConstraintValidatorContext context) {
            if (value != null && Role.parse(value).isPresent()) {
                return true;
            }
            context.disableDefaultConstraintViolation();
            context.buildConstraintViolationWithTemplate(Violations.literal("must be one of " + Role.names()))
                    .addConstraintViolation();
            return false;
        }
    }
}
