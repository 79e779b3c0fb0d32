// The reference for bench/audit_ingest: the same audit events, the same filtering and the
// same bounded records as saguard's C++ path (codec decoder -> policy::tokenUseOf ->
// evidence::Ledger::record), written the way a Go controller would: encoding/json into
// structs of the fields used (as k8s.io/apiserver's audit types, minus the fields nobody
// reads), time.Time for the timestamps.
//
//	audit_ingest_reference [--runs K] [--types trimmed|apiserver] FILE
//
// --types trimmed (the default): the structs below. --types apiserver: k8s.io/apiserver's
// auditv1.Event, whole (apiserver_types.go).
//
// FILE holds one event per line (audit_ingest_bench --write FILE). Measured, best of K
// runs, on the calling goroutine (run it with GOMAXPROCS=1 for one core):
//
//	batch   EventLists of 400 events (built before timing) -> json.Unmarshal
//	lines   json.Unmarshal per line
//
// each as "decode" (unmarshal only) and "record" (unmarshal + classify + use + record).
// Prints one JSON line with the same keys as the C++ program's, including the ledger's
// content (uses, accounts, sums of lastUsed and lastRefused, list entries), so that
// run.sh can check that both did the same work.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"
)

const batchEvents = 400

type Event struct {
	Kind                     string     `json:"kind"`
	AuditID                  string     `json:"auditID"`
	Stage                    string     `json:"stage"`
	RequestURI               string     `json:"requestURI"`
	Verb                     string     `json:"verb"`
	User                     UserInfo   `json:"user"`
	ObjectRef                *ObjectRef `json:"objectRef"`
	ResponseStatus           *Status    `json:"responseStatus"`
	RequestReceivedTimestamp time.Time  `json:"requestReceivedTimestamp"`
	StageTimestamp           time.Time  `json:"stageTimestamp"`
}

type UserInfo struct {
	Username string `json:"username"`
	Extra    Extra  `json:"extra"`
}

// The four keys of user.extra that the C++ view reads (first element of each).
type Extra struct {
	CredentialID []string `json:"authentication.kubernetes.io/credential-id"`
	NodeName     []string `json:"authentication.kubernetes.io/node-name"`
	PodName      []string `json:"authentication.kubernetes.io/pod-name"`
	PodUID       []string `json:"authentication.kubernetes.io/pod-uid"`
}

type ObjectRef struct {
	Resource    string `json:"resource"`
	Subresource string `json:"subresource"`
	APIGroup    string `json:"apiGroup"`
}

type Status struct {
	Code int32 `json:"code"`
}

type EventList struct {
	Kind  string  `json:"kind"`
	Items []Event `json:"items"`
}

// policy::TokenUse
type TokenUse struct {
	Namespace, Account, PodName, PodUID, NodeName, Verb, Resource string
	Code                                                          int32
	At                                                            int64
}

func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// policy::serviceAccountOfUser
func serviceAccountOfUser(user string) (string, string, bool) {
	rest, ok := strings.CutPrefix(user, "system:serviceaccount:")
	if !ok {
		return "", "", false
	}
	colon := strings.IndexByte(rest, ':')
	if colon <= 0 || colon+1 == len(rest) {
		return "", "", false
	}
	return rest[:colon], rest[colon+1:], true
}

// policy::tokenUseOf
func tokenUseOf(e *Event) (TokenUse, bool) {
	ns, name, ok := serviceAccountOfUser(e.User.Username)
	if !ok {
		return TokenUse{}, false
	}
	// Stage ResponseComplete; a watch also at ResponseStarted, both stages timed when
	// the request was received.
	watch := e.Verb == "watch"
	if e.Stage != "ResponseComplete" && !(watch && e.Stage == "ResponseStarted") {
		return TokenUse{}, false
	}
	at, otherwise := unix(e.StageTimestamp), unix(e.RequestReceivedTimestamp)
	if watch {
		at, otherwise = otherwise, at
	}
	if at == 0 {
		at = otherwise
	}
	if at == 0 {
		return TokenUse{}, false
	}
	use := TokenUse{
		Namespace: ns, Account: name, Verb: e.Verb, At: at,
		PodName: first(e.User.Extra.PodName), PodUID: first(e.User.Extra.PodUID),
		NodeName: first(e.User.Extra.NodeName),
	}
	if e.ResponseStatus != nil {
		use.Code = e.ResponseStatus.Code
	}
	if e.ObjectRef == nil || e.ObjectRef.Resource == "" {
		path, _, _ := strings.Cut(e.RequestURI, "?")
		use.Resource = path
	} else {
		use.Resource = e.ObjectRef.Resource
		if e.ObjectRef.APIGroup != "" {
			use.Resource += "." + e.ObjectRef.APIGroup
		}
		if e.ObjectRef.Subresource != "" {
			use.Resource += "/" + e.ObjectRef.Subresource
		}
	}
	return use, true
}

