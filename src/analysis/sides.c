/* The rules that make up a side: what switching a player means, which
 * pipeline a framework feeds its model, what a pipeline hands over, and the
 * input contract a profile states. */
#include <stdio.h>
#include <string.h>

#include "analysis/analysis.h"
#include "factors/factors.h"

void mnv3_side_switch(const mnv3_side *a, const mnv3_side *b, const mnv3_switch *sw, int n_sw,
                      unsigned mask, mnv3_side *out) {
    *out = *a;
    for (int i = 0; i < n_sw; i++) {
        if (!(mask & (1u << i))) continue;
        switch (sw[i].kind) {
        case MNV3_SWITCH_WEIGHTS: out->model = b->model; break;
        case MNV3_SWITCH_INPUT:
            out->input = b->input;
            out->input_label = b->input_label;
            out->profile.option[MNV3_FACTOR_INPUT_RESCALE] =
                b->profile.option[MNV3_FACTOR_INPUT_RESCALE];
            break;
        case MNV3_SWITCH_FACTORS:
            for (int f = 0; f < MNV3_FACTOR_COUNT; f++)
                if (sw[i].factors & MNV3_FACTOR_BIT(f)) out->profile.option[f] = b->profile.option[f];
            break;
        }
    }
}

/* Frameworks whose models rescale pixels inside are fed by Keras's loader;
 * the others by torchvision's ImageNet transforms. */
static const struct {
    const char *profile, *pipeline;
} default_pipelines[] = {
    {"torch", "torchvision-imagenet"}, {"timm-tf", "torchvision-imagenet"},
    {"keras", "keras-mnv3"},           {"tf-keras", "keras-mnv3"},
    {"litert", "keras-mnv3"},
};

const char *mnv3_default_pipeline(const char *profile_name) {
    for (size_t i = 0; i < sizeof default_pipelines / sizeof default_pipelines[0]; i++)
        if (!strcmp(profile_name, default_pipelines[i].profile)) return default_pipelines[i].pipeline;
    return "torchvision-imagenet";
}

int mnv3_pipeline_is_raw(const char *pipeline) {
    size_t len = strlen(pipeline);
    return len >= 4 && !strcmp(pipeline + len - 4, "-raw");
}

void mnv3_profile_after_pipeline(mnv3_profile *p, const char *pipeline) {
    if (!mnv3_pipeline_is_raw(pipeline)) p->option[MNV3_FACTOR_INPUT_RESCALE] = MNV3_RESCALE_NONE;
}

int mnv3_input_contract(const mnv3_profile *p, mnv3_layout layout, char *buf, size_t size) {
    int rescale = p->option[MNV3_FACTOR_INPUT_RESCALE];
    const char *layout_name = layout == MNV3_NHWC ? "nhwc [N, H, W, 3]" : "nchw [N, 3, H, W]";
    if (rescale == MNV3_RESCALE_NONE)
        return snprintf(buf, size, "layout %s; input_rescale=none: the model takes the input as "
                        "it is (already normalised)", layout_name);
    return snprintf(buf, size, "layout %s; input_rescale=%s (%s): the model rescales inside, so "
                    "it expects 0..255 pixels, not normalised values (--set input_rescale=none "
                    "for those)", layout_name,
                    mnv3_factor_option_name(MNV3_FACTOR_INPUT_RESCALE, rescale),
                    mnv3_factor_option_description(MNV3_FACTOR_INPUT_RESCALE, rescale));
}
