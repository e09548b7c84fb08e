//! Every error path of the HPA source, with the Kubernetes controller's texts word for word.
//!
//! Each case names the upstream format it reproduces (`replica_calculator.go`,
//! `horizontal.go`, `metrics/client.go`, `metrics/utilization.go` of
//! `kubernetes/kubernetes` `pkg/controller/podautoscaler`). A failure has three layers, all
//! checked: the replica calculator's error, the error `computeStatusFor*Metric` puts in the
//! `ScalingActive` condition (`the HPA was unable to compute the replica count: %v`), and the
//! metric's error as `computeReplicasForMetric` returns it (what `Decision::errors` lists).

use std::collections::BTreeMap;

use replicast::hpa::{
    self, ConditionReason, ConditionStatus, ConditionType, Container, ContainerUsage, HpaHistory,
    MetricContext, MetricFailure, MetricInput, Pod, PodMetricSample, PodPhase, PodResourceSample,
    ReadyCondition, Tolerances,
};
use replicast::spec::{
    Compatibility, ControllerConfig, DescribedObject, LabelSelector, LabelSelectorRequirement,
    MetricSpec, MetricTarget, MissingContainerMetric, Quantity, TargetType,
};
use replicast::{Decision, DecisionInput, Scaler, ScalerSpec, ScalerState};

const NOW: i64 = 1_700_000_000_000;
const HOUR: i64 = 3_600_000;
const UNABLE: &str = "the HPA was unable to compute the replica count: ";

/// A running pod, ready for an hour, whose one container `app` requests `cpu_milli`.
fn pod(name: &str, cpu_milli: Option<i64>) -> Pod {
    Pod {
        name: name.to_owned(),
        phase: PodPhase::Running,
        deleting: false,
        start_time_ms: Some(NOW - HOUR),
        ready: Some(ReadyCondition {
            status: ConditionStatus::True,
            last_transition_ms: NOW - HOUR,
        }),
        containers: vec![Container {
            name: "app".to_owned(),
            requests_milli: cpu_milli
                .map(|r| BTreeMap::from([("cpu".to_owned(), r)]))
                .unwrap_or_default(),
        }],
        init_containers: Vec::new(),
        pod_requests_milli: None,
    }
}

/// One pod's usage sample of container `container`.
fn usage(pod: &str, container: &str, milli: i64) -> PodResourceSample {
    PodResourceSample {
        pod: pod.to_owned(),
        timestamp_ms: NOW,
        window_ms: 60_000,
        containers: vec![ContainerUsage {
            name: container.to_owned(),
            usage_milli: Some(milli),
        }],
    }
}

fn ctx<'a>(
    config: &'a ControllerConfig,
    pods: Option<&'a [Pod]>,
    ns: &'a str,
) -> MetricContext<'a> {
    MetricContext {
        current_replicas: 2,
        status_replicas: 2,
        ready_replicas: None,
        pods,
        tolerances: Tolerances::uniform(0.1),
        config,
        now_ms: NOW,
        namespace: ns,
    }
}

fn cpu_utilization() -> MetricSpec {
    MetricSpec::Resource {
        resource: "cpu".to_owned(),
        target: MetricTarget::utilization(50),
    }
}

fn unavailable(reason: &str) -> MetricInput {
    MetricInput::Unavailable {
        reason: reason.to_owned(),
    }
}

/// The metric's failure, with the three layers checked against `calculator`, `message` and
/// `error` (`message` / `error` given without the parts they share with the layer below).
fn fails(
    metric: &MetricSpec,
    input: &MetricInput,
    ctx: &MetricContext,
    reason: ConditionReason,
    calculator: &str,
    message: &str,
    error: &str,
) -> MetricFailure {
    let f = hpa::metric_proposal(metric, input, ctx).unwrap_err();
    assert_eq!(f.reason, reason, "{f:?}");
    assert_eq!(f.calculator_error, calculator);
    assert_eq!(f.message, message);
    assert_eq!(f.error, error);
    assert_eq!(f.condition_message(), format!("{UNABLE}{message}"));
    f
}