// policy::AccountUse
type Pod struct {
	UID, Name string
	At        int64
}

type Access struct {
	Verb, Resource string
	Refused        bool
	At             int64
}

type AccountUse struct {
	LastUsed, LastRefused int64
	Pods                  []Pod
	Accesses              []Access
}

const maxPods = 5
const maxAccesses = 10

func newerPod(a, b Pod) bool {
	if a.At != b.At {
		return a.At > b.At
	}
	return a.UID < b.UID
}

func newerAccess(a, b Access) bool {
	if a.At != b.At {
		return a.At > b.At
	}
	if a.Verb != b.Verb {
		return a.Verb < b.Verb
	}
	if a.Resource != b.Resource {
		return a.Resource < b.Resource
	}
	return !a.Refused && b.Refused
}

func foldPod(list []Pod, entry Pod) []Pod {
	for i := range list {
		if list[i].UID == entry.UID {
			if list[i].At >= entry.At {
				return list
			}
			list[i].At = entry.At
			sort.Slice(list, func(x, y int) bool { return newerPod(list[x], list[y]) })
			return list
		}
	}
	if len(list) >= maxPods && !newerPod(entry, list[len(list)-1]) {
		return list
	}
	list = append(list, entry)
	sort.Slice(list, func(x, y int) bool { return newerPod(list[x], list[y]) })
	if len(list) > maxPods {
		list = list[:maxPods]
	}
	return list
}

func foldAccess(list []Access, entry Access) []Access {
	for i := range list {
		if list[i].Verb == entry.Verb && list[i].Resource == entry.Resource && list[i].Refused == entry.Refused {
			if list[i].At >= entry.At {
				return list
			}
			list[i].At = entry.At
			sort.Slice(list, func(x, y int) bool { return newerAccess(list[x], list[y]) })
			return list
		}
	}
	if len(list) >= maxAccesses && !newerAccess(entry, list[len(list)-1]) {
		return list
	}
	list = append(list, entry)
	sort.Slice(list, func(x, y int) bool { return newerAccess(list[x], list[y]) })
	if len(list) > maxAccesses {
		list = list[:maxAccesses]
	}
	return list
}

// policy::recordUse, in a map as evidence::Ledger keeps them ("ns/name").
func record(ledger map[string]*AccountUse, use TokenUse) {
	key := use.Namespace + "/" + use.Account
	account := ledger[key]
	if account == nil {
		account = &AccountUse{}
		ledger[key] = account
	}
	if use.At > account.LastUsed {
		account.LastUsed = use.At
	}
	refused := use.Code == 401 || use.Code == 403
	if refused && use.At > account.LastRefused {
		account.LastRefused = use.At
	}
	if use.PodUID != "" {
		account.Pods = foldPod(account.Pods, Pod{UID: use.PodUID, Name: use.PodName, At: use.At})
	}
	account.Accesses = foldAccess(account.Accesses, Access{Verb: use.Verb, Resource: use.Resource, Refused: refused, At: use.At})
}

type counts struct {
	events, uses int
}

func consume(e *Event, full bool, ledger map[string]*AccountUse, c *counts) {
	c.events++
	if !full {
		return
	}
	if use, ok := tokenUseOf(e); ok {
		c.uses++
		record(ledger, use)
	}
}

func runBatches(batches [][]byte, full bool, ledger map[string]*AccountUse) (counts, error) {
	var c counts
	for _, batch := range batches {
		var list EventList
		if err := json.Unmarshal(batch, &list); err != nil {
			return c, err
		}
		for i := range list.Items {
			consume(&list.Items[i], full, ledger, &c)
		}
	}
	return c, nil
}

func runLines(lines [][]byte, full bool, ledger map[string]*AccountUse) (counts, error) {
	var c counts
	for _, line := range lines {
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			return c, err
		}
		consume(&e, full, ledger, &c)
	}
	return c, nil
}

func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return float64(usage.Utime.Nano()+usage.Stime.Nano()) / 1e9
}

type figure struct {
	wall, cpu float64
	counts    counts
}

