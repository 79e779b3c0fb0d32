// Pod decoding: the field rules of codec/decoder.h on objects shaped like real
// `kubectl get pod -o json` output (keys sorted) and like the API server's own
// output (Go struct order: spec.volumes before spec.serviceAccountName).
#include <gtest/gtest.h>

#include <string>

#include "codec/decoder.h"

namespace saguard::codec {
namespace {

using objects::TokenVolume;
using objects::Tristate;

// `kubectl get pod web-7d4b9c8f6d-x2x4k -n shop -o json`, trimmed only of repetition.
const std::string kKubectlPod = R"json({
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "annotations": {
            "kubectl.kubernetes.io/restartedAt": "2024-05-01T09:58:12Z",
            "prometheus.io/scrape": "true"
        },
        "creationTimestamp": "2024-05-01T10:00:00Z",
        "generateName": "web-7d4b9c8f6d-",
        "labels": {
            "app.kubernetes.io/name": "web",
            "pod-template-hash": "7d4b9c8f6d"
        },
        "managedFields": [
            {
                "apiVersion": "v1",
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:metadata": {
                        "f:generateName": {},
                        "f:labels": {".": {}, "f:app.kubernetes.io/name": {}, "f:pod-template-hash": {}},
                        "f:ownerReferences": {".": {}, "k:{\"uid\":\"5b7e1c2a-0d3f-4a8e-9c61-2f4d8b7a9e10\"}": {}}
                    },
                    "f:spec": {
                        "f:containers": {
                            "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}, "f:ports": {".": {}, "k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}},
                            "k:{\"name\":\"sidecar\"}": {".": {}, "f:image": {}, "f:name": {}}
                        },
                        "f:serviceAccountName": {},
                        "f:volumes": {".": {}, "k:{\"name\":\"config\"}": {".": {}, "f:configMap": {}, "f:name": {}}}
                    }
                },
                "manager": "kube-controller-manager",
                "operation": "Update",
                "time": "2024-05-01T10:00:00Z"
            },
            {
                "apiVersion": "v1",
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:status": {
                        "f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:lastProbeTime": {}, "f:status": {}, "f:type": {}}},
                        "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {}, "f:podIP": {}, "f:startTime": {}
                    }
                },
                "manager": "kubelet",
                "operation": "Update",
                "subresource": "status",
                "time": "2024-05-01T10:00:07Z"
            }
        ],
        "name": "web-7d4b9c8f6d-x2x4k",
        "namespace": "shop",
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "blockOwnerDeletion": true,
                "controller": true,
                "kind": "ReplicaSet",
                "name": "web-7d4b9c8f6d",
                "uid": "5b7e1c2a-0d3f-4a8e-9c61-2f4d8b7a9e10"
            }
        ],
        "resourceVersion": "48213",
        "uid": "0b6a4f4e-2b9e-4c5e-9f1a-3d0c2b7e8a11"
    },
    "spec": {
        "automountServiceAccountToken": true,
        "containers": [
            {
                "env": [
                    {"name": "LOG_LEVEL", "value": "info"},
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}
                ],
                "image": "registry.example.com/shop/web:1.42.0",
                "imagePullPolicy": "IfNotPresent",
                "name": "web",
                "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                "readinessProbe": {"failureThreshold": 3, "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1},
                "resources": {"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "volumeMounts": [
                    {"mountPath": "/etc/web", "name": "config", "readOnly": true},
                    {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access-9xk2p", "readOnly": true}
                ]
            },
            {
                "args": ["--upstream=http://127.0.0.1:8080", "--serviceAccount=not-this-one"],
                "image": "registry.example.com/proxy:2.1",
                "imagePullPolicy": "IfNotPresent",
                "name": "sidecar",
                "resources": {},
                "volumeMounts": [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access-9xk2p", "readOnly": true}]
            }
        ],
        "dnsPolicy": "ClusterFirst",
        "enableServiceLinks": true,
        "initContainers": [
            {
                "command": ["sh", "-c", "until nslookup db; do sleep 1; done"],
                "image": "busybox:1.36",
                "imagePullPolicy": "IfNotPresent",
                "name": "wait-for-db",
                "resources": {},
                "volumeMounts": [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access-9xk2p", "readOnly": true}]
            }
        ],
        "nodeName": "node-1",
        "preemptionPolicy": "PreemptLowerPriority",
        "priority": 0,
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "serviceAccount": "web",
        "serviceAccountName": "web",
        "terminationGracePeriodSeconds": 30,
        "tolerations": [
            {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
            {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}
        ],
        "volumes": [
            {"configMap": {"defaultMode": 420, "name": "web-config"}, "name": "config"},
            {"emptyDir": {}, "name": "cache"},
            {
                "name": "kube-api-access-9xk2p",
                "projected": {
                    "defaultMode": 420,
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
                        {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}}
                    ]
                }
            }
        ]
    },
    "status": {
        "conditions": [
            {"lastProbeTime": null, "lastTransitionTime": "2024-05-01T10:00:03Z", "status": "True", "type": "Initialized"},
            {"lastProbeTime": null, "lastTransitionTime": "2024-05-01T10:00:07Z", "status": "True", "type": "Ready"},
            {"lastProbeTime": null, "lastTransitionTime": "2024-05-01T10:00:00Z", "status": "True", "type": "PodScheduled"}
        ],
        "containerStatuses": [
            {
                "containerID": "containerd://0f9c1e4b7a",
                "image": "registry.example.com/shop/web:1.42.0",
                "imageID": "registry.example.com/shop/web@sha256:4a1c",
                "lastState": {},
                "name": "web",
                "ready": true,
                "restartCount": 0,
                "started": true,
                "state": {"running": {"startedAt": "2024-05-01T10:00:05Z"}}
            }
        ],
        "hostIP": "10.0.0.11",
        "initContainerStatuses": [
            {"name": "wait-for-db", "ready": true, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
        ],
        "phase": "Running",
        "podIP": "10.244.1.17",
        "podIPs": [{"ip": "10.244.1.17"}],
        "qosClass": "Burstable",
        "startTime": "2024-05-01T10:00:00Z"
    }
})json";

