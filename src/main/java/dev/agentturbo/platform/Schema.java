package dev.agentturbo.platform;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

import javax.sql.DataSource;
import java.util.logging.Logger;

/**
 * The database schema: the migrations in db/ (packaged as db/migration), applied in order, each once, by Flyway.
 * Several nodes starting together are safe: Flyway takes a database lock while it migrates.
 */
public final class Schema {

    private static final Logger LOG = Logger.getLogger(Schema.class.getName());

    private Schema() {
    }

    public static MigrateResult migrate(DataSource dataSource) {
        MigrateResult result = Flyway.configure(Schema.class.getClassLoader())
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .table("agent_turbo_schema_history")
                .baselineOnMigrate(false)
                .load()
                .migrate();
        // targetSchemaVersion is null when nothing was applied: the schema is then where it was
        String version = result.targetSchemaVersion != null ? result.targetSchemaVersion : result.initialSchemaVersion;
        LOG.info(() -> "schema at version " + version + " (" + result.migrationsExecuted
                + " migrations applied now)");
        return result;
    }
}
