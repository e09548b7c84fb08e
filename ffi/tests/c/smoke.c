/* C smoke test of libreplicast: every export on its happy path and a few error paths.
 * Built with -std=c11 -Wall -Wextra -Werror -pedantic and run under valgrind by run_c_smoke.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replicast.h"

static int failures = 0;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                      \
        }                                                                    \
    } while (0)

static const char SPEC[] =
    "{\"min_replicas\": 1, \"max_replicas\": 10, \"hpa\": {\"metrics\": ["
    "{\"type\": \"resource\", \"resource\": \"cpu\","
    " \"target\": {\"type\": \"utilization\", \"average_utilization\": 50}}]}}";

/* Query-then-fill: returns a malloc'd NUL-terminated JSON decision, or NULL. */
static char *decide_json(const replicast_scaler *scaler, replicast_scaler_state *state, const char *input) {
    size_t needed = 0;
    replicast_error *err = NULL;
    replicast_status st = replicast_scaler_decide_json(scaler, state, input, strlen(input), NULL, 0, &needed, &err);
    if (st != REPLICAST_STATUS_BUFFER_TOO_SMALL) {
        fprintf(stderr, "decide query: %s: %s\n", replicast_status_name(st), replicast_error_message(err));
        replicast_error_free(err);
        return NULL;
    }
    replicast_error_free(err);
    char *buf = malloc(needed);
    if (buf == NULL) {
        return NULL;
    }
    st = replicast_scaler_decide_json(scaler, state, input, strlen(input), buf, needed, &needed, &err);
    if (st != REPLICAST_STATUS_OK) {
        fprintf(stderr, "decide: %s: %s\n", replicast_status_name(st), replicast_error_message(err));
        replicast_error_free(err);
        free(buf);
        return NULL;
    }
    return buf;
}

