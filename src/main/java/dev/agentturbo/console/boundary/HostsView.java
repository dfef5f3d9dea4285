package dev.agentturbo.console.boundary;

import dev.agentturbo.workers.control.WorkerControl;
import dev.agentturbo.workers.control.WorkerRegistry;
import dev.agentturbo.workers.entity.Worker;
import jakarta.faces.application.FacesMessage;
import jakarta.faces.context.FacesContext;
import jakarta.faces.view.ViewScoped;
import jakarta.inject.Inject;
import jakarta.inject.Named;

import java.io.Serializable;
import java.util.List;

/**
 * The hosts page: every node of the fleet as it last reported; for operators, drain, resume and a new slot count
 * (the node changes it without a restart and keeps it across restarts).
 */
@Named("hosts")
@ViewScoped
public class HostsView implements Serializable {

    @Inject
    WorkerRegistry registry;
    @Inject
    WorkerControl control;
    @Inject
    ConsoleCaller caller;

    private String node;
    private Integer slots;

    /** The nodes, read once per request (the table asks several times while it renders). */
    @SuppressWarnings("unchecked")
    public List<Worker> getWorkers() {
        return (List<Worker>) FacesContext.getCurrentInstance().getAttributes()
                .computeIfAbsent("hosts.workers", k -> registry.list());
    }

    public List<String> getNodeIds() {
        return getWorkers().stream().filter(w -> !w.state().equals("stopped")).map(Worker::id).sorted().toList();
    }

    public int getMaxSlots() {
        return control.maxSlots();
    }

    public void drain(String workerId) {
        FacesContext.getCurrentInstance().getAttributes().remove("hosts.workers");
        if (caller.refuses(caller.isOperator(), "drain nodes")) {
            return;
        }
        if (control.drain(workerId)) {
            ConsoleCaller.say(FacesMessage.SEVERITY_INFO, "Draining", workerId + " claims no more tasks; its running"
                    + " agents finish");
        } else {
            ConsoleCaller.say(FacesMessage.SEVERITY_WARN, "No such node", "there is no node " + workerId);
        }
    }

    public void resume(String workerId) {
        FacesContext.getCurrentInstance().getAttributes().remove("hosts.workers");
        if (caller.refuses(caller.isOperator(), "resume nodes")) {
            return;
        }
        if (control.resume(workerId)) {
            ConsoleCaller.say(FacesMessage.SEVERITY_INFO, "Resumed", workerId + " takes tasks again");
        } else {
            ConsoleCaller.say(FacesMessage.SEVERITY_WARN, "No such node", "there is no node " + workerId);
        }
    }

    public void resize() {
        FacesContext.getCurrentInstance().getAttributes().remove("hosts.workers");
        if (caller.refuses(caller.isOperator(), "change slots")) {
            return;
        }
        if (node == null || slots == null) {
            ConsoleCaller.say(FacesMessage.SEVERITY_WARN, "Slots not changed", "choose a node and a slot count");
            return;
        }
        try {
            if (control.resize(node, slots)) {
                ConsoleCaller.say(FacesMessage.SEVERITY_INFO, "Slots changed", node + " runs " + slots
                        + " agents at once from now on (slots taken away finish their agent first)");
            } else {
                ConsoleCaller.say(FacesMessage.SEVERITY_WARN, "No such node", "there is no node " + node);
            }
        } catch (IllegalArgumentException e) {
            ConsoleCaller.say(FacesMessage.SEVERITY_ERROR, "Slots not changed", e.getMessage());
        }
    }

    public String getNode() {
        return node;
    }

    public void setNode(String node) {
        this.node = node;
    }

    public Integer getSlots() {
        return slots;
    }

    public void setSlots(Integer slots) {
        this.slots = slots;
    }
}
