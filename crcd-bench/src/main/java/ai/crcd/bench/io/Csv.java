package ai.crcd.bench.io;

import ai.crcd.train.run.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small RFC 4180 CSV table: a header and rows of strings, written atomically and read back.
 * Fields holding a comma, a quote or a line break are quoted.
 */
public final class Csv {

    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    /**
     * Creates an empty table.
     *
     * @param header the column names
     */
    public Csv(List<String> header) {
        this.header = List.copyOf(header);
    }

    /**
     * Returns the column names.
     *
     * @return the header
     */
    public List<String> header() {
        return header;
    }

    /**
     * Returns the rows.
     *
     * @return the rows, each as long as the header
     */
    public List<List<String>> rows() {
        return rows;
    }

    /**
     * Appends a row.
     *
     * @param values one value per column ({@code null} is written as an empty field)
     * @return this
     * @throws IllegalArgumentException if the row's length differs from the header's
     */
    public Csv add(List<?> values) {
        if (values.size() != header.size()) {
            throw new IllegalArgumentException(
                    "CSV row has "
                            + values.size()
                            + " fields, header "
                            + header
                            + " has "
                            + header.size());
        }
        List<String> row = new ArrayList<>(values.size());
        for (Object v : values) {
            row.add(v == null ? "" : v.toString());
        }
        rows.add(row);
        return this;
    }

    /**
     * Returns the rows as maps from column name to value.
     *
     * @return the records in order
     */
    public List<Map<String, String>> records() {
        List<Map<String, String>> out = new ArrayList<>();
        for (List<String> r : rows) {
            Map<String, String> m = new LinkedHashMap<>();
            for (int i = 0; i < header.size(); i++) {
                m.put(header.get(i), r.get(i));
            }
            out.add(m);
        }
        return out;
    }

    /**
     * Returns the table as CSV text with a trailing line break.
     *
     * @return the text
     */
    public String toText() {
        StringBuilder sb = new StringBuilder();
        line(sb, header);
        for (List<String> r : rows) {
            line(sb, r);
        }
        return sb.toString();
    }

    /**
     * Writes the table atomically.
     *
     * @param file the target file
     * @throws IOException on a write error
     */
    public void write(Path file) throws IOException {
        AtomicFiles.write(file, toText());
    }

    /**
     * Reads a table written by {@link #write(Path)}.
     *
     * @param file the file
     * @return the table
     * @throws IOException on a read error or a malformed file (naming the file and line)
     */
    public static Csv read(Path file) throws IOException {
        List<List<String>> lines = parse(Files.readString(file, StandardCharsets.UTF_8), file);
        if (lines.isEmpty()) {
            throw new IOException(file + ": empty CSV file, expected a header line");
        }
        Csv csv = new Csv(lines.get(0));
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).size() != csv.header.size()) {
                throw new IOException(
                        file
                                + ": row "
                                + (i + 1)
                                + " has "
                                + lines.get(i).size()
                                + " fields, the header has "
                                + csv.header.size());
            }
            csv.rows.add(lines.get(i));
        }
        return csv;
    }

    private static void line(StringBuilder sb, List<String> fields) {
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            String f = fields.get(i);
            if (f.indexOf(',') >= 0
                    || f.indexOf('"') >= 0
                    || f.indexOf('\n') >= 0
                    || f.indexOf('\r') >= 0) {
                sb.append('"').append(f.replace("\"", "\"\"")).append('"');
            } else {
                sb.append(f);
            }
        }
        sb.append('\n');
    }

    private static List<List<String>> parse(String text, Path file) throws IOException {
        List<List<String>> out = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        boolean any = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
                        field.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
                any = true;
            } else if (c == ',') {
                row.add(field.toString());
                field.setLength(0);
                any = true;
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
                    i++;
                }
                if (any || field.length() > 0) {
                    row.add(field.toString());
                    out.add(row);
                }
                row = new ArrayList<>();
                field.setLength(0);
                any = false;
            } else {
                field.append(c);
                any = true;
            }
        }
        if (quoted) {
            throw new IOException(file + ": unterminated quoted field");
        }
        if (any || field.length() > 0) {
            row.add(field.toString());
            out.add(row);
        }
        return out;
    }
}
