package dev.agentturbo.workers.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.OffsetDateTime;

/** A node of the fleet as agent_workers records it: registered at start, heartbeating while it lives. */
@Entity
@Table(name = "agent_workers")
public class Worker {

    @Id
    private String id;
    private String host;
    private int slots;
    @Column(name = "busy_slots")
    private int busySlots;
    private String state;
    private String version;
    @Column(name = "started_at", insertable = false, updatable = false)
    private OffsetDateTime startedAt;
    @Column(name = "heartbeat_at", insertable = false, updatable = false)
    private OffsetDateTime heartbeatAt;

    protected Worker() {
    }

    public Worker(String id, String host, int slots, String state, String version) {
        this.id = id;
        this.host = host;
        this.slots = slots;
        this.state = state;
        this.version = version;
    }

    public String getId() {
        return id;
    }

    public String getHost() {
        return host;
    }

    public int getSlots() {
        return slots;
    }

    public int getBusySlots() {
        return busySlots;
    }

    public String getState() {
        return state;
    }

    public String getVersion() {
        return version;
    }

    public OffsetDateTime getStartedAt() {
        return startedAt;
    }

    public OffsetDateTime getHeartbeatAt() {
        return heartbeatAt;
    }
}
