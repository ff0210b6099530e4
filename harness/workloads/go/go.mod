module cgen.invalid/harness/workloads/go

go 1.19
