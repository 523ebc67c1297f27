/* What a Keras model config (the JSON of an .h5's model_config attribute or
 * a .keras archive's config.json) says about BatchNorm: every object whose
 * "class_name" is "BatchNormalization", at any depth (nested models too),
 * and the "epsilon" of its "config". The model check turns the facts into
 * problems: an epsilon <= 0 makes both frameworks divide by sqrt(var + eps)
 * of a zero or negative number, and one other than MobileNetV3's is another
 * function than the one mnv3 computes. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "formats/formats.h"

/* cJSON refuses nesting past CJSON_NESTING_LIMIT (1000) while parsing, so
 * this walk's recursion is bounded by that. */
static void scan(const cJSON *node, mnv3_config_facts *facts) {
    if (cJSON_IsObject(node)) {
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(node, "class_name");
        if (cJSON_IsString(cls) && !strcmp(cls->valuestring, "BatchNormalization")) {
            const cJSON *config = cJSON_GetObjectItemCaseSensitive(node, "config");
            const cJSON *eps = cJSON_GetObjectItemCaseSensitive(config, "epsilon");
            facts->bn_layers++;
            if (!cJSON_IsNumber(eps) || !isfinite(eps->valuedouble) || eps->valuedouble <= 0) {
                facts->bn_eps_invalid++;
            } else {
                double e = eps->valuedouble;
                int first = facts->bn_layers - facts->bn_eps_invalid == 1;
                if (first || e < facts->bn_eps_min) facts->bn_eps_min = e;
                if (first || e > facts->bn_eps_max) facts->bn_eps_max = e;
            }
        }
    }
    if (cJSON_IsObject(node) || cJSON_IsArray(node))
        for (const cJSON *child = node->child; child; child = child->next) scan(child, facts);
}

void mnv3_config_scan_json(const char *json, size_t len, mnv3_config_facts *facts) {
    memset(facts, 0, sizeof *facts);
    cJSON *root = len <= MNV3_FORMATS_MAX_JSON_HEADER ? cJSON_ParseWithLength(json, len) : NULL;
    if (!root) {
        facts->present = -1;
        return;
    }
    facts->present = 1;
    scan(root, facts);
    cJSON_Delete(root);
}
