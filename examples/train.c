/*
 * train: a small training loop that versions its data and tracks itself
 * with libmlops.
 *
 * First it commits the directory holding the CSV as dataset "breast-cancer"
 * (a rerun finds it unchanged and reuses the version). Then it trains
 * logistic regression (batch gradient descent, standardised features) on the
 * breast cancer table for three learning rates; each training is one run
 * that logs its params (the dataset version among them), the loss and
 * accuracy of every epoch, and the trained weights as an artifact. Then it
 * searches the runs for the best validation accuracy, registers that run's
 * model in the model registry with its lineage (run and dataset version)
 * and points the alias "production" at it. Last, it checks a "production"
 * sample (the held-out rows, with three size features read half a standard
 * deviation high, as from a recalibrated imaging device) for drift against the training
 * rows, prints the drift report, and stores it with a profile of the
 * training data's mean radius.
 *
 *   train [CSV [STORE_DIR]]
 *
 * Build: cc train.c $(pkg-config --cflags --libs libmlops) -lm
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mlops.h>

#ifndef EXAMPLE_DATA
#define EXAMPLE_DATA "examples/data/breast_cancer.csv"
#endif

#define MAX_ROWS 1024
#define MAX_COLS 64
#define EPOCHS 60

typedef struct table {
    double x[MAX_ROWS][MAX_COLS];
    int y[MAX_ROWS];
    int rows, cols;
    char names[MAX_COLS + 1][64]; /* from the header; the target's last */
} table;

static int fail(const char *what, int rc)
{
    fprintf(stderr, "train: %s: %s (%s)\n", what, mlops_error_last(), mlops_error_name(rc));
    return 1;
}

/* Reads the CSV (header, numeric features, 0/1 target last) and
 * standardises every feature. */
static int load(table *t, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[8192];
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    int nnames = 0;
    for (char *tok = strtok(line, ",\r\n"); tok && nnames <= MAX_COLS; tok = strtok(NULL, ",\r\n"))
        snprintf(t->names[nnames++], sizeof t->names[0], "%s", tok);
    t->rows = 0;
    while (t->rows < MAX_ROWS && fgets(line, sizeof line, f)) {
        double v[MAX_COLS + 1];
        int n = 0;
        for (char *tok = strtok(line, ",\n"); tok && n <= MAX_COLS; tok = strtok(NULL, ",\n"))
            v[n++] = atof(tok);
        if (n < 2)
            continue;
        t->cols = n - 1;
        memcpy(t->x[t->rows], v, sizeof(double) * (size_t)t->cols);
        t->y[t->rows++] = (int)v[n - 1];
    }
    fclose(f);
    for (int c = 0; c < t->cols; c++) {
        double mean = 0, var = 0;
        for (int r = 0; r < t->rows; r++)
            mean += t->x[r][c] / t->rows;
        for (int r = 0; r < t->rows; r++)
            var += (t->x[r][c] - mean) * (t->x[r][c] - mean) / t->rows;
        double sd = var > 0 ? sqrt(var) : 1;
        for (int r = 0; r < t->rows; r++)
            t->x[r][c] = (t->x[r][c] - mean) / sd;
    }
    return t->rows > 0 && nnames == t->cols + 1 ? 0 : -1;
}

static double predict(const double *w, const double *x, int cols)
{
    double z = w[cols];
    for (int c = 0; c < cols; c++)
        z += w[c] * x[c];
    return 1 / (1 + exp(-z));
}

/* Loss and accuracy over rows [from, to). */
static void evaluate(const table *t, const double *w, int from, int to, double *loss, double *acc)
{
    double l = 0;
    int right = 0;
    for (int r = from; r < to; r++) {
        double p = predict(w, t->x[r], t->cols);
        l -= t->y[r] ? log(p + 1e-12) : log(1 - p + 1e-12);
        right += (p >= 0.5) == (t->y[r] == 1);
    }
    *loss = l / (to - from);
    *acc = (double)right / (to - from);
}

