package ai.crcd.train.imports;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PyTorch {@code state_dict} names of crcd's networks, one map per model family: RepDistiller's
 * CIFAR ResNet ({@code resnet8 ... resnet32x4}), ResNet50, WRN, VGG, MobileNetV2 ({@code
 * mobile_half}), ShuffleV1 and ShuffleV2, and torchvision's ImageNet {@code resnet18}/{@code
 * resnet34} (the names of RepDistiller's CIFAR ResNet: conv1, bn1, layerS.i.*, downsample, fc).
 * Weights map one to one (a DJL conv/linear weight has PyTorch's layout; crcd's strided 1x1 convs
 * are a subsample plus a stride-1 conv with the same weight; BatchNorm gamma/beta/running mean/var
 * are PyTorch's weight/bias/running_mean/running_var, only the momentum convention differs, which
 * does not touch the values). {@code num_batches_tracked} has no counterpart.
 *
 * <p>crcd's parameter names are DJL paths such as {@code
 * 02stage1_01ResidualUnit_01branch_02ConvBn_02bn_gamma}: each segment is a 1-based child position
 * and the child's name. Two places differ in structure from RepDistiller: WRN's pre-activation
 * BatchNorm {@code bn1} of a block is held by crcd at the end of the previous unit ({@code nextBn},
 * the last one is RepDistiller's final {@code bn1}), and MobileNetV2's seven {@code blocks} are
 * crcd's four stages (1+2, 3, 4+3, 3+1 inverted residuals). The full tables are in docs/import.md.
 */
public final class NameMaps {

    private static final Pattern SEGMENT = Pattern.compile("^(\\d+)(.+)$");
    private static final Pattern CIFAR_RESNET =
            Pattern.compile("^resnet(8|14|20|32|44|56|110)(x4)?$");
    private static final Pattern TORCHVISION_RESNET = Pattern.compile("^resnet(18|34)$");
    private static final int[] MOBILE_BLOCKS = {1, 2, 3, 4, 3, 3, 1};

    private NameMaps() {}

    /**
     * Returns the families with a name map, for messages.
     *
     * @return a description of the supported model names
     */
    public static String supported() {
        return "resnet8..resnet110, resnet8x4, resnet32x4, ResNet50, wrn_*, vgg*, MobileNetV2,"
                + " ShuffleV1, ShuffleV2, torchvision's resnet18/resnet34";
    }

    /**
     * Maps crcd parameter names of a network of the zoo onto its PyTorch state_dict keys.
     *
     * @param model the model name (case-insensitive, as in {@code Models})
     * @param crcdNames the network's parameter names in {@code getParameters()} order
     * @return crcd name to PyTorch key, in the order given
     * @throws IllegalArgumentException for a model without a name map or a parameter the map does
     *     not know
     */
    public static Map<String, String> map(String model, List<String> crcdNames) {
        Family family = family(model);
        List<Path> paths = new ArrayList<>(crcdNames.size());
        Map<Integer, Integer> unitsPerStage = new HashMap<>();
        for (String n : crcdNames) {
            Path p = Path.parse(n);
            paths.add(p);
            if (p.size() > 1 && p.name(0).startsWith("stage")) {
                unitsPerStage.merge(p.stage(), p.idx(1), Math::max);
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < paths.size(); i++) {
            Path p = paths.get(i);
            String module;
            try {
                module = family.module(p, unitsPerStage);
            } catch (RuntimeException e) {
                module = null;
            }
            if (module == null) {
                throw new IllegalArgumentException(
                        "no PyTorch name for crcd parameter '"
                                + crcdNames.get(i)
                                + "' of "
                                + model);
            }
            out.put(crcdNames.get(i), module + "." + p.torchParam());
        }
        return out;
    }

    private static Family family(String model) {
        String m = model == null ? "" : model.trim().toLowerCase(Locale.ROOT);
        if (CIFAR_RESNET.matcher(m).matches() || TORCHVISION_RESNET.matcher(m).matches()) {
            return NameMaps::cifarResNet; // torchvision's resnet18/34 use the same names
        }
        if (m.equals("resnet50")) {
            return NameMaps::resNet50;
        }
        if (m.startsWith("wrn_")) {
            return NameMaps::wideResNet;
        }
        if (m.startsWith("vgg")) {
            return NameMaps::vgg;
        }
        if (m.equals("mobilenetv2") || m.equals("mobile_half")) {
            return NameMaps::mobileNetV2;
        }
        if (m.equals("shufflev1")) {
            return NameMaps::shuffleV1;
        }
        if (m.equals("shufflev2")) {
            return NameMaps::shuffleV2;
        }
        throw new IllegalArgumentException(
                "no PyTorch name map for model '"
                        + model
                        + "' (maps exist for "
                        + supported()
                        + ")");
    }

    /** Maps a parsed crcd parameter path to the PyTorch module that owns the tensor. */
    @FunctionalInterface
    private interface Family {
        String module(Path p, Map<Integer, Integer> unitsPerStage);
    }

    // RepDistiller models/resnet.py: conv1, bn1,
    // layer{1-3}.{i}.{conv1,bn1,conv2,bn2,downsample.0/1}, fc
    private static String cifarResNet(Path p, Map<Integer, Integer> units) {
        return resNetLike(p, "downsample", "fc");
    }

    // RepDistiller models/resnetv2.py: conv1, bn1, layer{1-4}.{i}.{conv1..3,bn1..3,shortcut.0/1},
    // linear
    private static String resNet50(Path p, Map<Integer, Integer> units) {
        return resNetLike(p, "shortcut", "linear");
    }

    private static String resNetLike(Path p, String shortcut, String fc) {
        switch (p.name(0)) {
            case "stem":
                return p.name(1).equals("conv") ? "conv1" : "bn1";
            case "classifier":
                return fc;
            default:
                String unit = "layer" + p.stage() + "." + (p.idx(1) - 1);
                if (p.name(2).equals("branch")) {
                    int k = p.idx(3);
                    return unit + "." + (p.name(4).equals("conv") ? "conv" : "bn") + k;
                }
                // shortcut: conv (possibly subsampled: conv_conv) then bn
                return unit + "." + shortcut + (p.name(3).equals("bn") ? ".1" : ".0");
        }
    }

    // RepDistiller models/wrn.py: conv1, block{1-3}.layer.{i}.{bn1,conv1,bn2,conv2,convShortcut},
    // bn1, fc
    private static String wideResNet(Path p, Map<Integer, Integer> units) {
        switch (p.name(0)) {
            case "stem":
                return p.name(1).equals("conv") ? "conv1" : "block1.layer.0.bn1";
            case "classifier":
                return "fc";
            default:
                int s = p.stage();
                int u = p.idx(1) - 1;
                String part = p.size() > 2 ? p.name(2) : "";
                switch (part) {
                    case "conv1":
                    case "bn2":
                    case "conv2":
                        return "block" + s + ".layer." + u + "." + part;
                    case "shortcut":
                        return "block" + s + ".layer." + u + ".convShortcut";
                    case "nextBn":
                        if (u + 1 < units.get(s)) {
                            return "block" + s + ".layer." + (u + 1) + ".bn1";
                        }
                        return units.containsKey(s + 1)
                                ? "block" + (s + 1) + ".layer.0.bn1"
                                : "bn1";
                    default:
                        return null;
                }
        }
    }

    // RepDistiller models/vgg.py (batch_norm): block{0-4}.{3k} conv, .{3k+1} bn, classifier
    private static String vgg(Path p, Map<Integer, Integer> units) {
        switch (p.name(0)) {
            case "stem": // stem_ConvBn#k_{conv,bn}
                return "block0." + convBnIndex(p.idx(1), p.name(2));
            case "classifier":
                return "classifier";
            default: // stageS_convs_ConvBn#k_{conv,bn}
                return "block" + p.stage() + "." + convBnIndex(p.idx(2), p.name(3));
        }
    }

    private static int convBnIndex(int k, String convOrBn) {
        return 3 * (k - 1) + (convOrBn.equals("conv") ? 0 : 1);
    }

    // RepDistiller models/mobilenetv2.py: conv1.{0,1}, blocks.{b}.{i}.conv.{0,1,3,4,6,7},
    // conv2.{0,1},
    // classifier.0
    private static String mobileNetV2(Path p, Map<Integer, Integer> units) {
        switch (p.name(0)) {
            case "stem":
                return p.name(1).equals("conv") ? "conv1.0" : "conv1.1";
            case "head":
                return p.name(1).equals("conv") ? "conv2.0" : "conv2.1";
            case "classifier":
                return "classifier.0";
            default:
                int g = p.idx(1) - 1; // unit index over the whole network
                for (int s = 1; s < p.stage(); s++) {
                    g += units.get(s);
                }
                int b = 0;
                while (g >= MOBILE_BLOCKS[b]) {
                    g -= MOBILE_BLOCKS[b];
                    b++;
                }
                return "blocks." + b + "." + g + ".conv." + convBnIndex(p.idx(3), p.name(4));
        }
    }

    // RepDistiller models/ShuffleNetv1.py: conv1, bn1, layer{1-3}.{i}.{conv1..3,bn1..3}, linear
    private static String shuffleV1(Path p, Map<Integer, Integer> units) {
        switch (p.name(0)) {
            case "stem":
                return p.name(1).equals("conv") ? "conv1" : "bn1";
            case "classifier":
                return "linear";
            default:
                String unit = "layer" + p.stage() + "." + (p.idx(1) - 1) + ".";
                if (p.name(2).equals("reduce")) {
                    return unit + (p.name(3).equals("conv") ? "conv1" : "bn1");
                }
                int k = p.idx(3) + 1; // rest: ConvBn#1 = conv2/bn2, ConvBn#2 = conv3/bn3
                return unit + (p.name(4).equals("conv") ? "conv" : "bn") + k;
        }
    }

    // RepDistiller models/ShuffleNetv2.py: conv1, bn1, layer{1-3}.0 DownBlock conv1..5/bn1..5,
    // layer{1-3}.{i>0} BasicBlock conv1..3/bn1..3, conv2, bn2, linear
    private static String shuffleV2(Path p, Map<Integer, Integer> units) {
        switch (p.name(0)) {
            case "stem":
                return p.name(1).equals("conv") ? "conv1" : "bn1";
            case "head":
                return p.name(1).equals("conv") ? "conv2" : "bn2";
            case "classifier":
                return "linear";
            default:
                String unit = "layer" + p.stage() + "." + (p.idx(1) - 1) + ".";
                int k = p.idx(3) + (p.name(2).equals("right") ? 2 : 0);
                return unit + (p.name(4).equals("conv") ? "conv" : "bn") + k;
        }
    }

    /** A crcd parameter name split into (position, name) segments and the parameter. */
    private static final class Path {
        private final List<Integer> idx = new ArrayList<>();
        private final List<String> names = new ArrayList<>();
        private final String param;

        private Path(String param) {
            this.param = param;
        }

        static Path parse(String crcdName) {
            String[] parts = crcdName.split("_");
            Path p = new Path(parts[parts.length - 1]);
            for (int i = 0; i < parts.length - 1; i++) {
                Matcher m = SEGMENT.matcher(parts[i]);
                if (!m.matches()) {
                    throw new IllegalArgumentException("not a crcd parameter path: " + crcdName);
                }
                p.idx.add(Integer.parseInt(m.group(1)));
                p.names.add(m.group(2));
            }
            return p;
        }

        int size() {
            return names.size();
        }

        String name(int i) {
            return names.get(i);
        }

        int idx(int i) {
            return idx.get(i);
        }

        /** The stage number of a {@code stageS} first segment. */
        int stage() {
            return Integer.parseInt(names.get(0).substring("stage".length()));
        }

        String torchParam() {
            switch (param) {
                case "weight":
                case "gamma":
                    return "weight";
                case "bias":
                case "beta":
                    return "bias";
                case "runningMean":
                    return "running_mean";
                case "runningVar":
                    return "running_var";
                default:
                    throw new IllegalArgumentException("unknown parameter kind " + param);
            }
        }
    }
}
