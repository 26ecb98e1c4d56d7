package ai.crcd.train.run;

import ai.crcd.train.config.ConfigException;
import ai.crcd.train.config.ConfigLoader;
import ai.crcd.train.config.RunConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks on the run folder ({@code output.dir}) made before a run writes anything: that it can be
 * created and written, and that a {@code --resume} continues a run of the same kind, networks and
 * method. Every problem is one {@link ConfigException} line with the fix.
 */
public final class RunFolder {

    /** File name of the resolved config in the run folder (as {@code TrainingRun}). */
    static final String CONFIG_FILE = "config.yaml";

    private static final Logger LOG = LoggerFactory.getLogger(RunFolder.class);

    private RunFolder() {}

    /**
     * Everything checked before a run creates or writes anything in its folder: {@link
     * #checkWritable} and {@link #checkResumeMatches}.
     *
     * @param cfg the config of this run
     * @param dir the run folder
     * @param resume whether {@code --resume} was given
     * @throws ConfigException for the first problem
     */
    public static void beforeRun(RunConfig cfg, Path dir, boolean resume) {
        checkWritable(dir);
        checkResumeMatches(cfg, dir, resume);
    }

    /**
     * Checks that {@code output.dir} is a folder or can be created as one, and is writable.
     *
     * @param folder the run folder ({@code output.dir})
     * @throws ConfigException when it is a file, lies under a file, or cannot be written
     */
    public static void checkWritable(Path folder) {
        String dir = folder.toString();
        Path p = folder.toAbsolutePath().normalize();
        if (Files.exists(p) && !Files.isDirectory(p)) {
            throw ConfigException.bad(
                    "output.dir",
                    dir,
                    "a folder for the run (" + p + " is a file; choose another" + " output.dir)");
        }
        Path existing = p;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            throw ConfigException.bad("output.dir", dir, "a folder on an existing file system");
        }
        if (!Files.isDirectory(existing)) {
            throw ConfigException.bad(
                    "output.dir",
                    dir,
                    "a folder for the run ("
                            + existing
                            + " is a file, so no folder can be"
                            + " created under it; choose another output.dir)");
        }
        if (!Files.isWritable(existing) || !Files.isExecutable(existing)) {
            throw ConfigException.bad(
                    "output.dir",
                    dir,
                    "a folder this user can write ("
                            + existing
                            + (Files.isWritable(existing) ? " cannot be entered" : " is read-only")
                            + "; fix its permissions or choose another output.dir)");
        }
    }

    /**
     * Describes what the folder holds, for {@code validate --check-files}.
     *
     * @param p the run folder ({@code output.dir})
     * @return e.g. {@code "new folder"}, {@code "empty folder"} or {@code "holds a run (checkpoint
     *     and config.yaml): training needs --resume or another output.dir"}
     */
    public static String describe(Path p) {
        if (!Files.exists(p)) {
            return "will be created";
        }
        boolean ckpt = Files.exists(p.resolve(Checkpoint.FILE));
        boolean model = Files.exists(p.resolve("model.params"));
        if (!ckpt && !model) {
            try (var s = Files.list(p)) {
                return s.findAny().isPresent() ? "exists, holds no run" : "exists, empty";
            } catch (IOException e) {
                return "exists";
            }
        }
        return "holds a run ("
                + (model ? "finished, model.params" : "unfinished, " + Checkpoint.FILE)
                + "): training there needs --resume, or choose another output.dir";
    }

    /**
     * Before {@code --resume}: compares the config with the one the folder's run was started with
     * ({@code config.yaml}); the keys that decide what the checkpoint holds must be equal.
     *
     * @param cfg the config of this run
     * @param dir the run folder
     * @param resume whether {@code --resume} was given
     * @throws ConfigException naming the first key that differs, its value in the checkpoint's run
     *     and the fix
     */
    public static void checkResumeMatches(RunConfig cfg, Path dir, boolean resume) {
        Path old = dir.resolve(CONFIG_FILE);
        if (!resume || !Files.exists(dir.resolve(Checkpoint.FILE)) || !Files.isRegularFile(old)) {
            return;
        }
        RunConfig before;
        try {
            before = ConfigLoader.bind(Files.readString(old), List.of(), old.toString());
        } catch (IOException | RuntimeException e) {
            return; // unreadable: the checkpoint itself decides
        }
        Map<String, Object[]> keys = new LinkedHashMap<>();
        keys.put("kind", new Object[] {cfg.kind, before.kind});
        keys.put("model.name", new Object[] {cfg.model.name, before.model.name});
        keys.put("data.name", new Object[] {cfg.data.name, before.data.name});
        keys.put(
                "teacher.name",
                new Object[] {
                    cfg.teacher == null ? null : cfg.teacher.name,
                    before.teacher == null ? null : before.teacher.name
                });
        keys.put("distill.method", new Object[] {cfg.distill.method, before.distill.method});
        keys.put("seed", new Object[] {cfg.seed, before.seed});
        for (Map.Entry<String, Object[]> e : keys.entrySet()) {
            Object now = e.getValue()[0];
            Object then = e.getValue()[1];
            if (!Objects.equals(now, then)) {
                throw new ConfigException(
                        e.getKey()
                                + ": got '"
                                + now
                                + "', but the checkpoint in "
                                + dir
                                + " holds a run with "
                                + e.getKey()
                                + " '"
                                + then
                                + "' (its config.yaml); --resume continues that run only: set "
                                + e.getKey()
                                + ": "
                                + then
                                + ", or drop --resume and choose another output.dir");
            }
        }
    }

    /**
     * After the checkpoint is read: refuses to resume with fewer epochs than already done.
     *
     * @param epochs {@code optim.epochs} of this run
     * @param epochsDone epochs the checkpoint holds
     * @param dir the run folder
     * @throws ConfigException when {@code epochs < epochsDone}
     */
    public static void checkEpochs(int epochs, int epochsDone, Path dir) {
        if (epochs == epochsDone) {
            LOG.info(
                    "--resume: the run in {} has already done all {} epochs; nothing to train"
                            + " (raise optim.epochs to continue it)",
                    dir,
                    epochs);
        }
        if (epochs < epochsDone) {
            throw ConfigException.bad(
                    "optim.epochs",
                    epochs,
                    "at least "
                            + epochsDone
                            + ", the epochs the checkpoint in "
                            + dir
                            + " has already done (--resume continues a run; to train fewer"
                            + " epochs, start a new run in another output.dir)");
        }
    }

    /**
     * A checkpoint whose arrays do not fit the networks or method of this config, as one line.
     *
     * @param ckpt the checkpoint file
     * @param e the failure of loading its parameters or the method's state
     * @return the exception to throw
     */
    public static ConfigException mismatch(Path ckpt, IllegalArgumentException e) {
        return new ConfigException(
                ckpt
                        + ": was written by a run with another model, method or method options than"
                        + " this config ("
                        + e.getMessage().replaceAll("\\s+", " ").trim()
                        + "); --resume needs the config that run was started with ("
                        + ckpt.resolveSibling(CONFIG_FILE)
                        + "), or drop --resume and choose another output.dir");
    }

    /**
     * Describes why a checkpoint could not be read, in plain words (one line).
     *
     * @param e the failure of {@code Checkpoint.read}
     * @return e.g. {@code "the file is truncated (it ends before its data does)"}
     */
    public static String unreadable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.io.EOFException) {
                return "the file is truncated (it ends before its data does; a full disk or an"
                        + " interrupted copy?)";
            }
        }
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            return "the file is damaged (" + e.getClass().getSimpleName() + ")";
        }
        String lower = m.toLowerCase(java.util.Locale.ROOT);
        if (lower.contains("magic")
                || lower.contains("ndlist")
                || lower.contains("malformed")
                || lower.contains("buffer")
                || lower.contains("decode")
                || lower.contains("negative")
                || lower.contains("underflow")) {
            return "the file is damaged or truncated (its arrays cannot be read back)";
        }
        return m.replaceAll("\\s+", " ").trim();
    }
}