/* One run: trains on the first 80% of rows, validates on the rest. */
static int train_run(mlops_store *s, const char *experiment_id, const table *t, double lr,
                     const char *dataset_ref, const char *snapshot_id)
{
    char name[32], value[32];
    snprintf(name, sizeof name, "lr-%g", lr);
    mlops_run_options o = MLOPS_RUN_OPTIONS_INIT;
    o.run_name = name;
    mlops_run *run = NULL;
    int rc = mlops_run_start(&run, s, experiment_id, &o);
    if (rc < 0)
        return fail("start run", rc);
    snprintf(value, sizeof value, "%g", lr);
    if ((rc = mlops_run_log_param(run, "lr", value)) < 0 || (rc = mlops_run_log_param(run, "epochs", "60")) < 0 ||
        (rc = mlops_run_log_param(run, "dataset", dataset_ref)) < 0 ||
        (rc = mlops_run_set_tag(run, "mlops.dataset.id", snapshot_id)) < 0) {
        mlops_run_free(run);
        return fail("log params", rc);
    }
    double w[MAX_COLS + 1] = { 0 };
    int split = t->rows * 4 / 5;
    for (int epoch = 0; epoch < EPOCHS && rc == 0; epoch++) {
        double grad[MAX_COLS + 1] = { 0 };
        for (int r = 0; r < split; r++) {
            double err = predict(w, t->x[r], t->cols) - t->y[r];
            for (int c = 0; c < t->cols; c++)
                grad[c] += err * t->x[r][c] / split;
            grad[t->cols] += err / split;
        }
        for (int c = 0; c <= t->cols; c++)
            w[c] -= lr * grad[c];
        double loss, acc, val_loss, val_acc;
        evaluate(t, w, 0, split, &loss, &acc);
        evaluate(t, w, split, t->rows, &val_loss, &val_acc);
        if ((rc = mlops_run_log_metric(run, "loss", loss, epoch, -1)) == 0 &&
            (rc = mlops_run_log_metric(run, "val_loss", val_loss, epoch, -1)) == 0)
            rc = mlops_run_log_metric(run, "val_acc", val_acc, epoch, -1);
    }
    /* the trained model: the weights as text */
    char model[64];
    snprintf(model, sizeof model, "model-%s.txt", name);
    FILE *f = fopen(model, "w");
    for (int c = 0; f && c <= t->cols; c++)
        fprintf(f, "%.17g\n", w[c]);
    if (f)
        fclose(f);
    mlops_oid id;
    if (rc == 0)
        rc = mlops_run_log_artifact(&id, run, model, "model.txt");
    remove(model);
    if (rc == 0)
        rc = mlops_run_end(run, MLOPS_RUN_FINISHED);
    mlops_run_free(run);
    return rc < 0 ? fail("training run", rc) : 0;
}

/* Registers the best run's model as the next version of the registered
 * model "breast-cancer-logreg", with its lineage (the run and the dataset
 * version it was trained on), and points the alias "production" at it. */
static int promote(mlops_store *s, const mlops_run_info *best, const char *dataset_ref)
{
    const mlops_artifact *model = NULL;
    for (size_t i = 0; i < best->nartifacts; i++)
        if (strcmp(best->artifacts[i].name, "model.txt") == 0)
            model = &best->artifacts[i];
    if (!model) {
        fprintf(stderr, "train: run %s has no model.txt\n", best->run_id);
        return -1;
    }
    int rc = mlops_registry_create_model(NULL, s, "breast-cancer-logreg", "logistic regression, examples/train",
                                         NULL, 0);
    if (rc < 0 && rc != MLOPS_EEXISTS) /* a rerun adds a version to the same model */
        return fail("create registered model", rc);
    mlops_registry_register_options o = MLOPS_REGISTRY_REGISTER_OPTIONS_INIT;
    o.artifact = &model->id;
    o.run_id = best->run_id;
    o.dataset = dataset_ref;
    mlops_registry_version *v = NULL;
    if ((rc = mlops_registry_register(&v, s, "breast-cancer-logreg", &o)) < 0)
        return fail("register model", rc);
    rc = mlops_registry_set_alias(s, "breast-cancer-logreg", "production", v->version);
    if (rc == 0)
        printf("registered breast-cancer-logreg/%llu (run %s, dataset %s) as @production\n",
               (unsigned long long)v->version, v->run_id, v->dataset);
    mlops_registry_version_free(v);
    return rc < 0 ? fail("set alias", rc) : 0;
}

/* The held-out rows as "production" data, with three size features read
 * half a standard deviation high, as from a recalibrated imaging device. */
#define SHIFTED(c) ((c) == 0 || (c) == 2 || (c) == 3) /* mean radius, perimeter, area */

/* One column per feature plus the diagnosis (a category): reference from
 * rows [0, split), current from [split, rows). */