// --- Resource and ContainerResource ---------------------------------------------------------

#[test]
fn resource_metrics_api_returned_nothing() {
    // client.go GetResourceMetric, replica_calculator.go GetResourceReplicas,
    // horizontal.go computeStatusForResourceMetricGeneric / computeReplicasForMetric
    let config = ControllerConfig::default();
    let pods = [pod("web-0", Some(500))];
    let calc =
        "unable to get metrics for resource cpu: no metrics returned from resource metrics API";
    fails(
        &cpu_utilization(),
        &MetricInput::Resource {
            samples: Vec::new(),
        },
        &ctx(&config, Some(&pods), "default"),
        ConditionReason::FailedGetResourceMetric,
        calc,
        &format!("failed to get cpu utilization: {calc}"),
        &format!("failed to get cpu resource metric value: failed to get cpu utilization: {calc}"),
    );
}

#[test]
fn resource_fetch_error_is_wrapped_as_a_client_error() {
    let config = ControllerConfig::default();
    let reason = "unable to fetch metrics from resource metrics API: the server is currently unable to handle the request";
    let calc = format!("unable to get metrics for resource cpu: {reason}");
    fails(
        &cpu_utilization(),
        &unavailable(reason),
        &ctx(&config, None, "default"),
        ConditionReason::FailedGetResourceMetric,
        &calc,
        &format!("failed to get cpu utilization: {calc}"),
        &format!("failed to get cpu resource metric value: failed to get cpu utilization: {calc}"),
    );
}

#[test]
fn resource_average_value_says_usage() {
    // computeStatusForResourceMetricGeneric: "failed to get %s usage: %v"
    let config = ControllerConfig::default();
    let memory = MetricSpec::Resource {
        resource: "memory".to_owned(),
        target: MetricTarget::average_value(Quantity::parse("512Mi").unwrap()),
    };
    let calc =
        "unable to get metrics for resource memory: no metrics returned from resource metrics API";
    fails(
        &memory,
        &MetricInput::Resource {
            samples: Vec::new(),
        },
        &ctx(&config, None, "default"),
        ConditionReason::FailedGetResourceMetric,
        calc,
        &format!("failed to get memory usage: {calc}"),
        &format!("failed to get memory resource metric value: failed to get memory usage: {calc}"),
    );
}

#[test]
fn no_pods_returned_by_selector() {
    let config = ControllerConfig::default();
    let calc = "no pods returned by selector while calculating replica count";
    fails(
        &cpu_utilization(),
        &MetricInput::Resource {
            samples: vec![usage("web-0", "app", 300)],
        },
        &ctx(&config, Some(&[]), "default"),
        ConditionReason::FailedGetResourceMetric,
        calc,
        &format!("failed to get cpu utilization: {calc}"),
        &format!("failed to get cpu resource metric value: failed to get cpu utilization: {calc}"),
    );
}

#[test]
fn no_metrics_left_for_targeted_pods() {
    // every pod is being deleted: its sample is dropped, nothing is left
    let config = ControllerConfig::default();
    let mut gone = pod("web-0", Some(500));
    gone.deleting = true;
    let pods = [gone];
    let calc = "did not receive metrics for targeted pods (pods might be unready)";
    fails(
        &cpu_utilization(),
        &MetricInput::Resource {
            samples: vec![usage("web-0", "app", 300)],
        },
        &ctx(&config, Some(&pods), "default"),
        ConditionReason::FailedGetResourceMetric,
        calc,
        &format!("failed to get cpu utilization: {calc}"),
        &format!("failed to get cpu resource metric value: failed to get cpu utilization: {calc}"),
    );
}

