package ai.crcd.train.imports;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.Unpickler;
import net.razorvine.pickle.objects.ClassDict;

/**
 * Reads a PyTorch checkpoint ({@code .pth}/{@code .pt}) without Python: the zip format of {@code
 * torch.save} since torch 1.6 ({@code <name>/data.pkl} plus one {@code <name>/data/<key>} entry per
 * storage) and the legacy format ({@code _use_new_zipfile_serialization=False}: magic number,
 * protocol version and system-info pickles, the object pickle, the pickled list of storage keys,
 * then each storage as an int64 element count and its raw little-endian bytes).
 *
 * <p>The pickle part is read with {@code net.razorvine:pickle}; {@code
 * torch._utils._rebuild_tensor_v2} (and {@code _rebuild_parameter}), {@code
 * collections.OrderedDict} and the {@code torch.*Storage} types are registered as constructors and
 * the storage ids come through {@link Unpickler#persistentLoad}. Tensors may be views (storage
 * offset, any strides, shared storages): each is copied out densely.
 *
 * <pre>{@code
 * Map<String, TorchTensor> sd = TorchCheckpoint.readStateDict(Path.of("ckpt_epoch_240.pth"));
 * }</pre>
 */
public final class TorchCheckpoint {

    /** Keys of a training checkpoint that hold the state_dict, tried in this order. */
    public static final List<String> WRAPPER_KEYS =
            List.of("model", "state_dict", "net", "model_state_dict", "student", "teacher");

    private static final java.math.BigInteger LEGACY_MAGIC =
            new java.math.BigInteger("1950a86a20f9469cfc6c", 16);

    static {
        Unpickler.registerConstructor(
                "torch._utils", "_rebuild_tensor_v2", args -> rebuildTensor(args));
        Unpickler.registerConstructor(
                "torch._utils", "_rebuild_tensor", args -> rebuildTensor(args));
        Unpickler.registerConstructor("torch._utils", "_rebuild_parameter", args -> args[0]);
        Unpickler.registerConstructor(
                "torch._utils", "_rebuild_parameter_with_state", args -> args[0]);
        Unpickler.registerConstructor("collections", "OrderedDict", args -> new PyDict());
        for (StorageType t : StorageType.values()) {
            Unpickler.registerConstructor("torch", t.pythonName, t);
        }
        // Things training scripts store beside the state_dict (numpy scalars, devices): kept as
        // opaque values so that the state_dict next to them can still be read.
        for (String[] g :
                new String[][] {
                    {"numpy.core.multiarray", "scalar"},
                    {"numpy.core.multiarray", "_reconstruct"},
                    {"numpy._core.multiarray", "scalar"},
                    {"numpy._core.multiarray", "_reconstruct"},
                    {"numpy", "dtype"},
                    {"numpy", "ndarray"},
                    {"torch", "device"},
                    {"torch", "Size"},
                    {"argparse", "Namespace"}
                }) {
            Unpickler.registerConstructor(g[0], g[1], args -> new Opaque(g[0] + "." + g[1]));
        }
    }

    private TorchCheckpoint() {}

    /**
     * Reads a checkpoint and returns its state_dict: the top-level dict if its values are tensors,
     * else the dict under the first of {@link #WRAPPER_KEYS} that holds one (RepDistiller and
     * mdistiller save {@code {'model': state_dict, ...}}), or the parameters and buffers of a whole
     * pickled {@code nn.Module} ({@code torch.save(model)}; its Python classes are not needed). A
     * {@code module.} prefix that every key has ({@code DataParallel}) is removed.
     *
     * @param file the {@code .pth}/{@code .pt} file
     * @return tensors by key, in file order
     * @throws IllegalArgumentException (one line naming the file) if it is not a PyTorch
     *     checkpoint, uses an unsupported element type or holds no state_dict
     * @throws IOException if reading fails
     */
    public static Map<String, TorchTensor> readStateDict(Path file) throws IOException {
        Object top = read(file);
        Map<String, TorchTensor> sd = tensorsOf(top);
        String where = "";
        if (sd == null && isModule(top)) { // torch.save(model): the module's own tensors
            sd = new LinkedHashMap<>();
            moduleTensors((ClassDict) top, "", sd);
            sd = sd.isEmpty() ? null : sd;
        }
        if (sd == null && top instanceof Map) {
            Map<?, ?> m = (Map<?, ?>) top;
            for (String k : WRAPPER_KEYS) {
                if (m.containsKey(k) && (sd = tensorsOf(m.get(k))) != null) {
                    where = " (under '" + k + "')";
                    break;
                }
            }
        }
        if (sd == null) {
            throw new IllegalArgumentException(
                    file
                            + ": holds no state_dict ("
                            + describe(top)
                            + "); save model.state_dict() itself or a dict with it under one of "
                            + WRAPPER_KEYS);
        }
        if (sd.isEmpty()) {
            throw new IllegalArgumentException(file + ": the state_dict" + where + " is empty");
        }
        return stripPrefix(sd, "module.");
    }