static void drift_columns(const table *t, int split, double *ref_x, double *cur_x, int64_t *ref_y, int64_t *cur_y,
                          mlops_drift_column *ref, mlops_drift_column *cur)
{
    int nref = split, ncur = t->rows - split;
    for (int c = 0; c < t->cols; c++) {
        for (int r = 0; r < t->rows; r++) {
            if (r < split)
                ref_x[c * nref + r] = t->x[r][c];
            else
                cur_x[c * ncur + r - split] = t->x[r][c] + (SHIFTED(c) ? 0.5 : 0.0);
        }
        ref[c] = (mlops_drift_column){ t->names[c], MLOPS_DRIFT_NUMERIC, ref_x + c * nref, NULL, (size_t)nref };
        cur[c] = (mlops_drift_column){ t->names[c], MLOPS_DRIFT_NUMERIC, cur_x + c * ncur, NULL, (size_t)ncur };
    }
    for (int r = 0; r < t->rows; r++) {
        if (r < split)
            ref_y[r] = t->y[r];
        else
            cur_y[r - split] = t->y[r];
    }
    ref[t->cols] = (mlops_drift_column){ t->names[t->cols], MLOPS_DRIFT_CATEGORICAL, NULL, ref_y, (size_t)nref };
    cur[t->cols] = (mlops_drift_column){ t->names[t->cols], MLOPS_DRIFT_CATEGORICAL, NULL, cur_y, (size_t)ncur };
}

static void print_report(const mlops_drift_report *r)
{
    printf("drift report (production sample vs training data, Benjamini-Hochberg):\n");
    printf("  %-24s %-10s %10s %12s  %s\n", "column", "test", "statistic", "p (BH)", "drift");
    for (size_t i = 0; i < r->ncolumns; i++) {
        const mlops_drift_column_result *c = &r->columns[i];
        printf("  %-24s %-10s %10.4f %12.3g  %s\n", c->name, mlops_drift_stattest_name(c->test), c->statistic,
               c->pvalue_corrected, c->drifted ? "DRIFT" : "-");
    }
    printf("  %zu of %zu columns drifted (%.0f%%): %s\n", r->ndrifted, r->ncolumns, 100 * r->share_drifted,
           r->dataset_drift ? "dataset drift" : "no dataset drift");
}

/* Checks production data for drift against the training rows, prints the
 * report and stores it, with a profile of the training mean radius that
 * later checks can compare against without the training data. */
static int check_drift(mlops_store *s, const table *t)
{
    int split = t->rows * 4 / 5, nc = t->cols + 1;
    double *ref_x = malloc(sizeof(double) * (size_t)t->rows * (size_t)t->cols);
    double *cur_x = malloc(sizeof(double) * (size_t)t->rows * (size_t)t->cols);
    int64_t *ref_y = malloc(sizeof(int64_t) * (size_t)t->rows), *cur_y = malloc(sizeof(int64_t) * (size_t)t->rows);
    mlops_drift_column *ref = malloc(sizeof *ref * (size_t)nc), *cur = malloc(sizeof *cur * (size_t)nc);
    int rc = MLOPS_ENOMEM;
    mlops_drift_report *report = NULL;
    mlops_drift_profile *profile = NULL, *production = NULL;
    if (!ref_x || !cur_x || !ref_y || !cur_y || !ref || !cur)
        goto out;
    drift_columns(t, split, ref_x, cur_x, ref_y, cur_y, ref, cur);
    mlops_drift_report_options o = MLOPS_DRIFT_REPORT_OPTIONS_INIT;
    o.correction = MLOPS_DRIFT_CORRECTION_BH;
    if ((rc = mlops_drift_report_run(&report, ref, (size_t)nc, cur, (size_t)nc, &o)) < 0)
        goto out;
    print_report(report);
    mlops_oid report_id, profile_id;
    char hex[MLOPS_OID_HEXSZ + 1];
    if ((rc = mlops_drift_report_save(&report_id, s, report)) < 0)
        goto out;
    mlops_oid_tohex(hex, &report_id);
    printf("drift report stored as object %s\n", hex);
    /* A profile of the training column, saved; production data is later
     * compared with the loaded profile alone. */
    if ((rc = mlops_drift_profile_new(&profile, NULL)) < 0 ||
        (rc = mlops_drift_profile_add(profile, ref[0].values, ref[0].n)) < 0 ||
        (rc = mlops_drift_profile_save(&profile_id, s, profile)) < 0)
        goto out;
    mlops_drift_profile_free(profile);
    profile = NULL;
    mlops_drift_profile_drift d;
    if ((rc = mlops_drift_profile_load(&profile, s, &profile_id)) < 0 ||
        (rc = mlops_drift_profile_new_like(&production, profile)) < 0 ||
        (rc = mlops_drift_profile_add(production, cur[0].values, cur[0].n)) < 0 ||
        (rc = mlops_drift_profile_compare(&d, profile, production)) < 0)
        goto out;
    mlops_oid_tohex(hex, &profile_id);
    printf("profile of %s stored as %s; production vs profile: KS %.4f (+/- %.4f), PSI %.4f\n", t->names[0], hex,
           d.ks_statistic, d.ks_error_bound, d.psi);
out:
    if (rc < 0)
        fail("drift check", rc);
    mlops_drift_profile_free(profile);
    mlops_drift_profile_free(production);
    mlops_drift_report_free(report);
    free(ref_x);
    free(cur_x);
    free(ref_y);
    free(cur_y);
    free(ref);
    free(cur);
    return rc < 0 ? rc : 0;
}