// The same fields in the API server's order (Go struct order), with the token as a
// legacy Secret volume instead of a projected one.
const std::string kServerOrderPod =
    R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"batch-1","namespace":"jobs",)"
    R"("uid":"7c1d","resourceVersion":"9","creationTimestamp":"2021-03-04T05:06:07Z","labels":{"a":"b"}},)"
    R"("spec":{"volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data"}},)"
    R"({"name":"runner-token-7k9qz","secret":{"secretName":"runner-token-7k9qz","defaultMode":420}}],)"
    R"("containers":[{"name":"main","image":"busybox","resources":{}}],"restartPolicy":"Never",)"
    R"("serviceAccountName":"runner","serviceAccount":"runner","securityContext":{}},)"
    R"("status":{"phase":"Pending","qosClass":"BestEffort"}})";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "fixture lacks " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

Result<objects::Pod> decodePod(const std::string& json) {
  Decoder decoder;
  return decoder.object<Kind::Pod>(std::string_view(json));
}

objects::Pod decodeOk(const std::string& json) {
  auto pod = decodePod(json);
  EXPECT_TRUE(pod.ok()) << pod.error().describe();
  return pod.ok() ? *pod : objects::Pod{};
}

TEST(PodDecoding, KubectlOutput) {
  objects::Pod pod = decodeOk(kKubectlPod);
  EXPECT_EQ(pod.meta.namespace_.str(), "shop");
  EXPECT_EQ(pod.meta.name(), "web-7d4b9c8f6d-x2x4k");
  EXPECT_EQ(pod.meta.uid(), "0b6a4f4e-2b9e-4c5e-9f1a-3d0c2b7e8a11");
  EXPECT_EQ(pod.meta.resourceVersion(), "48213");
  EXPECT_EQ(pod.creationTimestamp, 1714557600);
  EXPECT_EQ(pod.serviceAccountName, Symbol("web"));
  EXPECT_EQ(pod.automount, Tristate::True);
  EXPECT_EQ(pod.token, TokenVolume::Projected);
}

