package ai.crcd.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real download path ({@code CifarDownloader.locate} -> fetch -> MD5 -> unpack) against an HTTP
 * server on the loopback address (127.0.0.1, ephemeral port): no test reaches any other address.
 * The archives are tiny, generated tar.gz files in the CIFAR-100 layout.
 */
class CifarDownloaderTest {

    private static final String NAME = "cifar-100-binary.tar.gz";

    @TempDir Path tmp;

    private HttpServer server;
    private final AtomicInteger requests = new AtomicInteger();
    private final Map<String, byte[]> bodies = new java.util.concurrent.ConcurrentHashMap<>();

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    /** /ok/..: 200; /404/.., /500/..: that status; /cut/..: announces all bytes, sends half. */
    private void handle(HttpExchange ex) throws IOException {
        requests.incrementAndGet();
        String path = ex.getRequestURI().getPath();
        String mode = path.substring(1, path.indexOf('/', 1));
        byte[] body = bodies.getOrDefault(mode, new byte[0]);
        try (ex) {
            switch (mode) {
                case "404", "500" -> {
                    byte[] msg = "no".getBytes(StandardCharsets.UTF_8);
                    ex.sendResponseHeaders(Integer.parseInt(mode), msg.length);
                    ex.getResponseBody().write(msg);
                }
                case "cut" -> {
                    ex.sendResponseHeaders(200, body.length);
                    OutputStream out = ex.getResponseBody();
                    out.write(body, 0, body.length / 2);
                    out.flush();
                    // closing with bytes missing makes the server drop the connection
                }
                default -> {
                    ex.sendResponseHeaders(200, body.length);
                    ex.getResponseBody().write(body);
                }
            }
        } catch (IOException expectedForCut) {
            // "insufficient bytes written": the truncated response, as intended
        }
    }

    private CifarDownloader.Source source(String mode, String md5) {
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/" + mode + "/" + NAME;
        return new CifarDownloader.Source(url, md5);
    }

