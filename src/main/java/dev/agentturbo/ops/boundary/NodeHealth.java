package dev.agentturbo.ops.boundary;

import dev.agentturbo.workers.control.Dispatcher;
import dev.agentturbo.workers.control.Node;
import dev.agentturbo.workers.control.SlotBoard;
import dev.agentturbo.workers.entity.WorkerSettings;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

import java.util.Optional;

/**
 * The node's health for load balancers, service managers and the deploy script ({@code /health},
 * {@code /health/ready}, {@code /health/live}). Read from what the node knows already, without a statement: the
 * dispatcher's last round says whether the database answers.
 * <ul>
 * <li><b>Ready</b> while the database answers, the node's slots run, and it takes work (not drained, not stopping).
 * A node with 0 slots (API only) is ready when the database answers.</li>
 * <li><b>Live</b> unless the dispatcher's thread died: then only a restart helps.</li>
 * </ul>
 */
@ApplicationScoped
public class NodeHealth {

    @Inject
    Node node;
    @Inject
    SlotBoard board;
    @Inject
    WorkerSettings settings;

    @Produces
    @Readiness
    HealthCheck database() {
        return () -> {
            Optional<Dispatcher> d = node.dispatcher();
            boolean up = d.map(Dispatcher::connected).orElse(false);
            return HealthCheckResponse.named("database").status(up)
                    .withData("state", d.isEmpty() ? "the node waits for PostgreSQL to answer"
                            : up ? "answers" : "does not answer; the node tries again")
                    .build();
        };
    }

    @Produces
    @Readiness
    HealthCheck slots() {
        return () -> {
            int wanted = board.wanted();
            int open = board.open();
            boolean up = node.dispatcher().isPresent() && open >= wanted;
            return HealthCheckResponse.named("slots").status(up).withData("running", open).withData("wanted", wanted)
                    .withData("busy", board.busy()).build();
        };
    }

    @Produces
    @Readiness
    HealthCheck takingWork() {
        return () -> {
            boolean up = node.dispatcher().map(Dispatcher::claiming).orElse(false);
            return HealthCheckResponse.named("taking-work").status(up).withData("worker", settings.workerId())
                    .withData("state", node.dispatcher().isEmpty() ? "starting" : up ? "active" : "draining")
                    .build();
        };
    }

    @Produces
    @Liveness
    HealthCheck dispatcher() {
        return () -> {
            boolean dead = node.dispatcher().map(d -> !d.alive() && !node.stopping()).orElse(false);
            return HealthCheckResponse.named("dispatcher").status(!dead)
                    .withData("state", dead ? "its thread ended: restart the node" : "running").build();
        };
    }
}
