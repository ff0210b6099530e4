// net/http server and client in one binary: a JSON handler, a request to it, a file
// written durably, graceful shutdown. Built cgo-free and static, and with cgo (glibc).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/items/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"name": "item " + r.URL.Path[len("/items/"):]})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	res, err := http.Get(fmt.Sprintf("http://%s/items/9", ln.Addr()))
	check(err)
	var body map[string]string
	check(json.NewDecoder(res.Body).Decode(&body))
	res.Body.Close()
	if body["name"] != "item 9" {
		panic(body)
	}
	addrs, err := net.LookupHost("localhost")
	check(err)
	if len(addrs) == 0 {
		panic("no localhost")
	}
	f, err := os.Create("state.txt")
	check(err)
	_, err = f.WriteString("ok\n")
	check(err)
	check(f.Sync())
	check(f.Close())
	check(os.Rename("state.txt", "state.done"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	check(srv.Shutdown(ctx))
	fmt.Println("CORPUS OK")
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
