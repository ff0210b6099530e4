module cgen.invalid/tests/corpus/nethttp

go 1.19
