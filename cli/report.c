/* Terminal, JSON and HTML reports for compare and explain. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

void cli_print_agreement(const cli_agreement *g) {
    printf("\nfinal output, B against A over %d sample(s): relative L2 %.3g, max abs %.3g\n",
           g->samples, g->rel_l2, g->max_abs);
    if (!g->has_classes) return;
    printf("  top-1 agreement %d/%d, top-5 identical order %d/%d, top-5 overlap %.1f%%, "
           "argmax flips %d, mean KL(A||B) %.3g nats\n",
           g->top1_agree, g->samples, g->top5_same_order, g->samples, 100 * g->top5_overlap,
           g->samples - g->top1_agree, g->kl_mean);
}

void cli_print_explain(const cli_compare *c, const mnv3_attribution *at) {
    printf("A: %s\nB: %s\n", cli_safe(c->side[0].label), cli_safe(c->side[1].label));
    if (c->note[0]) printf("note: %s\n", c->note);
    printf("\ndistance(B, A) = relative L2 of the final outputs = %.4g\n\n", at->total);
    if (!at->n_factors) {
        printf("the two sides do not differ in any factor\n");
        return;
    }
    /* rank by |Shapley| */
    int order[MNV3_MAX_EXPLAIN_FACTORS];
    for (int i = 0; i < at->n_factors; i++) order[i] = i;
    for (int i = 0; i < at->n_factors; i++)
        for (int j = i + 1; j < at->n_factors; j++)
            if (fabs(at->shapley[order[j]]) > fabs(at->shapley[order[i]])) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    printf("%-14s %-44s %10s %10s %10s %7s\n", "factor", "A -> B", "Shapley", "alone",
           "last", "share");
    double sum = 0;
    for (int r = 0; r < at->n_factors; r++) {
        int i = order[r];
        sum += at->shapley[i];
        printf("%-14s %-44s %10.3g %10.3g %10.3g %6.1f%%\n", at->name[i], at->detail[i],
               at->shapley[i], at->alone[i], at->last[i],
               at->total > 0 ? 100 * at->shapley[i] / at->total : 0.0);
    }
    printf("%-14s %-44s %10.4g\n", "sum", "", sum);
    printf("\nShapley values over all %d subsets of the %d factors (%d model runs): they add up "
           "to the\ntotal exactly (efficiency). 'alone' = A with only that factor switched; "
           "'last' = B with\nonly that factor switched back. Both distances are relative L2 "
           "against A and B.\n",
           1 << at->n_factors, at->n_factors, at->runs);
}

static cJSON *side_json(const cli_side *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "label", s->label);
    if (s->model) {
        cJSON *f = cJSON_AddObjectToObject(o, "factors");
        for (int i = 0; i < mnv3_factor_count(); i++)
            cJSON_AddStringToObject(f, mnv3_factor_name(i),
                                    mnv3_factor_option_name(i, s->profile.option[i]));
    }
    return o;
}

static cJSON *layers_json(const mnv3_tensors *a, const mnv3_tensors *b) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < a->count; i++) {
        const mnv3_tensor *x = &a->items[i], *y = mnv3_tensors_find(b, x->name);
        if (!y || mnv3_tensor_numel(x) != mnv3_tensor_numel(y)) continue;
        mnv3_diff d;
        mnv3_diff_compute(y->data, x->data, mnv3_tensor_numel(x), &d);
        cJSON_AddItemToArray(arr, cli_diff_json(x->name, &d));
    }
    return arr;
}

cJSON *cli_compare_json(const cli_compare *c, const char *first, double ratio,
                        const cli_agreement *g) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "mnv3.compare/1");
    cJSON_AddItemToObject(root, "a", side_json(&c->side[0]));
    cJSON_AddItemToObject(root, "b", side_json(&c->side[1]));
    if (c->note[0]) cJSON_AddStringToObject(root, "note", c->note);
    cJSON_AddItemToObject(root, "layers", layers_json(&c->side[0].dump, &c->side[1].dump));
    if (first) {
        cJSON_AddStringToObject(root, "first_divergent_layer", first);
        cJSON_AddNumberToObject(root, "first_divergent_ratio", ratio);
    } else cJSON_AddNullToObject(root, "first_divergent_layer");
    if (g) {
        cJSON *o = cJSON_AddObjectToObject(root, "output");
        cJSON_AddNumberToObject(o, "samples", g->samples);
        cJSON_AddNumberToObject(o, "rel_l2", g->rel_l2);
        cJSON_AddNumberToObject(o, "max_abs", g->max_abs);
        if (g->has_classes) {
            cJSON_AddNumberToObject(o, "top1_agree", g->top1_agree);
            cJSON_AddNumberToObject(o, "top5_same_order", g->top5_same_order);
            cJSON_AddNumberToObject(o, "top5_overlap", g->top5_overlap);
            cJSON_AddNumberToObject(o, "argmax_flips", g->samples - g->top1_agree);
            cJSON_AddNumberToObject(o, "kl_mean", g->kl_mean);
        }
    }
    return root;
}