int main(int argc, char **argv)
{
    const char *csv = argc > 1 ? argv[1] : EXAMPLE_DATA;
    const char *dir = argc > 2 ? argv[2] : "mlops-example-store";
    static table t;
    if (load(&t, csv) < 0) {
        fprintf(stderr, "train: cannot read %s\n", csv);
        return 1;
    }
    mlops_store *s = NULL;
    int rc = mlops_store_open(&s, dir, NULL);
    if (rc < 0)
        return fail("open store", rc);
    /* Version the training data: the directory holding the CSV (here only
     * the CSV and its README). Committing unchanged data makes no new
     * version, so every rerun trains on the same "breast-cancer@N". */
    char data_dir[4096];
    snprintf(data_dir, sizeof data_dir, "%s", csv);
    char *slash = strrchr(data_dir, '/');
    if (slash && slash != data_dir)
        *slash = '\0'; /* else (no directory part, or "/"): commit just the file */
    mlops_data_commit_options co = MLOPS_DATA_COMMIT_OPTIONS_INIT;
    co.message = "breast cancer table (examples/data)";
    mlops_data_version *dv = NULL;
    mlops_experiment *e = NULL;
    if ((rc = mlops_data_commit(&dv, s, "breast-cancer", data_dir, &co)) < 0 ||
        (rc = mlops_experiment_get_or_create(&e, s, "breast-cancer-logreg")) < 0) {
        mlops_data_version_free(dv);
        mlops_store_free(s);
        return fail("prepare", rc);
    }
    char ref[MLOPS_DATA_NAME_MAX + 32], snapshot_hex[MLOPS_OID_HEXSZ + 1];
    snprintf(ref, sizeof ref, "%s@%llu", dv->dataset, (unsigned long long)dv->version);
    mlops_oid_tohex(snapshot_hex, &dv->id);
    mlops_data_version_free(dv);
    printf("dataset %s %s\n", ref, snapshot_hex);
    printf("training data: %d rows, %d features\n", t.rows, t.cols);
    const double rates[] = { 0.05, 0.3, 1.0 };
    for (size_t i = 0; i < sizeof rates / sizeof rates[0] && rc == 0; i++)
        rc = train_run(s, e->id, &t, rates[i], ref, snapshot_hex);
    /* the best finished run of this experiment, as MLflow would search it */
    const char *order[] = { "metrics.val_acc DESC", "metrics.val_loss ASC" };
    mlops_search_options so = MLOPS_SEARCH_OPTIONS_INIT;
    so.filter = "attributes.status = 'FINISHED' and metrics.val_acc > 0.5";
    so.order_by = order;
    so.norder_by = 2;
    so.max_results = 1;
    const char *exps[] = { e->id };
    mlops_run_list best = { NULL, 0, NULL };
    if (rc == 0 && (rc = mlops_run_search(&best, s, exps, 1, &so)) < 0)
        fail("search", rc);
    if (rc == 0 && best.count == 1) {
        const mlops_run_info *r = best.runs[0];
        const char *lr = "?";
        double acc = NAN;
        for (size_t i = 0; i < r->nparams; i++)
            if (strcmp(r->params[i].key, "lr") == 0)
                lr = r->params[i].value;
        for (size_t m = 0; m < r->nmetrics; m++)
            if (strcmp(r->metrics[m].key, "val_acc") == 0)
                acc = r->metrics[m].value;
        printf("best run %s (%s): val_acc %.4f with lr %s\n", r->run_id, r->run_name, acc, lr);
        rc = promote(s, r, ref);
    }
    if (rc == 0)
        rc = check_drift(s, &t);
    mlops_run_list_free(&best);
    mlops_experiment_free(e);
    mlops_store_free(s);
    return rc != 0 ? 1 : 0; /* promote() reports its failures as 1 */
}