    /**
     * Reads the whole pickled object of a checkpoint: dicts become {@link Map}s, tuples {@code
     * Object[]}, lists {@link List}s, tensors {@link TorchTensor}s.
     *
     * @param file the file
     * @return the object
     * @throws IllegalArgumentException (one line naming the file) if it is not a PyTorch checkpoint
     *     or uses an unsupported element type
     * @throws IOException if reading fails
     */
    public static Object read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": no such file");
        }
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, 4);
            if (n < 2) {
                throw new IllegalArgumentException(file + ": empty, not a PyTorch checkpoint");
            }
        }
        try {
            if (head[0] == 'P' && head[1] == 'K') {
                return readZip(file);
            }
            if ((head[0] & 0xff) == 0x80) {
                return readLegacy(file);
            }
        } catch (PickleException | ClassCastException | IndexOutOfBoundsException e) {
            throw new IllegalArgumentException(
                    file + ": not a readable PyTorch checkpoint (" + e.getMessage() + ")", e);
        } catch (EOFException e) {
            throw new IllegalArgumentException(
                    file + ": cut short (the file ends inside the checkpoint)", e);
        }
        throw new IllegalArgumentException(
                file
                        + ": not a PyTorch checkpoint (neither torch.save's zip format nor its"
                        + " legacy pickle format)");
    }

    private static Object readZip(Path file) throws IOException {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            ZipEntry pkl = null;
            for (ZipEntry e : java.util.Collections.list(zip.entries())) {
                String n = e.getName();
                if (n.equals("data.pkl")
                        || n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - 9) {
                    pkl = e;
                    break;
                }
            }
            if (pkl == null) {
                throw new IllegalArgumentException(
                        file + ": a zip file without data.pkl, not a torch.save checkpoint");
            }
            String prefix =
                    pkl.getName().substring(0, pkl.getName().length() - "data.pkl".length());
            ZipEntry order = zip.getEntry(prefix + "byteorder");
            if (order != null) {
                try (InputStream in = zip.getInputStream(order)) {
                    String bo =
                            new String(
                                            in.readAllBytes(),
                                            java.nio.charset.StandardCharsets.US_ASCII)
                                    .trim();
                    if (!"little".equals(bo)) {
                        throw new IllegalArgumentException(
                                file
                                        + ": saved with byte order '"
                                        + bo
                                        + "'; only little-endian is supported");
                    }
                }
            }
            List<Storage> storages = new ArrayList<>();
            Object top;
            try (InputStream in = new BufferedInputStream(zip.getInputStream(pkl))) {
                top = new TorchUnpickler(storages).load(in);
            }
            Map<String, byte[]> bytes = new HashMap<>();
            for (Storage s : storages) {
                byte[] b = bytes.get(s.key);
                if (b == null) {
                    ZipEntry e = zip.getEntry(prefix + "data/" + s.key);
                    if (e == null) {
                        throw new IllegalArgumentException(
                                file + ": storage '" + s.key + "' is missing (damaged file)");
                    }
                    try (InputStream in = zip.getInputStream(e)) {
                        b = in.readAllBytes();
                    }
                    bytes.put(s.key, b);
                }
                s.bytes = b;
            }
            return resolve(top, file);
        }
    }

    private static Object readLegacy(Path file) throws IOException {
        try (DataInputStream in =
                new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            Object magic = new Unpickler().load(in);
            if (!LEGACY_MAGIC.equals(toBig(magic))) {
                throw new IllegalArgumentException(
                        file
                                + ": a pickle, but not a PyTorch checkpoint (no torch.save magic"
                                + " number)");
            }
            Object protocol = new Unpickler().load(in);
            if (!(protocol instanceof Number) || ((Number) protocol).intValue() != 1001) {
                throw new IllegalArgumentException(
                        file
                                + ": legacy PyTorch format version "
                                + protocol
                                + ", only 1001 is supported");
            }
            Object sysInfo = new Unpickler().load(in);
            if (sysInfo instanceof Map
                    && Boolean.FALSE.equals(((Map<?, ?>) sysInfo).get("little_endian"))) {
                throw new IllegalArgumentException(
                        file + ": written on a big-endian machine; not supported");
            }
            List<Storage> storages = new ArrayList<>();
            Object top = new TorchUnpickler(storages).load(in);
            Object keys = new Unpickler().load(in);
            Map<String, List<Storage>> byKey = new HashMap<>();
            for (Storage s : storages) {
                byKey.computeIfAbsent(s.key, k -> new ArrayList<>()).add(s);
            }
            for (Object k : (List<?>) keys) {
                String key = String.valueOf(k);
                long count = Long.reverseBytes(in.readLong());
                List<Storage> users = byKey.getOrDefault(key, List.of());
                int elem = users.isEmpty() ? 1 : users.get(0).type.bytes;
                long nbytes = count * elem;
                if (nbytes > Integer.MAX_VALUE - 16) {
                    throw new IllegalArgumentException(file + ": storage '" + key + "' over 2 GB");
                }
                byte[] b = new byte[(int) nbytes];
                in.readFully(b);
                for (Storage s : users) {
                    s.bytes = b;
                }
            }
            for (Storage s : storages) {
                if (s.bytes == null) {
                    throw new IllegalArgumentException(
                            file + ": storage '" + s.key + "' is missing (damaged file)");
                }
            }
            return resolve(top, file);
        }
    }

    private static java.math.BigInteger toBig(Object o) {
        if (o instanceof java.math.BigInteger) {
            return (java.math.BigInteger) o;
        }
        if (o instanceof Number) {
            return java.math.BigInteger.valueOf(((Number) o).longValue());
        }
        return null;
    }

    /** Replaces pending tensors (whose storages are now read) by {@link TorchTensor}s. */
    private static Object resolve(Object o, Path file) {
        if (o instanceof PendingTensor) {
            return ((PendingTensor) o).materialise(file);
        }
        if (o instanceof Map) {
            @SuppressWarnings("unchecked")
            Map<Object, Object> m = (Map<Object, Object>) o;
            for (Map.Entry<Object, Object> e : m.entrySet()) {
                e.setValue(resolve(e.getValue(), file));
            }
            return m;
        }
        if (o instanceof List) {
            @SuppressWarnings("unchecked")
            List<Object> l = (List<Object>) o;
            for (int i = 0; i < l.size(); i++) {
                l.set(i, resolve(l.get(i), file));
            }
            return l;
        }
        if (o instanceof Object[]) {
            Object[] a = (Object[]) o;
            for (int i = 0; i < a.length; i++) {
                a[i] = resolve(a[i], file);
            }
        }
        return o;
    }

    private static boolean isModule(Object o) {
        return o instanceof ClassDict
                && ((ClassDict) o).get("_parameters") instanceof Map
                && ((ClassDict) o).get("_modules") instanceof Map;
    }

    /**
     * A pickled nn.Module's parameters and buffers by state_dict key (no Python classes needed).
     */
    private static void moduleTensors(ClassDict m, String prefix, Map<String, TorchTensor> out) {
        for (String part : new String[] {"_parameters", "_buffers"}) {
            Object tensors = m.get(part);
            if (tensors instanceof Map) {
                for (Map.Entry<?, ?> e : ((Map<?, ?>) tensors).entrySet()) {
                    if (e.getValue() instanceof TorchTensor) {
                        out.put(prefix + e.getKey(), (TorchTensor) e.getValue());
                    }
                }
            }
        }
        for (Map.Entry<?, ?> e : ((Map<?, ?>) m.get("_modules")).entrySet()) {
            if (isModule(e.getValue())) {
                moduleTensors((ClassDict) e.getValue(), prefix + e.getKey() + ".", out);
            }
        }
    }

    private static Map<String, TorchTensor> tensorsOf(Object o) {
        if (!(o instanceof Map)) {
            return null;
        }
        Map<String, TorchTensor> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
            if (e.getValue() instanceof TorchTensor) {
                out.put(String.valueOf(e.getKey()), (TorchTensor) e.getValue());
            } else {
                return null;
            }
        }
        return out.isEmpty() ? null : out;
    }

    private static Map<String, TorchTensor> stripPrefix(
            Map<String, TorchTensor> sd, String prefix) {
        for (String k : sd.keySet()) {
            if (!k.startsWith(prefix)) {
                return sd;
            }
        }
        Map<String, TorchTensor> out = new LinkedHashMap<>();
        sd.forEach((k, v) -> out.put(k.substring(prefix.length()), v));
        return out;
    }

    private static String describe(Object top) {
        if (top instanceof ClassDict) {
            return "a pickled " + ((ClassDict) top).getClassName() + " object without weights";
        }
        if (top instanceof Map) {
            List<String> keys = new ArrayList<>();
            for (Object k : ((Map<?, ?>) top).keySet()) {
                keys.add(String.valueOf(k));
                if (keys.size() == 8) {
                    keys.add("...");
                    break;
                }
            }
            return "a dict with keys " + keys;
        }
        if (top instanceof TorchTensor) {
            return "a single tensor " + top;
        }
        return top == null ? "None" : "a " + top.getClass().getSimpleName();
    }

    private static Object rebuildTensor(Object[] args) {
        if (!(args[0] instanceof Storage)) {
            throw new PickleException("tensor without a storage");
        }
        return new PendingTensor(
                (Storage) args[0], ((Number) args[1]).longValue(), longs(args[2]), longs(args[3]));
    }

    private static long[] longs(Object tuple) {
        Object[] a = tuple instanceof List ? ((List<?>) tuple).toArray() : (Object[]) tuple;
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = ((Number) a[i]).longValue();
        }
        return out;
    }

    /** The storage types of {@code torch.save}; each is the pickle constructor of its global. */
    enum StorageType implements IObjectConstructor {
        FLOAT("FloatStorage", "float32", 4),
        HALF("HalfStorage", "float16", 2),
        BFLOAT16("BFloat16Storage", "bfloat16", 2),
        DOUBLE("DoubleStorage", "float64", 8),
        LONG("LongStorage", "int64", 8),
        INT("IntStorage", "int32", 4),
        BYTE("ByteStorage", "uint8", 1),
        BOOL("BoolStorage", "bool", 1);

        final String pythonName;
        final String dtype;
        final int bytes;

        StorageType(String pythonName, String dtype, int bytes) {
            this.pythonName = pythonName;
            this.dtype = dtype;
            this.bytes = bytes;
        }

        @Override
        public Object construct(Object[] args) {
            throw new PickleException("torch." + pythonName + " cannot be called here");
        }
    }

    /** One storage of the file; its bytes are read after the pickle. */
    static final class Storage {
        final StorageType type;
        final String key;
        byte[] bytes;

        Storage(StorageType type, String key) {
            this.type = type;
            this.key = key;
        }
    }

    /** A tensor whose storage bytes are not read yet. */
    private static final class PendingTensor {
        final Storage storage;
        final long offset;
        final long[] size;
        final long[] stride;

        PendingTensor(Storage storage, long offset, long[] size, long[] stride) {
            this.storage = storage;
            this.offset = offset;
            this.size = size;
            this.stride = stride;
        }

        TorchTensor materialise(Path file) {
            long n = 1;
            for (long s : size) {
                n *= s;
            }
            StorageType t = storage.type;
            long available = storage.bytes.length / t.bytes;
            long last = offset;
            for (int d = 0; d < size.length; d++) {
                if (size[d] > 0) {
                    last += (size[d] - 1) * stride[d];
                }
            }
            if (n > 0 && (offset < 0 || last >= available)) {
                throw new IllegalArgumentException(
                        file
                                + ": a tensor reaches past its storage '"
                                + storage.key
                                + "' (damaged file)");
            }
            ByteBuffer buf = ByteBuffer.wrap(storage.bytes).order(ByteOrder.LITTLE_ENDIAN);
            boolean floating =
                    t == StorageType.FLOAT
                            || t == StorageType.HALF
                            || t == StorageType.BFLOAT16
                            || t == StorageType.DOUBLE;
            float[] f = floating ? new float[(int) n] : null;
            long[] l = floating ? null : new long[(int) n];
            long[] idx = new long[size.length];
            long pos = offset; // element index into the storage
            for (int i = 0; i < n; i++) {
                if (floating) {
                    f[i] = readFloat(buf, t, pos);
                } else {
                    l[i] = readLong(buf, t, pos);
                }
                // advance the row-major index over size, keeping pos = offset + sum(idx * stride)
                for (int d = size.length - 1; d >= 0; d--) {
                    idx[d]++;
                    pos += stride[d];
                    if (idx[d] < size[d]) {
                        break;
                    }
                    pos -= idx[d] * stride[d];
                    idx[d] = 0;
                }
            }
            return new TorchTensor(t.dtype, size, f, l);
        }
    }

    private static float readFloat(ByteBuffer b, StorageType t, long pos) {
        int p = (int) pos;
        switch (t) {
            case FLOAT:
                return b.getFloat(p * 4);
            case HALF:
                return halfToFloat(b.getShort(p * 2));
            case BFLOAT16:
                return Float.intBitsToFloat((b.getShort(p * 2) & 0xffff) << 16);
            default:
                return (float) b.getDouble(p * 8);
        }
    }

    private static long readLong(ByteBuffer b, StorageType t, long pos) {
        int p = (int) pos;
        switch (t) {
            case LONG:
                return b.getLong(p * 8);
            case INT:
                return b.getInt(p * 4);
            default:
                return b.get(p) & 0xff;
        }
    }

    /** IEEE 754 binary16 to float32 (exact; Float.float16ToFloat needs Java 20). */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            float v = mant * 0x1p-24f; // subnormal: mant * 2^-24
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** The unpickler of the object pickle: storage ids become {@link Storage}s. */
    private static final class TorchUnpickler extends Unpickler {
        private final List<Storage> storages;
        private final Map<String, Storage> byKey = new HashMap<>();

        TorchUnpickler(List<Storage> storages) {
            this.storages = storages;
        }

        /** Keeps dicts in file order (razorvine's SETITEMS and EMPTY_DICT use HashMaps). */
        @Override
        protected Object dispatch(short key) throws PickleException, IOException {
            if (key == Opcodes.EMPTY_DICT) {
                stack.add(new LinkedHashMap<>());
                return NO_RETURN_VALUE;
            }
            if (key == Opcodes.SETITEMS) {
                List<Object> items = stack.pop_all_since_marker(); // k1, v1, k2, v2, ...
                @SuppressWarnings("unchecked")
                Map<Object, Object> dict = (Map<Object, Object>) stack.peek();
                for (int i = 0; i + 1 < items.size(); i += 2) {
                    dict.put(items.get(i), items.get(i + 1));
                }
                return NO_RETURN_VALUE;
            }
            if (key == Opcodes.BUILD && stack.peek() instanceof LinkedHashMap) {
                // razorvine looks up __setstate__(HashMap) by the exact class of the state
                @SuppressWarnings("unchecked")
                Map<Object, Object> state = (Map<Object, Object>) stack.pop();
                stack.add(new HashMap<>(state));
            }
            return super.dispatch(key);
        }

        @Override
        protected Object persistentLoad(Object pid) {
            // ('storage', storage_type, key, location, numel[, view_metadata])
            Object[] t = pid instanceof List ? ((List<?>) pid).toArray() : (Object[]) pid;
            if (t.length < 5 || !"storage".equals(t[0])) {
                throw new PickleException("unknown persistent id " + java.util.Arrays.toString(t));
            }
            if (!(t[1] instanceof StorageType)) {
                throw new PickleException(
                        "unsupported storage type "
                                + t[1]
                                + " (supported: float32, float16, bfloat16, float64, int64, int32,"
                                + " uint8, bool)");
            }
            if (t.length > 5 && t[5] != null) {
                throw new PickleException("storage views (torch < 1.0 files) are not supported");
            }
            String key = String.valueOf(t[2]);
            return byKey.computeIfAbsent(
                    key,
                    k -> {
                        Storage s = new Storage((StorageType) t[1], k);
                        storages.add(s);
                        return s;
                    });
        }
    }

    /**
     * {@code collections.OrderedDict}, with the {@code _metadata} state of a state_dict ignored.
     */
    public static final class PyDict extends LinkedHashMap<Object, Object> {
        private static final long serialVersionUID = 1L;

        /**
         * Receives the instance state ({@code _metadata}) of a pickled OrderedDict; ignored.
         *
         * @param state the state
         */
        public void __setstate__(HashMap<?, ?> state) {
            // BatchNorm's version metadata: nothing crcd needs
        }
    }

    /** A value crcd does not interpret (numpy scalars, devices, argparse namespaces). */
    public static final class Opaque {
        private final String type;

        Opaque(String type) {
            this.type = type;
        }

        /**
         * Receives the pickled state; ignored.
         *
         * @param state the state
         */
        public void __setstate__(HashMap<?, ?> state) {
            // not interpreted
        }

        /**
         * Receives the pickled state as a tuple; ignored.
         *
         * @param state the state
         */
        public void __setstate__(Object[] state) {
            // not interpreted
        }

        @Override
        public String toString() {
            return "<" + type + ">";
        }
    }
}
