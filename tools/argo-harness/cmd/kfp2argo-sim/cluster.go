package main

// The simulated cluster: the fake clientsets of client-go and Argo, each backed by a store that
// adds the API-server behaviour Argo's controller relies on and the plain fake object tracker
// lacks: resource versions (the pod informer ignores an update whose resourceVersion did not
// change), optimistic concurrency (an update with a stale resourceVersion is a Conflict, so a
// controller working on an outdated copy re-applies instead of overwriting), uid,
// creationTimestamp and generateName, label- and field-selected lists and watches, and watches
// that resume from a resourceVersion (an informer's watch starts where its list ended, so no
// event in between is lost).

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/google/uuid"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	argofake "github.com/argoproj/argo-workflows/v4/pkg/client/clientset/versioned/fake"
)

// cluster holds the two clientsets that Argo's controller, the kubelet and the executor share.
type cluster struct {
	kube      *kubefake.Clientset
	argo      *argofake.Clientset
	kubeStore *store
	argoStore *store
}

func newCluster() *cluster {
	revision := &revisionCounter{}
	kube := kubefake.NewSimpleClientset()
	argo := argofake.NewSimpleClientset()
	c := &cluster{
		kube:      kube,
		argo:      argo,
		kubeStore: newStore(kube.Tracker(), revision),
		argoStore: newStore(argo.Tracker(), revision),
	}
	install(&kube.Fake, c.kubeStore)
	install(&argo.Fake, c.argoStore)
	// The controller asks whether its RBAC lets it read ClusterWorkflowTemplates (and exits when
	// the question fails); a standard installation grants it.
	kube.PrependReactor("create", "selfsubjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		review := action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview).DeepCopy()
		review.Status.Allowed = true
		return true, review, nil
	})
	return c
}

// install replaces the fake's reactions with ones served by the store.
func install(fake *k8stesting.Fake, s *store) {
	fake.ReactionChain = nil
	fake.WatchReactionChain = nil
	fake.AddReactor("delete-collection", "*", func(action k8stesting.Action) (bool, runtime.Object, error) {
		a := action.(k8stesting.DeleteCollectionActionImpl)
		return true, nil, s.deleteCollection(a.GetResource(), a.GetNamespace(), a.ListRestrictions.Labels)
	})
	fake.AddReactor("*", "*", k8stesting.ObjectReaction(s))
	fake.AddWatchReactor("*", func(action k8stesting.Action) (bool, watch.Interface, error) {
		a := action.(k8stesting.WatchActionImpl)
		r := a.WatchRestrictions
		w, err := s.watch(a.GetResource(), a.GetNamespace(), r.Labels, r.Fields, r.ResourceVersion)
		return true, w, err
	})
}

type revisionCounter struct {
	mu   sync.Mutex
	last int64
}

func (r *revisionCounter) next() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last++
	return r.last
}

func (r *revisionCounter) current() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// event is one change of an object, kept so that a watch can resume from any resourceVersion.
type event struct {
	gvr      schema.GroupVersionResource
	revision int64
	kind     watch.EventType
	old, obj runtime.Object // old is nil for ADDED
}

// store is a k8stesting.ObjectTracker that keeps the objects in the fake's own tracker and adds
// the API-server behaviour described at the top of this file.
type store struct {
	inner    k8stesting.ObjectTracker
	revision *revisionCounter
	mu       sync.Mutex
	history  []event
	watchers []*watcher
}

var _ k8stesting.ObjectTracker = (*store)(nil)

func newStore(inner k8stesting.ObjectTracker, revision *revisionCounter) *store {
	return &store{inner: inner, revision: revision}
}

func (s *store) Add(obj runtime.Object) error {
	return fmt.Errorf("kfp2argo-sim: store.Add is not used; create objects through a clientset")
}

func (s *store) Get(gvr schema.GroupVersionResource, ns, name string, opts ...metav1.GetOptions) (runtime.Object, error) {
	return s.inner.Get(gvr, ns, name, opts...)
}

func (s *store) List(gvr schema.GroupVersionResource, gvk schema.GroupVersionKind, ns string, opts ...metav1.ListOptions) (runtime.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list, err := s.inner.List(gvr, gvk, ns)
	if err != nil {
		return nil, err
	}
	if len(opts) == 1 {
		if err := filterList(list, opts[0]); err != nil {
			return nil, err
		}
	}
	listMeta, err := meta.ListAccessor(list)
	if err != nil {
		return nil, err
	}
	listMeta.SetResourceVersion(strconv.FormatInt(s.revision.current(), 10))
	return list, nil
}