#[test]
fn missing_request_names_container_and_pod() {
    // calculatePodRequestsFromContainers: the pod is not qualified with its namespace
    let config = ControllerConfig::default();
    let pods = [pod("web-0", None)];
    let calc = "missing request for cpu in container app of Pod web-0";
    fails(
        &cpu_utilization(),
        &MetricInput::Resource {
            samples: vec![usage("web-0", "app", 300)],
        },
        &ctx(&config, Some(&pods), "prod"),
        ConditionReason::FailedGetResourceMetric,
        calc,
        &format!("failed to get cpu utilization: {calc}"),
        &format!("failed to get cpu resource metric value: failed to get cpu utilization: {calc}"),
    );
}

#[test]
fn missing_pod_level_request() {
    // calculatePodLevelRequests, with the PodLevelResources gate
    let config = ControllerConfig {
        compatibility: Compatibility {
            pod_level_resources: true,
            ..Compatibility::default()
        },
        ..ControllerConfig::default()
    };
    let mut p = pod("web-0", Some(500));
    p.pod_requests_milli = Some(BTreeMap::from([("memory".to_owned(), 1 << 20)]));
    let pods = [p];
    let calc = "missing pod-level request for cpu in Pod web-0";
    fails(
        &cpu_utilization(),
        &MetricInput::Resource {
            samples: vec![usage("web-0", "app", 300)],
        },
        &ctx(&config, Some(&pods), "default"),
        ConditionReason::FailedGetResourceMetric,
        calc,
        &format!("failed to get cpu utilization: {calc}"),
        &format!("failed to get cpu resource metric value: failed to get cpu utilization: {calc}"),
    );
}

#[test]
fn no_metrics_matched_known_pods() {
    // utilization.go GetResourceUtilizationRatio, returned by GetResourceReplicas unwrapped
    let config = ControllerConfig::default();
    let pods = [pod("web-0", Some(500))];
    let calc = "no metrics returned matched known pods";
    fails(
        &cpu_utilization(),
        &MetricInput::Resource {
            samples: vec![usage("an-older-pod", "app", 300)],
        },
        &ctx(&config, Some(&pods), "default"),
        ConditionReason::FailedGetResourceMetric,
        calc,
        &format!("failed to get cpu utilization: {calc}"),
        &format!("failed to get cpu resource metric value: failed to get cpu utilization: {calc}"),
    );
}

#[test]
fn resource_target_without_value_or_utilization() {
    // computeStatusForResourceMetricGeneric's errMsg, not wrapped by it
    let config = ControllerConfig::default();
    let metric = MetricSpec::Resource {
        resource: "cpu".to_owned(),
        target: MetricTarget {
            kind: TargetType::Utilization,
            average_utilization: None,
            average_value: None,
            value: None,
        },
    };
    let calc = "invalid resource metric source: neither an average utilization target nor an average value (usage) target was set";
    fails(
        &metric,
        &unavailable("never fetched"),
        &ctx(&config, None, "default"),
        ConditionReason::FailedGetResourceMetric,
        calc,
        calc,
        &format!("failed to get cpu resource metric value: {calc}"),
    );
}

#[test]
fn container_not_found_in_pod() {
    // calculatePodRequestsFromContainers; computeReplicasForMetric names the container
    let config = ControllerConfig::default();
    let metric = MetricSpec::ContainerResource {
        resource: "cpu".to_owned(),
        container: "sidecar".to_owned(),
        target: MetricTarget::utilization(50),
    };
    let pods = [pod("web-0", Some(500))];
    let calc = "container sidecar not found in Pod web-0";
    fails(
        &metric,
        &MetricInput::Resource {
            samples: vec![usage("web-0", "sidecar", 300)],
        },
        &ctx(&config, Some(&pods), "default"),
        ConditionReason::FailedGetContainerResourceMetric,
        calc,
        &format!("failed to get cpu utilization: {calc}"),
        &format!(
            "failed to get sidecar container metric value: failed to get cpu utilization: {calc}"
        ),
    );
}