cJSON *cli_explain_json(const cli_compare *c, const mnv3_attribution *at) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "mnv3.explain/1");
    cJSON_AddItemToObject(root, "a", side_json(&c->side[0]));
    cJSON_AddItemToObject(root, "b", side_json(&c->side[1]));
    if (c->note[0]) cJSON_AddStringToObject(root, "note", c->note);
    cJSON_AddNumberToObject(root, "total", at->total);
    cJSON_AddStringToObject(root, "distance", "relative L2 of the final outputs, reference A");
    cJSON_AddStringToObject(root, "method", at->exact ? "exact Shapley over all subsets"
                                                      : "one at a time");
    cJSON_AddNumberToObject(root, "runs", at->runs);
    cJSON *arr = cJSON_AddArrayToObject(root, "factors");
    double sum = 0;
    for (int i = 0; i < at->n_factors; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "factor", at->name[i]);
        cJSON_AddStringToObject(e, "change", at->detail[i]);
        cJSON_AddNumberToObject(e, "shapley", at->shapley[i]);
        cJSON_AddNumberToObject(e, "alone", at->alone[i]);
        cJSON_AddNumberToObject(e, "last", at->last[i]);
        cJSON_AddItemToArray(arr, e);
        sum += at->shapley[i];
    }
    cJSON_AddNumberToObject(root, "shapley_sum", sum);
    return root;
}

/* ---- HTML ------------------------------------------------------------------ */

static void html_text(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else fputc(*s, f);
    }
}

typedef struct curve {
    char label[96];
    double value[512];
    int n;
} curve;

static void curve_of(const mnv3_tensors *a, const mnv3_tensors *b, const char *label, curve *cv) {
    snprintf(cv->label, sizeof cv->label, "%s", label);
    cv->n = 0;
    for (size_t i = 0; i < a->count && cv->n < 512; i++) {
        const mnv3_tensor *x = &a->items[i], *y = mnv3_tensors_find(b, x->name);
        int comparable = y && mnv3_tensor_numel(x) == mnv3_tensor_numel(y);
        cv->value[cv->n++] =
            comparable ? mnv3_rel_l2(y->data, x->data, (size_t)mnv3_tensor_numel(x)) : NAN;
    }
}

static const char *palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

/* Per-layer relative L2 on a log axis, one polyline per curve. Each polyline
 * carries its values (data-rel-l2, full precision, in the order of the svg's
 * data-layers) so that a reader or a test gets the numbers, not pixels. */
static void svg_curves(FILE *f, const curve *cv, int n_curves, const mnv3_tensors *names) {
    /* B leaves room for the layer names, written at -60 degrees */
    const int W = 900, H = 400, L = 60, R = 10, T = 10, B = 110;
    const double lo = -9, hi = 1, label_gap = 14; /* px between two layer names */
    int n = cv[0].n;
    double step = (double)(W - L - R) / (n > 1 ? n - 1 : 1);
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
               "font-family='sans-serif' font-size='11' data-layers='", W, H + 20 * n_curves);
    for (int i = 0; i < n && (size_t)i < names->count; i++) {
        fprintf(f, i ? " " : "");
        html_text(f, names->items[i].name);
    }
    fprintf(f, "'>\n");
    for (int e = (int)lo; e <= (int)hi; e++) {
        double y = T + (hi - e) / (hi - lo) * (H - T - B);
        fprintf(f, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#ddd'/>"
                   "<text x='4' y='%.1f'>1e%d</text>\n", L, W - R, y, y, y + 4, e);
    }
    for (int c = 0; c < n_curves; c++) {
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.5' data-label='",
                palette[c % 10]);
        html_text(f, cv[c].label);
        fprintf(f, "' data-rel-l2='");
        for (int i = 0; i < n; i++) fprintf(f, i ? " %.17g" : "%.17g", cv[c].value[i]);
        fprintf(f, "' points='");
        for (int i = 0; i < n; i++) {
            double v = cv[c].value[i];
            double lv = !(v > 0) ? lo : log10(v) < lo ? lo : log10(v) > hi ? hi : log10(v);
            fprintf(f, "%.1f,%.1f ", L + i * step, T + (hi - lv) / (hi - lo) * (H - T - B));
        }
        fprintf(f, "'/>\n<rect x='%d' y='%d' width='12' height='4' fill='%s'/>"
                   "<text x='%d' y='%d'>", L, H + 20 * c + 2, palette[c % 10], L + 18, H + 20 * c + 7);
        html_text(f, cv[c].label);
        fprintf(f, "</text>\n");
    }
    /* every k-th layer name, k chosen so that neighbours stay label_gap apart */
    int every = step >= label_gap ? 1 : (int)ceil(label_gap / step);
    for (int i = 0; i < n && (size_t)i < names->count; i += every) {
        double x = L + i * step, y = H - B + 10;
        fprintf(f, "<line x1='%.1f' x2='%.1f' y1='%d' y2='%d' stroke='#999'/>"
                   "<text x='%.1f' y='%.1f' text-anchor='end' transform='rotate(-60 %.1f %.1f)'>",
                x, x, H - B, H - B + 4, x, y, x, y);
        html_text(f, names->items[i].name);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</svg>\n");
}

