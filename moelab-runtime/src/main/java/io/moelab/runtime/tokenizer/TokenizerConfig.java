package io.moelab.runtime.tokenizer;

import io.moelab.runtime.JsonProblems;
import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.TextFiles;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.BooleanNode;
import tools.jackson.databind.node.MissingNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.node.StringNode;

/**
 * What transformers v4 makes of a {@code tokenizer.json} with the {@code tokenizer_config.json} beside it, worked out
 * before and after the tokenizers library loads it ({@link HuggingFaceTokenizer#open(java.nio.file.Path, String)}):
 * the tokenizer class (the config's, or {@code AutoTokenizer}'s for the model type) and its default special tokens;
 * the named special tokens and {@code added_tokens_decoder} entries added to (or marked special in) the file's
 * {@code added_tokens}, as the fast tokenizer's {@code __init__} adds them; GPT-NeoX's {@code add_prefix_space}; the
 * BOS/EOS template the Llama and GPT-NeoX classes put in place of the file's post-processor; and the ids of all of
 * these as the loaded library gives them. The rewrites change the parsed JSON tree only; the caller writes it once.
 */
final class TokenizerConfig {
    private TokenizerConfig() {
    }

    /** As {@link HuggingFaceTokenizer}'s reader: lenient about a repeated key, as Hugging Face's own readers are. */
    private static final JsonMapper JSON = JsonMapper.builder().build();
    static final List<String> EOS_NAMES = List.of("</s>", "<|endoftext|>", "<|end_of_text|>", "<|im_end|>");
    static final List<String> BOS_NAMES = List.of("<s>", "<|begin_of_text|>");

    /**
     * The transformers classes whose constructor rebuilds the post-processor from {@code add_bos_token} and
     * {@code add_eos_token} whatever the file holds, with their defaults for those keys (transformers v4:
     * {@code LlamaTokenizerFast}, {@code GPTNeoXTokenizerFast}).
     */
    private record TemplateClass(boolean addBos, boolean addEos) {}

    private static final TemplateClass LLAMA = new TemplateClass(true, false);
    private static final TemplateClass GPT_NEOX = new TemplateClass(false, false);
    private static final Map<String, TemplateClass> TEMPLATE_CLASSES = Map.of(
            "LlamaTokenizer", LLAMA, "LlamaTokenizerFast", LLAMA,
            "GPTNeoXTokenizer", GPT_NEOX, "GPTNeoXTokenizerFast", GPT_NEOX);
    /**
     * The special tokens each class's {@code __init__} defaults to (transformers v4's fast classes), which stand
     * where {@code tokenizer_config.json} lacks the key: a key it holds, null included, replaces the default.
     */
    private static final Map<String, String> LLAMA_TOKENS = Map.of("bos_token", "<s>", "eos_token", "</s>",
            "unk_token", "<unk>");
    private static final Map<String, String> GPT_NEOX_TOKENS = Map.of("bos_token", "<|endoftext|>",
            "eos_token", "<|endoftext|>", "unk_token", "<|endoftext|>");
    private static final Map<String, String> QWEN2_TOKENS = Map.of("eos_token", "<|endoftext|>",
            "unk_token", "<|endoftext|>", "pad_token", "<|endoftext|>");
    private static final Map<String, Map<String, String>> CLASS_TOKENS = Map.of(
            "LlamaTokenizer", LLAMA_TOKENS, "LlamaTokenizerFast", LLAMA_TOKENS,
            "GPTNeoXTokenizer", GPT_NEOX_TOKENS, "GPTNeoXTokenizerFast", GPT_NEOX_TOKENS,
            "Qwen2Tokenizer", QWEN2_TOKENS, "Qwen2TokenizerFast", QWEN2_TOKENS);
    /** AutoTokenizer's class for a {@code model_type} when {@code tokenizer_config.json} names none. */
    static final Map<String, String> CLASS_OF_MODEL_TYPE = Map.of(
            "mixtral", "LlamaTokenizerFast", "olmoe", "GPTNeoXTokenizerFast",
            "qwen2_moe", "Qwen2TokenizerFast", "qwen3_moe", "Qwen2TokenizerFast");

    /**
     * The tokens transformers puts before and after a text when its tokenizer class or {@code tokenizer_config.json}
     * replaces the file's post-processor (see the class comment), or null when the file's post-processor stands.
     * Each is an added token or in the model's vocabulary ({@link #ids} gives their ids); refused otherwise, so that
     * a bad config is told before the native library loads.
     */
    static String[][] templateTokens(JsonNode root, Map<String, Integer> added, JsonNode config,
            Map<String, JsonNode> special, String configFile, String className) {
        TemplateClass defaults = className == null ? null : TEMPLATE_CLASSES.get(className);
        Boolean addBos = flag(config, "add_bos_token", configFile);
        Boolean addEos = flag(config, "add_eos_token", configFile);
        if (defaults == null && addBos == null && addEos == null) {
            return null;
        }
        // A key the config leaves out takes the class's default (v4); classes without a template of their own
        // default to false (v5's TokenizersBackend).
        boolean bosOn = addBos != null ? addBos : defaults != null && defaults.addBos();
        boolean eosOn = addEos != null ? addEos : defaults != null && defaults.addEos();
        String[] prefix = bosOn ? new String[] {token(root, added, special, "bos_token", "add_bos_token",
                configFile)} : new String[0];
        String[] suffix = eosOn ? new String[] {token(root, added, special, "eos_token", "add_eos_token",
                configFile)} : new String[0];
        return new String[][] {prefix, suffix};
    }