#[test]
fn container_missing_from_metrics_qualifies_the_pod_with_its_namespace() {
    // client.go getContainerMetrics before PR #127193 (profile missing_container_metric=error):
    // "container %s not present in metrics for pod %s/%s", wrapped by GetResourceMetric
    let config = ControllerConfig {
        compatibility: Compatibility {
            missing_container_metric: MissingContainerMetric::Error,
            ..Compatibility::default()
        },
        ..ControllerConfig::default()
    };
    let metric = MetricSpec::ContainerResource {
        resource: "cpu".to_owned(),
        container: "app".to_owned(),
        target: MetricTarget::utilization(50),
    };
    let pods = [pod("web-0", Some(500))];
    let calc = "unable to get metrics for resource cpu: failed to get container metrics: container app not present in metrics for pod prod/web-0";
    fails(
        &metric,
        &MetricInput::Resource {
            samples: vec![usage("web-0", "istio-proxy", 300)],
        },
        &ctx(&config, Some(&pods), "prod"),
        ConditionReason::FailedGetContainerResourceMetric,
        calc,
        &format!("failed to get cpu utilization: {calc}"),
        &format!("failed to get app container metric value: failed to get cpu utilization: {calc}"),
    );
}

// --- Pods -----------------------------------------------------------------------------------

fn qps() -> MetricSpec {
    MetricSpec::Pods {
        name: "qps".to_owned(),
        target: MetricTarget::average_value(Quantity::parse("10").unwrap()),
    }
}

#[test]
fn custom_metrics_api_returned_nothing() {
    // client.go GetRawMetric, replica_calculator.go GetMetricReplicas ("unable to get metric %s: %v")
    let config = ControllerConfig::default();
    let calc = "unable to get metric qps: no metrics returned from custom metrics API";
    fails(
        &qps(),
        &MetricInput::Pods {
            samples: Vec::new(),
        },
        &ctx(&config, None, "default"),
        ConditionReason::FailedGetPodsMetric,
        calc,
        calc,
        &format!("failed to get pods metric value: {calc}"),
    );
}

#[test]
fn pods_metric_without_pods() {
    let config = ControllerConfig::default();
    let samples = vec![PodMetricSample {
        pod: "web-0".to_owned(),
        value_milli: 20_000,
        timestamp_ms: NOW,
        window_ms: 60_000,
    }];
    let calc = "no pods returned by selector while calculating replica count";
    fails(
        &qps(),
        &MetricInput::Pods { samples },
        &ctx(&config, Some(&[]), "default"),
        ConditionReason::FailedGetPodsMetric,
        calc,
        calc,
        &format!("failed to get pods metric value: {calc}"),
    );
}

// --- Object ---------------------------------------------------------------------------------

fn queue_depth(target: MetricTarget) -> MetricSpec {
    MetricSpec::Object {
        name: "queue-depth".to_owned(),
        target,
        described_object: Some(DescribedObject {
            kind: "Service".to_owned(),
            name: "rabbitmq".to_owned(),
            api_version: Some("v1".to_owned()),
        }),
    }
}

#[test]
fn object_fetch_error_keeps_upstream_argument_order() {
    // GetObjectMetricReplicas: "unable to get metric %s: %v on %s %s/%s" with
    // (metricName, objectRef.Kind, namespace, objectRef.Name, err): the error lands after the
    // object's name
    let config = ControllerConfig::default();
    let reason = "unable to fetch metrics from custom metrics API: the server could not find the metric queue-depth for services rabbitmq";
    let calc = format!("unable to get metric queue-depth: Service on prod rabbitmq/{reason}");
    fails(
        &queue_depth(MetricTarget::value(Quantity::parse("10").unwrap())),
        &unavailable(reason),
        &ctx(&config, None, "prod"),
        ConditionReason::FailedGetObjectMetric,
        &calc,
        &calc,
        &format!("failed to get object metric value: {calc}"),
    );
}