func measure(runs int, run func(map[string]*AccountUse) (counts, error)) (figure, map[string]*AccountUse, error) {
	var best figure
	var last map[string]*AccountUse
	for i := 0; i < runs; i++ {
		ledger := map[string]*AccountUse{}
		cpu0 := cpuSeconds()
		wall0 := time.Now()
		c, err := run(ledger)
		wall := time.Since(wall0).Seconds()
		cpu := cpuSeconds() - cpu0
		if err != nil {
			return best, nil, err
		}
		if i == 0 || wall < best.wall {
			best.wall = wall
		}
		if i == 0 || cpu < best.cpu {
			best.cpu = cpu
		}
		best.counts = c
		last = ledger
	}
	return best, last, nil
}

func main() {
	runs := flag.Int("runs", 5, "runs of each measurement (the best is reported)")
	types := flag.String("types", "trimmed", "what the events are decoded into: trimmed (structs of the fields used) or apiserver (k8s.io/apiserver's auditv1.Event)")
	flag.Parse()
	if flag.NArg() != 1 || *runs <= 0 || (*types != "trimmed" && *types != "apiserver") {
		fmt.Fprintln(os.Stderr, "usage: audit_ingest_reference [--runs K] [--types trimmed|apiserver] FILE")
		os.Exit(2)
	}
	runBatches, runLines, impl := runBatches, runLines, "go-encoding-json"
	if *types == "apiserver" {
		runBatches, runLines, impl = runBatchesAPIServer, runLinesAPIServer, "go-encoding-json-apiserver-types"
	}
	content, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var lines [][]byte
	for _, line := range bytes.Split(content, []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			lines = append(lines, line)
		}
	}
	var batches [][]byte
	batchBytes := 0
	for start := 0; start < len(lines); start += batchEvents {
		end := min(start+batchEvents, len(lines))
		var b bytes.Buffer
		b.WriteString(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[`)
		for i := start; i < end; i++ {
			if i > start {
				b.WriteByte(',')
			}
			b.Write(lines[i])
		}
		b.WriteString("]}")
		batches = append(batches, b.Bytes())
		batchBytes += b.Len()
	}

	type result struct {
		shape, depth string
		mb           float64
		f            figure
	}
	var results []result
	var ledger map[string]*AccountUse
	uses := 0
	for _, shape := range []string{"batch", "lines"} {
		for _, depth := range []string{"decode", "record"} {
			full := depth == "record"
			mb := float64(len(content)) / 1e6
			run := func(l map[string]*AccountUse) (counts, error) { return runLines(lines, full, l) }
			if shape == "batch" {
				mb = float64(batchBytes) / 1e6
				run = func(l map[string]*AccountUse) (counts, error) { return runBatches(batches, full, l) }
			}
			f, l, err := measure(*runs, run)
			if err != nil {
				fmt.Fprintln(os.Stderr, "decode failed:", err)
				os.Exit(1)
			}
			if f.counts.events != len(lines) {
				fmt.Fprintf(os.Stderr, "decoded %d events of %d\n", f.counts.events, len(lines))
				os.Exit(1)
			}
			if full {
				ledger = l
				uses = f.counts.uses
			}
			results = append(results, result{shape, depth, mb, f})
		}
	}

	var lastUsed, lastRefused int64
	pods, accesses := 0, 0
	for _, a := range ledger {
		lastUsed += a.LastUsed
		lastRefused += a.LastRefused
		pods += len(a.Pods)
		accesses += len(a.Accesses)
	}
	n := float64(len(lines))
	fmt.Printf("%-8s %-9s %12s %9s %9s %12s\n", "shape", "depth", "events/s", "MB/s", "ns/event", "cpu events/s")
	for _, r := range results {
		fmt.Printf("%-8s %-9s %12.0f %9.1f %9.0f %12.0f\n", r.shape, r.depth, n/r.f.wall, r.mb/r.f.wall, r.f.wall*1e9/n, n/r.f.cpu)
	}
	var out strings.Builder
	fmt.Fprintf(&out, `{"bench":"audit_ingest","impl":"%s","events":%d,"bytes":%d,"uses":%d,"accounts":%d,"last_used_sum":%d,"last_refused_sum":%d,"pod_entries":%d,"access_entries":%d,"runs":%d`,
		impl, len(lines), len(content), uses, len(ledger), lastUsed, lastRefused, pods, accesses, *runs)
	for _, shape := range []string{"batch", "lines"} {
		fmt.Fprintf(&out, `,"%s":{`, shape)
		sep := ""
		for _, r := range results {
			if r.shape != shape {
				continue
			}
			fmt.Fprintf(&out, `%s"%s":{"events_per_s":%.0f,"mb_per_s":%.1f,"cpu_events_per_s":%.0f}`, sep, r.depth, n/r.f.wall, r.mb/r.f.wall, n/r.f.cpu)
			sep = ","
		}
		out.WriteString("}")
	}
	out.WriteString("}")
	fmt.Println("json: " + out.String())
}
