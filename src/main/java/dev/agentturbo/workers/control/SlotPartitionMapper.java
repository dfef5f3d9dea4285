package dev.agentturbo.workers.control;

import jakarta.batch.api.BatchProperty;
import jakarta.batch.api.partition.PartitionMapper;
import jakarta.batch.api.partition.PartitionPlan;
import jakarta.batch.api.partition.PartitionPlanImpl;
import jakarta.enterprise.context.Dependent;
import jakarta.inject.Inject;
import jakarta.inject.Named;

import java.util.Arrays;
import java.util.Properties;
import java.util.stream.IntStream;

/**
 * One partition per agent slot. The job parameter {@code slotNumbers} ("1,2,3") names the slots; without it,
 * {@code slots} (a count) means slots 1 to that count. A node starts a job for all its slots, and one more for
 * the numbers of slots that ended while it runs.
 */
@Named("slotPartitionMapper")
@Dependent
public class SlotPartitionMapper implements PartitionMapper {

    /** The job parameter that carries this node's slot count. */
    public static final String SLOTS = "slots";
    /** The job parameter that names the slots to run, comma-separated. */
    public static final String SLOT_NUMBERS = "slotNumbers";

    @Inject
    @BatchProperty(name = SLOTS)
    String slots;

    @Inject
    @BatchProperty(name = SLOT_NUMBERS)
    String slotNumbers;

    @Override
    public PartitionPlan mapPartitions() {
        int[] numbers = numbers(slots, slotNumbers);
        PartitionPlanImpl plan = new PartitionPlanImpl();
        plan.setPartitions(numbers.length);
        plan.setThreads(numbers.length);
        Properties[] each = new Properties[numbers.length];
        for (int i = 0; i < numbers.length; i++) {
            each[i] = new Properties();
            each[i].setProperty("slot", Integer.toString(numbers[i]));
        }
        plan.setPartitionProperties(each);
        return plan;
    }

    static int[] numbers(String count, String list) {
        if (list != null && !list.isBlank()) {
            if (!list.matches("[1-9][0-9]*(,[1-9][0-9]*)*")) {
                throw new IllegalStateException("job parameter 'slotNumbers' must list positive numbers, not " + list);
            }
            return Arrays.stream(list.split(",")).mapToInt(Integer::parseInt).distinct().toArray();
        }
        if (count == null || !count.matches("[1-9][0-9]*")) {
            throw new IllegalStateException("the agent-worker job needs a positive job parameter 'slots', not " + count);
        }
        return IntStream.rangeClosed(1, Integer.parseInt(count)).toArray();
    }
}
