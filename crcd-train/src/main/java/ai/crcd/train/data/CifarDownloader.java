package ai.crcd.train.data;

import ai.djl.util.Utils;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the CIFAR binary files under a root folder, downloading the official archive when they are
 * missing and the machine is online: the archive is fetched over https into {@code
 * root/<archive>.part}, its MD5 compared with the published value, and only the expected {@code
 * .bin} members are unpacked into {@code root/<folder>/} (no other path of the archive is written;
 * all or none of them). A failed try leaves no file behind: no {@code .part}, no archive, no partly
 * unpacked member. Offline ({@code ai.djl.offline=true} or {@code DJL_OFFLINE=true}), or when any
 * step fails, one {@link DataSetException} says where the files were expected and how to get them.
 */
final class CifarDownloader {

    private static final Logger LOG = LoggerFactory.getLogger(CifarDownloader.class);

    private CifarDownloader() {}

    /**
     * Returns the folder holding the split's files, downloading them if needed and allowed.
     *
     * @param format the data set
     * @param root the data root: files in {@code root/<folder>/} or directly in {@code root}
     * @param train the split
     * @param download whether a download may be tried (still not when offline)
     * @return the folder holding the files
     */
    static Path locate(CifarFormat format, Path root, boolean train, boolean download) {
        return locate(
                format,
                root,
                train,
                download,
                Utils.isOfflineMode(),
                new Source(format.url(), format.md5()));
    }

    /**
     * Where an archive comes from: its URL and MD5 (the official ones, or a local server's in
     * tests).
     *
     * @param url the archive URL
     * @param md5 its MD5, lower-case hex
     */
    record Source(String url, String md5) {}

    /**
     * As {@link #locate(CifarFormat, Path, boolean, boolean)} with the offline flag and the
     * archive's source given.
     */
    static Path locate(
            CifarFormat format,
            Path root,
            boolean train,
            boolean download,
            boolean offline,
            Source source) {
        for (Path dir : List.of(root.resolve(format.folder()), root)) {
            if (hasAll(dir, format.files(train))) {
                return dir;
            }
        }
        Path dir = root.resolve(format.folder());
        String missing =
                "the "
                        + format.id()
                        + " binary files "
                        + format.files(train)
                        + " were expected in "
                        + dir
                        + " (or directly in "
                        + root
                        + ")";
        String fix =
                "; get them with 'scripts/download-cifar.sh "
                        + format.id()
                        + " "
                        + root
                        + "' on a machine with internet (or download "
                        + source.url()
                        + ", check MD5 "
                        + source.md5()
                        + " and unpack it into "
                        + root
                        + "), or point the data root at the folder holding them";
        if (!download) {
            throw new DataSetException(dir, missing + " and downloading is switched off" + fix);
        }
        if (offline) {
            throw new DataSetException(
                    dir,
                    missing
                            + " and DJL is in offline mode (ai.djl.offline / DJL_OFFLINE), "
                            + "so they were not downloaded"
                            + fix);
        }
        Path archive = root.resolve(format.archiveName());
        try {
            Files.createDirectories(root);
            LOG.info("downloading {} to {}", source.url(), archive);
            fetch(source.url(), source.md5(), archive);
            unpack(archive, format, root);
            Files.deleteIfExists(archive);
            LOG.info("unpacked {} into {}", format.archiveName(), dir);
        } catch (IOException | RuntimeException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            // nothing half-done stays behind: the archive (whose MD5 matched, but which
            // could not be unpacked) goes too, so that the next try starts clean
            deleteQuietly(archive);
            deleteQuietly(partOf(archive));
            throw new DataSetException(
                    dir, missing + "; downloading them failed (" + oneLine(e) + ")" + fix, e);
        }
        if (!hasAll(dir, format.files(train))) {
            throw new DataSetException(dir, missing + "; the archive did not contain them" + fix);
        }
        return dir;
    }