#[test]
fn object_average_value_fetch_error() {
    // computeStatusForObjectMetric adds "failed to get %s object metric: %v" for AverageValue
    let config = ControllerConfig::default();
    let calc = "unable to get metric queue-depth: Service on prod rabbitmq/broker down";
    fails(
        &queue_depth(MetricTarget::average_value(Quantity::parse("10").unwrap())),
        &unavailable("broker down"),
        &ctx(&config, None, "prod"),
        ConditionReason::FailedGetObjectMetric,
        calc,
        calc,
        &format!(
            "failed to get object metric value: failed to get queue-depth object metric: {calc}"
        ),
    );
}

#[test]
fn object_without_described_object_prints_empty_kind_and_name() {
    let config = ControllerConfig::default();
    let metric = MetricSpec::Object {
        name: "queue-depth".to_owned(),
        target: MetricTarget::value(Quantity::parse("10").unwrap()),
        described_object: None,
    };
    let calc = "unable to get metric queue-depth:  on default /broker down";
    fails(
        &metric,
        &unavailable("broker down"),
        &ctx(&config, None, "default"),
        ConditionReason::FailedGetObjectMetric,
        calc,
        calc,
        &format!("failed to get object metric value: {calc}"),
    );
}

#[test]
fn object_ready_pods_cannot_be_counted() {
    // getUsageRatioReplicaCount: "unable to calculate ready pods: %s"
    let config = ControllerConfig::default();
    let calc = "unable to calculate ready pods: no pods returned by selector while calculating replica count";
    fails(
        &queue_depth(MetricTarget::value(Quantity::parse("10").unwrap())),
        &MetricInput::Object {
            value_milli: 50_000,
        },
        &ctx(&config, Some(&[]), "prod"),
        ConditionReason::FailedGetObjectMetric,
        calc,
        calc,
        &format!("failed to get object metric value: {calc}"),
    );
}

#[test]
fn object_target_without_value() {
    // checked before anything is fetched
    let config = ControllerConfig::default();
    let target = MetricTarget {
        kind: TargetType::Value,
        average_utilization: None,
        average_value: Some(Quantity::parse("10").unwrap()),
        value: None,
    };
    let calc =
        "invalid object metric source: neither a value target nor an average value target was set";
    fails(
        &queue_depth(target),
        &unavailable("never fetched"),
        &ctx(&config, None, "prod"),
        ConditionReason::FailedGetObjectMetric,
        calc,
        calc,
        &format!("failed to get object metric value: {calc}"),
    );
}

// --- External -------------------------------------------------------------------------------

fn jobs(target: MetricTarget, selector: Option<LabelSelector>) -> MetricSpec {
    MetricSpec::External {
        name: "queue".to_owned(),
        target,
        selector,
    }
}

fn jobs_selector() -> LabelSelector {
    LabelSelector {
        match_labels: BTreeMap::from([("queue".to_owned(), "jobs".to_owned())]),
        match_expressions: Vec::new(),
    }
}

#[test]
fn external_metrics_api_returned_nothing() {
    // GetExternalMetricReplicas: "unable to get external metric %s/%s/%+v: %s", the selector as
    // its generated String(); computeStatusForExternalMetric: "failed to get external metric %s: %v"
    let config = ControllerConfig::default();
    let calc = "unable to get external metric prod/queue/&LabelSelector{MatchLabels:map[string]string{queue: jobs,},MatchExpressions:[]LabelSelectorRequirement{},}: no metrics returned from external metrics API";
    fails(
        &jobs(
            MetricTarget::value(Quantity::parse("100").unwrap()),
            Some(jobs_selector()),
        ),
        &MetricInput::External {
            values_milli: Vec::new(),
        },
        &ctx(&config, None, "prod"),
        ConditionReason::FailedGetExternalMetric,
        calc,
        calc,
        &format!(
            "failed to get queue external metric value: failed to get external metric queue: {calc}"
        ),
    );
}