static void svg_bars(FILE *f, const mnv3_attribution *at) {
    const int W = 900, row = 26, L = 170;
    double max = 0;
    for (int i = 0; i < at->n_factors; i++) {
        max = fabs(at->shapley[i]) > max ? fabs(at->shapley[i]) : max;
        max = at->alone[i] > max ? at->alone[i] : max;
    }
    if (!(max > 0)) max = 1;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
               "font-family='sans-serif' font-size='12'>\n", W, row * at->n_factors + 30);
    for (int i = 0; i < at->n_factors; i++) {
        int y = 10 + row * i;
        double ws = fabs(at->shapley[i]) / max * (W - L - 120), wa = at->alone[i] / max * (W - L - 120);
        fprintf(f, "<text x='4' y='%d'>", y + 14);
        html_text(f, at->name[i]);
        fprintf(f, "</text><rect x='%d' y='%d' width='%.1f' height='10' fill='%s'/>"
                   "<rect x='%d' y='%d' width='%.1f' height='6' fill='#aaa'/>"
                   "<text x='%.1f' y='%d'>%.3g</text>\n",
                L, y + 2, ws, at->shapley[i] >= 0 ? "#1f77b4" : "#d62728", L, y + 14, wa,
                L + (ws > wa ? ws : wa) + 6, y + 12, at->shapley[i]);
    }
    fprintf(f, "<text x='%d' y='%d'>blue: Shapley contribution; grey: factor switched alone</text>"
               "</svg>\n", L, row * at->n_factors + 24);
}

/* Histogram of ULP distances (log2 buckets) between the two final outputs. */
static void svg_ulp_histogram(FILE *f, const float *a, const float *b, size_t n) {
    int bucket[34] = {0};
    for (size_t i = 0; i < n; i++) {
        uint64_t u = mnv3_ulp_distance(a[i], b[i]);
        int k = 0;
        while (u && k < 33) u >>= 1, k++;
        bucket[k]++;
    }
    int max = 1;
    for (int k = 0; k < 34; k++) max = bucket[k] > max ? bucket[k] : max;
    const int W = 900, H = 200, bw = 24;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
               "font-family='sans-serif' font-size='10'>\n", W, H + 30);
    for (int k = 0; k < 34; k++) {
        double h = (double)bucket[k] / max * H;
        fprintf(f, "<rect x='%d' y='%.1f' width='%d' height='%.1f' fill='#1f77b4'/>"
                   "<text x='%d' y='%d' text-anchor='middle'>%s%d</text>\n",
                10 + k * (bw + 2), H - h, bw, h, 10 + k * (bw + 2) + bw / 2, H + 14,
                k ? "2^" : "", k ? k - 1 : 0);
    }
    fprintf(f, "</svg>\n");
}

