package ai.crcd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.crcd.bench.suite.SuiteSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The cluster files of scripts/cluster checked without a cluster: the Kubernetes manifest parsed as
 * YAML with its required fields and consistent shard count, phases and shared volume; the Slurm
 * scripts' shell syntax, phases and dependencies; every {@code suite} option they pass exists in
 * the command line.
 */
class ClusterFilesTest {

    static final Path DIR = Path.of("..", "scripts", "cluster");

    private static List<JsonNode> documents(Path file) throws Exception {
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it =
                new YAMLMapper().readerFor(JsonNode.class).readValues(file.toFile())) {
            while (it.hasNext()) {
                docs.add(it.next());
            }
        }
        return docs;
    }

    private static String text(JsonNode n, String pointer) {
        JsonNode v = n.at(pointer);
        assertTrue(!v.isMissingNode() && !v.isNull(), "missing " + pointer);
        return v.asText();
    }

    @Test
    void kubernetesIndexedJobIsComplete() throws Exception {
        Map<String, JsonNode> byKind = new LinkedHashMap<>();
        for (JsonNode d : documents(DIR.resolve("k8s-suite-job.yaml"))) {
            assertNotNull(d.get("apiVersion"), d.toString());
            assertNotNull(d.at("/metadata/name").textValue(), d.toString());
            byKind.put(d.get("kind").asText(), d);
        }
        assertEquals(Set.of("PersistentVolumeClaim", "Job"), byKind.keySet());
        JsonNode pvc = byKind.get("PersistentVolumeClaim");
        assertEquals("v1", text(pvc, "/apiVersion"));
        assertEquals(
                "ReadWriteMany",
                text(pvc, "/spec/accessModes/0"),
                "all pods share one suite folder");
        assertTrue(text(pvc, "/spec/resources/requests/storage").endsWith("Gi"));

        JsonNode job = byKind.get("Job");
        assertEquals("batch/v1", text(job, "/apiVersion"));
        assertEquals("Indexed", text(job, "/spec/completionMode"));
        int completions = job.at("/spec/completions").asInt();
        assertEquals(completions, job.at("/spec/parallelism").asInt());
        assertEquals(
                "Never",
                text(job, "/spec/template/spec/restartPolicy"),
                "backoffLimitPerIndex needs Never");
        assertTrue(job.at("/spec/backoffLimitPerIndex").asInt() >= 1);
        assertEquals(job.at("/spec/template/metadata/labels"), job.at("/metadata/labels"));

        JsonNode c = job.at("/spec/template/spec/containers/0");
        assertTrue(!text(c, "/image").isBlank() && !text(c, "/name").isBlank());
        Map<String, String> env = new LinkedHashMap<>();
        c.get("env").forEach(e -> env.put(e.get("name").asText(), e.get("value").asText()));
        assertEquals(
                Integer.toString(completions),
                env.get("CRCD_SHARDS"),
                "completions and CRCD_SHARDS differ");
        Path suite = Path.of("..").resolve(env.get("CRCD_SUITE"));
        SuiteSpec.load(suite).baseTree(suite.getParent()); // the suite named exists and is valid

        String mount = text(c, "/volumeMounts/0/mountPath");
        assertTrue(
                env.get("CRCD_OUT").startsWith(mount + "/"),
                "CRCD_OUT must be on the shared volume");
        JsonNode vol = job.at("/spec/template/spec/volumes/0");
        assertEquals(text(c, "/volumeMounts/0/name"), text(vol, "/name"));
        assertEquals(text(pvc, "/metadata/name"), text(vol, "/persistentVolumeClaim/claimName"));

        assertEquals("/bin/bash", text(c, "/command/0"));
        String script = text(c, "/args/0");
        assertTrue(script.contains("shard=\"$JOB_COMPLETION_INDEX/$CRCD_SHARDS\""), script);
        assertTrue(script.contains("for phase in teachers students; do"), script);
        assertTrue(script.indexOf("--phase \"$phase\"") < script.indexOf("--report"), script);
        assertEquals(0, bash("-n", "-c", script), "bash syntax of the pod's script");
        checkSuiteOptions(script);
    }

    @Test
    void slurmScriptsRunTeachersThenStudentsThenReport() throws Exception {
        for (String f :
                List.of("suite-array.sbatch", "slurm-suite.sh", "slurm-local-test.sh", "lint.sh")) {
            assertEquals(0, bash("-n", DIR.resolve(f).toString()), f);
        }
        String array = Files.readString(DIR.resolve("suite-array.sbatch"));
        assertTrue(array.contains("--shard \"$SLURM_ARRAY_TASK_ID/$CRCD_SHARDS\""), array);
        checkSuiteOptions(array);
        String submit = Files.readString(DIR.resolve("slurm-suite.sh"));
        Matcher m =
                Pattern.compile(
                                "(\\w)=\\$\\(sub --job-name=crcd-(\\w+) --array=(\"[^\"]*\"|\\S+)( --dependency=\"afterany:\\$(\\w)\")?")
                        .matcher(submit);
        List<String> order = new ArrayList<>();
        while (m.find()) {
            order.add(
                    m.group(1) + ":" + m.group(2) + (m.group(5) == null ? "" : "<-" + m.group(5)));
        }
        assertEquals(List.of("t:teachers", "s:students<-t", "r:report<-s"), order, submit);
    }

    /** Every {@code --option} the script passes to {@code suite} is an option of that command. */
    private static void checkSuiteOptions(String script) {
        Set<String> known =
                SuiteMain.commandLine()
                        .getSubcommands()
                        .get("suite")
                        .getCommandSpec()
                        .options()
                        .stream()
                        .flatMap(o -> java.util.Arrays.stream(o.names()))
                        .collect(Collectors.toSet());
        // the code from the first suite command on, without comments and sbatch's own options
        String code =
                script.substring(script.indexOf("suite --suite"))
                        .lines()
                        .filter(l -> !l.trim().startsWith("#") && !l.contains("sbatch"))
                        .collect(Collectors.joining("\n"));
        Matcher m = Pattern.compile("(?<![\\w-])--[a-z][a-z-]+").matcher(code);
        int n = 0;
        while (m.find()) {
            n++;
            assertTrue(
                    known.contains(m.group()),
                    m.group() + " is not an option of suite; known: " + known);
        }
        assertTrue(n >= 4, script);
    }

    private static int bash(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).inheritIO().start().waitFor();
    }
}