static char *state_json(const replicast_scaler_state *state) {
    size_t needed = 0;
    if (replicast_scaler_state_to_json(state, NULL, 0, &needed, NULL) != REPLICAST_STATUS_BUFFER_TOO_SMALL) {
        return NULL;
    }
    char *buf = malloc(needed);
    if (buf != NULL && replicast_scaler_state_to_json(state, buf, needed, &needed, NULL) != REPLICAST_STATUS_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

int main(void) {
    printf("replicast %s (ABI %d)\n", replicast_version(), REPLICAST_ABI_VERSION);
    replicast_abi_v1();
    CHECK(strcmp(replicast_status_name(REPLICAST_STATUS_INVALID_CONFIG), "invalid_config") == 0);
    CHECK(strcmp(replicast_status_name(999), "unknown") == 0);

    /* An invalid spec: a status and a message naming the field. */
    replicast_scaler *scaler = NULL;
    replicast_error *err = NULL;
    const char *bad = "{\"min_replicas\": 5, \"max_replicas\": 2}";
    CHECK(replicast_scaler_new(bad, strlen(bad), &scaler, &err) == REPLICAST_STATUS_INVALID_CONFIG);
    CHECK(scaler == NULL);
    CHECK(replicast_error_status(err) == REPLICAST_STATUS_INVALID_CONFIG);
    CHECK(strstr(replicast_error_message(err), "min_replicas") != NULL);
    printf("invalid spec: %s\n", replicast_error_message(err));
    replicast_error_free(err);
    err = NULL;
    CHECK(replicast_scaler_new(NULL, 1, &scaler, NULL) == REPLICAST_STATUS_NULL_ARGUMENT);

    CHECK(replicast_scaler_new(SPEC, strlen(SPEC), &scaler, &err) == REPLICAST_STATUS_OK);
    CHECK(err == NULL);
    size_t n_metrics = 0;
    CHECK(replicast_scaler_metric_count(scaler, &n_metrics, NULL) == REPLICAST_STATUS_OK);
    CHECK(n_metrics == 1);

    /* JSON decide. */
    replicast_scaler_state *state = NULL;
    CHECK(replicast_scaler_state_new(&state, NULL) == REPLICAST_STATUS_OK);
    char *decision = decide_json(scaler, state,
        "{\"now_ms\": 1700000000000, \"current_replicas\": 2,"
        " \"metrics\": [{\"kind\": \"aggregated\", \"value\": 100.0, \"ready_replicas\": 2}]}");
    CHECK(decision != NULL && strstr(decision, "\"replicas\":4") != NULL);
    if (decision != NULL) {
        printf("decision: %.60s...\n", decision);
    }
    free(decision);

    /* State round trip. */
    char *saved = state_json(state);
    CHECK(saved != NULL);
    replicast_scaler_state *restored = NULL;
    CHECK(saved != NULL && replicast_scaler_state_from_json(saved, strlen(saved), &restored, NULL) == REPLICAST_STATUS_OK);
    char *again = state_json(restored);
    CHECK(saved != NULL && again != NULL && strcmp(saved, again) == 0);
    free(again);
    free(saved);
    CHECK(replicast_scaler_state_from_json("{", 1, &restored, &err) == REPLICAST_STATUS_SERIALIZATION);
    replicast_error_free(err);
    err = NULL;

    /* Aggregated decide: one workload, then an unknown enum value. */
    replicast_aggregated_input input;
    memset(&input, 0, sizeof input);
    input.now_ms = 1700000015000;
    input.current_replicas = 4;
    input.ready_replicas = 4;
    input.health = REPLICAST_HEALTH_HEALTHY;
    double value = 60.0;
    replicast_decision_summary summary;
    memset(&summary, 0, sizeof summary);
    CHECK(replicast_scaler_decide_aggregated(scaler, restored, &input, &value, 1, &summary, NULL) == REPLICAST_STATUS_OK);
    CHECK(summary.replicas == 5 && summary.rescale && summary.last_stage == REPLICAST_STAGE_COMBINE);
    printf("aggregated: %u -> %u (steps %u)\n", summary.current_replicas, summary.replicas, summary.n_steps);
    input.health = 42;
    input.now_ms += 15000;
    CHECK(replicast_scaler_decide_aggregated(scaler, restored, &input, &value, 1, &summary, &err) == REPLICAST_STATUS_INVALID_INPUT);
    CHECK(strstr(replicast_error_message(err), "health") != NULL);
    replicast_error_free(err);
    err = NULL;

    /* Aggregated batch of 100 workloads. */
    enum { N = 100 };
    replicast_scaler_state *states[N];
    replicast_aggregated_input inputs[N];
    double values[N];
    replicast_decision_summary out[N];
    uint32_t statuses[N];
    for (size_t i = 0; i < N; i++) {
        CHECK(replicast_scaler_state_new(&states[i], NULL) == REPLICAST_STATUS_OK);
        memset(&inputs[i], 0, sizeof inputs[i]);
        inputs[i].now_ms = 1700000000000;
        inputs[i].current_replicas = 2;
        inputs[i].ready_replicas = 2;
        values[i] = (double)(i % 10) * 20.0;
    }
    values[7] = -1.0; /* one bad workload */
    size_t failed = 0;
    CHECK(replicast_scaler_decide_aggregated_batch(scaler, states, inputs, N, values, N, out, statuses, &failed, NULL) == REPLICAST_STATUS_OK);
    CHECK(failed == 1 && statuses[7] == REPLICAST_STATUS_INVALID_INPUT && statuses[9] == REPLICAST_STATUS_OK);
    /* 180 % of a 50 % target on 2 pods wants ceil(7.2) = 8; the legacy cap max(2 x 2, 4) limits it */
    CHECK(out[9].replicas == 4 && out[9].scaling_limited && out[9].last_stage == REPLICAST_STAGE_RATE_LIMIT);
    CHECK(replicast_scaler_decide_aggregated_batch(scaler, states, inputs, N, values, N - 1, out, statuses, NULL, &err) == REPLICAST_STATUS_INVALID_INPUT);
    replicast_error_free(err);
    err = NULL;

    /* JSON batch of two. */
    const char *batch = "[{\"now_ms\": 1700000030000, \"current_replicas\": 2,"
                        " \"metrics\": [{\"kind\": \"aggregated\", \"value\": 10.0, \"ready_replicas\": 2}]},"
                        " {\"now_ms\": 1, \"current_replicas\": 2, \"metrics\": []}]";
    size_t needed = 0;
    CHECK(replicast_scaler_decide_batch_json(scaler, states, 2, batch, strlen(batch), NULL, 0, &needed, NULL) == REPLICAST_STATUS_BUFFER_TOO_SMALL);
    char *batch_out = malloc(needed);
    CHECK(batch_out != NULL);
    if (batch_out != NULL) {
        CHECK(replicast_scaler_decide_batch_json(scaler, states, 2, batch, strlen(batch), batch_out, needed, &needed, NULL) == REPLICAST_STATUS_OK);
        CHECK(strncmp(batch_out, "[{\"decision\":", 13) == 0 && strstr(batch_out, "{\"error\":{\"code\":1,") != NULL);
    }
    free(batch_out);

    /* Forecasting: a seasonal naive model repeats its last period. */
    {
        static const char MODEL[] = "{\"kind\": \"seasonal_naive\", \"period\": 4}";
        const double y[12] = {1, 2, 3, 4, 5, 6, 7, 8, 10, 20, 30, 40};
        replicast_fitted_model *model = NULL;
        CHECK(replicast_model_fit(MODEL, strlen(MODEL), y, 12, &model, &err) == REPLICAST_STATUS_OK);
        CHECK(err == NULL && model != NULL);
        double point[6], lower[6], upper[6];
        CHECK(replicast_fitted_model_predict(model, 6, 0.0, point, NULL, NULL, 6, NULL) == REPLICAST_STATUS_OK);
        CHECK(point[0] == 10.0 && point[3] == 40.0 && point[4] == 10.0 && point[5] == 20.0);
        CHECK(replicast_fitted_model_predict(model, 4, 0.9, point, lower, upper, 6, NULL) == REPLICAST_STATUS_OK);
        CHECK(lower[0] < point[0] && point[0] < upper[0]);
        printf("forecast: %.1f [%.2f, %.2f]\n", point[0], lower[0], upper[0]);
        CHECK(replicast_fitted_model_predict(model, 7, 0.0, point, NULL, NULL, 6, &err) == REPLICAST_STATUS_BUFFER_TOO_SMALL);
        replicast_error_free(err);
        err = NULL;
        CHECK(replicast_fitted_model_update(model, 11.0, NULL) == REPLICAST_STATUS_OK);
        CHECK(replicast_fitted_model_predict(model, 4, 0.0, point, NULL, NULL, 6, NULL) == REPLICAST_STATUS_OK);
        CHECK(point[0] == 20.0 && point[3] == 11.0);
        size_t n_obs = 0;
        CHECK(replicast_fitted_model_n_obs(model, &n_obs, NULL) == REPLICAST_STATUS_OK && n_obs == 13);

        /* A non-finite value: INVALID_INPUT, naming it. */
        double nan_y[12];
        memcpy(nan_y, y, sizeof nan_y);
        nan_y[5] = 0.0 / 0.0;
        replicast_fitted_model *bad_model = NULL;
        CHECK(replicast_model_fit(MODEL, strlen(MODEL), nan_y, 12, &bad_model, &err) == REPLICAST_STATUS_INVALID_INPUT);
        CHECK(bad_model == NULL && strstr(replicast_error_message(err), "y[5]") != NULL);
        replicast_error_free(err);
        err = NULL;
        CHECK(replicast_fitted_model_update(model, nan_y[5], NULL) == REPLICAST_STATUS_INVALID_INPUT);

        /* JSON round trip, query-then-fill. */
        size_t need = 0;
        CHECK(replicast_fitted_model_to_json(model, NULL, 0, &need, NULL) == REPLICAST_STATUS_BUFFER_TOO_SMALL);
        char *json = malloc(need);
        CHECK(json != NULL);
        if (json != NULL) {
            CHECK(replicast_fitted_model_to_json(model, json, need, &need, NULL) == REPLICAST_STATUS_OK);
            replicast_fitted_model *copy = NULL;
            CHECK(replicast_fitted_model_from_json(json, strlen(json), &copy, NULL) == REPLICAST_STATUS_OK);
            double again[4];
            CHECK(replicast_fitted_model_predict(copy, 4, 0.0, again, NULL, NULL, 4, NULL) == REPLICAST_STATUS_OK);
            CHECK(memcmp(again, point, sizeof again) == 0);
            replicast_fitted_model_free(copy);
        }
        free(json);
        CHECK(replicast_fitted_model_from_json("{", 1, &bad_model, &err) == REPLICAST_STATUS_SERIALIZATION);
        replicast_error_free(err);
        err = NULL;
        replicast_fitted_model_free(model);
        replicast_fitted_model_free(NULL);
    }

    for (size_t i = 0; i < N; i++) {
        replicast_scaler_state_free(states[i]);
    }
    replicast_scaler_state_free(restored);
    replicast_scaler_state_free(state);
    replicast_scaler_free(scaler);
    replicast_scaler_free(NULL);
    replicast_scaler_state_free(NULL);
    replicast_error_free(NULL);

    if (failures != 0) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("C smoke test passed\n");
    return 0;
}
