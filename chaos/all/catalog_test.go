package all_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	kfake "k8s.io/client-go/kubernetes/fake"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/chaosmesh"
	k8sbackend "github.com/gameday/gameday/chaos/kubernetes"
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/safety"
	"github.com/gameday/gameday/scenarios"
)

// Every Kubernetes scenario of the catalog dry-runs against a fake cluster
// shaped like the seed's group-buy platform: its target resolves to pods
// under the default safety policy, and the dry run names them.
func TestCatalogDryRunsAgainstFakeCluster(t *testing.T) {
	all, err := scenarios.Catalog()
	require.NoError(t, err)
	p, err := safety.FromConfig(config.Safety{Namespaces: []string{"groupbuy"}})
	require.NoError(t, err)
	tried := 0
	for _, s := range all {
		if s.Spec.Target.Backend != k8sbackend.BackendName && s.Spec.Target.Backend != chaosmesh.BackendName {
			continue
		}
		t.Run(s.Metadata.Name, func(t *testing.T) {
			objs := []runtime.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "groupbuy", Labels: map[string]string{"gameday.io/chaos": "enabled"}}}}
			// Enough replicas that mode one and fixed-percent 5 stay within
			// the default radius (50 %).
			for i := 0; i < 4; i++ {
				objs = append(objs, &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", s.Spec.Target.Selector["app"], i), Namespace: "groupbuy", Labels: s.Spec.Target.Selector},
					Spec:       corev1.PodSpec{NodeName: fmt.Sprintf("node-%d", i)},
					Status:     corev1.PodStatus{Phase: corev1.PodRunning},
				})
				objs = append(objs, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%d", i)}})
			}
			cs := kfake.NewClientset(objs...)
			listKinds := map[schema.GroupVersionResource]string{}
			for _, k := range chaosmesh.Kinds() {
				listKinds[k.GVR()] = k.Kind + "List"
			}
			dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds)
			backends := map[string]chaos.Backend{
				k8sbackend.BackendName: k8sbackend.New(cs, p),
				chaosmesh.BackendName:  chaosmesh.New(dyn, cs, p, chaosmesh.WithServerDryRun(false)),
			}
			for _, f := range s.ChaosFaults("gameday-" + s.Metadata.Name + "-dry") {
				lines, err := backends[f.Backend].Resolve(context.Background(), f)
				require.NoError(t, err)
				require.NotEmpty(t, lines)
				assert.Contains(t, strings.Join(lines, "\n"), s.Spec.Target.Selector["app"]+"-", "the dry run names the pods")
				tried++
			}
			// Nothing was touched by the dry run.
			for _, a := range dyn.Actions() {
				// The census of the cumulative blast radius lists objects.
				assert.Equal(t, "list", a.GetVerb(), "no Chaos Mesh object created: %v", a)
			}
			for _, a := range cs.Actions() {
				assert.Contains(t, []string{"get", "list"}, a.GetVerb(), "dry run only reads: %v", a)
			}
		})
	}
	assert.Equal(t, 10, tried, "seed scenarios dry-run")
}