    /**
     * The ids of {@code tokens}, each an added token or in the model's vocabulary, looked up as transformers'
     * {@code convert_tokens_to_ids} does: added tokens, then the model's vocabulary.
     */
    static int[] ids(JsonNode root, Map<String, Integer> added, String[] tokens) {
        int[] out = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            Integer id = added.get(tokens[i]);
            out[i] = id != null ? id : vocabId(root, tokens[i]);
        }
        return out;
    }

    /** transformers' {@code SPECIAL_TOKENS_ATTRIBUTES} (v4), in the order its fast tokenizer adds them. */
    private static final List<String> SPECIAL_TOKEN_KEYS = List.of("bos_token", "eos_token", "unk_token",
            "sep_token", "pad_token", "cls_token", "mask_token", "additional_special_tokens");

    /**
     * The special tokens transformers v4 gives the tokenizer, by key in {@link #SPECIAL_TOKEN_KEYS}' order: the
     * config's value where it holds the key (null included), else the class's {@code __init__} default
     * ({@link #CLASS_TOKENS}); keys with neither are left out. A token the config gives as an object is refused,
     * naming {@code configFile} and the field, where {@code AddedToken(**obj)} (v4) raises: a flag that is not a
     * boolean, a content that is neither a string nor null; so is a value of another type
     * ({@link #checkSpecialToken}).
     */
    static Map<String, JsonNode> specialTokens(JsonNode config, String className, String configFile) {
        Map<String, String> defaults = className == null ? Map.of() : CLASS_TOKENS.getOrDefault(className, Map.of());
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (String key : SPECIAL_TOKEN_KEYS) {
            JsonNode v = config == null ? null : config.get(key);
            if (v != null) {
                checkSpecialToken(key, v, configFile);
                out.put(key, v);
            } else if (defaults.containsKey(key)) {
                out.put(key, StringNode.valueOf(defaults.get(key)));
            }
        }
        return out;
    }

    /**
     * Adds to the file's {@code added_tokens} (and to {@code added}) every one of the {@code special} tokens (those
     * {@code tokenizer_config.json} names and the class's defaults) that the file lacks, as
     * {@code PreTrainedTokenizerFast.__init__} (v4) adds them, so that a text holding one encodes it whole and decode
     * skips it. Each is special and, unless the config gives it as an object saying otherwise, not normalized, not
     * stripped and not a single word (the tokenizers library's defaults for a special token). Its id is the
     * tokenizers library's: the model's own id for a token in its vocabulary, else the vocabulary's size while every
     * added id is below it, else one past the largest.
     *
     * @return whether any was added
     */
    static boolean addSpecialTokens(ObjectNode root, Map<String, Integer> added,
            Map<String, JsonNode> special) {
        Function<String, Integer> vocab = vocabIds(root);
        boolean any = false;
        for (JsonNode token : namedTokens(special)) {
            String content = tokenContent(token);
            if (content == null || content.isEmpty() || added.containsKey(content)) {
                continue;
            }
            int id = addedId(root, vocab, added, content);
            ObjectNode entry = JSON.createObjectNode();
            entry.put("id", id);
            entry.put("content", content);
            for (String flag : List.of("single_word", "lstrip", "rstrip", "normalized")) {
                JsonNode f = token.get(flag);
                entry.put(flag, f != null && f.isBoolean() && f.booleanValue());
            }
            entry.put("special", true);
            addedTokenList(root).add(entry);
            added.put(content, id);
            any = true;
        }
        return any;
    }

    /** The flags of an added token besides {@code content}, as tokenizer.json and added_tokens_decoder spell them. */
    private static final List<String> TOKEN_FLAGS = List.of("single_word", "lstrip", "rstrip", "normalized",
            "special");
    /** What Python's {@code int(str)} reads (after stripping whitespace): a sign, digits, single underscores. */
    private static final Pattern PY_INT = Pattern.compile("[+-]?\\d+(?:_\\d+)*", Pattern.UNICODE_CHARACTER_CLASS);

    /**
     * {@code tokenizer_config.json}'s {@code added_tokens_decoder} entries in the order transformers v4 adds them, by
     * their key read as an integer ({@code int(key)}; of two keys reading as the same integer the later entry
     * stands), or an empty list when the config has no such key. Refused naming the file and key where v4 fails
     * ({@code null} or a value that is not an object, a key {@code int()} refuses, an entry that is not an object
     * or has a content that is not a string or a flag that is not a boolean). An entry without a content, or with a
     * null one, is v4's empty token: it stays in the list (replacing an earlier one of the same integer key) and
     * {@link #addDecoderTokens} skips it, as the library's {@code add_tokens} does.
     */
    static List<JsonNode> decoderTokens(JsonNode config, String configFile) {
        JsonNode decoder = config == null ? null : config.get("added_tokens_decoder");
        if (decoder == null) {
            return List.of();
        }
        if (!decoder.isObject()) {
            throw new ModelFormatException(configFile, null, "added_tokens_decoder: expected an object of id -> "
                    + "token, got " + decoder);
        }
        TreeMap<BigInteger, JsonNode> byKey = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : decoder.properties()) {
            String key = pythonStrip(e.getKey());
            if (!PY_INT.matcher(key).matches()) {
                throw new ModelFormatException(configFile, null, "added_tokens_decoder: key "
                        + StringNode.valueOf(e.getKey()) + " is not an integer");
            }
            JsonNode token = e.getValue();
            String where = "added_tokens_decoder " + StringNode.valueOf(e.getKey()) + ": ";
            JsonNode content = token.path("content");
            // The tokenizers binding reads a missing (or None) content as "", which add_tokens then ignores.
            if (!token.isObject() || !(content.isString() || content.isMissingNode() || content.isNull())) {
                throw new ModelFormatException(configFile, null, where + "expected an object with a \"content\" "
                        + "string, got " + token);
            }
            checkFlags(token, where, configFile);
            byKey.put(new BigInteger(key.replace("_", "")), token);
        }
        return new ArrayList<>(byKey.values());
    }

    /**
     * {@code s} without the leading and trailing characters Python's {@code str.isspace} accepts, which
     * {@code int(str)} strips: Java's {@link String#strip} keeps the no-break spaces and NEL.
     */
    static String pythonStrip(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && pythonSpace(s.charAt(from))) {
            from++;
        }
        while (to > from && pythonSpace(s.charAt(to - 1))) {
            to--;
        }
        return s.substring(from, to);
    }

    /** Python's whitespace (bidirectional class WS, B or S, or category Zs), all of it in the BMP. */
    private static boolean pythonSpace(char c) {
        return c >= 0x09 && c <= 0x0D || c >= 0x1C && c <= 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
                || c >= 0x2000 && c <= 0x200A || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
                || c == 0x3000;
    }

    /**
     * Refuses, naming {@code configFile} and the key, a value of special token {@code key} that v4's
     * {@code SpecialTokensMixin.__init__} refuses: a named token that is neither null, a string nor an AddedToken
     * object (TypeError), an {@code additional_special_tokens} that is neither null nor a list, or one holding
     * anything but strings and AddedToken objects (AssertionError); and objects as {@link #checkTokenObject}.
     */
    private static void checkSpecialToken(String key, JsonNode v, String configFile) {
        if (v.isNull()) {
            return;
        }
        if (!key.equals("additional_special_tokens")) {
            checkStringOrObject(v, key + ": ", configFile);
            return;
        }
        if (!v.isArray()) {
            throw new ModelFormatException(configFile, null, key + ": expected a list of tokens, got " + v);
        }
        for (int i = 0; i < v.size(); i++) {
            checkStringOrObject(v.get(i), key + "[" + i + "]: ", configFile);
        }
    }

    private static void checkStringOrObject(JsonNode token, String where, String configFile) {
        if (!token.isString() && !token.isObject()) {
            throw new ModelFormatException(configFile, null, where + "expected a string or an AddedToken object, got "
                    + token);
        }
        checkTokenObject(token, where, configFile);
    }

    /**
     * Refuses, naming {@code configFile} and {@code where} (the field, ending ": "), an object {@code token} whose
     * {@code "__type"} is not {@code "AddedToken"} (transformers v4 then keeps it a dict and its {@code __init__}
     * raises), whose {@code content} is neither a string nor null (nor missing) or that {@link #checkFlags} refuses;
     * the tokenizers binding's {@code AddedToken} raises a TypeError on each. Anything but an object is left alone.
     */
    private static void checkTokenObject(JsonNode token, String where, String configFile) {
        if (!token.isObject()) {
            return;
        }
        // v4's _from_pretrained makes an AddedToken only of an object whose "__type" is "AddedToken" (as its
        // save_pretrained writes them); any other stays a dict, which __init__ refuses (TypeError).
        JsonNode type = token.get("__type");
        if (type == null || !type.isString() || !type.stringValue().equals("AddedToken")) {
            throw new ModelFormatException(configFile, null, where + "an object must have \"__type\": "
                    + "\"AddedToken\" (transformers reads any other as a plain dict and refuses it), got " + token);
        }
        JsonNode content = token.get("content");
        if (content != null && !content.isString() && !content.isNull()) {
            throw new ModelFormatException(configFile, null, where + "content: expected a string, got " + content);
        }
        checkFlags(token, where, configFile);
    }

    /**
     * Refuses, naming {@code configFile} and {@code where}, a token object's flag ({@link #TOKEN_FLAGS}) that is not
     * a boolean: {@code AddedToken} takes only Python booleans (1, "false" and null raise).
     */
    private static void checkFlags(JsonNode token, String where, String configFile) {
        for (String flag : TOKEN_FLAGS) {
            JsonNode f = token.get(flag);
            if (f != null && !f.isBoolean()) {
                throw new ModelFormatException(configFile, null, where + flag + ": expected true or false, got " + f);
            }
        }
    }

    /**
     * The tokens {@code PreTrainedTokenizerFast.__init__} (v4) adds first, as {@code added_tokens_decoder}: the
     * config's {@code decoderTokens} where it has that key; otherwise {@code _from_pretrained} reads the file's
     * {@code added_tokens} in its place, by their listed ids (of two entries of an id the later stands), which
     * {@code __init__} adds again, each special where it is or where its content is a named special token's. Read
     * before any rewrite of the list.
     */
    static List<JsonNode> initTokens(JsonNode root, JsonNode config, List<JsonNode> decoderTokens) {
        if (config != null && config.has("added_tokens_decoder")) {
            return decoderTokens;
        }
        TreeMap<BigInteger, JsonNode> byId = new TreeMap<>();
        for (JsonNode t : root.path("added_tokens").values()) {
            if (t.path("id").isIntegralNumber()) { // the library refuses an entry without one
                byId.put(t.path("id").bigIntegerValue(), t.deepCopy());
            }
        }
        return new ArrayList<>(byId.values());
    }

    /**
     * Adds the {@code decoderTokens} (see {@link #initTokens}) to the file's {@code added_tokens} (and to
     * {@code added}) as {@code PreTrainedTokenizerFast.__init__} (v4) adds them: every one, in that order, before
     * the named special tokens it lacks ({@link #addSpecialTokens}). (It means to skip those the loaded tokenizer
     * holds, but checks the tokens against the loaded ids, so it skips none.) Each is special where it says so or
     * where its content is one of the {@code special} tokens' ({@code all_special_tokens}); {@code normalized}
     * defaults to not special, the other flags to false. The tokenizers library's {@code add_tokens} then ignores a
     * token equal to the one it holds, gives one of a content it holds that content's id (an added token's, else
     * the model vocabulary's) and puts it in that token's place, a special one among its special tokens, and gives a
     * new one the next free id ({@link #addedId}): the key is not the id. An entry appended to the file's list is
     * what the library's loader passes to that same call, in the same order.
     *
     * <p>Where a special token replaces an ordinary one of different {@code normalized} flag, the library loading
     * both at once would keep only the special one's pattern, where v4, adding it after the load, keeps both:
     * {@link #keepOrdinaryPatterns} sees to that.
     *
     * @return whether any was added
     */
    static boolean addDecoderTokens(ObjectNode root, Map<String, Integer> added, List<JsonNode> decoderTokens,
            Map<String, JsonNode> special) {
        if (decoderTokens.isEmpty()) {
            return false;
        }
        Set<String> named = new HashSet<>();
        for (JsonNode t : namedTokens(special)) {
            String content = tokenContent(t);
            if (content != null) {
                named.add(content);
            }
        }
        ArrayNode list = addedTokenList(root);
        Function<String, Integer> vocab = vocabIds(root);
        boolean any = false;
        for (JsonNode d : decoderTokens) {
            String content = decoderContent(d);
            if (content.isEmpty()) {
                continue; // the library ignores an empty token
            }
            boolean isSpecial = d.path("special").asBoolean(false) || named.contains(content);
            ObjectNode entry = JSON.createObjectNode();
            entry.put("content", content);
            for (String flag : List.of("single_word", "lstrip", "rstrip")) {
                entry.put(flag, d.path(flag).asBoolean(false));
            }
            entry.put("normalized", d.path("normalized").asBoolean(!isSpecial));
            entry.put("special", isSpecial);
            if (equalsHeld(list, entry)) {
                continue; // equal to the token the library holds: ignored
            }
            int id = addedId(root, vocab, added, content);
            ObjectNode withId = JSON.createObjectNode();
            withId.put("id", id);
            withId.setAll(entry);
            list.add(withId);
            added.put(content, id);
            any = true;
        }
        return any;
    }

    /** An {@code added_tokens_decoder} entry's content: its string, or "" where it has none (v4's empty token). */
    private static String decoderContent(JsonNode entry) {
        JsonNode content = entry.path("content");
        return content.isString() ? content.stringValue() : "";
    }

    /** Whether the last of {@code list}'s entries of {@code token}'s content has the same flags. */
    private static boolean equalsHeld(ArrayNode list, ObjectNode token) {
        JsonNode held = null;
        for (JsonNode t : list.values()) {
            if (token.path("content").equals(t.path("content"))) {
                held = t;
            }
        }
        if (held == null) {
            return false;
        }
        for (String flag : TOKEN_FLAGS) {
            if (!held.path(flag).isBoolean() || held.path(flag).booleanValue() != token.path(flag).booleanValue()) {
                return false;
            }
        }
        return true;
    }

    /** The keys whose strings {@code Qwen2TokenizerFast.__init__} (v4) wraps in special, not normalized tokens. */
    private static final List<String> QWEN2_WRAPPED = List.of("bos_token", "eos_token", "unk_token", "pad_token");

    /**
     * Appends to the file's {@code added_tokens} each named special token that {@code PreTrainedTokenizerFast.__init__}
     * (v4) adds again over a token of its content that the tokenizer already holds with other flags (run after
     * {@link #addDecoderTokens} and {@link #addSpecialTokens}). After the decoder's entries ({@code decoderTokens},
     * {@link #initTokens}) it adds each of {@code all_special_tokens_extended} (the named tokens but those whose
     * content an earlier key named: a content repeated within {@code additional_special_tokens} stays, each token
     * added in turn) that is an {@code AddedToken} equal to none of those entries (compared with them alone, not
     * with the named tokens added before it): it never equals the strings it is also checked against, and the
     * library's equality takes the content and every flag.
     * The AddedTokens: an object among {@code additional_special_tokens}; a bos ... mask object that the decoder
     * (or without one, the file) does not replace by its token of that content, a replaced one being equal to an
     * entry; the strings {@code Qwen2TokenizerFast.__init__} wraps in special, not normalized tokens (its bos, eos,
     * unk and pad, its defaults included). It goes in as special, {@code normalized} false unless
     * it says so; the library keeps the held token's id and pattern but matches with the new one's
     * {@code single_word}, {@code lstrip} and {@code rstrip}, as it does with an entry appended to the list (the
     * held id given, which {@code added} has). One equal to the list's last token of its content changes nothing and
     * is left out.
     *
     * @return whether any was appended
     */
    static boolean reAddSpecialTokens(ObjectNode root, Map<String, Integer> added, JsonNode config,
            String className, Map<String, JsonNode> special, List<JsonNode> decoderTokens) {
        if (!(root.get("added_tokens") instanceof ArrayNode list)) {
            return false;
        }
        // The entries __init__ adds first ({@link #initTokens}), which a named token is compared with (and with no
        // named token added before it: v4's list comprehension reads the list as it was).
        List<JsonNode> entries = decoderTokens;
        Map<String, JsonNode> replacements = new HashMap<>();
        for (JsonNode t : entries) {
            replacements.put(decoderContent(t), t); // the last of a content, as _from_pretrained's map
        }
        boolean qwen2 = className != null && CLASS_TOKENS.get(className) == QWEN2_TOKENS;
        Set<String> seen = new HashSet<>();
        boolean any = false;
        for (Map.Entry<String, JsonNode> e : special.entrySet()) {
            String key = e.getKey();
            boolean additional = key.equals("additional_special_tokens");
            List<JsonNode> values = additional ? e.getValue().valueStream().toList() : List.of(e.getValue());
            // all_special_tokens_extended drops a token whose content an earlier key named, but keeps a content
            // repeated within additional_special_tokens: the key's contents count as seen only after it.
            Set<String> seenBefore = new HashSet<>(seen);
            for (JsonNode v : values) {
                String content = tokenContent(v);
                if (content == null || content.isEmpty() || seenBefore.contains(content)) {
                    continue;
                }
                seen.add(content);
                boolean fromConfig = config != null && config.has(key);
                if (!additional && fromConfig && replacements.containsKey(content)) {
                    continue; // replaced by an entry: equal to it
                }
                JsonNode token = v.isObject() ? v
                        : !additional && qwen2 && QWEN2_WRAPPED.contains(key) ? wrapped(content) : null;
                if (token == null || entries.stream().anyMatch(t -> sameToken(t, token))) {
                    continue;
                }
                Integer id = added.get(content); // held: addSpecialTokens added every named token
                if (id == null) {
                    continue;
                }
                ObjectNode entry = JSON.createObjectNode();
                entry.put("id", id);
                entry.put("content", content);
                for (String flag : List.of("single_word", "lstrip", "rstrip", "normalized")) {
                    entry.put(flag, token.path(flag).asBoolean(false));
                }
                entry.put("special", true);
                if (!equalsHeld(list, entry)) {
                    list.add(entry);
                    any = true;
                }
            }
        }
        return any;
    }

    /**
     * Keeps both patterns where transformers v4 ends with two for one content, and returns those contents, which the
     * caller must then skip in decode itself. The library takes a file's tokens in one {@code add_tokens} call,
     * where v4 adds its own after the file's in later calls: an ordinary token of the file (not special there) joins
     * the library's ordinary tokens, and a special one of that content added later joins its special tokens, each a
     * pattern in the trie of its {@code normalized} flag (matched before or after normalization). In one call the
     * library lists no ordinary token of a content that the call makes special, so where the first special entry's
     * flag is none of the ordinary entries' before it, v4's second pattern would be lost. Every entry of such a
     * content is made ordinary instead: the library then lists each of them, and as the two flags are both there,
     * the patterns are v4's two; the last entry's flags, with which the content is matched, are v4's too. Only the
     * library's own skipping of special tokens in decode is lost.
     *
     * @param original the file's {@code added_tokens} as read, before any rewrite
     */
    static Set<String> keepOrdinaryPatterns(ObjectNode root, JsonNode original) {
        Set<String> specialInFile = new HashSet<>();
        for (JsonNode t : original.values()) {
            if (t.path("special").asBoolean(false) && t.path("content").isString()) {
                specialInFile.add(t.path("content").stringValue());
            }
        }
        Map<String, List<ObjectNode>> byContent = new LinkedHashMap<>();
        for (JsonNode t : root.path("added_tokens").values()) {
            if (t instanceof ObjectNode o && o.path("content").isString()) {
                byContent.computeIfAbsent(o.path("content").stringValue(), k -> new ArrayList<>()).add(o);
            }
        }
        Set<String> out = new LinkedHashSet<>();
        for (Map.Entry<String, List<ObjectNode>> e : byContent.entrySet()) {
            if (specialInFile.contains(e.getKey())) {
                continue; // special from the load on, in v4 as here: no ordinary pattern
            }
            Set<Boolean> ordinary = new HashSet<>();
            Boolean firstSpecial = null;
            for (ObjectNode t : e.getValue()) {
                boolean special = t.path("special").asBoolean(false);
                boolean normalized = t.path("normalized").asBoolean(!special); // AddedToken's default
                if (special) {
                    firstSpecial = normalized;
                    break;
                }
                ordinary.add(normalized);
            }
            if (firstSpecial != null && !ordinary.isEmpty() && !ordinary.contains(firstSpecial)) {
                e.getValue().forEach(t -> t.put("special", false));
                out.add(e.getKey());
            }
        }
        return out;
    }

    /** The token {@code Qwen2TokenizerFast.__init__} (v4) wraps a named string in. */
    private static JsonNode wrapped(String content) {
        ObjectNode t = JSON.createObjectNode();
        t.put("content", content);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", true);
        return t;
    }

    /**
     * Whether two tokens as the config or file gives them are equal {@code AddedToken}s: the same content and flags,
     * a flag left out false except {@code normalized}, which defaults to not {@code special}.
     */
    private static boolean sameToken(JsonNode a, JsonNode b) {
        if (!decoderContent(a).equals(decoderContent(b))) {
            return false;
        }
        for (String flag : List.of("single_word", "lstrip", "rstrip", "special")) {
            if (a.path(flag).asBoolean(false) != b.path(flag).asBoolean(false)) {
                return false;
            }
        }
        return a.path("normalized").asBoolean(!a.path("special").asBoolean(false))
                == b.path("normalized").asBoolean(!b.path("special").asBoolean(false));
    }

    /**
     * Sets the pre-tokenizer's {@code add_prefix_space} in the file's JSON as transformers' GPT-NeoX class sets it.
     * {@code GPTNeoXTokenizerFast.__init__} (v4) takes the config's {@code add_prefix_space} (default false) and,
     * where the file's pre-tokenizer (a ByteLevel, not inside a Sequence) holds another value, rebuilds it with the
     * config's; other classes keep the file's.
     *
     * <p>The Llama class's config may not set it (null is unset): {@code LlamaTokenizerFast.__init__} (v4) then
     * builds the whole tokenizer from {@code tokenizer.model} ({@code from_slow}: SentencePiece's vocabulary and
     * control tokens, normalizer or Metaspace and decoder chosen by the key and {@code legacy}), which no rewrite of
     * {@code tokenizer.json} can be shown to match without reading that file.
     *
     * @return whether the JSON was changed
     * @throws ModelFormatException naming {@code configFile} for a Llama-class config that sets the key
     */
    static boolean prefixSpace(JsonNode root, JsonNode config, String configFile, String className) {
        if (className != null && TEMPLATE_CLASSES.get(className) == LLAMA) {
            if (flag(config, "add_prefix_space", configFile) != null && !config.get("add_prefix_space").isNull()) {
                throw new ModelFormatException(configFile, null, "add_prefix_space: transformers builds a "
                        + "Llama-class tokenizer that sets it from tokenizer.model (SentencePiece), which moelab does "
                        + "not read; without the key (or with null) tokenizer.json is used as it is");
            }
            return false;
        }
        if (className == null || TEMPLATE_CLASSES.get(className) != GPT_NEOX) {
            return false;
        }
        boolean want = Boolean.TRUE.equals(flag(config, "add_prefix_space", configFile));
        JsonNode pre = root.get("pre_tokenizer");
        if (!(pre instanceof ObjectNode o) || !o.has("add_prefix_space")
                || o.get("add_prefix_space").equals(BooleanNode.valueOf(want))) {
            return false;
        }
        o.put("add_prefix_space", want);
        return true;
    }

    /**
     * {@code from_slow} as {@code PreTrainedTokenizerFast.__init__} (v4) reads it, by the truth Python gives the
     * value json reads: false where absent, null, false, a zero number (1e-400 too, which Python reads as 0.0), or an
     * empty string, list or object; true otherwise ("false" included).
     */
    static boolean fromSlow(JsonNode config) {
        JsonNode v = config == null ? null : config.get("from_slow");
        if (v == null || v.isNull()) {
            return false;
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        if (v.isIntegralNumber()) {
            return v.bigIntegerValue().signum() != 0;
        }
        if (v.isNumber()) {
            return v.doubleValue() != 0.0; // Python's float: an underflow is 0.0, an overflow inf
        }
        if (v.isString()) {
            return !v.stringValue().isEmpty();
        }
        return !v.isEmpty(); // a list or an object
    }

    /**
     * {@code add_bos_token}, {@code add_eos_token}, {@code clean_up_tokenization_spaces} or
     * {@code add_prefix_space}: null when absent; a JSON null is false, as in transformers.
     */
    static Boolean flag(JsonNode config, String key, String configFile) {
        JsonNode v = config == null ? null : config.get(key);
        if (v == null) {
            return null;
        }
        if (v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw new ModelFormatException(configFile, null, key + ": expected true, false or null, got " + v);
        }
        return v.booleanValue();
    }

    /**
     * The token that {@code key} ({@code bos_token}, {@code eos_token}) names in {@code special}, refused unless it
     * is an added token or in the model's vocabulary (an empty one, refused where v4 would put the unk token).
     */
    private static String token(JsonNode root, Map<String, Integer> added, Map<String, JsonNode> special, String key,
            String flag, String configFile) {
        JsonNode v = special.get(key);
        String content = v == null ? null : tokenContent(v);
        if (content == null) {
            // transformers' update_post_processor raises "add_bos_token = True but bos_token = None".
            throw new ModelFormatException(configFile, null, flag + " is true but there is no " + key);
        }
        if (!added.containsKey(content) && vocabId(root, content) == null) {
            // addSpecialTokens added every other named token, so only "" gets here. v4's convert_tokens_to_ids
            // would put unk_token_id in the template: an <unk> before every text, which no model reads as a BOS.
            if (content.isEmpty()) {
                throw new ModelFormatException(configFile, null, key + " is empty, and " + flag + " would put it "
                        + "in every text: transformers v4 puts the unk_token's id there instead (and fails without "
                        + "an unk_token), which moelab does not follow; name a token or set " + flag + " to false");
            }
            throw new ModelFormatException(configFile, null, key + " " + quote(content) + " (added by " + flag
                    + ") is neither an added token nor in the vocabulary of tokenizer.json");
        }
        return content;
    }

    private static Integer vocabId(JsonNode root, String token) {
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            JsonNode id = vocab.get(token);
            return id != null && id.canConvertToInt() ? id.asInt() : null;
        }
        // Unigram: [[piece, score], ...], ids by position; a piece listed twice has its last (the library's map).
        Integer found = null;
        int i = 0;
        for (JsonNode piece : vocab.values()) {
            if (piece.path(0).isString() && piece.path(0).stringValue().equals(token)) {
                found = i;
            }
            i++;
        }
        return found;
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** One more than the largest id in the model's vocabulary and the {@code added} tokens. */
    static int vocabSize(JsonNode root, Map<String, Integer> added) {
        int max = -1;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) { // WordLevel, WordPiece, BPE: token -> id
            for (Map.Entry<String, JsonNode> e : vocab.properties()) {
                if (e.getValue().canConvertToInt()) {
                    max = Math.max(max, e.getValue().asInt());
                }
            }
        } else if (vocab.isArray()) { // Unigram: [[piece, score], ...], ids by position
            max = vocab.size() - 1;
        }
        for (int id : added.values()) {
            max = Math.max(max, id);
        }
        return max + 1;
    }

    /**
     * The file's {@code added_tokens} with the ids the tokenizers library gives them, not the ids the file lists:
     * its deserializer (v0.21, the version DJL bundles) adds them in file order with {@code add_tokens}, only logging
     * a warning where an id differs. See {@link #addedId}; an empty content it skips, and a repeat keeps its first id.
     */
    static Map<String, Integer> addedTokens(JsonNode root) {
        Map<String, Integer> out = new HashMap<>();
        Function<String, Integer> vocab = vocabIds(root);
        for (JsonNode t : root.path("added_tokens").values()) {
            JsonNode content = t.path("content");
            if (content.isString() && !content.stringValue().isEmpty()) {
                out.put(content.stringValue(), addedId(root, vocab, out, content.stringValue()));
            }
        }
        return out;
    }

    /** {@link #vocabId} as a function, a Unigram's list read into a map once rather than searched per token. */
    private static Function<String, Integer> vocabIds(JsonNode root) {
        JsonNode vocab = root.path("model").path("vocab");
        if (!vocab.isArray()) {
            return token -> vocabId(root, token);
        }
        Map<String, Integer> ids = new HashMap<>();
        int i = 0;
        for (JsonNode piece : vocab.values()) {
            if (piece.path(0).isString()) {
                ids.put(piece.path(0).stringValue(), i); // a repeat takes the later id, as vocabId
            }
            i++;
        }
        return ids::get;
    }

    /**
     * The id the tokenizers library's {@code add_tokens} (v0.21) gives {@code content} after the {@code added}
     * tokens: the added token's own where it is one already, else the model vocabulary's, else the vocabulary's
     * size while every added id is below it (or none is added), else one past the largest added id.
     */
    private static int addedId(JsonNode root, Function<String, Integer> vocabIds, Map<String, Integer> added,
            String content) {
        Integer id = added.get(content);
        if (id == null) {
            id = vocabIds.apply(content);
        }
        if (id != null) {
            return id;
        }
        JsonNode vocab = root.path("model").path("vocab");
        int modelSize = vocab.isObject() || vocab.isArray() ? vocab.size() : 0;
        int max = added.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        return max < 0 ? modelSize : max >= modelSize || modelSize == 0 ? max + 1 : modelSize;
    }

    /**
     * The {@code added} tokens' ids as the loaded library has them: each token's content encoded alone, where that
     * gives one id spanning all of it. Otherwise (a normalized token holding a not-normalized one, which the library
     * splits out first, so that no text produces it) the id {@link #addedId} worked out stands. Asking the library
     * keeps moelab's ids those {@link HuggingFaceTokenizer#encode} returns should its rule differ from the one read
     * here.
     */
    static Map<String, Integer> libraryIds(ai.djl.huggingface.tokenizers.HuggingFaceTokenizer djl,
            Map<String, Integer> added) {
        Map<String, Integer> out = new HashMap<>(added);
        for (String content : added.keySet()) {
            ai.djl.huggingface.tokenizers.Encoding e;
            try {
                e = djl.encode(content, false, false);
            } catch (RuntimeException ex) {
                continue; // a split piece met a WordLevel unk_token missing from the vocabulary: as above
            }
            long[] ids = e.getIds();
            ai.djl.huggingface.tokenizers.jni.CharSpan[] spans = e.getCharTokenSpans();
            if (ids.length == 1 && spans.length == 1 && spans[0] != null && spans[0].getStart() == 0
                    && spans[0].getEnd() == content.codePointCount(0, content.length())) {
                out.put(content, Math.toIntExact(ids[0]));
            }
        }
        return out;
    }

    /**
     * {@code tokenizer_config.json} beside the file, or null when there is none (it is optional). One that cannot be
     * read is refused, as transformers refuses it: it decides which special tokens a text gets.
     */
    static JsonNode tokenizerConfig(Path tokenizerJson) {
        Path cfg = tokenizerJson.resolveSibling("tokenizer_config.json");
        if (!Files.exists(cfg)) {
            return null;
        }
        JsonNode n;
        try {
            n = JSON.readTree(TextFiles.readUtf8(cfg));
        } catch (JacksonException e) {
            throw new ModelFormatException(cfg.toString(), null, "not valid JSON: " + JsonProblems.describe(e));
        }
        if (n == null || !n.isObject()) {
            throw new ModelFormatException(cfg.toString(), null, "expected a JSON object");
        }
        return n;
    }

    static OptionalInt specialId(Map<String, JsonNode> special, String key, Map<String, Integer> added,
            List<String> names) {
        JsonNode v = special.get(key);
        if (v != null) {
            String content = tokenContent(v);
            if (content != null && added.containsKey(content)) {
                return OptionalInt.of(added.get(content));
            }
        }
        for (String n : names) {
            Integer id = added.get(n);
            if (id != null) {
                return OptionalInt.of(id);
            }
        }
        return OptionalInt.empty();
    }

    /** A token as the config gives it: a string, or an object's {@code content} string; else null. */
    private static String tokenContent(JsonNode token) {
        return token.isString() ? token.stringValue()
                : token.path("content").isString() ? token.path("content").stringValue() : null;
    }

    /** The tokens {@code special} names, {@code additional_special_tokens}' list entries one by one, in key order. */
    private static List<JsonNode> namedTokens(Map<String, JsonNode> special) {
        List<JsonNode> named = new ArrayList<>();
        for (JsonNode v : special.values()) {
            if (v.isArray()) {
                v.values().forEach(named::add);
            } else {
                named.add(v);
            }
        }
        return named;
    }

    /** The file's {@code added_tokens} list, made (empty) where it has none or something else under the key. */
    private static ArrayNode addedTokenList(ObjectNode root) {
        if (!(root.get("added_tokens") instanceof ArrayNode)) {
            root.set("added_tokens", JSON.createArrayNode());
        }
        return (ArrayNode) root.get("added_tokens");
    }
}
