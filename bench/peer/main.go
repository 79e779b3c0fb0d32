// peer: the comparison controller for saguard's benchmarks. It does saguard's core job the way
// the controller-runtime book teaches it: a manager with the default cache (full objects), a
// Reconciler for ServiceAccounts, and watches on Pods and RoleBindings mapped to the ServiceAccount
// they concern.
//
// The job: set automountServiceAccountToken=false on the `default` ServiceAccount of every
// namespace except kube-system, kube-public and kube-node-lease (one merge PATCH per non-compliant
// account, no write when already compliant), and count the pods that hold a token (a projected
// serviceAccountToken source or a legacy token Secret volume), exposed as a Prometheus gauge.
package main

import (
	"context"
	"flag"
	"os"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// podServiceAccountIndex indexes cached Pods by spec.serviceAccountName.
const podServiceAccountIndex = "spec.serviceAccountName"

var (
	scheme   = runtime.NewScheme()
	setupLog = ctrl.Log.WithName("setup")

	excludedNamespaces = map[string]bool{"kube-system": true, "kube-public": true, "kube-node-lease": true}

	podsWithToken = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "peer_pods_with_token",
		Help: "Pods whose volumes hold a ServiceAccount token (projected serviceAccountToken source or legacy token Secret).",
	})
	patchesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "peer_patches_total",
		Help: "ServiceAccount merge patches, by result.",
	}, []string{"result"})
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	metrics.Registry.MustRegister(podsWithToken, patchesTotal)
}

// ServiceAccountReconciler enforces the automount setting on `default` accounts and keeps the
// per-account count of token-holding pods.
type ServiceAccountReconciler struct {
	client.Client

	mu     sync.Mutex
	counts map[types.NamespacedName]int // token-holding pods per ServiceAccount
	total  int
}

func selected(ns, name string) bool {
	return name == "default" && !excludedNamespaces[ns]
}

// isLegacyTokenSecretName: "<account>-token-<5 chars of [a-z0-9]>", the name the token controller
// gave legacy token Secrets (a pod spec does not carry the Secret's type). Same rule as saguard.
func isLegacyTokenSecretName(secret, account string) bool {
	rest, ok := strings.CutPrefix(secret, account+"-token-")
	if !ok || len(rest) != 5 {
		return false
	}
	for _, ch := range rest {
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9') {
			return false
		}
	}
	return true
}

// holdsToken tells whether a pod's volumes carry a ServiceAccount token: a projected
// serviceAccountToken source, or a legacy token Secret volume.
func holdsToken(pod *corev1.Pod) bool {
	account := pod.Spec.ServiceAccountName
	if account == "" {
		account = "default"
	}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.ServiceAccountToken != nil {
					return true
				}
			}
		}
		if v.Secret != nil && isLegacyTokenSecretName(v.Secret.SecretName, account) {
			return true
		}
	}
	return false
}

func (r *ServiceAccountReconciler) setCount(key types.NamespacedName, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total += n - r.counts[key]
	if n == 0 {
		delete(r.counts, key)
	} else {
		r.counts[key] = n
	}
	podsWithToken.Set(float64(r.total))
}

func (r *ServiceAccountReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)

	// The token-holding pods of this account, read from the cache through the index.
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(req.Namespace),
		client.MatchingFields{podServiceAccountIndex: req.Name}); err != nil {
		return ctrl.Result{}, err
	}
	n := 0
	for i := range pods.Items {
		if holdsToken(&pods.Items[i]) {
			n++
		}
	}
	r.setCount(req.NamespacedName, n)

	if !selected(req.Namespace, req.Name) {
		return ctrl.Result{}, nil
	}
	var sa corev1.ServiceAccount
	if err := r.Get(ctx, req.NamespacedName, &sa); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if sa.AutomountServiceAccountToken != nil && !*sa.AutomountServiceAccountToken {
		return ctrl.Result{}, nil // compliant: no write
	}
	patch := client.MergeFrom(sa.DeepCopy())
	off := false
	sa.AutomountServiceAccountToken = &off
	if err := r.Patch(ctx, &sa, patch); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		patchesTotal.WithLabelValues("error").Inc()
		return ctrl.Result{}, err
	}
	patchesTotal.WithLabelValues("success").Inc()
	log.Info("disabled automountServiceAccountToken")
	return ctrl.Result{}, nil
}

// podToServiceAccount maps a Pod to the ServiceAccount it runs as.
func podToServiceAccount(_ context.Context, obj client.Object) []reconcile.Request {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil
	}
	name := pod.Spec.ServiceAccountName
	if name == "" {
		name = "default"
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: pod.Namespace, Name: name}}}
}

// bindingToServiceAccounts maps a RoleBinding to the ServiceAccounts among its subjects.
func bindingToServiceAccounts(_ context.Context, obj client.Object) []reconcile.Request {
	rb, ok := obj.(*rbacv1.RoleBinding)
	if !ok {
		return nil
	}
	var out []reconcile.Request
	for _, s := range rb.Subjects {
		if s.Kind != rbacv1.ServiceAccountKind {
			continue
		}
		ns := s.Namespace
		if ns == "" {
			ns = rb.Namespace
		}
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: s.Name}})
	}
	return out
}

func (r *ServiceAccountReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &corev1.Pod{}, podServiceAccountIndex,
		func(obj client.Object) []string {
			name := obj.(*corev1.Pod).Spec.ServiceAccountName
			if name == "" {
				name = "default"
			}
			return []string{name}
		}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&corev1.ServiceAccount{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToServiceAccount)).
		Watches(&rbacv1.RoleBinding{}, handler.EnqueueRequestsFromMapFunc(bindingToServiceAccounts)).
		Complete(r)
}

func main() {
	var metricsAddr, probeAddr string
	var leaderElect bool
	var workers int
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "Where the metrics endpoint listens (plain HTTP); \"0\" disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", "0", "Where /healthz and /readyz listen; \"0\" disables them.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Enable leader election.")
	flag.IntVar(&workers, "workers", 1, "Concurrent reconciles.")
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse() // --kubeconfig is registered by controller-runtime's config package
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress:  probeAddr,
		LeaderElection:          leaderElect,
		LeaderElectionID:        "peer.bench.saguard.io",
		LeaderElectionNamespace: "default",
		Controller:              config.Controller{MaxConcurrentReconciles: workers},
	})
	if err != nil {
		setupLog.Error(err, "unable to create manager")
		os.Exit(1)
	}
	r := &ServiceAccountReconciler{Client: mgr.GetClient(), counts: map[types.NamespacedName]int{}}
	if err := r.SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "unable to create controller")
		os.Exit(1)
	}
	if probeAddr != "0" {
		if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
			setupLog.Error(err, "unable to set up health check")
			os.Exit(1)
		}
		if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
			setupLog.Error(err, "unable to set up ready check")
			os.Exit(1)
		}
	}
	setupLog.Info("starting manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "problem running manager")
		os.Exit(1)
	}
}