#[test]
fn external_average_value_without_selector_prints_nil() {
    // GetExternalPerPodMetricReplicas; computeStatusForExternalMetric: "failed to get %s external metric: %v"
    let config = ControllerConfig::default();
    let calc = "unable to get external metric default/queue/nil: unable to fetch metrics from external metrics API: timeout";
    fails(
        &jobs(
            MetricTarget::average_value(Quantity::parse("10").unwrap()),
            None,
        ),
        &unavailable("unable to fetch metrics from external metrics API: timeout"),
        &ctx(&config, None, "default"),
        ConditionReason::FailedGetExternalMetric,
        calc,
        calc,
        &format!(
            "failed to get queue external metric value: failed to get queue external metric: {calc}"
        ),
    );
}

#[test]
fn external_selector_with_expressions() {
    let selector = LabelSelector {
        match_labels: BTreeMap::from([
            ("tier".to_owned(), "batch".to_owned()),
            ("app".to_owned(), "worker".to_owned()),
        ]),
        match_expressions: vec![
            LabelSelectorRequirement {
                key: "zone".to_owned(),
                operator: "In".to_owned(),
                values: vec!["a".to_owned(), "b".to_owned()],
            },
            LabelSelectorRequirement {
                key: "canary".to_owned(),
                operator: "DoesNotExist".to_owned(),
                values: Vec::new(),
            },
        ],
    };
    assert_eq!(
        selector.go_string(),
        "&LabelSelector{MatchLabels:map[string]string{app: worker,tier: batch,},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:zone,Operator:In,Values:[a b],},LabelSelectorRequirement{Key:canary,Operator:DoesNotExist,Values:[],},},}"
    );
    assert_eq!(LabelSelector::go_string_of(None), "nil");
}

#[test]
fn external_ready_pods_cannot_be_counted() {
    let config = ControllerConfig::default();
    let calc = "unable to calculate ready pods: no pods returned by selector while calculating replica count";
    fails(
        &jobs(MetricTarget::value(Quantity::parse("100").unwrap()), None),
        &MetricInput::External {
            values_milli: vec![500_000],
        },
        &ctx(&config, Some(&[]), "default"),
        ConditionReason::FailedGetExternalMetric,
        calc,
        calc,
        &format!(
            "failed to get queue external metric value: failed to get external metric queue: {calc}"
        ),
    );
}

#[test]
fn external_target_without_values() {
    let config = ControllerConfig::default();
    let target = MetricTarget {
        kind: TargetType::Value,
        average_utilization: None,
        average_value: None,
        value: None,
    };
    let calc = "invalid external metric source: neither a value target nor an average value target was set";
    fails(
        &jobs(target, None),
        &unavailable("never fetched"),
        &ctx(&config, None, "default"),
        ConditionReason::FailedGetExternalMetric,
        calc,
        calc,
        &format!("failed to get queue external metric value: {calc}"),
    );
}

// --- Unknown source type --------------------------------------------------------------------

#[test]
fn unknown_metric_source_type_through_reconcile() {
    // computeReplicasForMetric's default case: "unknown metric source type %q"
    let spec = ScalerSpec {
        hpa: Some(replicast::spec::HpaSource {
            metrics: vec![MetricSpec::Unsupported {
                type_name: "CheddarCheese".to_owned(),
            }],
            namespace: None,
        }),
        ..ScalerSpec::from_yaml("max_replicas: 6\nhpa: {}\n").unwrap()
    };
    let input = DecisionInput {
        now_ms: NOW,
        current_replicas: 3,
        metrics: vec![unavailable("unused")],
        ..DecisionInput::default()
    };
    let d = hpa::reconcile(&spec, &mut HpaHistory::default(), &input).unwrap();
    let error = "unknown metric source type \"CheddarCheese\"";
    assert_eq!(d.errors, vec![error.to_owned()]);
    assert_eq!(scaling_active(&d), (false, format!("{UNABLE}{error}")));
    assert_eq!(d.proposals[0].reason, error);
}

// --- Inputs upstream has no counterpart for ---------------------------------------------------