func filterList(list runtime.Object, opts metav1.ListOptions) error {
	labelSelector, fieldSelector, _ := k8stesting.ExtractFromListOptions(opts)
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	kept := items[:0]
	for _, item := range items {
		if matches(item, labelSelector, fieldSelector) {
			kept = append(kept, item)
		}
	}
	return meta.SetList(list, kept)
}

func (s *store) Create(gvr schema.GroupVersionResource, obj runtime.Object, ns string, opts ...metav1.CreateOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	if m.GetName() == "" && m.GetGenerateName() != "" {
		// Set on the caller's object: the fake's reaction reads the created object back by the
		// name of the object it passed in.
		m.SetName(m.GetGenerateName() + strconv.FormatInt(s.revision.current()+1, 36))
	}
	if m.GetName() == "" {
		return apierrors.NewBadRequest("kfp2argo-sim: name or generateName is required")
	}
	obj = obj.DeepCopyObject()
	m, _ = meta.Accessor(obj)
	if m.GetUID() == "" {
		m.SetUID(types.UID(uuid.NewString()))
	}
	if ts := m.GetCreationTimestamp(); ts.IsZero() {
		m.SetCreationTimestamp(metav1.Now())
	}
	if m.GetNamespace() == "" {
		m.SetNamespace(ns)
	}
	if pod, ok := obj.(*corev1.Pod); ok && pod.Status.Phase == "" {
		pod.Status.Phase = corev1.PodPending // the API server's default for a new pod
	}
	normalizeSecret(obj)
	revision := s.revision.next()
	m.SetResourceVersion(strconv.FormatInt(revision, 10))
	if err := s.inner.Create(gvr, obj, ns, opts...); err != nil {
		return err
	}
	s.record(event{gvr: gvr, revision: revision, kind: watch.Added, obj: obj.DeepCopyObject()})
	return nil
}

func (s *store) Update(gvr schema.GroupVersionResource, obj runtime.Object, ns string, opts ...metav1.UpdateOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	obj = obj.DeepCopyObject()
	normalizeSecret(obj)
	old, err := s.checkedUpdate(gvr, obj, ns, true)
	if err != nil {
		return err
	}
	if err := s.inner.Update(gvr, obj, ns, opts...); err != nil {
		return err
	}
	s.recordUpdate(gvr, old, obj)
	return nil
}

// Patch stores an object the fake's reaction has already patched (it read the current object,
// applied the patch and passes the result). The resourceVersion is set on that object in place,
// because the reaction returns it to the caller.
func (s *store) Patch(gvr schema.GroupVersionResource, obj runtime.Object, ns string, opts ...metav1.PatchOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.checkedUpdate(gvr, obj, ns, false)
	if err != nil {
		return err
	}
	if err := s.inner.Patch(gvr, obj, ns, opts...); err != nil {
		return err
	}
	s.recordUpdate(gvr, old, obj.DeepCopyObject())
	return nil
}

func (s *store) Apply(gvr schema.GroupVersionResource, applyConfiguration runtime.Object, ns string, opts ...metav1.PatchOptions) error {
	return apierrors.NewMethodNotSupported(gvr.GroupResource(), "apply (kfp2argo-sim)")
}

