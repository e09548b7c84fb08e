#ifndef REPLICAST_GO_CALL_H
#define REPLICAST_GO_CALL_H

#include "replicast.h"

/* One state's argument block for Scaler.DecideAggregated, in C memory: the addresses cgo passes
   to C are then not Go pointers, so the call does not move them to the Go heap (three
   allocations per decision otherwise). A State is not used concurrently, so one block each. */
typedef struct {
    replicast_aggregated_input input;
    replicast_decision_summary out;
    replicast_error *err;
} replicast_go_call;

#endif
