module github.com/saguard/saguard/bench/audit_ingest/reference

go 1.22