    private static boolean hasAll(Path dir, List<String> names) {
        return names.stream().allMatch(n -> Files.isRegularFile(dir.resolve(n)));
    }

    /**
     * Downloads {@code url} to {@code target} through {@code target.part}, checking the MD5 on the
     * fly; on any failure the {@code .part} file is removed.
     */
    private static void fetch(String url, String md5, Path target)
            throws IOException, InterruptedException {
        if (Files.isRegularFile(target) && md5(target).equals(md5)) {
            return;
        }
        HttpClient client =
                HttpClient.newBuilder()
                        .followRedirects(HttpClient.Redirect.NORMAL)
                        .connectTimeout(Duration.ofSeconds(30))
                        .build();
        HttpRequest req =
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(60)) // until the response headers
                        .GET()
                        .build();
        HttpResponse<InputStream> resp =
                client.send(req, HttpResponse.BodyHandlers.ofInputStream());
        if (resp.statusCode() != 200) {
            resp.body().close();
            throw new IOException("HTTP " + resp.statusCode() + " from " + url);
        }
        Path part = partOf(target);
        MessageDigest digest = newMd5();
        try {
            try (InputStream in = new DigestInputStream(resp.body(), digest);
                    OutputStream out = Files.newOutputStream(part)) {
                in.transferTo(out);
            }
            String got = HexFormat.of().formatHex(digest.digest());
            if (!got.equals(md5)) {
                throw new IOException(
                        "MD5 of "
                                + url
                                + " is "
                                + got
                                + ", expected "
                                + md5
                                + " (corrupt or changed download)");
            }
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(part);
            throw e;
        }
    }

    /**
     * Unpacks the train and test members of the archive (only those) into {@code root/folder}: each
     * to a {@code .part} file first, moved into place only when every expected member was read; on
     * any failure the {@code .part} files are removed and nothing is moved.
     */
    static void unpack(Path archive, CifarFormat format, Path root) throws IOException {
        Path dir = root.resolve(format.folder());
        List<String> wanted =
                java.util.stream.Stream.concat(
                                format.files(true).stream(), format.files(false).stream())
                        .toList();
        boolean made = !Files.isDirectory(dir);
        Files.createDirectories(dir);
        List<String> found = new ArrayList<>();
        boolean done = false;
        try {
            try (InputStream in = Files.newInputStream(archive);
                    TarArchiveInputStream tar =
                            new TarArchiveInputStream(new GzipCompressorInputStream(in))) {
                TarArchiveEntry e;
                while ((e = tar.getNextEntry()) != null) {
                    if (!e.isFile()) {
                        continue;
                    }
                    String name = e.getName();
                    String base = name.substring(name.lastIndexOf('/') + 1);
                    if (wanted.contains(base) && !found.contains(base)) {
                        Files.copy(
                                tar,
                                partOf(dir.resolve(base)),
                                StandardCopyOption.REPLACE_EXISTING);
                        found.add(base);
                    }
                }
            }
            List<String> lacking = wanted.stream().filter(n -> !found.contains(n)).toList();
            if (!lacking.isEmpty()) {
                throw new IOException(
                        archive.getFileName()
                                + " lacks "
                                + lacking
                                + ": not the "
                                + format.id()
                                + " binary archive");
            }
            for (String n : found) {
                Files.move(
                        partOf(dir.resolve(n)),
                        dir.resolve(n),
                        StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) {
                for (String n : wanted) {
                    deleteQuietly(partOf(dir.resolve(n)));
                }
                if (made) {
                    deleteQuietly(dir); // only if empty
                }
            }
        }
    }

    private static Path partOf(Path file) {
        return file.resolveSibling(file.getFileName() + ".part");
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.warn("cannot remove {}: {}", p, e.getMessage());
        }
    }

    private static String oneLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replace('\n', ' ');
    }

    static String md5(Path file) throws IOException {
        MessageDigest digest = newMd5();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest newMd5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 not available", e);
        }
    }
}