int cli_write_compare_html(const char *path, const cli_compare *c, const char *first,
                           double ratio, const cli_agreement *g, const mnv3_attribution *at) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "mnv3: %s: cannot write\n", path);
        return 1;
    }
    fprintf(f, "<!DOCTYPE html><html><head><meta charset='utf-8'><title>mnv3 report</title>"
               "<style>body{font-family:sans-serif;max-width:960px;margin:20px auto;color:#222}"
               "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
               "text-align:right}td:first-child,th:first-child{text-align:left}"
               "code{background:#f4f4f4}</style></head><body>\n<h1>mnv3: do the two sides differ, "
               "by how much, and why</h1>\n<p><b>A</b>: ");
    html_text(f, c->side[0].label);
    fprintf(f, "<br><b>B</b>: ");
    html_text(f, c->side[1].label);
    fprintf(f, "</p>\n");
    if (c->note[0]) {
        fprintf(f, "<p><i>");
        html_text(f, c->note);
        fprintf(f, "</i></p>\n");
    }
    if (g) {
        fprintf(f, "<h2>Agreement of the final outputs</h2><table><tr><th>measure</th><th>value</th></tr>"
                   "<tr><td>relative L2 (B vs A)</td><td>%.4g</td></tr>"
                   "<tr><td>max abs</td><td>%.4g</td></tr>", g->rel_l2, g->max_abs);
        if (g->has_classes)
            fprintf(f, "<tr><td>top-1 agreement</td><td>%d / %d</td></tr>"
                       "<tr><td>top-5 identical order</td><td>%d / %d</td></tr>"
                       "<tr><td>top-5 overlap</td><td>%.1f%%</td></tr>"
                       "<tr><td>argmax flips</td><td>%d</td></tr>"
                       "<tr><td>mean KL(A||B)</td><td>%.4g nats</td></tr>",
                    g->top1_agree, g->samples, g->top5_same_order, g->samples,
                    100 * g->top5_overlap, g->samples - g->top1_agree, g->kl_mean);
        fprintf(f, "</table>\n");
    }
    fprintf(f, "<h2>First divergent layer</h2><p>%s", first ? "" : "none");
    if (first) {
        html_text(f, first);
        fprintf(f, " (%.3g&times; the float32 accumulation floor)", ratio);
    }
    fprintf(f, "</p><p>Definition: the first layer whose relative L2 exceeds 10&times; the larger "
               "of the two sides' float32-vs-float64 distance there (at least 1e-7).</p>\n");

    /* Per-layer error curves: B vs A, and A with each factor switched alone. */
    int max_curves = 1 + (at ? at->n_factors : 0);
    curve *cv = calloc((size_t)max_curves, sizeof *cv);
    int nc = 0;
    if (cv) {
        curve_of(&c->side[0].dump, &c->side[1].dump, "B vs A (all differences)", &cv[nc++]);
        mnv3_side a = cli_side_view(c, 0), b = cli_side_view(c, 1);
        for (int i = 0; at && i < at->n_factors && c->side[0].model; i++) {
            mnv3_side alone;
            mnv3_side_switch(&a, &b, at->what, at->n_factors, 1u << i, &alone);
            mnv3_tensors taps;
            mnv3_error err;
            float *y = malloc((size_t)c->n * (size_t)mnv3_output_size(alone.model) * sizeof *y);
            if (y && cli_side_run(c, &alone, &taps, y, &err) == MNV3_OK) {
                char label[96];
                snprintf(label, sizeof label, "A with only %s switched", at->name[i]);
                curve_of(&c->side[0].dump, &taps, label, &cv[nc++]);
                mnv3_tensors_free(&taps);
            }
            free(y);
        }
        fprintf(f, "<h2>Per-layer relative L2 against A</h2>\n");
        svg_curves(f, cv, nc, &c->side[0].dump);
        free(cv);
    }
    if (at) {
        fprintf(f, "<h2>Attribution</h2><p>Distance(B, A) = relative L2 of the final outputs = "
                   "%.4g. Shapley values over all %d subsets of the %d differing factors add up "
                   "to it exactly.</p>\n", at->total, 1 << at->n_factors, at->n_factors);
        svg_bars(f, at);
        fprintf(f, "<table><tr><th>factor</th><th>A &rarr; B</th><th>Shapley</th><th>alone</th>"
                   "<th>last</th></tr>\n");
        for (int i = 0; i < at->n_factors; i++) {
            fprintf(f, "<tr><td>");
            html_text(f, at->name[i]);
            fprintf(f, "</td><td>");
            html_text(f, at->detail[i]);
            fprintf(f, "</td><td>%.4g</td><td>%.4g</td><td>%.4g</td></tr>\n", at->shapley[i],
                    at->alone[i], at->last[i]);
        }
        fprintf(f, "</table>\n");
    }
    if (c->side[0].output && c->side[1].output && c->side[0].model &&
        mnv3_output_size(c->side[0].model) == mnv3_output_size(c->side[1].model)) {
        fprintf(f, "<h2>ULP distance of the final outputs (B vs A), log2 buckets</h2>\n");
        svg_ulp_histogram(f, c->side[0].output, c->side[1].output,
                          (size_t)c->n * (size_t)mnv3_output_size(c->side[0].model));
    }
    fprintf(f, "<p><small>Generated by mnv3; self-contained, no network.</small></p></body></html>\n");
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad) fprintf(stderr, "mnv3: %s: write failed\n", path);
    return bad ? 1 : 0;
}