// checkedUpdate gives obj the identity of the stored object and a new resourceVersion, after
// checking (when asked) that the caller changed the version it read, as the API server does.
func (s *store) checkedUpdate(gvr schema.GroupVersionResource, obj runtime.Object, ns string, conflictCheck bool) (runtime.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	old, err := s.inner.Get(gvr, ns, m.GetName())
	if err != nil {
		return nil, err
	}
	oldMeta, _ := meta.Accessor(old)
	if conflictCheck && m.GetResourceVersion() != "" && m.GetResourceVersion() != oldMeta.GetResourceVersion() {
		return nil, apierrors.NewConflict(gvr.GroupResource(), m.GetName(),
			fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
	}
	m.SetUID(oldMeta.GetUID())
	m.SetCreationTimestamp(oldMeta.GetCreationTimestamp())
	m.SetResourceVersion(strconv.FormatInt(s.revision.next(), 10))
	return old, nil
}

func (s *store) Delete(gvr schema.GroupVersionResource, ns, name string, opts ...metav1.DeleteOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delete(gvr, ns, name, opts...)
}

func (s *store) delete(gvr schema.GroupVersionResource, ns, name string, opts ...metav1.DeleteOptions) error {
	old, err := s.inner.Get(gvr, ns, name)
	if err != nil {
		return err
	}
	oldMeta, _ := meta.Accessor(old)
	if len(opts) == 1 && opts[0].Preconditions != nil && opts[0].Preconditions.UID != nil &&
		*opts[0].Preconditions.UID != oldMeta.GetUID() {
		return apierrors.NewConflict(gvr.GroupResource(), name, fmt.Errorf("the UID in the precondition does not match"))
	}
	if err := s.inner.Delete(gvr, ns, name); err != nil {
		return err
	}
	gone := old.DeepCopyObject()
	revision := s.revision.next()
	goneMeta, _ := meta.Accessor(gone)
	goneMeta.SetResourceVersion(strconv.FormatInt(revision, 10))
	s.record(event{gvr: gvr, revision: revision, kind: watch.Deleted, old: old, obj: gone})
	return nil
}

func (s *store) deleteCollection(gvr schema.GroupVersionResource, ns string, selector labels.Selector) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, obj := range s.current(gvr, ns) {
		if !matches(obj, selector, nil) {
			continue
		}
		m, _ := meta.Accessor(obj)
		if err := s.delete(gvr, m.GetNamespace(), m.GetName()); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// Watch is the tracker interface's watch (no selectors): everything from now on.
func (s *store) Watch(gvr schema.GroupVersionResource, ns string, opts ...metav1.ListOptions) (watch.Interface, error) {
	return s.watch(gvr, ns, nil, nil, "")
}

// watch starts a watch that first replays the changes after resourceVersion ("" or "0": the
// current objects, as ADDED events), then follows new ones. Changes are filtered by selectors
// as the API server does: an object that stops matching is reported DELETED, one that starts
// matching ADDED.
func (s *store) watch(gvr schema.GroupVersionResource, ns string, labelSelector labels.Selector, fieldSelector fields.Selector, resourceVersion string) (watch.Interface, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := newWatcher(gvr, ns, labelSelector, fieldSelector)
	if resourceVersion == "" || resourceVersion == "0" {
		for _, obj := range s.current(gvr, ns) {
			w.send(watch.Event{Type: watch.Added, Object: obj})
		}
	} else {
		from, err := strconv.ParseInt(resourceVersion, 10, 64)
		if err != nil {
			return nil, apierrors.NewBadRequest("invalid resourceVersion " + resourceVersion)
		}
		for _, e := range s.history {
			if e.revision > from {
				w.offer(e)
			}
		}
	}
	s.watchers = append(s.watchers, w)
	return w, nil
}

// current lists the live objects of a resource from the history (in creation order).
func (s *store) current(gvr schema.GroupVersionResource, ns string) []runtime.Object {
	latest := map[string]runtime.Object{}
	var order []string
	for _, e := range s.history {
		if e.gvr != gvr {
			continue
		}
		m, _ := meta.Accessor(e.obj)
		key := m.GetNamespace() + "/" + m.GetName()
		if _, seen := latest[key]; !seen {
			order = append(order, key)
		}
		if e.kind == watch.Deleted {
			latest[key] = nil
		} else {
			latest[key] = e.obj
		}
	}
	var objs []runtime.Object
	for _, key := range order {
		if obj := latest[key]; obj != nil {
			if m, _ := meta.Accessor(obj); ns == "" || m.GetNamespace() == ns {
				objs = append(objs, obj.DeepCopyObject())
			}
		}
	}
	return objs
}

func (s *store) recordUpdate(gvr schema.GroupVersionResource, old, obj runtime.Object) {
	m, _ := meta.Accessor(obj)
	revision, _ := strconv.ParseInt(m.GetResourceVersion(), 10, 64)
	s.record(event{gvr: gvr, revision: revision, kind: watch.Modified, old: old, obj: obj})
}

func (s *store) record(e event) {
	s.history = append(s.history, e)
	live := s.watchers[:0]
	for _, w := range s.watchers {
		if !w.isStopped() {
			w.offer(e)
			live = append(live, w)
		}
	}
	s.watchers = live
}

// normalizeSecret moves a Secret's stringData into its data, as the API server does on writes.
func normalizeSecret(obj runtime.Object) {
	secret, ok := obj.(*corev1.Secret)
	if !ok || len(secret.StringData) == 0 {
		return
	}
	if secret.Data == nil {
		secret.Data = map[string][]byte{}
	}
	for key, value := range secret.StringData {
		secret.Data[key] = []byte(value)
	}
	secret.StringData = nil
}

func matches(obj runtime.Object, labelSelector labels.Selector, fieldSelector fields.Selector) bool {
	m, err := meta.Accessor(obj)
	if err != nil {
		return false
	}
	if labelSelector != nil && !labelSelector.Matches(labels.Set(m.GetLabels())) {
		return false
	}
	if fieldSelector != nil && !fieldSelector.Matches(fields.Set{"metadata.name": m.GetName(), "metadata.namespace": m.GetNamespace()}) {
		return false
	}
	return true
}