TEST(PodDecoding, ControllerIsTheOwnerReferenceMarkedController) {
  objects::Pod pod = decodeOk(kKubectlPod);
  EXPECT_EQ(pod.controllerKind, objects::ControllerKind::ReplicaSet);
  EXPECT_EQ(pod.controllerName(), "web-7d4b9c8f6d");  // web-7d4b9c8f6d-x2x4k

  // An owner that is not the controller (a plain ownerReference) is not what recreates
  // the pod; the controller: true entry is taken wherever it is in the list.
  const std::string owners = R"("ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "blockOwnerDeletion": true,
                "controller": true,
                "kind": "ReplicaSet",
                "name": "web-7d4b9c8f6d",
                "uid": "5b7e1c2a-0d3f-4a8e-9c61-2f4d8b7a9e10"
            }
        ],)";
  const std::string twoOwners = R"("ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "web", "uid": "u-cm"},
            {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web-7d4b9c8f6d", "uid": "u", "controller": true}
        ],)";
  objects::Pod two = decodeOk(replaced(kKubectlPod, owners, twoOwners));
  EXPECT_EQ(two.controllerKind, objects::ControllerKind::StatefulSet);
  EXPECT_EQ(two.controllerName(), "web-7d4b9c8f6d");

  // The name is kept only as a prefix of the pod's name followed by "-": otherwise the kind
  // alone (a static pod's node, another naming scheme).
  for (const char* name : {"web", "web-7d4b9c8f6d-x2x4k", "other", "web-7d4b9c8f6"}) {
    const std::string ref = R"("ownerReferences": [{"kind": "Node", "name": ")" +
                            std::string(name) + R"(", "uid": "u", "controller": true}],)";
    objects::Pod p = decodeOk(replaced(kKubectlPod, owners, ref));
    EXPECT_EQ(p.controllerKind, objects::ControllerKind::Node) << name;
    EXPECT_EQ(p.controllerName(), std::string(name) == "web" ? "web" : "") << name;
  }
  const std::string custom =
      R"("ownerReferences": [{"kind": "CloneSet", "name": "web", "uid": "u", "controller": true}],)";
  EXPECT_EQ(decodeOk(replaced(kKubectlPod, owners, custom)).controllerKind,
            objects::ControllerKind::Other);

  const std::string notController = R"("ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "web", "uid": "u-cm", "controller": false}
        ],)";
  for (const std::string& none :
       {notController, std::string(), std::string(R"("ownerReferences": null,)")}) {
    objects::Pod p = decodeOk(replaced(kKubectlPod, owners, none));
    EXPECT_EQ(p.controllerKind, objects::ControllerKind::None);
    EXPECT_EQ(p.controllerName(), "");
  }

  // Wrong types fail the item, as anywhere in a kept field.
  auto bad = decodePod(replaced(kKubectlPod, owners, R"("ownerReferences": {"kind": "x"},)"));
  EXPECT_FALSE(bad.ok());
  bad = decodePod(replaced(kKubectlPod, owners,
                           R"("ownerReferences": [{"kind": "ReplicaSet", "controller": "yes"}],)"));
  EXPECT_FALSE(bad.ok());
}

TEST(PodDecoding, ApiServerOrderAndLegacySecretToken) {
  objects::Pod pod = decodeOk(kServerOrderPod);
  EXPECT_EQ(pod.meta.namespace_.str(), "jobs");
  EXPECT_EQ(pod.meta.name(), "batch-1");
  EXPECT_EQ(pod.creationTimestamp, 1614834367);
  EXPECT_EQ(pod.serviceAccountName.str(), "runner");
  EXPECT_EQ(pod.automount, Tristate::Unset);
  EXPECT_EQ(pod.token, TokenVolume::LegacySecret);
}

