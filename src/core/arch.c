/* Architectures as data: a block table per variant. Large, other widths and
 * the minimalistic variant are more tables, not more code. */
#include <string.h>

#include "mnv3.h"

/* MobileNetV3-Small, width 1.0 (torchvision _mobilenet_v3_conf and Keras
 * MobileNetV3Small.stack_fn give the same widths at alpha = 1). */
static const mnv3_block_spec small_blocks[] = {
    /* in  k  exp  out  se  stride act */
    {16, 3, 16, 16, 1, 2, MNV3_ACT_RELU},
    {16, 3, 72, 24, 0, 2, MNV3_ACT_RELU},
    {24, 3, 88, 24, 0, 1, MNV3_ACT_RELU},
    {24, 5, 96, 40, 1, 2, MNV3_ACT_HSWISH},
    {40, 5, 240, 40, 1, 1, MNV3_ACT_HSWISH},
    {40, 5, 240, 40, 1, 1, MNV3_ACT_HSWISH},
    {40, 5, 120, 48, 1, 1, MNV3_ACT_HSWISH},
    {48, 5, 144, 48, 1, 1, MNV3_ACT_HSWISH},
    {48, 5, 288, 96, 1, 2, MNV3_ACT_HSWISH},
    {96, 5, 576, 96, 1, 1, MNV3_ACT_HSWISH},
    {96, 5, 576, 96, 1, 1, MNV3_ACT_HSWISH},
};

void mnv3_arch_small(mnv3_arch *arch, int num_classes) {
    memset(arch, 0, sizeof *arch);
    strcpy(arch->name, "mobilenet_v3_small");
    arch->stem_out = 16;
    arch->stem_act = MNV3_ACT_HSWISH;
    arch->n_blocks = (int)(sizeof small_blocks / sizeof small_blocks[0]);
    memcpy(arch->blocks, small_blocks, sizeof small_blocks);
    arch->last_out = 576;
    arch->last_act = MNV3_ACT_HSWISH;
    arch->head_hidden = 1024;
    arch->num_classes = num_classes;
    arch->bn_eps = 0.001f;
}
