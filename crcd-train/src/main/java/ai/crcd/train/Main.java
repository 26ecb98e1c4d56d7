package ai.crcd.train;

import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.ConfigValidator;
import ai.crcd.train.config.RunConfig;
import ai.crcd.train.run.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Command line: {@code train}, {@code distill}, {@code run} (kind from the config), {@code
 * validate}, {@code eval} and {@code export}. Exit status 0 on success; 2 for a bad command line,
 * config, file, folder, a full disk, too little memory or an unexpected error (always one line on
 * stderr, see {@link Failures}; an unexpected error's stack trace goes to a log file the line
 * names); 1 when training fails (e.g. a non-finite loss). A run folder that a failed command
 * created and left empty is removed.
 */
@Command(
        name = "crcd-train",
        mixinStandardHelpOptions = true,
        version = "crcd-train 0.1.0",
        description =
                "Config-driven teacher training and knowledge distillation (DJL, CPU or CUDA).",
        subcommands = {
            Main.Train.class,
            Main.Distill.class,
            Main.Run.class,
            Main.Validate.class,
            EvalCommand.class,
            ExportCommand.class,
            ImportCommand.class, // h6-import
            CommandLine.HelpCommand.class
        })
public final class Main implements Callable<Integer> {

    /** Exit status for a bad config. */
    public static final int EXIT_CONFIG = 2;

    /** Exit status for a failed run. */
    public static final int EXIT_FAILED = 1;

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    /**
     * Runs the command line.
     *
     * @param args arguments, see {@code --help}
     */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /**
     * Runs the command line without exiting.
     *
     * @param args arguments
     * @return the exit status
     */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler(
                (e, a) -> {
                    System.err.println(
                            "usage error: "
                                    + Failures.oneLine(e.getMessage())
                                    + " (see crcd-train --help)");
                    return EXIT_CONFIG;
                });
        cl.setExecutionExceptionHandler(
                (e, cmd, parsed) -> {
                    Path runDir = null;
                    if (cmd.getCommand() instanceof RunBase) {
                        runDir = ((RunBase) cmd.getCommand()).afterFailure();
                    }
                    return Failures.report(e, runDir, System.err);
                });
        try {
            return cl.execute(args);
        } catch (Throwable e) { // errors picocli lets through (out of memory, native libraries)
            return Failures.report(e, afterFailure(cl.getParseResult()), System.err);
        }
    }

    /** Cleans up after the innermost command that failed; returns its run folder or null. */
    private static Path afterFailure(CommandLine.ParseResult pr) {
        while (pr != null && pr.hasSubcommand()) {
            pr = pr.subcommand();
        }
        if (pr != null && pr.commandSpec().userObject() instanceof RunBase) {
            return ((RunBase) pr.commandSpec().userObject()).afterFailure();
        }
        return null;
    }

    /** Options shared by the commands that read a config. */
    static class ConfigOptions {
        @Option(
                names = {"-c", "--config"},
                required = true,
                description = "YAML config file (see docs/config.md).")
        Path config;

        @Option(
                names = {"-s", "--set"},
                description = "Override one key, e.g. --set optim.lr=0.01 (repeatable).")
        List<String> overrides = new ArrayList<>();

        RunConfig load() {
            return ConfigLoader.load(config, overrides);
        }
    }

    /** Base of the commands that train. */
    abstract static class RunBase implements Callable<Integer> {
        @CommandLine.Mixin ConfigOptions options = new ConfigOptions();

        @Option(
                names = "--resume",
                description = "Continue the run in output.dir from its checkpoint.")
        boolean resume;

        /** The run folder once the config is read, and whether this command created it. */
        private Path runDir;

        private boolean dirWasThere;

        /** The kind this command requires, or null for any. */
        abstract String kind();

        /**
         * After a failure: removes the run folder if this command created it and left it empty
         * (nothing left behind).
         *
         * @return the run folder if it still exists, else null
         */
        Path afterFailure() {
            if (runDir == null || !Files.isDirectory(runDir)) {
                return null;
            }
            if (!dirWasThere) {
                try (Stream<Path> s = Files.list(runDir)) {
                    if (s.findAny().isEmpty()) {
                        Files.delete(runDir);
                        return null;
                    }
                } catch (IOException ignored) {
                    // keep it
                }
            }
            return runDir;
        }

        @Override
        public Integer call() {
            RunConfig cfg = options.load();
            if (kind() != null && !kind().equals(cfg.kind)) {
                throw ConfigException.bad(
                        "kind",
                        cfg.kind,
                        kind() + " for the '" + kind() + "' command (or use 'run')");
            }
            ConfigValidator.checkFiles(cfg);
            runDir = Path.of(cfg.output.dir);
            dirWasThere = Files.exists(runDir);
            RunResult r = TrainingRun.execute(cfg, runDir, resume);
            System.out.printf(
                    Locale.ROOT,
                    "%s %s: last top-1 %.2f%%, best top-1 %.2f%% (epoch %d), last top-5 %.2f%%;"
                            + " outputs in %s%n",
                    cfg.kind,
                    "distill".equals(cfg.kind)
                            ? cfg.distill.method + " " + cfg.teacher.name + " -> " + cfg.model.name
                            : cfg.model.name,
                    r.lastTop1(),
                    r.bestTop1(),
                    r.bestEpoch(),
                    r.lastTop5(),
                    r.runDir());
            return 0;
        }
    }

    /** {@code train}: a network from scratch with cross-entropy. */
    @Command(
            name = "train",
            mixinStandardHelpOptions = true,
            description =
                    "Train a network with cross-entropy (teachers, vanilla students); config kind: train.")
    static final class Train extends RunBase {
        @Override
        String kind() {
            return "train";
        }
    }

    /** {@code distill}: a student from a frozen teacher. */
    @Command(
            name = "distill",
            mixinStandardHelpOptions = true,
            description = "Distil a student from a trained teacher; config kind: distill.")
    static final class Distill extends RunBase {
        @Override
        String kind() {
            return "distill";
        }
    }

    /** {@code run}: whatever the config's kind says. */
    @Command(
            name = "run",
            mixinStandardHelpOptions = true,
            description = "Run a config of either kind.")
    static final class Run extends RunBase {
        @Override
        String kind() {
            return null;
        }
    }

    /** {@code validate}: check configs without training. */
    @Command(
            name = "validate",
            mixinStandardHelpOptions = true,
            description = "Check a config (keys, types, names, values) without training.")
    static final class Validate implements Callable<Integer> {
        @CommandLine.Mixin ConfigOptions options = new ConfigOptions();

        @Option(
                names = "--check-files",
                description =
                        "Also require the teacher checkpoint and data folder to exist, and"
                                + " output.dir to be a writable folder or creatable; says whether it"
                                + " holds a run.")
        boolean checkFiles;

        @Override
        public Integer call() {
            RunConfig cfg = options.load();
            if (checkFiles) {
                ConfigValidator.checkFiles(cfg);
                Path dir = Path.of(cfg.output.dir);
                RunFolder.checkWritable(dir);
                System.out.println(
                        options.config
                                + ": ok (output.dir "
                                + dir
                                + ": "
                                + RunFolder.describe(dir)
                                + ")");
                return 0;
            }
            System.out.println(options.config + ": ok");
            return 0;
        }
    }
}
