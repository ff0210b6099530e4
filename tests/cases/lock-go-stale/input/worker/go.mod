module example.com/worker

go 1.22

require (
	github.com/lib/pq v1.10.9
	golang.org/x/sync v0.7.0 // indirect
)

require example.com/shared v0.0.0

replace example.com/shared => ../shared
