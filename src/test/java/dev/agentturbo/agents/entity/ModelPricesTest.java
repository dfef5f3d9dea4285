package dev.agentturbo.agents.entity;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The price table of the {@code anthropic-api} executor: its format, which family prices a model, the cost. */
class ModelPricesTest {

    private static final ModelPrices PRICES = ModelPrices.parse(
            " claude-opus-4-5=5/25, claude-opus-4=15/75,claude-sonnet-4=3/15 ,claude-haiku-4=1/5,claude-3-5-haiku=0.80/4,");

    @Test
    void aModelTakesTheLongestFamilyItBelongsTo() {
        assertEquals(price("5", "25"), PRICES.of("claude-opus-4-5").orElseThrow());
        assertEquals(price("15", "75"), PRICES.of("claude-opus-4-1").orElseThrow(), "Opus 4.1 is no Opus 4.5");
        assertEquals(price("15", "75"), PRICES.of("claude-opus-4").orElseThrow());
        assertEquals(price("3", "15"), PRICES.of("claude-sonnet-4-5").orElseThrow());
        assertEquals(price("0.80", "4"), PRICES.of("claude-3-5-haiku").orElseThrow());
    }

    @Test
    void aSnapshotDateIsNoPartOfTheFamily() {
        assertEquals(PRICES.of("claude-sonnet-4-5"), PRICES.of("claude-sonnet-4-5-20250929"));
        assertEquals(price("5", "25"), PRICES.of("claude-opus-4-5-20251101").orElseThrow());
        assertEquals(price("15", "75"), PRICES.of("claude-opus-4-20250514").orElseThrow());
        assertEquals(price("0.80", "4"), PRICES.of("claude-3-5-haiku-20241022").orElseThrow());
    }

    @Test
    void aFamilyMatchesWholeNamePartsOnly() {
        assertEquals(Optional.empty(), PRICES.of("claude-opus-45"));
        assertEquals(Optional.empty(), PRICES.of("claude-sonnet"));
        assertEquals(Optional.empty(), PRICES.of("claude-fable-5-1"));
        assertEquals(Optional.empty(), ModelPrices.NONE.of("claude-sonnet-4-5"));
    }

    @Test
    void theCostIsEachTokenAtItsPricePerMillion() {
        assertEquals(0, new BigDecimal("0.0087").compareTo(PRICES.cost("claude-sonnet-4-5", 1200, 340).orElseThrow()));
        assertEquals(0, new BigDecimal("0.000047").compareTo(PRICES.cost("claude-haiku-4-5", 12, 7).orElseThrow()));
        assertEquals(0, BigDecimal.ZERO.compareTo(PRICES.cost("claude-opus-4-5", 0, 0).orElseThrow()));
        assertEquals(0, new BigDecimal("90").compareTo(PRICES.cost("claude-opus-4-1", 1_000_000, 1_000_000).orElseThrow()));
        assertEquals(Optional.empty(), PRICES.cost("gpt-5", 1000, 1000));
    }

    @Test
    void aTableThatIsNotFamilyInputOutputIsRefusedNamingTheEntry() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelPrices.parse("claude-sonnet-4=3/15,claude-opus-4=$15/$75"));
        assertTrue(e.getMessage().contains("'claude-opus-4=$15/$75' is not family=input/output"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelPrices.parse("claude-sonnet-4=3"));
        e = assertThrows(IllegalArgumentException.class, () -> ModelPrices.parse("claude-sonnet-4=3/15,claude-sonnet-4=2/10"));
        assertTrue(e.getMessage().contains("'claude-sonnet-4' is priced twice"), e.getMessage());
        assertEquals(ModelPrices.NONE, ModelPrices.parse(""));
    }

    @Test
    void theShippedTableParsesAndPricesTheCurrentFamilies() throws Exception {
        var properties = new java.util.Properties();
        try (var in = ModelPricesTest.class.getResourceAsStream("/META-INF/microprofile-config.properties")) {
            properties.load(in);
        }
        ModelPrices shipped = ModelPrices.parse(properties.getProperty("agentturbo.anthropic.prices"));
        assertEquals(price("5", "25"), shipped.of("claude-opus-4-5-20251101").orElseThrow());
        assertEquals(price("15", "75"), shipped.of("claude-opus-4-1").orElseThrow());
        assertEquals(price("3", "15"), shipped.of("claude-sonnet-4-5").orElseThrow());
        assertEquals(price("1", "5"), shipped.of("claude-haiku-4-5").orElseThrow());
        assertTrue(shipped.of(properties.getProperty("agentturbo.anthropic.default-model")).isPresent(),
                "the default model has a price");
    }

    private static ModelPrices.Price price(String input, String output) {
        return new ModelPrices.Price(new BigDecimal(input), new BigDecimal(output));
    }
}
