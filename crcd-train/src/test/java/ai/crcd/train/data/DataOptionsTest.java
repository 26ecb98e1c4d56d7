package ai.crcd.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every data-set option is checked in one place, with one line naming option and value. */
class DataOptionsTest {

    private static String error(String set, Map<String, Object> opts) {
        return assertThrows(IllegalArgumentException.class, () -> DataOptions.ofConfig(set, opts))
                .getMessage();
    }

    @Test
    void valuesAreTypedAndRangeChecked() {
        DataOptions o = DataOptions.ofConfig("image-folder", Map.of("size", 32, "channels", 1));
        assertArrayEquals(new int[] {32, 32}, o.size());
        assertEquals(1, o.integer("channels", 3));
        assertArrayEquals(
                new int[] {24, 40}, DataOptions.of("image-folder", Map.of("size", "24x40")).size());
        assertArrayEquals(new int[] {0, 0}, DataOptions.of("image-folder", null).size());
        assertEquals(
                false,
                DataOptions.of("cifar10", Map.of("download", "false")).bool("download", true));

        assertEquals(
                "data.options.size: got '12.5', allowed: HxW (e.g. \"32x32\") or an"
                        + " integer >= 1 (square)",
                error("image-folder", Map.of("size", 12.5)));
        assertTrue(
                error("image-folder", Map.of("size", "0x5"))
                        .startsWith("data.options.size: got '0x5'"));
        assertEquals(
                "data.options.channels: got '2', allowed: 1 (grey) or 3 (RGB)",
                error("image-folder", Map.of("channels", 2)));
        assertEquals(
                "data.options.coarse: got 'yes', allowed: true or false",
                error("cifar100", Map.of("coarse", "yes")));
        assertEquals(
                "data.options.grayscale: unknown option of data set 'image-folder',"
                        + " allowed: [channels, size]",
                error("image-folder", Map.of("grayscale", true)));
        assertEquals(
                "data.options.size: unknown option of data set 'mnist', allowed: none"
                        + " (this data set has no options)",
                error("mnist", Map.of("size", 28)));
    }

    @Test
    void optionsWithTheirOwnConfigKeyPointThere() {
        assertTrue(
                error("cifar100", Map.of("perClass", 5))
                        .contains(
                                "set data.subset_per_class and data.test_subset_per_class instead"));
        assertTrue(error("synthetic", Map.of("classes", 5)).contains("data.synthetic.classes"));
        assertEquals(
                "data.options.coarse: unknown option of data set 'synthetic', allowed:" + " [seed]",
                error("synthetic", Map.of("coarse", true)));
        // in code (DataSets.open) they are options like the others
        assertEquals(5, DataOptions.of("synthetic", Map.of("classes", 5)).integer("classes", 0));
    }
}
