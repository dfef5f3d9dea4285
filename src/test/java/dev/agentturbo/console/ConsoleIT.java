package dev.agentturbo.console;

import dev.agentturbo.testing.ClaudeProgram;
import dev.agentturbo.testing.FakeMessagesApi;
import dev.agentturbo.testing.MicroNode;
import dev.agentturbo.testing.TestDatabase;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operators' console in a real headless Chromium, against a real node that runs the real {@code claude}
 * program against a fake Messages API: sign in, submit a task from the form (and see the API's own validation
 * messages), watch it complete on the dashboard, find it in the tasks table, read it on its page, watch a running
 * {@code claude} task's output grow, cancel a running task (from its page, and selected in the table) and retry
 * it, drain a host, change its slots and resume it, see a usage limit's reset count down, make a token (its secret
 * shown once), switch to the dark theme, sign out; a submitter sees only its own tasks and no controls. Each page is saved
 * at 1366×900 under docs/screenshots/, and none scrolls sideways at that width.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleIT {

    static final Path SCREENSHOTS = Path.of("docs/screenshots");
    static final Duration WAIT = Duration.ofSeconds(60);

    static TestDatabase db;
    static FakeMessagesApi api;
    static MicroNode node;
    static WebDriver browser;
    static long submittedTask;

    @BeforeAll
    static void start() {
        db = TestDatabase.create("console");
        api = FakeMessagesApi.start().replyWith("The release notes are written.", 1500, 420);
        Map<String, String> env = new HashMap<>(MicroNode.databaseEnv(db));
        // a subscription, so that its usage limit can hold tasks until the reset
        env.putAll(ClaudeProgram.environment(api, ClaudeProgram.Auth.SUBSCRIPTION));
        env.put("AGENTTURBO_CLAUDE_COMMAND", ClaudeProgram.path().toString());
        env.put("AGENTTURBO_WORKER_SLOTS", "2");
        node = MicroNode.start("console-a", env);

        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,900");
        // the driver's path is given, so Selenium Manager never looks for one on the network
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver")).build();
        browser = new ChromeDriver(service, options);
        browser.manage().window().setSize(new Dimension(1366, 900));
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (node != null) {
            node.close();
        }
        if (api != null) {
            api.close();
        }
        if (db != null) {
            db.close();
        }
    }

    @Test
    @Order(10)
    void anOperatorSignsInAndLandsOnTheDashboard() throws Exception {
        browser.get(node.uri("/console/").toString());
        await(d -> d.getCurrentUrl().endsWith("/console/login.html"));
        screenshot("login");
        browser.findElement(By.id("username")).sendKeys("admin");
        browser.findElement(By.id("password")).sendKeys("test-admin-password");
        browser.findElement(By.id("sign-in")).click();

        await(d -> text(By.id("caller")).contains("user:admin (operator)"));
        assertEquals("Dashboard", text(By.cssSelector("main h1")));
        assertTrue(text(By.id("hosts")).contains("console-a"), "the node is listed: " + text(By.id("hosts")));
        assertEquals(7, browser.findElements(By.cssSelector("#status-counts .tile")).size(), "a tile per status");
    }

    @Test
    @Order(20)
    void aMistakeInTheFormGetsTheApisOwnMessages() throws Exception {
        browser.findElement(By.id("nav-submit")).click();
        await(d -> !d.findElements(By.id("submit:prompt")).isEmpty());
        browser.findElement(By.id("submit:prompt")).sendKeys("write the release notes");
        type("submit:maxTurns_input", "0");
        type("submit:timeoutSeconds_input", "0");
        browser.findElement(By.id("submit:send")).click();

        await(d -> !d.findElements(By.cssSelector("#submit\\:problems li")).isEmpty());
        List<String> shown = browser.findElements(By.cssSelector("#submit\\:problems li")).stream()
                .map(WebElement::getText).toList();
        var response = node.post("/api/tasks", "{\"prompt\": \"write the release notes\", \"executor\": \"claude-cli\","
                + " \"timeoutSeconds\": 0, \"options\": {\"maxTurns\": 0}}");
        assertEquals(400, response.statusCode());
        List<String> fromApi = json(response.body()).getJsonArray("errors").stream()
                .map(v -> ((jakarta.json.JsonString) v).getString()).toList();
        assertEquals(fromApi.stream().sorted().toList(), shown.stream().sorted().toList());
        assertEquals(0, tasks().size(), "nothing was stored");
    }

    @Test
    @Order(30)
    void aTaskSubmittedFromTheFormCompletesOnTheDashboard() throws Exception {
        type("submit:maxTurns_input", "3");
        type("submit:timeoutSeconds_input", "");
        browser.findElement(By.id("submit:send")).click();

        await(d -> !d.findElements(By.cssSelector("#submit\\:submitted a.submitted-task")).isEmpty());
        assertTrue(growl().contains("Task submitted"), growl());
        submittedTask = Long.parseLong(text(By.cssSelector("#submit\\:submitted a.submitted-task")).replace("task ", ""));
        JsonObject stored = json(node.get("/api/tasks/" + submittedTask).body());
        assertEquals("write the release notes", stored.getString("prompt"));
        assertEquals("user:admin", stored.getString("submittedBy"));
        assertEquals(3, stored.getJsonObject("options").getInt("maxTurns"));
        screenshot("submit");

        browser.findElement(By.id("nav-dashboard")).click();
        // the dashboard's poll brings the completion without a reload
        await(d -> count("completed") == 1);
        assertTrue(text(By.id("spend-today")).matches("(?s)today\\s+\\$0\\.\\d+\\s+1,500\\s+420\\s+1"),
                "the day's spend: " + text(By.id("spend-today")));
        assertTrue(browser.findElement(By.cssSelector("#throughput canvas")).isDisplayed(), "the chart is drawn");
        String chart = (String) ((JavascriptExecutor) browser).executeScript(
                "var c = Chart.getChart(document.querySelector('#throughput canvas'));"
                        + " return JSON.stringify(c.data.datasets.map(s => s.data.reduce((a, b) => a + b, 0)));");
        assertEquals("[1,0,", chart.substring(0, 5), "one completion in the last hour, none failed: " + chart);
        screenshot("dashboard");
    }

    @Test
    @Order(40)
    void theTasksTableFindsTheTaskAndItsPageShowsItAll() throws Exception {
        node.post("/api/tasks", "{\"prompt\": \"another task\", \"executor\": \"simulated\", \"options\": {\"durationMs\": 10}}");
        browser.findElement(By.id("nav-tasks")).click();
        await(d -> rows().size() == 2);
        type("list:text", "release");
        browser.findElement(By.id("list:apply")).click();
        await(d -> rows().size() == 1);
        assertTrue(rows().get(0).getText().contains("write the release notes"), rows().get(0).getText());
        assertEquals("1–1 of 1", text(By.cssSelector("#list\\:tasks .ui-paginator-current")), "the count follows the filter");
        screenshot("tasks");

        rows().get(0).findElement(By.cssSelector("a.task-link")).click();
        await(d -> text(By.cssSelector("main h1")).equals("Task " + submittedTask));
        assertEquals("completed", text(By.id("task-status")));
        assertEquals("The release notes are written.", text(By.id("result")));
        assertTrue(text(By.id("fields")).contains("user:admin"));
        assertTrue(text(By.id("options")).contains("\"maxTurns\":3") || text(By.id("options")).contains("\"maxTurns\": 3"),
                text(By.id("options")));
        screenshot("task");

        // "Submit a copy": the form holds the task's prompt and options
        browser.findElement(By.id("detail:copy")).click();
        await(d -> !d.findElements(By.id("submit:prompt")).isEmpty());
        assertEquals("write the release notes", browser.findElement(By.id("submit:prompt")).getAttribute("value"));
        assertEquals("3", browser.findElement(By.id("submit:maxTurns_input")).getAttribute("value"));
        assertTrue(growl().contains("Copy of task " + submittedTask), growl());
    }

    @Test
    @Order(45)
    void aTaskPageShowsWhatTheTaskWaitsFor() throws Exception {
        HttpResponse<String> first = node.post("/api/tasks", "{\"prompt\": \"migrate the schema\", \"executor\":"
                + " \"simulated\", \"concurrencyKey\": \"repo:/srv/app\", \"options\": {\"durationMs\": 4000}}");
        long before = json(first.body()).getJsonNumber("id").longValue();
        HttpResponse<String> second = node.post("/api/tasks", "{\"prompt\": \"deploy\", \"executor\": \"simulated\","
                + " \"dependsOn\": [" + before + "], \"options\": {\"durationMs\": 10}}");
        assertEquals(201, second.statusCode(), second.body());
        long after = json(second.body()).getJsonNumber("id").longValue();

        browser.get(node.uri("/console/task.xhtml?id=" + after).toString());
        await(d -> text(By.id("task-status")).equals("blocked"));
        assertTrue(text(By.id("waits-for")).matches("task " + before + "\\s+(pending|running)\\s+\\(waiting\\)"),
                text(By.id("waits-for")));
        browser.findElement(By.cssSelector("#waits-for a.dependency")).click();
        await(d -> text(By.cssSelector("main h1")).equals("Task " + before));
        assertEquals("repo:/srv/app", text(By.id("concurrency-key")));
        assertEquals("nothing", text(By.id("waits-for")));
        awaitStatus(after, "completed");
    }

    @Test
    @Order(50)
    void theOutputOfARunningClaudeTaskGrowsOnItsPage() throws Exception {
        api.useToolThenReply("Bash", "{\"command\":\"for i in 1 2 3 4 5 6 7 8 9 10; do echo step $i; sleep 1; done\","
                + "\"description\":\"ten steps\"}", "All ten steps are done.");
        long id = json(node.post("/api/tasks", "{\"prompt\": \"run the ten steps\","
                + " \"options\": {\"allowedTools\": [\"Bash\"]}}").body()).getJsonNumber("id").longValue();
        awaitStatus(id, "running");
        browser.get(node.uri("/console/task.xhtml?id=" + id).toString());

        // while the tool runs, the conversation shows the call with its input, and no result yet
        await(d -> turns("tool_use").stream().anyMatch(t -> t.contains("step $i")));
        assertEquals("running", text(By.id("task-status")));
        assertTrue(turns("result").isEmpty(), "no result while it runs");
        int whileRunning = browser.findElements(By.cssSelector("#conversation .turn")).size();
        screenshot("task-live");

        // the page follows the task: the tool's result and the answer arrive without a reload
        await(d -> text(By.id("task-status")).equals("completed") && !turns("result").isEmpty());
        assertTrue(browser.findElements(By.cssSelector("#conversation .turn")).size() > whileRunning);
        assertTrue(turns("tool_result").stream().anyMatch(t -> t.contains("step 10")), "the tool's output, folded");
        assertTrue(turns("assistant").stream().anyMatch(t -> t.contains("All ten steps are done.")));
        assertTrue(text(By.id("detail:attempts")).contains("console-a"), "the attempt and its host");
    }

    @Test
    @Order(60)
    void aRunningTaskIsCancelledFromItsPage() throws Exception {
        long id = json(node.post("/api/tasks", "{\"prompt\": \"a long one\", \"executor\": \"simulated\","
                + " \"options\": {\"durationMs\": 300000}}").body()).getJsonNumber("id").longValue();
        awaitStatus(id, "running");
        browser.get(node.uri("/console/task.xhtml?id=" + id).toString());
        await(d -> text(By.id("task-status")).equals("running"));
        browser.findElement(By.id("detail:cancel")).click();

        await(d -> growl().contains("Cancel requested") || growl().contains("Cancelled"));
        // the page follows the task until it ends
        await(d -> text(By.id("task-status")).equals("cancelled"));
        assertEquals("cancelled", json(node.get("/api/tasks/" + id).body()).getString("status"));

        // a finished task runs again as a new attempt; the page follows it again
        browser.findElement(By.id("detail:retry")).click();
        await(d -> growl().contains("Retried"));
        await(d -> text(By.id("task-status")).equals("running")
                && browser.findElements(By.cssSelector("#detail\\:attempts tbody tr")).size() == 2);

        // several at once from the table: select the row, cancel the selection
        browser.findElement(By.id("nav-tasks")).click();
        await(d -> rows().stream().anyMatch(r -> r.getText().contains("a long one")));
        rows().stream().filter(r -> r.getText().contains("a long one")).findFirst().orElseThrow()
                .findElement(By.cssSelector(".ui-chkbox-box")).click();
        browser.findElement(By.id("list:cancel-selected")).click();
        await(d -> growl().contains("Cancel requested") && growl().contains("task " + id));
        awaitStatus(id, "cancelled");
    }

    @Test
    @Order(70)
    void aHostIsDrainedResizedAndResumed() throws Exception {
        browser.findElement(By.id("nav-hosts")).click();
        await(d -> !d.findElements(By.cssSelector("#fleet\\:nodes tbody tr")).isEmpty());
        WebElement row = browser.findElement(By.cssSelector("#fleet\\:nodes tbody tr"));
        assertTrue(row.getText().contains("console-a"), row.getText());
        assertEquals("2", row.findElement(By.cssSelector(".slots")).getText());
        assertEquals("active", row.findElement(By.cssSelector(".state")).getText());

        row.findElement(By.cssSelector("button.drain")).click();
        await(d -> growl().contains("Draining"));
        await(d -> text(By.cssSelector("#fleet\\:nodes tbody tr .state")).equals("draining"));
        assertEquals("draining", worker().getString("state"));

        type("fleet:slots_input", "3");
        browser.findElement(By.id("fleet:resize")).click();
        await(d -> growl().contains("Slots changed"));
        await(d -> text(By.cssSelector("#fleet\\:nodes tbody tr .slots")).equals("3"));
        assertEquals(3, worker().getInt("slots"));
        screenshot("hosts");

        browser.findElement(By.cssSelector("#fleet\\:nodes tbody tr button.resume")).click();
        await(d -> text(By.cssSelector("#fleet\\:nodes tbody tr .state")).equals("active"));
    }

    @Test
    @Order(75)
    void theDashboardCountsDownToTheUsageLimitsReset() throws Exception {
        Instant reset = Instant.now().plus(2, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);
        api.usageLimitUntil(reset);
        long id = json(node.post("/api/tasks", "{\"prompt\": \"hits the limit\"}").body()).getJsonNumber("id").longValue();
        awaitStatus(id, "scheduled");

        browser.findElement(By.id("nav-dashboard")).click();
        await(d -> !d.findElements(By.id("usage-pause")).isEmpty());
        String pause = text(By.id("usage-pause"));
        assertTrue(pause.contains("1 task(s) wait"), pause);
        // the reset counts down in the page: 1 h 59 min … s
        await(d -> text(By.id("usage-pause")).matches("(?s).*resumes in 1 h 59 min \\d+ s.*"));
        String before = text(By.cssSelector("#usage-pause [data-until]"));
        await(d -> !text(By.cssSelector("#usage-pause [data-until]")).equals(before));
        // the fleet-wide pause of the executor for that subscription, with its own count-down
        await(d -> !d.findElements(By.cssSelector(".fleet-pause")).isEmpty());
        String fleet = text(By.cssSelector(".fleet-pause"));
        assertTrue(fleet.contains("claude-cli paused for the whole fleet") && fleet.matches("(?s).*credential oauth:[0-9a-f]{12}.*")
                && fleet.matches("(?s).*Resumes by itself in 1 h 59 min \\d+ s.*"), fleet);
        assertTrue(fleet.contains("usage limit reached (task " + id), "with its reason: " + fleet);
        screenshot("dashboard-usage-limit");
        node.post("/api/tasks/" + id + "/cancel", "");
        api.replyWith("Done.");
        // an operator lifts it from the dashboard
        browser.findElement(By.cssSelector(".fleet-pause .lift")).click();
        await(d -> d.findElements(By.cssSelector(".fleet-pause")).isEmpty());
        assertEquals(0, json(node.get("/api/limits").body()).getJsonArray("limits").size());
    }

    @Test
    @Order(80)
    void aTokenIsShownOnceWhenItIsMade() throws Exception {
        browser.findElement(By.id("nav-access")).click();
        await(d -> !d.findElements(By.id("tokens:name")).isEmpty());
        browser.findElement(By.id("tokens:name")).sendKeys("ci-pipeline");
        browser.findElement(By.id("tokens:make")).click();

        await(d -> !d.findElements(By.id("secret")).isEmpty());
        String secret = text(By.id("secret"));
        assertTrue(secret.startsWith("at_"), secret);
        assertEquals(200, node.get("/api/workers", secret).statusCode(), "the shown secret is the token");
        assertTrue(text(By.id("tokens:list")).contains("ci-pipeline"));
        assertTrue(growl().contains("Token made"));

        browser.navigate().refresh();
        await(d -> !d.findElements(By.id("tokens:list")).isEmpty());
        assertFalse(browser.getPageSource().contains(secret), "the secret is never shown again");
        assertTrue(text(By.id("tokens:list")).contains("ci-pipeline"));
        screenshot("access");
    }

    @Test
    @Order(90)
    void theDarkThemeIsRemembered() throws Exception {
        browser.findElement(By.id("nav-dashboard")).click();
        await(d -> text(By.cssSelector("main h1")).equals("Dashboard"));
        browser.findElement(By.id("theme-toggle")).click();
        browser.navigate().refresh();
        await(d -> d.findElement(By.tagName("html")).getAttribute("class").contains("theme-dark"));
        screenshot("dashboard-dark");
        browser.findElement(By.id("theme-toggle")).click();
        assertTrue(browser.findElement(By.tagName("html")).getAttribute("class").contains("theme-light"));
    }

    @Test
    @Order(100)
    void signingOutEndsTheSession() {
        browser.findElement(By.id("sign-out")).click();
        await(d -> d.getCurrentUrl().contains("/console/login.html"));
        assertEquals("Signed out.", text(By.id("message")));
        browser.get(node.uri("/console/tasks.xhtml").toString());
        await(d -> d.getCurrentUrl().endsWith("/console/login.html"));
    }

    @Test
    @Order(110)
    void aSubmitterSeesOnlyItsOwnTasksAndNoControls() throws Exception {
        assertEquals(201, node.post("/api/users", "{\"name\": \"dana\", \"password\": \"dana-password-1\","
                + " \"role\": \"submitter\"}").statusCode());
        browser.get(node.uri("/console/login.html").toString());
        browser.findElement(By.id("username")).sendKeys("dana");
        browser.findElement(By.id("password")).sendKeys("dana-password-1");
        browser.findElement(By.id("sign-in")).click();
        await(d -> text(By.id("caller")).contains("user:dana (submitter)"));
        assertTrue(browser.findElements(By.id("nav-access")).isEmpty(), "no tokens and users page");

        // a batch: one task a line, here with the simulated executor
        browser.findElement(By.id("nav-submit")).click();
        await(d -> !d.findElements(By.id("submit:prompt")).isEmpty());
        browser.findElement(By.cssSelector("#submit\\:batch .ui-chkbox-box")).click();
        browser.findElement(By.id("submit:prompt")).sendKeys("first of dana's\nsecond of dana's\n");
        browser.findElement(By.id("submit:executor")).click();
        browser.findElement(By.cssSelector("#submit\\:executor_items li[data-label='simulated']")).click();
        await(d -> !d.findElements(By.id("submit:durationMs_input")).isEmpty());
        type("submit:durationMs_input", "10");
        // each line waits for the one before; waiting for another's task is refused as in the API
        browser.findElement(By.cssSelector("#submit\\:chain .ui-chkbox-box")).click();
        type("submit:dependsOn", Long.toString(submittedTask));
        browser.findElement(By.id("submit:send")).click();
        await(d -> !d.findElements(By.cssSelector("#submit\\:problems li")).isEmpty());
        assertEquals(List.of("[0].dependsOn: task " + submittedTask + " does not exist"), browser.findElements(
                By.cssSelector("#submit\\:problems li")).stream().map(WebElement::getText).toList());
        type("submit:dependsOn", "");
        browser.findElement(By.id("submit:send")).click();
        await(d -> d.findElements(By.cssSelector("#submit\\:submitted a.submitted-task")).size() == 2);
        assertTrue(growl().contains("2 tasks submitted"), growl());
        List<Long> danas = browser.findElements(By.cssSelector("#submit\\:submitted a.submitted-task")).stream()
                .map(a -> Long.parseLong(a.getText().replace("task ", ""))).toList();
        assertEquals(List.of(danas.get(0)), json(node.get("/api/tasks/" + danas.get(1)).body()).getJsonArray("dependsOn")
                .getValuesAs(jakarta.json.JsonNumber.class).stream().map(jakarta.json.JsonNumber::longValue).toList(),
                "the second line waits for the first");

        browser.findElement(By.id("nav-tasks")).click();
        await(d -> rows().size() == 2);
        assertTrue(tasks().size() > 2, "others' tasks exist");
        assertTrue(rows().stream().allMatch(r -> r.getText().contains("of dana's")), "only her own");
        browser.findElement(By.id("nav-hosts")).click();
        await(d -> !d.findElements(By.cssSelector("#fleet\\:nodes tbody tr")).isEmpty());
        assertTrue(browser.findElements(By.cssSelector("button.drain, button.resume, #fleet\\:resize")).isEmpty(),
                "no host controls for a submitter");
        browser.findElement(By.id("sign-out")).click();
        await(d -> d.getCurrentUrl().contains("/console/login.html"));
    }

    // --- helpers

    static List<WebElement> rows() {
        return browser.findElements(By.cssSelector("#list\\:tasks tbody tr[data-ri]"));
    }

    /** What the growl says now (its messages stay a few seconds). */
    static String growl() {
        return String.join("\n", browser.findElements(By.cssSelector(".ui-growl-message")).stream()
                .map(e -> e.getAttribute("textContent")).toList());
    }

    /** The texts of the conversation's turns of one kind. */
    static List<String> turns(String kind) {
        return browser.findElements(By.cssSelector("#conversation .turn-" + kind)).stream()
                .map(e -> e.getAttribute("textContent")).toList();
    }

    static JsonObject worker() throws IOException {
        return json(node.get("/api/workers").body()).getJsonArray("workers").stream().map(JsonValue::asJsonObject)
                .filter(w -> w.getString("id").equals("console-a")).findFirst().orElseThrow();
    }

    static long count(String status) {
        return Long.parseLong(text(By.cssSelector("#count-" + status + " .n")).replace(",", ""));
    }

    static List<JsonValue> tasks() throws IOException {
        return json(node.get("/api/tasks?limit=500").body()).getJsonArray("items");
    }

    static void awaitStatus(long id, String status) {
        await(d -> {
            try {
                return json(node.get("/api/tasks/" + id).body()).getString("status").equals(status);
            } catch (IOException e) {
                return false;
            }
        });
    }

    static void type(String id, String value) {
        // keys, not a script: PrimeFaces' number inputs keep their value in a hidden field their key handlers update
        WebElement field = browser.findElement(By.id(id));
        field.sendKeys(Keys.chord(Keys.CONTROL, "a"), Keys.DELETE);
        if (!value.isEmpty()) {
            field.sendKeys(value);
        }
        if (id.endsWith("_input")) {
            field.sendKeys(Keys.TAB);
        }
    }

    static String text(By by) {
        List<WebElement> found = browser.findElements(by);
        return found.isEmpty() ? "" : found.get(0).getText().trim();
    }

    /** Waits for the condition, and for PrimeFaces' ajax to settle. */
    static void await(Function<WebDriver, Boolean> condition) {
        try {
            new WebDriverWait(browser, WAIT).ignoring(RuntimeException.class).until(d -> {
                Object idle = ((JavascriptExecutor) d).executeScript("return !window.PrimeFaces || "
                        + "(PrimeFaces.ajax.Queue.isEmpty() && (!window.jQuery || jQuery.active === 0));");
                return Boolean.TRUE.equals(idle) && condition.apply(d);
            });
        } catch (TimeoutException e) {
            // what the page showed, for whoever reads the failure
            try {
                Path failed = Path.of("target", "console-failures");
                Files.createDirectories(failed);
                String name = "failure-" + System.currentTimeMillis();
                Files.copy(((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(),
                        failed.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
                Files.writeString(failed.resolve(name + ".html"), browser.getPageSource());
                throw new AssertionError("waited " + WAIT + " in vain on " + browser.getCurrentUrl() + "; the page is"
                        + " saved as " + failed.resolve(name + ".png") + " and .html", e);
            } catch (IOException io) {
                throw new AssertionError("waited " + WAIT + " in vain on " + browser.getCurrentUrl(), e);
            }
        }
    }

    /** Saves the page as docs/screenshots/NAME.png, and checks that it does not scroll sideways. */
    static void screenshot(String name) throws IOException {
        Object wide = ((JavascriptExecutor) browser).executeScript(
                "return document.documentElement.scrollWidth > window.innerWidth;");
        assertEquals(Boolean.FALSE, wide, name + " scrolls sideways at 1366 px");
        ((JavascriptExecutor) browser).executeScript("window.scrollTo(0, 0);");
        Files.createDirectories(SCREENSHOTS);
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    static JsonObject json(String body) {
        try (var reader = Json.createReader(new StringReader(body))) {
            return reader.readObject();
        }
    }
}
