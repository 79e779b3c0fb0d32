package main

import (
	"encoding/json"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

// The second reference (--types apiserver): the events decoded into k8s.io/apiserver's own
// audit.k8s.io/v1 types, whole, as a Go program that imports them reads an audit log or a
// webhook batch (metav1.MicroTime timestamps, the user's groups and extra, annotations,
// sourceIPs, the full objectRef and responseStatus). The record depth hands each event to
// the same filter and records as the trimmed structs, through fromAPIServer.

// fromAPIServer is the trimmed Event of the fields tokenUseOf reads (strings are shared,
// not copied).
func fromAPIServer(e *auditv1.Event) Event {
	out := Event{
		Kind:                     e.Kind,
		AuditID:                  string(e.AuditID),
		Stage:                    string(e.Stage),
		RequestURI:               e.RequestURI,
		Verb:                     e.Verb,
		RequestReceivedTimestamp: e.RequestReceivedTimestamp.Time,
		StageTimestamp:           e.StageTimestamp.Time,
	}
	out.User.Username = e.User.Username
	extra := e.User.Extra
	out.User.Extra = Extra{
		CredentialID: extra["authentication.kubernetes.io/credential-id"],
		NodeName:     extra["authentication.kubernetes.io/node-name"],
		PodName:      extra["authentication.kubernetes.io/pod-name"],
		PodUID:       extra["authentication.kubernetes.io/pod-uid"],
	}
	if e.ObjectRef != nil {
		out.ObjectRef = &ObjectRef{Resource: e.ObjectRef.Resource, Subresource: e.ObjectRef.Subresource, APIGroup: e.ObjectRef.APIGroup}
	}
	if e.ResponseStatus != nil {
		out.ResponseStatus = &Status{Code: e.ResponseStatus.Code}
	}
	return out
}

func runBatchesAPIServer(batches [][]byte, full bool, ledger map[string]*AccountUse) (counts, error) {
	var c counts
	for _, batch := range batches {
		var list auditv1.EventList
		if err := json.Unmarshal(batch, &list); err != nil {
			return c, err
		}
		for i := range list.Items {
			e := fromAPIServer(&list.Items[i])
			consume(&e, full, ledger, &c)
		}
	}
	return c, nil
}

func runLinesAPIServer(lines [][]byte, full bool, ledger map[string]*AccountUse) (counts, error) {
	var c counts
	for _, line := range lines {
		var raw auditv1.Event
		if err := json.Unmarshal(line, &raw); err != nil {
			return c, err
		}
		e := fromAPIServer(&raw)
		consume(&e, full, ledger, &c)
	}
	return c, nil
}
