module cgen.invalid/bench/seccomp/workload

go 1.19
