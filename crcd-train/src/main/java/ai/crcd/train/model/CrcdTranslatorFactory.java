package ai.crcd.train.model;

import ai.djl.Model;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.translate.TranslateException;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorFactory;
import ai.djl.util.Pair;
import java.io.IOException;
import java.lang.reflect.Type;
import java.util.Map;
import java.util.Set;

/**
 * DJL {@link TranslatorFactory} for crcd model folders: {@code Image -> Classifications} with DJL's
 * standard {@code ImageClassificationTranslator}, configured from the folder's keys (grey or
 * colour, size, the trained mean/std; see {@link ModelFolder#translator(ModelInfo)}). Pass it to
 * {@code Criteria.Builder.optTranslatorFactory} (DJL reads {@code translatorFactory} from {@code
 * serving.properties} only for model-zoo artifacts, not for a local {@code optModelPath}).
 */
public class CrcdTranslatorFactory implements TranslatorFactory {

    /** Creates the factory. */
    public CrcdTranslatorFactory() {}

    @Override
    public Set<Pair<Type, Type>> getSupportedTypes() {
        return Set.of(new Pair<>(Image.class, Classifications.class));
    }

    /**
     * Creates the translator for a model folder.
     *
     * @param input {@code Image.class}
     * @param output {@code Classifications.class}
     * @param model the loaded model
     * @param arguments unused: the keys are read from the model's folder
     * @return the translator
     * @throws TranslateException for an unsupported type pair or an unreadable folder
     */
    @Override
    @SuppressWarnings("unchecked")
    public <I, O> Translator<I, O> newInstance(
            Class<I> input, Class<O> output, Model model, Map<String, ?> arguments)
            throws TranslateException {
        if (!isSupported(input, output)) {
            throw new TranslateException(
                    "crcd models translate Image -> Classifications, not "
                            + input
                            + " -> "
                            + output);
        }
        try {
            ModelInfo info = ModelFolder.readInfo(model.getModelPath());
            return (Translator<I, O>) ModelFolder.translator(info);
        } catch (IOException | IllegalArgumentException e) {
            throw new TranslateException(e.getMessage(), e);
        }
    }
}
