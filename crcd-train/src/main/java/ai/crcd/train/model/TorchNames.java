package ai.crcd.train.model;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PyTorch-style names for the parameters of a crcd network, as RepDistiller's {@code models/} name
 * them in {@code state_dict()} for the CIFAR ResNets ({@code conv1.weight}, {@code
 * bn1.running_mean}, {@code layer1.0.conv1.weight}, {@code layer2.0.downsample.0.weight}, {@code
 * fc.weight}), the WRNs ({@code block1.layer.0.bn1.weight}, {@code convShortcut}, final {@code
 * bn1}) and the VGGs ({@code block0.0.weight}, {@code block0.1.running_var}, {@code
 * classifier.weight}). Other architectures get the generic name: DJL's path with the {@code NN}
 * prefixes dropped, sequential members numbered from 0, and BatchNorm's {@code gamma/beta/
 * runningMean/runningVar} as {@code weight/bias/running_mean/running_var}. The table is in
 * docs/model-files.md.
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
        Map<String, String> generic = new LinkedHashMap<>();
        for (String path : paths) {
            generic.put(path, generic(path));
        }
        String a = architecture.toLowerCase(Locale.ROOT);
        Map<String, String> out = new LinkedHashMap<>();
        Map<String, String> seen = new HashMap<>();
        Map<Integer, Integer> wrnUnits =
                a.startsWith("wrn_") ? unitsPerStage(generic.values()) : null;
        for (Map.Entry<String, String> e : generic.entrySet()) {
            String g = e.getValue();
            String name =
                    a.startsWith("resnet") && !a.equals("resnet50")
                            ? resnet(g)
                            : wrnUnits != null
                                    ? wrn(g, wrnUnits)
                                    : a.startsWith("vgg") ? vgg(g) : g;
            String clash = seen.put(name, e.getKey());
            if (clash != null) {
                throw new IllegalStateException(
                        "parameters " + clash + " and " + e.getKey() + " both map to " + name);
            }
            out.put(e.getKey(), name);
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

    private static String resnet(String g) {
        String s =
                g.replaceFirst("^stem\\.conv\\.", "conv1.")
                        .replaceFirst("^stem\\.bn\\.", "bn1.")
                        .replaceFirst("^classifier\\.", "fc.")
                        .replaceFirst(
                                "^stage(\\d)\\.(\\d+)\\.shortcut\\.conv\\.conv\\.",
                                "layer$1.$2.downsample.0.")
                        .replaceFirst(
                                "^stage(\\d)\\.(\\d+)\\.shortcut\\.bn\\.",
                                "layer$1.$2.downsample.1.");
        Matcher m =
                Pattern.compile("^stage(\\d)\\.(\\d+)\\.branch\\.(\\d)\\.(conv|bn)\\.(.*)")
                        .matcher(s);
        if (m.matches()) {
            int k = Integer.parseInt(m.group(3)) + 1;
            return "layer"
                    + m.group(1)
                    + "."
                    + m.group(2)
                    + "."
                    + m.group(4)
                    + k
                    + "."
                    + m.group(5);
        }
        return s;
    }

    private static Map<Integer, Integer> unitsPerStage(Iterable<String> generic) {
        Map<Integer, Integer> n = new HashMap<>();
        Pattern p = Pattern.compile("^stage(\\d)\\.(\\d+)\\..*");
        for (String g : generic) {
            Matcher m = p.matcher(g);
            if (m.matches()) {
                n.merge(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)) + 1, Math::max);
            }
        }
        return n;
    }

    private static String wrn(String g, Map<Integer, Integer> units) {
        if (g.startsWith("stem.conv.")) {
            return "conv1." + g.substring("stem.conv.".length());
        }
        if (g.startsWith("stem.nextBn.")) {
            return "block1.layer.0.bn1." + g.substring("stem.nextBn.".length());
        }
        if (g.startsWith("classifier.")) {
            return "fc." + g.substring("classifier.".length());
        }
        Matcher m = Pattern.compile("^stage(\\d)\\.(\\d+)\\.(\\w+)\\.(.*)").matcher(g);
        if (!m.matches()) {
            return g;
        }
        int s = Integer.parseInt(m.group(1));
        int i = Integer.parseInt(m.group(2));
        String rest = m.group(4);
        return switch (m.group(3)) {
            case "conv1", "bn2", "conv2" ->
                    "block" + s + ".layer." + i + "." + m.group(3) + "." + rest;
            // a strided shortcut is a SubsampledConv holding the conv
            case "shortcut" ->
                    "block"
                            + s
                            + ".layer."
                            + i
                            + ".convShortcut."
                            + rest.replaceFirst("^conv\\.", "");
            case "nextBn" -> {
                // the BN after a unit is the first BN (bn1) of the next unit, or the final bn1
                if (i + 1 < units.get(s)) {
                    yield "block" + s + ".layer." + (i + 1) + ".bn1." + rest;
                }
                yield units.containsKey(s + 1)
                        ? "block" + (s + 1) + ".layer.0.bn1." + rest
                        : "bn1." + rest;
            }
            default -> g;
        };
    }

    private static String vgg(String g) {
        Matcher m =
                Pattern.compile("^(?:stem|stage(\\d)\\.convs)\\.(\\d+)\\.(conv|bn)\\.(.*)")
                        .matcher(g);
        if (m.matches()) {
            int block = m.group(1) == null ? 0 : Integer.parseInt(m.group(1));
            int j = Integer.parseInt(m.group(2));
            int index = 3 * j + ("conv".equals(m.group(3)) ? 0 : 1); // conv, bn, relu per layer
            return "block" + block + "." + index + "." + m.group(4);
        }
        return g;
    }
}
