package dev.agentturbo.console.boundary;

import dev.agentturbo.tasks.control.TaskCatalog;
import dev.agentturbo.tasks.control.TaskFigures;
import dev.agentturbo.tasks.entity.TaskStatus;
import dev.agentturbo.workers.control.WorkerRegistry;
import dev.agentturbo.workers.entity.Worker;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.inject.Named;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObjectBuilder;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

/**
 * The dashboard: tasks by status, each node's slots, the last hour in a chart, spend today and this week, recent
 * failures and a usage-limit pause. Read afresh on every request; the page's poll asks every few seconds.
 */
@Named
@RequestScoped
public class Dashboard {

    private static final DateTimeFormatter MINUTE = DateTimeFormatter.ofPattern("HH:mm").withZone(ZoneOffset.UTC);

    @Inject
    TaskCatalog catalog;
    @Inject
    TaskFigures figures;
    @Inject
    WorkerRegistry registry;
    @Inject
    ConsoleCaller caller;
    @Inject
    dev.agentturbo.agents.control.ExecutorLimits executorLimits;

    private Map<TaskStatus, Long> counts;
    private List<Worker> workers;
    private TaskFigures.Spend today;
    private TaskFigures.Spend week;
    private List<TaskRow> failures;
    private TaskFigures.UsagePause pause;
    private boolean pauseRead;

    /** Each status with its count, in the order of a task's life. */
    public List<Map.Entry<String, Long>> getStatusCounts() {
        if (counts == null) {
            counts = catalog.countByStatus();
        }
        return counts.entrySet().stream().map(e -> Map.entry(e.getKey().value(), e.getValue())).toList();
    }

    public List<Worker> getWorkers() {
        if (workers == null) {
            workers = registry.list();
        }
        return workers;
    }

    public TaskFigures.Spend getToday() {
        if (today == null) {
            today = figures.spendSince("day");
        }
        return today;
    }

    public TaskFigures.Spend getWeek() {
        if (week == null) {
            week = figures.spendSince("week");
        }
        return week;
    }

    /** The newest failures the user may see. */
    public List<TaskRow> getFailures() {
        if (failures == null) {
            failures = figures.recentFailures(caller.isOwnTasksOnly() ? caller.getName() : null, 8).stream()
                    .map(TaskRow::new).toList();
        }
        return failures;
    }

    private List<dev.agentturbo.agents.entity.ExecutorLimit> limits;

    /** The executors paused fleet-wide for a credential (a usage limit until its reset), if any. */
    public List<dev.agentturbo.agents.entity.ExecutorLimit> getLimits() {
        if (limits == null) {
            limits = executorLimits.active();
        }
        return limits;
    }

    /** An operator ends a pause of the fleet early (its executor's tasks are claimed again at once). */
    public void lift(long id) {
        limits = null;
        if (caller.refuses(caller.isOperator(), "lift pauses")) {
            return;
        }
        executorLimits.lift(id, caller.getName()).ifPresentOrElse(
                l -> ConsoleCaller.say(jakarta.faces.application.FacesMessage.SEVERITY_INFO, "Lifted",
                        l.executor() + " runs again for credential " + l.credential()),
                () -> ConsoleCaller.say(jakarta.faces.application.FacesMessage.SEVERITY_WARN, "Not active",
                        "that pause ended already"));
    }

    /** Tasks waiting for a usage-limit reset; null when none. */
    public TaskFigures.UsagePause getPause() {
        if (!pauseRead) {
            pause = figures.usagePause().orElse(null);
            pauseRead = true;
        }
        return pause;
    }

    /** The last hour as a Chart.js 4 configuration: completions and failures per minute, and the queue's depth. */
    public String getChart() {
        List<TaskFigures.Minute> minutes = figures.lastHour();
        JsonArrayBuilder labels = Json.createArrayBuilder();
        JsonArrayBuilder completed = Json.createArrayBuilder();
        JsonArrayBuilder failed = Json.createArrayBuilder();
        JsonArrayBuilder waiting = Json.createArrayBuilder();
        for (TaskFigures.Minute m : minutes) {
            labels.add(MINUTE.format(m.start()));
            completed.add(m.completed());
            failed.add(m.failed());
            waiting.add(m.waiting());
        }
        JsonArrayBuilder datasets = Json.createArrayBuilder()
                .add(dataset("completed / min", completed, "#2e7d32", "y").add("type", "bar"))
                .add(dataset("failed / min", failed, "#c62828", "y").add("type", "bar"))
                .add(dataset("waiting in the queue", waiting, "#1565c0", "waiting").add("type", "line")
                        .add("tension", 0.2).add("pointRadius", 0));
        JsonObjectBuilder scales = Json.createObjectBuilder()
                .add("x", Json.createObjectBuilder().add("stacked", true).add("ticks",
                        Json.createObjectBuilder().add("maxTicksLimit", 12)))
                .add("y", Json.createObjectBuilder().add("stacked", true).add("beginAtZero", true).add("position", "left")
                        .add("title", Json.createObjectBuilder().add("display", true).add("text", "tasks per minute")))
                .add("waiting", Json.createObjectBuilder().add("beginAtZero", true).add("position", "right")
                        .add("grid", Json.createObjectBuilder().add("drawOnChartArea", false))
                        .add("title", Json.createObjectBuilder().add("display", true).add("text", "waiting")));
        return Json.createObjectBuilder()
                .add("type", "bar")
                .add("data", Json.createObjectBuilder().add("labels", labels).add("datasets", datasets))
                .add("options", Json.createObjectBuilder().add("animation", false).add("maintainAspectRatio", false)
                        .add("scales", scales)
                        .add("plugins", Json.createObjectBuilder().add("legend",
                                Json.createObjectBuilder().add("position", "bottom"))))
                .build().toString();
    }

    private static JsonObjectBuilder dataset(String label, JsonArrayBuilder data, String color, String axis) {
        return Json.createObjectBuilder().add("label", label).add("data", data).add("backgroundColor", color)
                .add("borderColor", color).add("yAxisID", axis);
    }
}
