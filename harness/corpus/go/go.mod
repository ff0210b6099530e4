module cgen.invalid/harness/corpus/nethttp

go 1.19