#[test]
fn replicast_inputs_keep_replicast_messages_in_upstream_layers() {
    let config = ControllerConfig::default();
    let no_ready =
        "did not receive metrics for targeted pods (the aggregated input has 0 ready replicas)";
    fails(
        &cpu_utilization(),
        &MetricInput::Aggregated {
            value: 90.0,
            ready_replicas: 0,
        },
        &ctx(&config, None, "default"),
        ConditionReason::FailedGetResourceMetric,
        no_ready,
        &format!("failed to get cpu utilization: {no_ready}"),
        &format!(
            "failed to get cpu resource metric value: failed to get cpu utilization: {no_ready}"
        ),
    );
    let no_pods = "per-pod samples need the pod list: pass `pods` or an aggregated input";
    fails(
        &qps(),
        &MetricInput::Pods {
            samples: vec![PodMetricSample {
                pod: "web-0".to_owned(),
                value_milli: 1,
                timestamp_ms: NOW,
                window_ms: 60_000,
            }],
        },
        &ctx(&config, None, "default"),
        ConditionReason::FailedGetPodsMetric,
        no_pods,
        no_pods,
        &format!("failed to get pods metric value: {no_pods}"),
    );
    let kind = "input kind pods does not fit a External metric: expected external or aggregated";
    fails(
        &jobs(MetricTarget::value(Quantity::parse("1").unwrap()), None),
        &MetricInput::Pods {
            samples: Vec::new(),
        },
        &ctx(&config, None, "default"),
        ConditionReason::FailedGetExternalMetric,
        kind,
        kind,
        &format!(
            "failed to get queue external metric value: failed to get external metric queue: {kind}"
        ),
    );
}

// --- Through Scaler::decide, from a manifest ---------------------------------------------------

fn scaling_active(d: &Decision) -> (bool, String) {
    let c = d
        .conditions
        .iter()
        .find(|c| c.kind == ConditionType::ScalingActive)
        .expect("a ScalingActive condition");
    (c.status, c.message.clone())
}

const MANIFEST: &str = r"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: worker, namespace: batch}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: worker}
  minReplicas: 1
  maxReplicas: 20
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
    - type: Object
      object:
        describedObject: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: main-route}
        metric: {name: requests-per-second}
        target: {type: Value, value: 2k}
    - type: External
      external:
        metric:
          name: queue_messages_ready
          selector:
            matchLabels: {queue: worker_tasks}
            matchExpressions: [{key: region, operator: In, values: [eu, us]}]
        target: {type: AverageValue, averageValue: '30'}
";

#[test]
fn decide_reports_every_failed_metric_as_the_controller_does() {
    let spec = ScalerSpec::from_yaml(MANIFEST).unwrap();
    let scaler = Scaler::new(spec).unwrap();
    let input = DecisionInput {
        now_ms: NOW,
        current_replicas: 4,
        metrics: vec![
            MetricInput::Resource {
                samples: Vec::new(),
            },
            unavailable("unable to fetch metrics from custom metrics API: adapter down"),
            unavailable("unable to fetch metrics from external metrics API: adapter down"),
        ],
        ..DecisionInput::default()
    };
    let d = scaler.decide(&mut ScalerState::new(), &input).unwrap();
    assert!(!d.rescale);
    let cpu = "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API";
    let object = "unable to get metric requests-per-second: Ingress on batch main-route/unable to fetch metrics from custom metrics API: adapter down";
    let external = "unable to get external metric batch/queue_messages_ready/&LabelSelector{MatchLabels:map[string]string{queue: worker_tasks,},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:region,Operator:In,Values:[eu us],},},}: unable to fetch metrics from external metrics API: adapter down";
    assert_eq!(
        d.errors,
        vec![
            format!("failed to get cpu resource metric value: {cpu}"),
            format!("failed to get object metric value: {object}"),
            format!(
                "failed to get queue_messages_ready external metric value: failed to get queue_messages_ready external metric: {external}"
            ),
        ]
    );
    // the first failing metric's condition
    assert_eq!(scaling_active(&d), (false, format!("{UNABLE}{cpu}")));
    let reasons: Vec<&str> = d.proposals.iter().map(|p| p.reason.as_str()).collect();
    assert_eq!(reasons, vec![cpu, object, external]);
    let reason = d
        .conditions
        .iter()
        .find(|c| c.kind == ConditionType::ScalingActive)
        .unwrap()
        .reason;
    assert_eq!(reason, ConditionReason::FailedGetResourceMetric);
}

