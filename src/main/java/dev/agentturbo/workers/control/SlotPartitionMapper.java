package dev.agentturbo.workers.control;

import jakarta.batch.api.BatchProperty;
import jakarta.batch.api.partition.PartitionMapper;
import jakarta.batch.api.partition.PartitionPlan;
import jakarta.batch.api.partition.PartitionPlanImpl;
import jakarta.enterprise.context.Dependent;
import jakarta.inject.Inject;
import jakarta.inject.Named;

import java.util.Properties;

/** One partition per agent slot: the job parameter {@code slots} says how many, each partition gets its number. */
@Named("slotPartitionMapper")
@Dependent
public class SlotPartitionMapper implements PartitionMapper {

    /** The job parameter that carries this node's slot count. */
    public static final String SLOTS = "slots";

    @Inject
    @BatchProperty(name = SLOTS)
    String slots;

    @Override
    public PartitionPlan mapPartitions() {
        if (slots == null || !slots.matches("[1-9][0-9]*")) {
            throw new IllegalStateException("the agent-worker job needs a positive job parameter 'slots', not " + slots);
        }
        int count = Integer.parseInt(slots);
        PartitionPlanImpl plan = new PartitionPlanImpl();
        plan.setPartitions(count);
        plan.setThreads(count);
        Properties[] each = new Properties[count];
        for (int i = 0; i < count; i++) {
            each[i] = new Properties();
            each[i].setProperty("slot", Integer.toString(i + 1));
        }
        plan.setPartitionProperties(each);
        return plan;
    }
}
