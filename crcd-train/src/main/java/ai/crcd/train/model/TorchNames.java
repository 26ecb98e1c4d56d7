package ai.crcd.train.model;

import ai.crcd.train.imports.NameMaps;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PyTorch-style names for the parameters of a crcd network: RepDistiller's {@code state_dict()}
 * keys for every network of the zoo and torchvision's for resnet18/resnet34, from the import's name
 * maps ({@link NameMaps}, checked against the real key lists; docs/import.md), so export and import
 * use one mapping ({@code conv1.weight}, {@code layer2.0.downsample.0.weight}, {@code
 * block1.layer.0.bn1.weight}, {@code block0.1.running_var}, {@code fc.weight}, ...). A network
 * without a map gets the generic name: DJL's path with the {@code NN} prefixes dropped, sequential
 * members numbered from 0, and BatchNorm's {@code gamma/beta/runningMean/runningVar} as {@code
 * weight/bias/running_mean/running_var}. The table is in docs/model-files.md.
 */
public final class TorchNames {

    private static final Pattern SEGMENT = Pattern.compile("(\\d{2})(.+)");

    private TorchNames() {}

    /**
     * Returns the PyTorch name of every parameter of a network, in {@code getParameters()} order.
     *
     * @param architecture the model name (selects the RepDistiller table)
     * @param network the network (initialised or not)
     * @return DJL parameter path to PyTorch name
     * @throws IllegalStateException if two parameters would get the same name
     */
    public static Map<String, String> of(String architecture, Block network) {
        List<String> paths = new ArrayList<>();
        for (Pair<String, Parameter> p : network.getParameters()) {
            paths.add(p.getKey());
        }
        Map<String, String> mapped;
        try { // the import's name maps (h6-import): one mapping for import and export
            mapped = NameMaps.map(architecture, paths);
        } catch (IllegalArgumentException e) {
            mapped = null; // no map for this network: generic names
        }
        Map<String, String> out = new LinkedHashMap<>();
        Map<String, String> seen = new HashMap<>();
        for (String path : paths) {
            String name = mapped != null ? mapped.get(path) : generic(path);
            String clash = seen.put(name, path);
            if (clash != null) {
                throw new IllegalStateException(
                        "parameters " + clash + " and " + path + " both map to " + name);
            }
            out.put(path, name);
        }
        return out;
    }

    /**
     * Returns the generic name of a DJL parameter path, e.g. {@code
     * 02stage1_01ResidualUnit_01branch_01ConvBn_02bn_runningMean} to {@code
     * stage1.0.branch.0.bn.running_mean}.
     *
     * @param path the DJL path
     * @return the dotted name
     */
    public static String generic(String path) {
        String[] parts = path.split("_");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < parts.length - 1; i++) {
            Matcher m = SEGMENT.matcher(parts[i]);
            String seg;
            if (m.matches()) {
                String n = m.group(2);
                // a member a SequentialBlock named after its class: its position, as nn.Sequential
                seg =
                        Character.isUpperCase(n.charAt(0))
                                ? Integer.toString(Integer.parseInt(m.group(1)) - 1)
                                : n;
            } else {
                seg = parts[i];
            }
            sb.append(seg).append('.');
        }
        String p = parts[parts.length - 1];
        sb.append(
                switch (p) {
                    case "gamma" -> "weight";
                    case "beta" -> "bias";
                    case "runningMean" -> "running_mean";
                    case "runningVar" -> "running_var";
                    default -> p;
                });
        return sb.toString();
    }
}