TEST(PodDecoding, AccountNameFallsBackToServiceAccountThenDefault) {
  std::string onlyDeprecated = replaced(kKubectlPod, R"("serviceAccountName": "web",)", "");
  onlyDeprecated = replaced(onlyDeprecated, R"("serviceAccount": "web",)",
                            R"("serviceAccount": "legacy-name",)");
  EXPECT_EQ(decodeOk(onlyDeprecated).serviceAccountName.str(), "legacy-name");

  std::string neither = replaced(kKubectlPod, R"("serviceAccountName": "web",)", "");
  neither = replaced(neither, R"("serviceAccount": "web",)", "");
  EXPECT_EQ(decodeOk(neither).serviceAccountName.str(), "default");

  // Empty or null counts as not set.
  std::string empty =
      replaced(kKubectlPod, R"("serviceAccountName": "web",)", R"("serviceAccountName": "",)");
  empty = replaced(empty, R"("serviceAccount": "web",)", R"("serviceAccount": null,)");
  EXPECT_EQ(decodeOk(empty).serviceAccountName.str(), "default");

  // serviceAccountName wins over the deprecated field.
  std::string both =
      replaced(kKubectlPod, R"("serviceAccount": "web",)", R"("serviceAccount": "old",)");
  EXPECT_EQ(decodeOk(both).serviceAccountName.str(), "web");
}

TEST(PodDecoding, AutomountIsATristate) {
  const std::string field = R"("automountServiceAccountToken": true,)";
  EXPECT_EQ(decodeOk(kKubectlPod).automount, Tristate::True);
  EXPECT_EQ(
      decodeOk(replaced(kKubectlPod, field, R"("automountServiceAccountToken": false,)")).automount,
      Tristate::False);
  EXPECT_EQ(
      decodeOk(replaced(kKubectlPod, field, R"("automountServiceAccountToken": null,)")).automount,
      Tristate::Unset);
  EXPECT_EQ(decodeOk(replaced(kKubectlPod, field, "")).automount, Tristate::Unset);
}

// The volumes array with `volumes` in place of the kubectl fixture's own.
std::string withVolumes(const std::string& volumes, const std::string& account = "web") {
  std::string pod = kKubectlPod;
  const auto begin = pod.find(R"("volumes": [)");
  const auto end = pod.find(R"("status": {)");
  EXPECT_NE(begin, std::string::npos);
  EXPECT_NE(end, std::string::npos);
  pod.replace(begin, end - begin, R"("volumes": )" + volumes + "\n    },\n    ");
  return replaced(pod, R"("serviceAccountName": "web")",
                  R"("serviceAccountName": ")" + account + R"(")");
}

TEST(PodDecoding, TokenVolumeRules) {
  struct Case {
    const char* what;
    std::string volumes;
    std::string account;
    TokenVolume want;
  };
  const std::string sat =
      R"({"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}})";
  const std::string caCert = R"({"configMap": {"name": "kube-root-ca.crt"}})";
  const Case cases[] = {
      {"no volumes", "[]", "web", TokenVolume::None},
      {"volumes null", "null", "web", TokenVolume::None},
      {"projected with a token source",
       R"([{"name":"t","projected":{"sources":[)" + caCert + "," + sat + "]}}]", "web",
       TokenVolume::Projected},
      {"projected without a token source",
       R"([{"name":"t","projected":{"sources":[)" + caCert + "]}}]", "web", TokenVolume::None},
      {"projected with a null token source",
       R"([{"name":"t","projected":{"sources":[{"serviceAccountToken":null}]}}])", "web",
       TokenVolume::None},
      {"projected with no sources", R"([{"name":"t","projected":{"sources":null}}])", "web",
       TokenVolume::None},
      {"legacy token secret", R"([{"name":"x","secret":{"secretName":"web-token-x2x4k"}}])", "web",
       TokenVolume::LegacySecret},
      {"legacy token secret of the default account",
       R"([{"name":"x","secret":{"secretName":"default-token-7k9qz"}}])", "",
       TokenVolume::LegacySecret},
      {"another account's token secret",
       R"([{"name":"x","secret":{"secretName":"other-token-x2x4k"}}])", "web", TokenVolume::None},
      {"suffix too short", R"([{"name":"x","secret":{"secretName":"web-token-x2x4"}}])", "web",
       TokenVolume::None},
      {"suffix too long", R"([{"name":"x","secret":{"secretName":"web-token-x2x4kk"}}])", "web",
       TokenVolume::None},
      {"suffix not lower-case alphanumeric",
       R"([{"name":"x","secret":{"secretName":"web-token-X2x4k"}}])", "web", TokenVolume::None},
      {"plain secret", R"([{"name":"x","secret":{"secretName":"web-tls"}}])", "web",
       TokenVolume::None},
      {"secret volume without a name", R"([{"name":"x","secret":{"optional":true}}])", "web",
       TokenVolume::None},
      {"projected wins over legacy",
       R"([{"name":"x","secret":{"secretName":"web-token-x2x4k"}},{"name":"t","projected":{"sources":[)" +
           sat + "]}}]",
       "web", TokenVolume::Projected},
      {"other volume kinds",
       R"([{"name":"c","configMap":{"name":"web-token-x2x4k"}},{"name":"e","emptyDir":{}}])", "web",
       TokenVolume::None},
  };
  for (const auto& c : cases) {
    std::string json = withVolumes(c.volumes, c.account);
    if (c.account.empty()) {
      json = replaced(json, R"("serviceAccountName": "",)", "");
      json = replaced(json, R"("serviceAccount": "web",)", "");
    }
    EXPECT_EQ(decodeOk(json).token, c.want) << c.what;
  }
}

