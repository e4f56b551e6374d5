package main

import (
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// watcher is one watch on a store: an unbounded queue, so that a store change never waits for
// a slow reader (the fake tracker's own watchers panic when 100 events are unread).
type watcher struct {
	gvr           schema.GroupVersionResource
	namespace     string
	labelSelector labels.Selector
	fieldSelector fields.Selector

	mu      sync.Mutex
	queue   []watch.Event
	wake    chan struct{}
	stopped bool
	done    chan struct{}
	out     chan watch.Event
}

func newWatcher(gvr schema.GroupVersionResource, ns string, labelSelector labels.Selector, fieldSelector fields.Selector) *watcher {
	w := &watcher{
		gvr: gvr, namespace: ns, labelSelector: labelSelector, fieldSelector: fieldSelector,
		wake: make(chan struct{}, 1), done: make(chan struct{}), out: make(chan watch.Event),
	}
	go w.pump()
	return w
}

// offer sends the change to this watch as the API server would for the watch's selectors.
func (w *watcher) offer(e event) {
	if e.gvr != w.gvr {
		return
	}
	m, _ := meta.Accessor(e.obj)
	if w.namespace != "" && m.GetNamespace() != w.namespace {
		return
	}
	isMatch := matches(e.obj, w.labelSelector, w.fieldSelector)
	wasMatch := e.old != nil && matches(e.old, w.labelSelector, w.fieldSelector)
	kind := e.kind
	switch {
	case kind == watch.Deleted:
		if !wasMatch {
			return
		}
	case kind == watch.Added:
		if !isMatch {
			return
		}
	case isMatch && !wasMatch:
		kind = watch.Added
	case !isMatch && wasMatch:
		kind = watch.Deleted
	case !isMatch:
		return
	}
	w.send(watch.Event{Type: kind, Object: e.obj.DeepCopyObject()})
}

func (w *watcher) send(e watch.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	w.queue = append(w.queue, e)
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *watcher) pump() {
	defer close(w.out)
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.mu.Unlock()
			select {
			case <-w.wake:
				continue
			case <-w.done:
				return
			}
		}
		next := w.queue[0]
		w.queue = w.queue[1:]
		w.mu.Unlock()
		select {
		case w.out <- next:
		case <-w.done:
			return
		}
	}
}

func (w *watcher) Stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.stopped = true
		close(w.done)
	}
}

func (w *watcher) isStopped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stopped
}

func (w *watcher) ResultChan() <-chan watch.Event {
	return w.out
}
