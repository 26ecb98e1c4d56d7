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
import java.util.HexFormat;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Finds the CIFAR binary files under a root folder, downloading the official archive when they
 * are missing and the machine is online: the archive is fetched over https into {@code
 * root/<archive>.part}, its MD5 compared with the published value, and only the expected {@code
 * .bin} members are unpacked into {@code root/<folder>/} (no other path of the archive is
 * written). Offline ({@code ai.djl.offline=true} or {@code DJL_OFFLINE=true}), or when any step
 * fails, one {@link DataSetException} says where the files were expected and how to get them.
 */
final class CifarDownloader {

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
        for (Path dir : List.of(root.resolve(format.folder()), root)) {
            if (hasAll(dir, format.files(train))) {
                return dir;
            }
        }
        Path dir = root.resolve(format.folder());
        String missing = "the " + format.id() + " binary files " + format.files(train)
                + " were expected in " + dir + " (or directly in " + root + ")";
        String fix = "; get them with 'scripts/download-cifar.sh " + format.id() + " " + root
                + "' on a machine with internet (or download " + format.url()
                + ", check MD5 " + format.md5() + " and unpack it into " + root
                + "), or point the data root at the folder holding them";
        if (!download) {
            throw new DataSetException(dir, missing + " and downloading is switched off" + fix);
        }
        if (Utils.isOfflineMode()) {
            throw new DataSetException(
                    dir, missing + " and DJL is in offline mode (ai.djl.offline / DJL_OFFLINE), "
                            + "so they were not downloaded" + fix);
        }
        try {
            Files.createDirectories(root);
            Path archive = root.resolve(format.archiveName());
            fetch(format.url(), format.md5(), archive);
            unpack(archive, format, root);
            Files.deleteIfExists(archive);
        } catch (IOException | DataSetException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new DataSetException(
                    dir, missing + "; downloading them failed (" + e.getMessage() + ")" + fix, e);
        }
        if (!hasAll(dir, format.files(train))) {
            throw new DataSetException(dir, missing + "; the archive did not contain them" + fix);
        }
        return dir;
    }

    private static boolean hasAll(Path dir, List<String> names) {
        return names.stream().allMatch(n -> Files.isRegularFile(dir.resolve(n)));
    }

    /** Downloads {@code url} to {@code target}, checking its MD5 on the fly. */
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
        HttpRequest req = HttpRequest.newBuilder(URI.create(url)).GET().build();
        HttpResponse<InputStream> resp = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
        if (resp.statusCode() != 200) {
            resp.body().close();
            throw new IOException("HTTP " + resp.statusCode() + " from " + url);
        }
        Path part = target.resolveSibling(target.getFileName() + ".part");
        MessageDigest digest = newMd5();
        try (InputStream in = new DigestInputStream(resp.body(), digest);
                OutputStream out = Files.newOutputStream(part)) {
            in.transferTo(out);
        }
        String got = HexFormat.of().formatHex(digest.digest());
        if (!got.equals(md5)) {
            Files.deleteIfExists(part);
            throw new IOException(
                    "MD5 of " + url + " is " + got + ", expected " + md5 + " (corrupt download)");
        }
        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Verifies an archive's MD5 and unpacks its expected members into {@code root/<folder>/}.
     *
     * @param archive the {@code .tar.gz}
     * @param format the data set
     * @param root the data root
     * @param md5 the expected MD5 (lower-case hex)
     * @throws IOException when the MD5 differs or the archive cannot be read
     */
    static void verifyAndUnpack(Path archive, CifarFormat format, Path root, String md5)
            throws IOException {
        String got = md5(archive);
        if (!got.equals(md5)) {
            throw new IOException(
                    archive + ": MD5 is " + got + ", expected " + md5 + " (corrupt download)");
        }
        unpack(archive, format, root);
    }

    /** Unpacks the train and test members of the archive (only those) into root/folder. */
    static void unpack(Path archive, CifarFormat format, Path root) throws IOException {
        Path dir = root.resolve(format.folder());
        Files.createDirectories(dir);
        List<String> wanted =
                java.util.stream.Stream.concat(
                                format.files(true).stream(), format.files(false).stream())
                        .toList();
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
                if (wanted.contains(base)) {
                    Path tmp = dir.resolve(base + ".part");
                    Files.copy(tar, tmp, StandardCopyOption.REPLACE_EXISTING);
                    Files.move(tmp, dir.resolve(base), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
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