TEST(PodDecoding, NullCreationTimestampIsZero) {
  const std::string ts = R"("creationTimestamp": "2024-05-01T10:00:00Z",)";
  EXPECT_EQ(decodeOk(replaced(kKubectlPod, ts, R"("creationTimestamp": null,)")).creationTimestamp,
            0);
  EXPECT_EQ(decodeOk(replaced(kKubectlPod, ts, "")).creationTimestamp, 0);
}

TEST(PodDecoding, EscapedKeysAndValuesAreUnderstood) {
  std::string json = replaced(kKubectlPod, R"("name": "web-7d4b9c8f6d-x2x4k",)",
                              R"("n\u0061me": "web-\u00e9\"quoted\"",)");
  objects::Pod pod = decodeOk(json);
  EXPECT_EQ(pod.meta.name(), "web-\xc3\xa9\"quoted\"");
}

TEST(PodDecoding, PadsACallersStringInPlaceAndRestoresIt) {
  std::string json = kKubectlPod;
  json.reserve(json.size() + kPadding);
  const char* before = json.data();
  Decoder decoder;
  auto pod = decoder.object<Kind::Pod>(json);
  ASSERT_TRUE(pod.ok()) << pod.error().describe();
  EXPECT_EQ(json, kKubectlPod);
  EXPECT_EQ(json.data(), before);  // no reallocation: the reserve covered the padding
  EXPECT_EQ(pod->meta.name(), "web-7d4b9c8f6d-x2x4k");
}

TEST(PodDecoding, WrongKindIsRejected) {
  auto pod = decodePod(replaced(kKubectlPod, R"("kind": "Pod",)", R"("kind": "Service",)"));
  ASSERT_FALSE(pod.ok());
  EXPECT_TRUE(pod.is(ErrorKind::Invalid));
  EXPECT_EQ(pod.error().message, R"(decoding Pod: kind: expected "Pod", got "Service")");
}

TEST(PodDecoding, RequiredIdentity) {
  auto noName = decodePod(replaced(kKubectlPod, R"("name": "web-7d4b9c8f6d-x2x4k",)", ""));
  ASSERT_FALSE(noName.ok());
  EXPECT_EQ(noName.error().message, "decoding Pod: metadata.name: missing");

  auto noNamespace =
      decodePod(replaced(kKubectlPod, R"("namespace": "shop",)", R"("namespace": null,)"));
  ASSERT_FALSE(noNamespace.ok());
  EXPECT_EQ(noNamespace.error().message, "decoding Pod: metadata.namespace: missing");
}

TEST(PodDecoding, ReusingOneDecoderGivesTheSameAnswers) {
  Decoder decoder;
  for (int i = 0; i < 3; ++i) {
    auto a = decoder.object<Kind::Pod>(std::string_view(kKubectlPod));
    auto b = decoder.object<Kind::Pod>(std::string_view(kServerOrderPod));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->token, TokenVolume::Projected);
    EXPECT_EQ(b->token, TokenVolume::LegacySecret);
    EXPECT_EQ(a->meta.name(), "web-7d4b9c8f6d-x2x4k");
    EXPECT_EQ(b->meta.name(), "batch-1");
  }
}

}  // namespace
}  // namespace saguard::codec