#[test]
fn decide_scales_up_on_the_metrics_that_work_and_still_lists_the_error() {
    let spec = ScalerSpec::from_yaml(MANIFEST).unwrap();
    let scaler = Scaler::new(spec).unwrap();
    let input = DecisionInput {
        now_ms: NOW,
        current_replicas: 4,
        metrics: vec![
            MetricInput::Aggregated {
                value: 120.0,
                ready_replicas: 4,
            },
            MetricInput::Object { value_milli: 1_000 },
            MetricInput::External {
                values_milli: Vec::new(),
            },
        ],
        ..DecisionInput::default()
    };
    let d = scaler.decide(&mut ScalerState::new(), &input).unwrap();
    assert_eq!(d.replicas, 8);
    let external = "unable to get external metric batch/queue_messages_ready/&LabelSelector{MatchLabels:map[string]string{queue: worker_tasks,},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:region,Operator:In,Values:[eu us],},},}: no metrics returned from external metrics API";
    assert_eq!(
        d.errors,
        vec![format!(
            "failed to get queue_messages_ready external metric value: failed to get queue_messages_ready external metric: {external}"
        )]
    );
    assert!(scaling_active(&d).0);
}

#[test]
fn manifest_fields_for_the_messages_are_loaded() {
    let spec = ScalerSpec::from_yaml(MANIFEST).unwrap();
    let hpa = spec.hpa.as_ref().unwrap();
    assert_eq!(hpa.namespace(), "batch");
    match &hpa.metrics[1] {
        MetricSpec::Object {
            described_object, ..
        } => assert_eq!(
            described_object.as_ref().unwrap(),
            &DescribedObject {
                kind: "Ingress".to_owned(),
                name: "main-route".to_owned(),
                api_version: Some("networking.k8s.io/v1".to_owned()),
            }
        ),
        other => panic!("{other:?}"),
    }
    match &hpa.metrics[2] {
        MetricSpec::External { selector, .. } => {
            let s = selector.as_ref().unwrap();
            assert_eq!(s.match_labels["queue"], "worker_tasks");
            assert_eq!(s.match_expressions[0].values, vec!["eu", "us"]);
        }
        other => panic!("{other:?}"),
    }
    // the JSON form carries them and loads back unchanged
    let back = ScalerSpec::from_json(&serde_json::to_string(&spec).unwrap()).unwrap();
    assert_eq!(back, spec);
    // without metadata.namespace, Kubernetes' default
    let plain = ScalerSpec::from_yaml(&MANIFEST.replace(", namespace: batch", "")).unwrap();
    assert_eq!(plain.hpa.unwrap().namespace(), "default");
}

#[test]
fn bad_message_fields_in_a_manifest_are_named() {
    for (from, to, message) in [
        (
            "namespace: batch",
            "namespace: 7",
            "metadata.namespace must be a string, got 7",
        ),
        (
            "name: main-route}",
            "name: [main-route]}",
            "spec.metrics[1].object.describedObject.name must be a string, got [\"main-route\"]",
        ),
        (
            "matchLabels: {queue: worker_tasks}",
            "matchLabels: [queue]",
            "spec.metrics[2].external.metric.selector.matchLabels must be an object, got [\"queue\"]",
        ),
        (
            "operator: In, ",
            "",
            "spec.metrics[2].external.metric.selector.matchExpressions[0].operator must be a string",
        ),
    ] {
        assert!(MANIFEST.contains(from), "{from}");
        let err = ScalerSpec::from_yaml(&MANIFEST.replace(from, to)).unwrap_err();
        assert_eq!(err.message(), message);
    }
}