    /** A tar.gz in the official layout; {@code extra} adds members outside the wanted ones. */
    private static byte[] archive(boolean withTest, boolean extra) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar =
                new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes))) {
            Map<String, byte[]> members = new java.util.LinkedHashMap<>();
            members.put("cifar-100-binary/train.bin", cifar(new int[][] {{1, 2}, {3, 4}}, 0));
            if (withTest) {
                members.put("cifar-100-binary/test.bin", cifar(new int[][] {{5, 6}}, 10));
            }
            if (extra) {
                members.put("../evil.txt", new byte[] {'x'});
                members.put("cifar-100-binary/meta.txt", new byte[] {'m'});
            }
            for (Map.Entry<String, byte[]> m : members.entrySet()) {
                TarArchiveEntry e = new TarArchiveEntry(m.getKey());
                e.setSize(m.getValue().length);
                tar.putArchiveEntry(e);
                tar.write(m.getValue());
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static byte[] cifar(int[][] labels, int first) throws IOException {
        Path f = Files.createTempFile("cifar", ".bin");
        try {
            TestFiles.writeCifar(f, labels, first);
            return Files.readAllBytes(f);
        } finally {
            Files.delete(f);
        }
    }

    private static String md5(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b));
    }

    private static List<String> filesUnder(Path root) throws IOException {
        if (!Files.exists(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile)
                    .map(p -> root.relativize(p).toString())
                    .sorted()
                    .toList();
        }
    }

    private DataSetException fails(String mode, String md5, boolean train) {
        Path root = tmp.resolve("root");
        return assertThrows(
                DataSetException.class,
                () ->
                        CifarDownloader.locate(
                                CifarFormat.CIFAR100, root, train, true, false, source(mode, md5)));
    }

    @Test
    void downloadsVerifiesAndUnpacksOnlyTheExpectedMembers() throws Exception {
        byte[] body = archive(true, true);
        bodies.put("ok", body);
        Path root = tmp.resolve("root");
        Files.createDirectories(root);
        Files.write(root.resolve(NAME + ".part"), new byte[] {1, 2, 3}); // left by a crash
        Path dir =
                CifarDownloader.locate(
                        CifarFormat.CIFAR100, root, true, true, false, source("ok", md5(body)));
        assertEquals(root.resolve("cifar-100-binary"), dir);
        assertEquals(1, requests.get());
        assertEquals(
                List.of("cifar-100-binary/test.bin", "cifar-100-binary/train.bin"),
                filesUnder(root)); // no archive, no .part, no other member
        assertFalse(Files.exists(tmp.resolve("evil.txt")));
        ImageSet set = DataSets.open("cifar100", root, true, Map.of("download", false));
        assertArrayEquals(new int[] {2, 4}, set.labels());
        for (int c = 0; c < 3; c++) {
            assertEquals(TestFiles.value(1, c, 5, 7), set.pixel(1, c, 5, 7));
        }
        assertArrayEquals(
                new int[] {6},
                DataSets.open("cifar100", root, false, Map.of("download", false)).labels());
        // present files: no second request
        CifarDownloader.locate(
                CifarFormat.CIFAR100, root, false, true, false, source("ok", md5(body)));
        assertEquals(1, requests.get());
    }

    @Test
    void md5MismatchIsOneClearLineAndLeavesNoFile() throws Exception {
        byte[] body = archive(true, false);
        bodies.put("ok", body);
        String wrong = "0123456789abcdef0123456789abcdef";
        DataSetException e = fails("ok", wrong, true);
        String m = e.getMessage();
        assertTrue(m.contains("MD5") && m.contains(wrong) && m.contains(md5(body)), m);
        assertFalse(m.contains("\n"), m);
        assertEquals(1, requests.get());
        assertEquals(List.of(), filesUnder(tmp.resolve("root")));
    }

    @Test
    void httpErrorsAreOneClearLineAndLeaveNoFile() throws IOException {
        for (String status : new String[] {"404", "500"}) {
            DataSetException e = fails(status, "00", true);
            String m = e.getMessage();
            assertTrue(m.contains("HTTP " + status) && m.contains(source(status, "").url()), m);
            assertTrue(m.contains("scripts/download-cifar.sh"), m);
            assertFalse(m.contains("\n"), m);
        }
        assertEquals(2, requests.get());
        assertEquals(List.of(), filesUnder(tmp.resolve("root")));
    }

    @Test
    void transferCutShortLeavesNoPartFile() throws Exception {
        byte[] body = archive(true, false);
        bodies.put("cut", body);
        DataSetException e = fails("cut", md5(body), true);
        assertTrue(e.getMessage().contains("downloading them failed"), e.getMessage());
        assertEquals(List.of(), filesUnder(tmp.resolve("root")));
    }

    @Test
    void corruptArchiveWithMatchingMd5LeavesNoFile() throws Exception {
        byte[] body = archive(true, false);
        byte[] bad = java.util.Arrays.copyOf(body, body.length - 40); // gzip stream cut short
        bodies.put("ok", bad);
        fails("ok", md5(bad), true);
        assertEquals(List.of(), filesUnder(tmp.resolve("root")));
    }

    @Test
    void archiveLackingAMemberUnpacksNothing() throws Exception {
        byte[] body = archive(false, false); // no test.bin
        bodies.put("ok", body);
        DataSetException e = fails("ok", md5(body), true);
        assertTrue(e.getMessage().contains("test.bin"), e.getMessage());
        assertEquals(List.of(), filesUnder(tmp.resolve("root")));
    }

    @Test
    void offlineOrSwitchedOffNeverConnects() throws Exception {
        bodies.put("ok", archive(true, false));
        Path root = tmp.resolve("root");
        DataSetException e =
                assertThrows(
                        DataSetException.class,
                        () ->
                                CifarDownloader.locate(
                                        CifarFormat.CIFAR100,
                                        root,
                                        true,
                                        true,
                                        true,
                                        source("ok", "x")));
        assertTrue(e.getMessage().contains("offline mode"), e.getMessage());
        e =
                assertThrows(
                        DataSetException.class,
                        () ->
                                CifarDownloader.locate(
                                        CifarFormat.CIFAR100,
                                        root,
                                        true,
                                        false,
                                        false,
                                        source("ok", "x")));
        assertTrue(e.getMessage().contains("switched off"), e.getMessage());
        assertEquals(0, requests.get());
        assertFalse(Files.exists(root));
    }
}
