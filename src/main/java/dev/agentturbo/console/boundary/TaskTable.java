package dev.agentturbo.console.boundary;

import dev.agentturbo.agents.control.AgentExecutors;
import dev.agentturbo.tasks.control.TaskCatalog;
import dev.agentturbo.tasks.control.TaskSearch;
import dev.agentturbo.tasks.entity.TaskFilter;
import dev.agentturbo.tasks.entity.TaskStatus;
import dev.agentturbo.workers.control.WorkerRegistry;
import dev.agentturbo.workers.entity.Worker;
import jakarta.faces.application.FacesMessage;
import jakarta.faces.view.ViewScoped;
import jakarta.inject.Inject;
import jakarta.inject.Named;
import org.primefaces.model.FilterMeta;
import org.primefaces.model.LazyDataModel;
import org.primefaces.model.SortMeta;
import org.primefaces.model.SortOrder;

import java.io.Serializable;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The tasks page: a lazily loaded table (one page read per request, whatever the number of tasks), its filters,
 * and cancel or retry of the selected tasks. A submitter sees only its own tasks.
 */
@Named
@ViewScoped
public class TaskTable implements Serializable {

    /** The table counts matching tasks up to this many; past it, it says "more than". */
    static final int COUNT_CAP = 10_000;

    @Inject
    TaskSearch search;
    @Inject
    TaskCatalog catalog;
    @Inject
    WorkerRegistry registry;
    @Inject
    AgentExecutors executors;
    @Inject
    ConsoleCaller caller;
    @Inject
    TaskActions actions;

    private String status;
    private String executor;
    private String worker;
    private String submitter;
    private String text;
    private LocalDateTime from;
    private LocalDateTime to;
    private List<TaskRow> selected = new ArrayList<>();
    private final Rows rows = new Rows();
    private boolean capped;

    /** The table's rows: only the page shown is read. */
    public class Rows extends LazyDataModel<TaskRow> {

        @Override
        public int count(Map<String, FilterMeta> filterBy) {
            int matched = (int) search.count(filter(), COUNT_CAP);
            capped = matched > COUNT_CAP;
            return matched;
        }

        @Override
        public List<TaskRow> load(int first, int pageSize, Map<String, SortMeta> sortBy, Map<String, FilterMeta> filterBy) {
            // the filters are the page's own, not the table's: the count must follow them on every load
            setRowCount(count(filterBy));
            SortMeta sort = sortBy == null ? null : sortBy.values().stream()
                    .filter(s -> s.getOrder() != SortOrder.UNSORTED).findFirst().orElse(null);
            return search.page(filter(), sort == null ? null : sort.getField(),
                    sort != null && sort.getOrder() == SortOrder.ASCENDING, first, pageSize).stream()
                    .map(TaskRow::new).toList();
        }

        @Override
        public String getRowKey(TaskRow row) {
            return Long.toString(row.getId());
        }

        @Override
        public TaskRow getRowData(String rowKey) {
            List<TaskRow> page = getWrappedData();
            return page == null ? null : page.stream().filter(r -> getRowKey(r).equals(rowKey)).findFirst().orElse(null);
        }
    }

    TaskFilter filter() {
        TaskFilter f = new TaskFilter(TaskStatus.parse(status == null ? "" : status).orElse(null), executor, worker,
                submitter, text, from == null ? null : from.toInstant(ZoneOffset.UTC),
                to == null ? null : to.toInstant(ZoneOffset.UTC));
        return caller.isOwnTasksOnly() ? f.ownedBy(caller.getName()) : f;
    }

    public void clearFilters() {
        status = executor = worker = submitter = text = null;
        from = to = null;
    }

    public void cancelSelected() {
        actions.cancel(selected.stream().map(TaskRow::getId).toList());
        selected = new ArrayList<>();
    }

    public void retrySelected() {
        actions.retry(selected.stream().map(TaskRow::getId).toList());
        selected = new ArrayList<>();
    }

    /** True when more tasks match than the table counts: its last page is not the last match. */
    public boolean isCapped() {
        return capped;
    }

    public Rows getRows() {
        return rows;
    }

    public List<String> getStatuses() {
        return Arrays.stream(TaskStatus.values()).map(TaskStatus::value).toList();
    }

    public List<String> getExecutors() {
        return executors.names();
    }

    public List<String> getWorkers() {
        return registry.list().stream().map(Worker::id).sorted().toList();
    }

    public List<TaskRow> getSelected() {
        return selected;
    }

    public void setSelected(List<TaskRow> selected) {
        this.selected = selected == null ? new ArrayList<>() : selected;
    }

    public String getStatus() {
        return status;
    }

    public void setStatus(String status) {
        this.status = status;
    }

    public String getExecutor() {
        return executor;
    }

    public void setExecutor(String executor) {
        this.executor = executor;
    }

    public String getWorker() {
        return worker;
    }

    public void setWorker(String worker) {
        this.worker = worker;
    }

    public String getSubmitter() {
        return submitter;
    }

    public void setSubmitter(String submitter) {
        this.submitter = submitter;
    }

    public String getText() {
        return text;
    }

    public void setText(String text) {
        this.text = text;
    }

    public LocalDateTime getFrom() {
        return from;
    }

    public void setFrom(LocalDateTime from) {
        this.from = from;
    }

    public LocalDateTime getTo() {
        return to;
    }

    public void setTo(LocalDateTime to) {
        this.to = to;
    }
}
